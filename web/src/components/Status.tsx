import type { ReactNode } from "react";

type Kind = "loading" | "empty" | "error";

/** Loading, empty and error states, announced to screen readers. */
export function Status({ kind, children }: { kind: Kind; children: ReactNode }) {
  return (
    <div className={`status ${kind}`} role={kind === "error" ? "alert" : "status"} data-testid={`status-${kind}`}>
      {children}
    </div>
  );
}
