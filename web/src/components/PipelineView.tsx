import type { Pipeline } from "../api";
import { formatAge } from "../time";

/** Kafka lag, freshness, newest lake hours and recent flow runs. */
export function PipelineView({ pipeline }: { pipeline: Pipeline }) {
  const { kafka, freshness, lake, flow_runs } = pipeline;
  return (
    <div className="pipeline" data-testid="pipeline">
      <dl className="facts">
        <div>
          <dt>Kafka lag ({kafka.topic})</dt>
          <dd data-testid="kafka-lag">{kafka.ok ? kafka.total_lag ?? 0 : `unknown: ${kafka.error ?? "no answer"}`}</dd>
        </div>
        <div>
          <dt>Lake written</dt>
          <dd>{formatAge(freshness.lake_age_s)} ago</dd>
        </div>
        <div>
          <dt>Charts updated</dt>
          <dd>{formatAge(freshness.chart_age_s)} ago</dd>
        </div>
        <div>
          <dt>Scheduler heartbeat</dt>
          <dd>{freshness.scheduler_age_s === null ? "none" : `${formatAge(freshness.scheduler_age_s)} ago`}</dd>
        </div>
      </dl>
      <h3>Flow runs</h3>
      {flow_runs.length === 0 ? (
        <p className="muted">No flow has run yet.</p>
      ) : (
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Flow</th>
              <th scope="col">Scope</th>
              <th scope="col">State</th>
              <th scope="col" className="wide">
                Started (UTC)
              </th>
            </tr>
          </thead>
          <tbody>
            {flow_runs.map((r) => (
              <tr key={r.id} data-testid="flow-run">
                <td>{r.flow}</td>
                <td>{r.scope}</td>
                <td>
                  <span className={`state ${r.state}`} title={r.error ?? undefined}>
                    {r.state}
                    {r.attempt > 1 ? ` (try ${r.attempt})` : ""}
                  </span>
                </td>
                <td className="wide">{r.started_at.replace("T", " ").replace("Z", "")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Newest lake hours</h3>
      {lake.hours.length === 0 ? (
        <p className="muted">Nothing in the lake yet.</p>
      ) : (
        <ul className="lake">
          {lake.hours.map((h) => (
            <li key={`${h.region}-${h.date}-${h.hour}`}>
              {h.region} {h.date} {String(h.hour).padStart(2, "0")}:00 — {h.rows} rows, {h.files} files
              {h.closed ? ", closed" : ", open"}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
