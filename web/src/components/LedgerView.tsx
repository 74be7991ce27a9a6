import type { Ledger, LedgerDiff, LedgerTotals } from "../api";

const STAGES: { key: keyof LedgerTotals; label: string }[] = [
  { key: "accepted", label: "Accepted (202)" },
  { key: "kafka", label: "Ingested from Kafka" },
  { key: "raw", label: "Rows in raw/" },
  { key: "enriched", label: "Distinct in enriched/" },
  { key: "hourly", label: "Hourly counts" },
  { key: "daily", label: "Daily counts" },
];

const STATUS_TEXT: Record<Ledger["status"], string> = {
  balanced: "balanced",
  in_flight: "in flight",
  mismatch: "mismatch",
};

function where(d: LedgerDiff): string {
  if (!d.region || !d.hour) return "all";
  return `${d.region} ${d.hour.slice(0, 13).replace("T", " ")}:00`;
}

/** The end-to-end ledger: plays at every stage, and every difference explained. */
export function LedgerView({ ledger, maxDiffs = 8 }: { ledger: Ledger; maxDiffs?: number }) {
  const shown = ledger.differences.filter((d) => d.class !== "settled").slice(0, maxDiffs);
  const hidden = ledger.differences.filter((d) => d.class !== "settled").length - shown.length;
  return (
    <div className="ledger" data-testid="ledger">
      <p>
        <span className={`pill ledger-${ledger.status}`} data-testid="ledger-status">
          {STATUS_TEXT[ledger.status]}
        </span>{" "}
        <span className="muted">
          {ledger.from.slice(0, 13).replace("T", " ")}:00 – {ledger.to.slice(0, 13).replace("T", " ")}:00 UTC,{" "}
          {ledger.region ?? "all regions"}
          {ledger.lake_checked ? ", lake footers read" : ", bookkeeping only"}
        </span>
      </p>
      <table className="ledger-stages">
        <tbody>
          {STAGES.map((s) => (
            <tr key={s.key} data-testid="ledger-stage">
              <th scope="row">{s.label}</th>
              <td>{ledger.totals[s.key].toLocaleString("en-US")}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">Duplicates removed</th>
            <td>{ledger.totals.duplicates_removed.toLocaleString("en-US")}</td>
          </tr>
          <tr>
            <th scope="row">Kafka lag / dead letters</th>
            <td data-testid="ledger-kafka">
              {ledger.kafka.lag === null ? `unknown (${ledger.kafka.error ?? "no answer"})` : ledger.kafka.lag} /{" "}
              {ledger.kafka.dead_lettered}
            </td>
          </tr>
        </tbody>
      </table>
      {shown.length === 0 ? (
        <p className="muted">Every stage agrees.</p>
      ) : (
        <ul className="ledger-diffs">
          {shown.map((d, i) => (
            <li key={i} data-testid="ledger-diff" className={`diff ${d.class}`}>
              <strong>{d.kind.replace(/_/g, " ")}</strong> — {d.plays.toLocaleString("en-US")} plays, {d.stage}, {where(d)}:{" "}
              {d.detail}
              {d.class === "mismatch" && !d.explained ? " (unexplained)" : ""}
            </li>
          ))}
          {hidden > 0 && <li className="muted">…and {hidden} more (topsongs ledger lists them all)</li>}
        </ul>
      )}
    </div>
  );
}
