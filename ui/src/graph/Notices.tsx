// Above the canvas, one stack (nothing overlaps): what the editor is busy with, the last notice (a new one
// replaces it), the graph-wide validation messages, and an empty canvas's hint.
import { Panel } from "@xyflow/react";
import { memo } from "react";
import type { Notice } from "./useNotice";

export const Notices = memo(function Notices({
  busy,
  notice,
  graphErrors,
  onDismiss,
  hint = null,
}: {
  busy: string | null;
  notice: Notice;
  graphErrors: string[];
  onDismiss: () => void;
  hint?: string | null;
}) {
  if (!notice && !busy && graphErrors.length === 0 && !hint) return null;
  return (
    <Panel position="top-center" className="notices">
      {busy && <div className="notice info">{busy}</div>}
      {notice && (
        <div className={`notice ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"} data-testid="notice">
          {notice.text}
          <button className="small link" onClick={onDismiss} aria-label="Dismiss">
            ✕
          </button>
        </div>
      )}
      {graphErrors.map((text, i) => (
        <div className="notice error" key={i} data-testid="graph-error">
          {text}
        </div>
      ))}
      {hint && <div className="hint">{hint}</div>}
    </Panel>
  );
});
