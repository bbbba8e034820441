// The editor's toolbar: title, status and elapsed time of the run, the graph actions, and upload.
// Memoized: the editor hands it stable actions, so a poll that changes nothing here leaves it alone.
import { memo, useRef } from "react";
import { api } from "../api";
import { StatusBadge } from "../components/StatusBadge";
import type { GraphRunningStatus } from "../types";
import { RunClock } from "./RunClock";

export interface ToolbarActions {
  save: () => void;
  validate: () => void;
  approve: () => void;
  cancel: () => void;
  undo: () => void;
  redo: () => void;
  rearrange: () => void;
  clone: () => void;
  upgrade: () => void;
  generateCode: () => void;
  asOperation: () => void;
  upload: (files: File[]) => void;
  history: () => void;
}

export const Toolbar = memo(function Toolbar({
  title,
  onTitle,
  status,
  runId,
  updateDate,
  dirty,
  busy,
  locked,
  active,
  uploadType,
  onUploadType,
  actions,
}: {
  title: string;
  onTitle: (title: string) => void;
  status: GraphRunningStatus;
  runId: string | null | undefined;
  /** When the run last changed: the end of a finished run. */
  updateDate: string | null | undefined;
  dirty: boolean;
  busy: boolean;
  locked: boolean;
  active: boolean;
  uploadType: string;
  onUploadType: (kind: string) => void;
  actions: ToolbarActions;
}) {
  const fileInput = useRef<HTMLInputElement>(null);
  const kinds = Object.keys(api.resourcesDict);
  return (
    <div className="toolbar">
      <input className="graph-title" value={title} aria-label="Workflow title" disabled={locked} onChange={(e) => onTitle(e.target.value)} />
      <span data-testid="graph-status">
        <StatusBadge status={status} />
      </span>
      <RunClock runId={runId} status={status} updateDate={updateDate} active={active} />
      {dirty && <span className="muted">unsaved</span>}
      <div className="spacer" />
      <button onClick={actions.save} disabled={busy || locked} title="Ctrl+S">
        Save
      </button>
      <button onClick={actions.validate} disabled={busy}>
        Validate
      </button>
      <button className="primary" onClick={actions.approve} disabled={busy || locked}>
        Run
      </button>
      <button onClick={actions.cancel} disabled={busy || !active}>
        Cancel
      </button>
      <button onClick={actions.history} disabled={busy} title="This workflow's runs, newest first">
        Runs
      </button>
      <span className="sep" />
      <button onClick={actions.undo} disabled={locked} title="Ctrl+Z">
        Undo
      </button>
      <button onClick={actions.redo} disabled={locked} title="Ctrl+Shift+Z">
        Redo
      </button>
      <button onClick={actions.rearrange} disabled={locked}>
        Auto layout
      </button>
      <button onClick={actions.clone} disabled={busy}>
        Clone
      </button>
      <button onClick={actions.upgrade} disabled={busy || locked}>
        Upgrade nodes
      </button>
      <button onClick={actions.generateCode} disabled={busy}>
        Generate code
      </button>
      <button onClick={actions.asOperation} disabled={busy} title="Save this workflow as a composite operation: its files become inputs">
        Make operation
      </button>
      <span className="sep" />
      <select value={uploadType} onChange={(e) => onUploadType(e.target.value)} aria-label="Type of the uploaded file">
        <option value="auto">type: by extension</option>
        {kinds.map((kind) => (
          <option key={kind} value={kind}>
            {api.resourcesDict[kind].title}
          </option>
        ))}
      </select>
      <button onClick={() => fileInput.current?.click()} disabled={busy || locked}>
        Upload file
      </button>
      <input
        ref={fileInput}
        type="file"
        multiple
        hidden
        data-testid="upload-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          if (files.length) actions.upload(files);
        }}
      />
    </div>
  );
});
