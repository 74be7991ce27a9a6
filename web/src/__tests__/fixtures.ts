import type { Entry, Pipeline, Trend } from "../api";

export function entries(n = 10): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    rank: i + 1,
    song_id: `s${i + 1}`,
    title: `Title ${i + 1}`,
    artist: `Artist ${i + 1}`,
    genre: "pop",
    plays: 1000 - i * 10,
    previous_rank: i === 0 ? null : i + 2,
    movement: i === 0 ? null : i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : -2,
    peak_rank: 1,
    periods_on_chart: i + 1,
    entry: i === 0 ? "NEW" : i === 9 ? "RE-ENTRY" : null,
  }));
}

export const trend: Trend = {
  region: "EU",
  from: "2026-11-25T00:00:00Z",
  to: "2026-11-25T03:00:00Z",
  hours: ["2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", "2026-11-25T02:00:00Z"],
  series: [
    { song_id: "s1", title: "Title 1", artist: "A", plays: [1, 2, 3] },
    { song_id: "s2", title: null, artist: null, plays: [3, 2, 1] },
  ],
};

export const pipeline: Pipeline = {
  generated_at: "2026-11-25T13:00:00Z",
  kafka: {
    topic: "plays",
    ok: true,
    error: null,
    total_lag: 42,
    partitions: [{ partition: 0, high_watermark: 100, next_offset: 58, committed_at: null, watermark: null, lag: 42 }],
  },
  lake: { hours: [{ region: "EU", date: "2026-11-25", hour: 13, rows: 10, files: 2, closed: false, late_rows: 0, updated_at: "x" }] },
  flow_runs: [
    {
      id: 1,
      flow: "aggregate",
      scope: "EU",
      trigger: "retry",
      state: "failed",
      attempt: 2,
      owner: "o",
      started_at: "2026-11-25T12:59:00Z",
      finished_at: null,
      rows_in: null,
      rows_out: null,
      error: "boom",
    },
  ],
  freshness: { lake_age_s: 5, chart_age_s: 200, scheduler_age_s: null },
};
