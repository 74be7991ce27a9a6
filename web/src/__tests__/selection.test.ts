import { formatSelection, parseSelection, withPeriod } from "../selection";
import { describeLocal, describeUtc, shiftKey } from "../time";

describe("selection in the URL", () => {
  it("round-trips", () => {
    const s = { region: "EU", period: "day" as const, at: "2026-11-25" };
    expect(parseSelection(formatSelection(s))).toEqual(s);
  });

  it("falls back on bad values instead of sending them", () => {
    expect(parseSelection("?region=eu';--&period=week&at=yesterday")).toEqual({ region: "ALL", period: "hour", at: null });
  });

  it("keeps the moment when the period changes", () => {
    expect(withPeriod({ region: "EU", period: "hour", at: "2026-11-25T13" }, "day").at).toBe("2026-11-25");
    expect(withPeriod({ region: "EU", period: "day", at: "2026-11-25" }, "hour").at).toBe("2026-11-25T00");
    expect(withPeriod({ region: "EU", period: "day", at: null }, "hour").at).toBeNull();
  });
});

describe("time", () => {
  it("steps periods across day and year ends", () => {
    expect(shiftKey("2026-12-31T23", "hour", 1)).toBe("2027-01-01T00");
    expect(shiftKey("2026-03-01", "day", -1)).toBe("2026-02-28");
  });
  it("describes UTC and local time", () => {
    expect(describeUtc("2026-11-25T13:00:00Z", "hour")).toBe("2026-11-25 13:00–14:00 UTC");
    expect(describeLocal("2026-11-25T13:00:00Z", "hour", "Asia/Tokyo")).toMatch(/22:00|10:00\sPM/);
  });
});
