// The one module that talks to the api. Types follow the OpenAPI document
// served at /api/openapi.json (src/api/api_openapi.c); nothing else in the
// page calls fetch.

export type Period = "hour" | "day";

export interface Region {
  code: string;
  name: string;
}

export interface Entry {
  rank: number;
  song_id: string;
  title: string | null;
  artist: string | null;
  genre: string | null;
  plays: number;
  previous_rank: number | null;
  movement: number | null;
  peak_rank: number;
  periods_on_chart: number;
  entry: "NEW" | "RE-ENTRY" | null;
}

export interface Chart {
  region: string;
  period: Period;
  start: string;
  end: string;
  live: boolean;
  final: boolean;
  updated_at: string | null;
  entries: Entry[];
}

export interface TrendSeries {
  song_id: string;
  title: string | null;
  artist: string | null;
  plays: number[];
}

export interface Trend {
  region: string;
  from: string;
  to: string;
  hours: string[];
  series: TrendSeries[];
}

export interface PartitionLag {
  partition: number;
  high_watermark: number;
  next_offset: number | null;
  committed_at: string | null;
  watermark: string | null;
  lag: number;
}

export interface LakeHour {
  region: string;
  date: string;
  hour: number;
  rows: number;
  files: number;
  closed: boolean;
  late_rows: number;
  updated_at: string;
}

export interface FlowRun {
  id: number;
  flow: string;
  scope: string;
  trigger: string;
  state: "running" | "succeeded" | "failed" | "abandoned";
  attempt: number;
  owner: string;
  started_at: string;
  finished_at: string | null;
  rows_in: number | null;
  rows_out: number | null;
  error: string | null;
}

export interface Pipeline {
  generated_at: string;
  kafka: {
    topic: string;
    ok: boolean;
    error: string | null;
    total_lag: number | null;
    partitions: PartitionLag[];
  };
  lake: { hours: LakeHour[] };
  flow_runs: FlowRun[];
  freshness: {
    lake_age_s: number | null;
    chart_age_s: number | null;
    scheduler_age_s: number | null;
  };
}

/** An error answer of the api: status and its JSON body's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

async function getJson<T>(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<T> {
  const qs = params.toString();
  let res: Response;
  try {
    res = await fetch(qs ? `${path}?${qs}` : path, { signal, headers: { Accept: "application/json" } });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "the api cannot be reached");
  }
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const body = (await res.json()) as { error?: string; detail?: string; param?: string };
      detail = [body.error, body.param, body.detail].filter(Boolean).join(": ");
    } catch {
      /* not JSON: keep the status text */
    }
    const ra = Number(res.headers.get("Retry-After"));
    throw new ApiError(res.status, detail, Number.isFinite(ra) && ra > 0 ? ra : null);
  }
  return (await res.json()) as T;
}

export function fetchRegions(signal?: AbortSignal): Promise<{ regions: Region[] }> {
  return getJson("/api/regions", new URLSearchParams(), signal);
}

export interface ChartQuery {
  region: string;
  period: Period;
  /** null: the current period. */
  at: string | null;
}

function chartParams(q: ChartQuery): URLSearchParams {
  const p = new URLSearchParams({ region: q.region, period: q.period });
  if (q.at) p.set("at", q.at);
  return p;
}

export function fetchChart(q: ChartQuery, signal?: AbortSignal): Promise<Chart> {
  return getJson("/api/top", chartParams(q), signal);
}

/** The CSV download link of a chart. */
export function chartCsvUrl(q: ChartQuery): string {
  return `/api/top.csv?${chartParams(q).toString()}`;
}

export function fetchTrend(
  region: string,
  songs: string[],
  from: string,
  to: string,
  signal?: AbortSignal,
): Promise<Trend> {
  const p = new URLSearchParams({ region, from, to });
  for (const s of songs.slice(0, 10)) p.append("song", s);
  return getJson("/api/trend", p, signal);
}

export function fetchPipeline(runs = 10, signal?: AbortSignal): Promise<Pipeline> {
  return getJson("/api/pipeline", new URLSearchParams({ runs: String(runs) }), signal);
}

/** One difference between two stages of the ledger (docs/ledger.md). */
export interface LedgerDiff {
  region: string | null;
  hour: string | null;
  stage: "kafka" | "raw" | "enriched" | "hourly" | "daily";
  kind: string;
  class: "in_flight" | "settled" | "mismatch";
  explained: boolean;
  plays: number;
  detail: string;
}

export interface LedgerTotals {
  accepted: number;
  kafka: number;
  raw: number;
  enriched: number;
  duplicates_removed: number;
  hourly: number;
  daily: number;
}

/** GET /api/ledger: the same document as `topsongs ledger --json`. */
export interface Ledger {
  version: number;
  from: string;
  to: string;
  region: string | null;
  generated_at: string;
  status: "balanced" | "in_flight" | "mismatch";
  balanced: boolean;
  lake_checked: boolean;
  counts: { in_flight: number; mismatches: number; unexplained: number };
  totals: LedgerTotals;
  kafka: { lag: number | null; end_offsets: number | null; committed_offsets: number | null; error: string | null; dead_lettered: number };
  api: { live_instances: number; crashed_instances: number };
  charts: { hourly_rows_off: number; daily_rows_off: number; all_region_off: number };
  differences: LedgerDiff[];
  hours: { region: string; hour: string; status: string; [key: string]: unknown }[];
}

/** The ledger of the last 24 hours; region ALL means every region. */
export function fetchLedger(region: string, signal?: AbortSignal): Promise<Ledger> {
  return getJson("/api/ledger", new URLSearchParams({ region }), signal);
}
