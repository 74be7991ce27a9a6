import { render, screen } from "@testing-library/react";
import type { Ledger } from "../api";
import { LedgerView } from "../components/LedgerView";

function ledger(over: Partial<Ledger> = {}): Ledger {
  return {
    version: 1,
    from: "2026-11-25T10:00:00.000Z",
    to: "2026-11-26T10:00:00.000Z",
    region: null,
    generated_at: "2026-11-26T09:59:00.000Z",
    status: "balanced",
    balanced: true,
    lake_checked: true,
    counts: { in_flight: 0, mismatches: 0, unexplained: 0 },
    totals: { accepted: 2735, kafka: 2735, raw: 2735, enriched: 2650, duplicates_removed: 85, hourly: 2650, daily: 2650 },
    kafka: { lag: 0, end_offsets: 2735, committed_offsets: 2735, error: null, dead_lettered: 0 },
    api: { live_instances: 1, crashed_instances: 0 },
    charts: { hourly_rows_off: 0, daily_rows_off: 0, all_region_off: 0 },
    differences: [],
    hours: [],
    ...over,
  };
}

describe("LedgerView", () => {
  it("shows every stage's count and says when all agree", () => {
    render(<LedgerView ledger={ledger()} />);
    expect(screen.getByTestId("ledger-status").textContent).toBe("balanced");
    const stages = screen.getAllByTestId("ledger-stage").map((r) => r.textContent);
    expect(stages).toEqual([
      "Accepted (202)2,735",
      "Ingested from Kafka2,735",
      "Rows in raw/2,735",
      "Distinct in enriched/2,650",
      "Hourly counts2,650",
      "Daily counts2,650",
    ]);
    expect(screen.getByText("Every stage agrees.")).toBeTruthy();
    expect(screen.queryAllByTestId("ledger-diff")).toHaveLength(0);
  });

  it("lists mismatches with their explanation, flags unexplained ones, hides settled ones", () => {
    const l = ledger({
      status: "mismatch",
      balanced: false,
      kafka: { lag: null, end_offsets: null, committed_offsets: null, error: "kafka: down", dead_lettered: 1 },
      differences: [
        { region: null, hour: null, stage: "kafka", kind: "dead_lettered", class: "settled", explained: true, plays: 2, detail: "stray" },
        { region: "EU", hour: "2026-11-25T13:00:00.000Z", stage: "hourly", kind: "aggregate_missing", class: "mismatch", explained: false, plays: 7, detail: "plays_hourly has fewer plays" },
        { region: "SA", hour: "2026-11-25T14:00:00.000Z", stage: "kafka", kind: "dead_lettered", class: "mismatch", explained: true, plays: 1, detail: "sent to the dead-letter topic" },
      ],
    });
    render(<LedgerView ledger={l} />);
    expect(screen.getByTestId("ledger-status").textContent).toBe("mismatch");
    const diffs = screen.getAllByTestId("ledger-diff").map((d) => d.textContent ?? "");
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toContain("aggregate missing — 7 plays, hourly, EU 2026-11-25 13:00");
    expect(diffs[0]).toContain("(unexplained)");
    expect(diffs[1]).toContain("dead lettered");
    expect(diffs[1]).not.toContain("(unexplained)");
    expect(screen.getByTestId("ledger-kafka").textContent).toContain("unknown (kafka: down)");
  });

  it("caps the list and says how many more there are", () => {
    const d = { region: "EU", hour: "2026-11-25T13:00:00.000Z", stage: "kafka" as const, kind: "in_flight", class: "in_flight" as const, explained: true, plays: 1, detail: "lag" };
    render(<LedgerView ledger={ledger({ status: "in_flight", differences: Array(5).fill(d) })} maxDiffs={3} />);
    expect(screen.getAllByTestId("ledger-diff")).toHaveLength(3);
    expect(screen.getByText(/and 2 more/)).toBeTruthy();
    expect(screen.getByTestId("ledger-status").textContent).toBe("in flight");
  });
});
