import type { Entry } from "../api";

/** ▲ up, ▼ down, = same, NEW or RE-ENTRY badges. */
export function Movement({ entry }: { entry: Entry }) {
  if (entry.entry === "NEW") return <span className="badge new">NEW</span>;
  if (entry.entry === "RE-ENTRY") return <span className="badge re">RE</span>;
  const m = entry.movement;
  if (m === null) return <span className="move">–</span>;
  if (m > 0)
    return (
      <span className="move up" aria-label={`up ${m}`} title={`up ${m}`}>
        ▲{m}
      </span>
    );
  if (m < 0)
    return (
      <span className="move down" aria-label={`down ${-m}`} title={`down ${-m}`}>
        ▼{-m}
      </span>
    );
  return (
    <span className="move same" aria-label="no change" title="no change">
      =
    </span>
  );
}
