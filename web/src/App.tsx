import { useMemo } from "react";
import { ApiError, chartCsvUrl, fetchChart, fetchLedger, fetchPipeline, fetchRegions, fetchTrend, type Chart } from "./api";
import { ChartTable } from "./components/ChartTable";
import { LedgerView } from "./components/LedgerView";
import { PeriodToggle } from "./components/PeriodToggle";
import { PipelineView } from "./components/PipelineView";
import { PlaysBarChart } from "./components/PlaysBarChart";
import { RegionSelect } from "./components/RegionSelect";
import { Status } from "./components/Status";
import { TrendChart } from "./components/TrendChart";
import { WhenPicker } from "./components/WhenPicker";
import { withPeriod } from "./selection";
import { describeUtc, periodKey } from "./time";
import { useResource } from "./useResource";
import { useSelection } from "./useSelection";

/** How often the live mode refreshes the current period, and the pipeline. */
export const LIVE_REFRESH_MS = 5000;
const PIPELINE_REFRESH_MS = 10000;
/** The ledger reads the lake: less often. */
const LEDGER_REFRESH_MS = 30000;

function errorText(e: Error): string {
  if (e instanceof ApiError && e.status === 503) return `The charts are unavailable right now (${e.message}); retrying.`;
  if (e instanceof ApiError && e.status === 0) return "The api cannot be reached.";
  return e.message;
}

function TrendSection({ chart }: { chart: Chart }) {
  const songs = chart.entries.slice(0, 5).map((e) => e.song_id);
  const day = chart.start.slice(0, 10);
  const next = new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000).toISOString().slice(0, 10);
  const trend = useResource(
    `${chart.region}|${day}|${songs.join(",")}`,
    (signal) => fetchTrend(chart.region, songs, day, next, signal),
    chart.live ? LIVE_REFRESH_MS * 6 : null,
  );
  if (songs.length === 0) return null;
  return (
    <section aria-labelledby="trend-h">
      <h2 id="trend-h">Across the day ({day}, UTC hours)</h2>
      {trend.error && <Status kind="error">{errorText(trend.error)}</Status>}
      {trend.loading && !trend.data && <Status kind="loading">Loading the hourly plays…</Status>}
      {trend.data && <TrendChart trend={trend.data} />}
    </section>
  );
}

export function App() {
  const [sel, setSel] = useSelection();
  const regions = useResource("regions", (s) => fetchRegions(s));
  const live = sel.at === null;
  const chart = useResource(`${sel.region}|${sel.period}|${sel.at ?? "now"}`, (s) => fetchChart(sel, s), live ? LIVE_REFRESH_MS : null);
  const pipeline = useResource("pipeline", (s) => fetchPipeline(8, s), PIPELINE_REFRESH_MS);
  const ledger = useResource(`ledger|${sel.region}`, (s) => fetchLedger(sel.region, s), LEDGER_REFRESH_MS);
  const shownKey = useMemo(
    () => sel.at ?? periodKey(chart.data ? new Date(chart.data.start) : new Date(), sel.period),
    [sel.at, sel.period, chart.data],
  );
  const c = chart.data;

  return (
    <div className="page">
      <header>
        <h1>Top Songs</h1>
        <p className="muted">The ten most played songs per region, by hour and by day.</p>
      </header>
      <nav className="controls" aria-label="Chart selection">
        <RegionSelect regions={regions.data?.regions ?? []} value={sel.region} onChange={(region) => setSel({ ...sel, region })} />
        <PeriodToggle value={sel.period} onChange={(p) => setSel(withPeriod(sel, p))} />
        <WhenPicker
          period={sel.period}
          value={shownKey}
          live={live}
          onChange={(at) => setSel({ ...sel, at })}
          onLive={() => setSel({ ...sel, at: null })}
        />
      </nav>
      <main>
        <section aria-labelledby="chart-h">
          <h2 id="chart-h">
            {c ? describeUtc(c.start, c.period) : "Chart"}{" "}
            {c && (
              <span className={`pill ${c.final ? "final" : "provisional"}`} data-testid="chart-state">
                {c.live ? "live" : c.final ? "final" : "provisional"}
              </span>
            )}
          </h2>
          {chart.error && <Status kind="error">{errorText(chart.error)}</Status>}
          {chart.loading && <Status kind="loading">Loading the chart…</Status>}
          {c && c.entries.length === 0 && <Status kind="empty">No plays charted for this {c.period} yet.</Status>}
          {c && c.entries.length > 0 && (
            <>
              <ChartTable entries={c.entries} periodLabel={describeUtc(c.start, c.period)} />
              <p>
                <a href={chartCsvUrl({ ...sel, at: shownKey })} download>
                  Download as CSV
                </a>
                {c.updated_at && <span className="muted"> · updated {c.updated_at.replace("T", " ").replace("Z", " UTC")}</span>}
              </p>
              <h2>Plays</h2>
              <PlaysBarChart entries={c.entries} />
            </>
          )}
        </section>
        {c && c.entries.length > 0 && <TrendSection chart={c} />}
        <section aria-labelledby="pipe-h">
          <h2 id="pipe-h">Pipeline</h2>
          {pipeline.error && <Status kind="error">{errorText(pipeline.error)}</Status>}
          {pipeline.loading && !pipeline.data && <Status kind="loading">Loading the pipeline…</Status>}
          {pipeline.data && <PipelineView pipeline={pipeline.data} />}
          <h3>Ledger, last 24 hours</h3>
          {ledger.error && <Status kind="error">{errorText(ledger.error)}</Status>}
          {ledger.loading && !ledger.data && <Status kind="loading">Counting every stage…</Status>}
          {ledger.data && <LedgerView ledger={ledger.data} />}
        </section>
      </main>
    </div>
  );
}
