// What the page shows, kept in the URL so a chart can be shared:
// ?region=EU&period=hour&at=2026-11-25T13 (at absent = the current period,
// followed live).
import type { Period } from "./api";

export interface Selection {
  region: string;
  period: Period;
  /** "YYYY-MM-DD" (day) or "YYYY-MM-DDTHH" (hour), UTC; null = now, live. */
  at: string | null;
}

export const DEFAULT_SELECTION: Selection = { region: "ALL", period: "hour", at: null };

const HOUR_RE = /^\d{4}-\d{2}-\d{2}T\d{2}$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Reads a selection from a query string; bad values fall back to defaults. */
export function parseSelection(search: string): Selection {
  const p = new URLSearchParams(search);
  const region = p.get("region");
  const period: Period = p.get("period") === "day" ? "day" : "hour";
  let at = p.get("at");
  if (at && period === "day" && HOUR_RE.test(at)) at = at.slice(0, 10);
  if (at && period === "hour" && DAY_RE.test(at)) at = `${at}T00`;
  const ok = at && (period === "day" ? DAY_RE.test(at) : HOUR_RE.test(at));
  return {
    region: region && /^[A-Z]{2,8}$/.test(region) ? region : DEFAULT_SELECTION.region,
    period,
    at: ok ? at : null,
  };
}

export function formatSelection(s: Selection): string {
  const p = new URLSearchParams({ region: s.region, period: s.period });
  if (s.at) p.set("at", s.at);
  return `?${p.toString()}`;
}

/** Switching period keeps the same moment: the hour's day, or the day's 00:00. */
export function withPeriod(s: Selection, period: Period): Selection {
  if (!s.at || period === s.period) return { ...s, period };
  return { ...s, period, at: period === "day" ? s.at.slice(0, 10) : `${s.at}T00` };
}
