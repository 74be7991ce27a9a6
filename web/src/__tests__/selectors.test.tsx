import { fireEvent, render, screen } from "@testing-library/react";
import { vi } from "vitest";
import { PeriodToggle } from "../components/PeriodToggle";
import { RegionSelect } from "../components/RegionSelect";
import { WhenPicker } from "../components/WhenPicker";

const regions = [
  { code: "ALL", name: "Global" },
  { code: "EU", name: "Europe" },
];

describe("RegionSelect", () => {
  it("lists the regions and reports a change", () => {
    const onChange = vi.fn();
    render(<RegionSelect regions={regions} value="ALL" onChange={onChange} />);
    const select = screen.getByTestId("region") as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["ALL", "EU"]);
    fireEvent.change(select, { target: { value: "EU" } });
    expect(onChange).toHaveBeenCalledWith("EU");
  });

  it("keeps a region from the URL that the list does not have yet", () => {
    render(<RegionSelect regions={[]} value="OC" onChange={() => {}} />);
    expect((screen.getByTestId("region") as HTMLSelectElement).value).toBe("OC");
  });
});

describe("PeriodToggle", () => {
  it("is a keyboard-usable radio group", () => {
    const onChange = vi.fn();
    render(<PeriodToggle value="hour" onChange={onChange} />);
    const day = screen.getByRole("radio", { name: "Day" });
    expect(screen.getByRole("radio", { name: "Hour" }).getAttribute("aria-checked")).toBe("true");
    expect(day.getAttribute("aria-checked")).toBe("false");
    expect(day.tagName).toBe("BUTTON"); // focusable, Enter/Space activate
    fireEvent.click(day);
    expect(onChange).toHaveBeenCalledWith("day");
  });
});

describe("WhenPicker", () => {
  it("picks the UTC hour, steps back and forward, and shows local time", () => {
    const onChange = vi.fn();
    const onLive = vi.fn();
    render(<WhenPicker period="hour" value="2026-11-25T13" live={false} onChange={onChange} onLive={onLive} />);
    fireEvent.change(screen.getByTestId("hour"), { target: { value: "07" } });
    expect(onChange).toHaveBeenLastCalledWith("2026-11-25T07");
    fireEvent.change(screen.getByTestId("date"), { target: { value: "2026-12-31" } });
    expect(onChange).toHaveBeenLastCalledWith("2026-12-31T13");
    fireEvent.click(screen.getByLabelText("Previous hour"));
    expect(onChange).toHaveBeenLastCalledWith("2026-11-25T12");
    fireEvent.click(screen.getByLabelText("Next hour"));
    expect(onChange).toHaveBeenLastCalledWith("2026-11-25T14");
    fireEvent.click(screen.getByTestId("live"));
    expect(onLive).toHaveBeenCalled();
    expect(screen.getByTestId("local-time").textContent).toMatch(/your time/);
  });

  it("has no hour selector for days and crosses month ends", () => {
    const onChange = vi.fn();
    render(<WhenPicker period="day" value="2026-11-30" live={false} onChange={onChange} onLive={() => {}} />);
    expect(screen.queryByTestId("hour")).toBeNull();
    fireEvent.click(screen.getByLabelText("Next day"));
    expect(onChange).toHaveBeenLastCalledWith("2026-12-01");
  });
});
