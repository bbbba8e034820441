// Above the canvas: what the editor is busy with, the last notice, and the graph-wide validation messages.
import { Panel } from "@xyflow/react";
import { memo } from "react";
import type { Notice } from "./useNotice";

export const Notices = memo(function Notices({
  busy,
  notice,
  graphErrors,
  onDismiss,
}: {
  busy: string | null;
  notice: Notice;
  graphErrors: string[];
  onDismiss: () => void;
}) {
  if (!notice && !busy && graphErrors.length === 0) return null;
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
    </Panel>
  );
});
