import { render, screen, within } from "@testing-library/react";
import { ChartTable } from "../components/ChartTable";
import { entries } from "./fixtures";

describe("ChartTable", () => {
  it("shows ten rows in rank order with title, artist, plays, peak and periods", () => {
    render(<ChartTable entries={entries()} periodLabel="13:00" />);
    const rows = screen.getAllByTestId("chart-row");
    expect(rows).toHaveLength(10);
    const first = within(rows[0]);
    expect(first.getByText("Title 1")).toBeTruthy();
    expect(rows[0].textContent).toContain("Artist 1");
    expect(rows[0].textContent).toContain("1,000");
    expect(rows[9].textContent).toContain("Title 10");
    // periods on chart of the 10th entry is 10; its peak 1
    const cells = rows[9].querySelectorAll("td");
    expect(cells[0].textContent).toBe("10");
    expect(cells[4].textContent).toBe("1");
    expect(cells[5].textContent).toBe("10");
  });

  it("marks new entries, re-entries and movement", () => {
    render(<ChartTable entries={entries()} periodLabel="13:00" />);
    const rows = screen.getAllByTestId("chart-row");
    expect(within(rows[0]).getByText("NEW")).toBeTruthy();
    expect(within(rows[9]).getByText("RE")).toBeTruthy();
    expect(within(rows[1]).getByLabelText("up 1")).toBeTruthy(); // movement +1
    expect(within(rows[2]).getByLabelText("down 2")).toBeTruthy(); // movement -2
    expect(within(rows[3]).getByLabelText("no change")).toBeTruthy(); // movement 0
  });

  it("falls back to the song id when the catalog has no title", () => {
    const e = entries(1);
    e[0].title = null;
    e[0].artist = null;
    render(<ChartTable entries={e} periodLabel="x" />);
    expect(screen.getByText("s1")).toBeTruthy();
    expect(screen.getByText("unknown artist")).toBeTruthy();
  });
});
