import { render, screen, waitFor } from "@testing-library/react";
import { vi } from "vitest";
import { App } from "../App";
import { entries, pipeline } from "./fixtures";

type Answer = { status: number; body: unknown };

/** A fetch stub answering by path; records what was asked. */
function stubFetch(byPath: Record<string, Answer>) {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      calls.push(url);
      const path = url.split("?")[0];
      const a = byPath[path] ?? { status: 404, body: { error: "not found" } };
      return new Response(JSON.stringify(a.body), {
        status: a.status,
        headers: { "Content-Type": "application/json", "Retry-After": "2" },
      });
    }),
  );
  return calls;
}

const regions = { status: 200, body: { regions: [{ code: "ALL", name: "Global" }, { code: "EU", name: "Europe" }] } };
const chart = (n: number) => ({
  status: 200,
  body: { region: "EU", period: "hour", start: "2026-11-25T13:00:00Z", end: "2026-11-25T14:00:00Z", live: false, final: true, updated_at: null, entries: entries(n) },
});

describe("App", () => {
  beforeEach(() => window.history.replaceState(null, "", "/?region=EU&period=hour&at=2026-11-25T13"));
  afterEach(() => vi.unstubAllGlobals());

  it("asks for the chart of the URL's selection and shows it", async () => {
    const calls = stubFetch({ "/api/regions": regions, "/api/top": chart(10), "/api/pipeline": { status: 200, body: pipeline } });
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId("chart-row")).toHaveLength(10));
    expect(calls).toContain("/api/top?region=EU&period=hour&at=2026-11-25T13");
    expect(screen.getByTestId("chart-state").textContent).toBe("final");
  });

  it("shows the empty state", async () => {
    stubFetch({ "/api/regions": regions, "/api/top": chart(0), "/api/pipeline": { status: 200, body: pipeline } });
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("status-empty")).toBeTruthy());
  });

  it("asks again after Retry-After when the ledger is busy, not at its 30 s refresh", async () => {
    let ledgerCalls = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        const path = url.split("?")[0];
        const json = (status: number, body: unknown, extra: Record<string, string> = {}) =>
          new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...extra } });
        if (path === "/api/regions") return json(200, regions.body);
        if (path === "/api/top") return json(200, chart(1).body);
        if (path === "/api/pipeline") return json(200, pipeline);
        if (path === "/api/ledger") {
          ledgerCalls++;
          return json(503, { error: "busy", detail: "another ledger is being computed" }, { "Retry-After": "1" });
        }
        return json(404, { error: "not found" });
      }),
    );
    render(<App />);
    await waitFor(() => expect(ledgerCalls).toBeGreaterThanOrEqual(1));
    await waitFor(() => expect(ledgerCalls).toBeGreaterThanOrEqual(2), { timeout: 3000 });
  });

  it("shows the error state when the database is down", async () => {
    stubFetch({
      "/api/regions": regions,
      "/api/top": { status: 503, body: { error: "database unavailable", detail: "postgresql: down" } },
      "/api/pipeline": { status: 503, body: { error: "database unavailable" } },
    });
    render(<App />);
    await waitFor(() => expect(screen.getAllByRole("alert").length).toBeGreaterThan(0));
    expect(screen.getAllByRole("alert")[0].textContent).toMatch(/unavailable right now/);
    expect(screen.queryByTestId("chart-row")).toBeNull();
  });
});
