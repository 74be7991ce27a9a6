// UTC periods and how they read in the viewer's own time zone.
import type { Period } from "./api";

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-11-25T13" for an hour, "2026-11-25" for a day (UTC). */
export function periodKey(d: Date, period: Period): string {
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return period === "day" ? day : `${day}T${pad(d.getUTCHours())}`;
}

/** The start of a period key as a Date. */
export function keyStart(key: string): Date {
  return new Date(key.length === 10 ? `${key}T00:00:00Z` : `${key}:00:00Z`);
}

/** The key of the period `delta` periods away. */
export function shiftKey(key: string, period: Period, delta: number): string {
  const d = keyStart(key);
  const ms = period === "day" ? 86_400_000 : 3_600_000;
  return periodKey(new Date(d.getTime() + delta * ms), period);
}

/** "13:00–14:00 UTC" / "25 Nov 2026 UTC". */
export function describeUtc(startIso: string, period: Period): string {
  const s = new Date(startIso);
  if (period === "day") return `${periodKey(s, "day")} (UTC)`;
  const e = new Date(s.getTime() + 3_600_000);
  return `${periodKey(s, "day")} ${pad(s.getUTCHours())}:00–${pad(e.getUTCHours())}:00 UTC`;
}

/** The same period in the viewer's time zone, e.g. "14:00–15:00 your time (Europe/Berlin)". */
export function describeLocal(startIso: string, period: Period, timeZone?: string): string {
  const s = new Date(startIso);
  const e = new Date(s.getTime() + (period === "day" ? 86_400_000 : 3_600_000));
  const tz = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const fmt = new Intl.DateTimeFormat(undefined, {
    timeZone: tz,
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
  return `${fmt.format(s)} – ${fmt.format(e)} your time (${tz})`;
}

/** "5 s", "3 min", "2 h" for an age in seconds. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return "never";
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
