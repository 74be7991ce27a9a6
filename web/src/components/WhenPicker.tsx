import type { Period } from "../api";
import { describeLocal, shiftKey } from "../time";

interface Props {
  period: Period;
  /** The shown period's key ("YYYY-MM-DD" or "YYYY-MM-DDTHH"), UTC. */
  value: string;
  live: boolean;
  onChange: (key: string) => void;
  onLive: () => void;
}

const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0"));

/** Date (and hour) in UTC, previous/next, "now", and the local time. */
export function WhenPicker({ period, value, live, onChange, onLive }: Props) {
  const date = value.slice(0, 10);
  const hour = value.length > 10 ? value.slice(11, 13) : "00";
  const startIso = value.length > 10 ? `${value}:00:00Z` : `${value}T00:00:00Z`;
  return (
    <div className="when">
      <button type="button" onClick={() => onChange(shiftKey(value, period, -1))} aria-label={`Previous ${period}`}>
        ‹
      </button>
      <label className="field">
        <span>Date (UTC)</span>
        <input
          type="date"
          value={date}
          data-testid="date"
          onChange={(e) => e.target.value && onChange(period === "day" ? e.target.value : `${e.target.value}T${hour}`)}
        />
      </label>
      {period === "hour" && (
        <label className="field">
          <span>Hour (UTC)</span>
          <select value={hour} data-testid="hour" onChange={(e) => onChange(`${date}T${e.target.value}`)}>
            {HOURS.map((h) => (
              <option key={h} value={h}>
                {h}:00
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="button" onClick={() => onChange(shiftKey(value, period, 1))} aria-label={`Next ${period}`}>
        ›
      </button>
      <button type="button" className={live ? "live on" : "live"} aria-pressed={live} onClick={onLive} data-testid="live">
        {live ? "● Live" : "Go live"}
      </button>
      <p className="local" data-testid="local-time">
        {describeLocal(startIso, period)}
      </p>
    </div>
  );
}
