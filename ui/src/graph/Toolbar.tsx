// The editor's toolbar: title, status and elapsed time of the run, the graph actions, and upload.
// One row at any width: the run's state has room kept for it (a status showing moves nothing), and
// the actions that do not fit go, last first, into a "More" menu at the row's end.
// Memoized: the editor hands it stable actions, so a poll that changes nothing here leaves it alone.
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { StatusBadge } from "../components/StatusBadge";
import { FileTypeSelect } from "../files/FileTypeSelect";
import { FilesInput } from "../files/FilesInput";
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
  automation?: () => void;
  /** Hide the saved workflow from lists and searches (absent: not saved, not the caller's, or archived). */
  archive?: () => void;
  schedules: () => void;
}

/** An action that may move into the "More" menu: drawn inline, or as a menu entry. */
interface Overflowing {
  key: string;
  render: (inMenu: boolean, close: () => void) => ReactNode;
}

/** `icon`: drawn inline instead of the label (which stays its name); the menu shows the label. */
function action(key: string, label: string, onClick: () => void, disabled: boolean, title?: string, icon?: string): Overflowing {
  return {
    key,
    render: (inMenu, close) => (
      <button
        key={key}
        role={inMenu ? "menuitem" : undefined}
        aria-label={icon && !inMenu ? label : undefined}
        className={icon && !inMenu ? "icon" : undefined}
        onClick={() => {
          close();
          onClick();
        }}
        disabled={disabled}
        title={title}
      >
        {icon && !inMenu ? icon : label}
      </button>
    ),
  };
}

export const Toolbar = memo(function Toolbar({
  title,
  onTitle,
  status,
  preparing,
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
  /** READY and still being prepared by the server after APPROVE answered. */
  preparing?: boolean;
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
  const bar = useRef<HTMLDivElement>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const close = useCallback(() => setMenuOpen(false), []);

  const overflowing: Overflowing[] = [
    action("undo", "Undo", actions.undo, locked, "Undo (Ctrl+Z)", "\u21b6"),
    action("redo", "Redo", actions.redo, locked, "Redo (Ctrl+Shift+Z)", "\u21b7"),
    action("layout", "Auto layout", actions.rearrange, locked, "Lay the workflow out left to right, as its wires run"),
    action("clone", "Clone", actions.clone, busy),
    action("upgrade", "Upgrade nodes", actions.upgrade, busy || locked),
    action("code", "Generate code", actions.generateCode, busy),
    action("operation", "Make operation", actions.asOperation, busy, "Save this workflow as a composite operation: its files become inputs"),
    {
      key: "upload",
      render: (inMenu, closeMenu) => (
        <span key="upload" className={inMenu ? "menu-group" : "group"}>
          <FileTypeSelect value={uploadType} onChange={onUploadType} />
          <button
            role={inMenu ? "menuitem" : undefined}
            onClick={() => {
              closeMenu();
              fileInput.current?.click();
            }}
            disabled={busy || locked}
          >
            Upload file
          </button>
        </span>
      ),
    },
    // Last, so the editing actions stay inline the longest when the row is narrow (the More menu has the rest).
    action("schedules", "Schedules", actions.schedules, busy, "Run this workflow on a schedule (cron or rate), with its next fire times"),
    // Always listed (disabled until the workflow is saved): its appearing at the first save would move the row.
    action("automation", "Automation", actions.automation ?? (() => undefined), busy || !actions.automation,
           "Notifications of this workflow's runs, and what starts them from outside (once saved)"),
    // Always listed (disabled when it does not apply), so the row's layout does not move when it starts to.
    action("archive", "Archive", actions.archive ?? (() => undefined), busy || !actions.archive,
           "Hide this saved workflow from lists and searches; it still opens and runs"),
  ];

  // How many of them stay inline: all, then one fewer while the row overflows (before the browser paints).
  const [inline, setInline] = useState(overflowing.length);
  const shown = Math.min(inline, overflowing.length);
  const hidden = overflowing.slice(shown);
  useLayoutEffect(() => {
    const row = bar.current;
    if (row && shown > 0 && row.scrollWidth > row.clientWidth) setInline(shown - 1);
  });
  useEffect(() => {
    const row = bar.current;
    if (!row) return;
    let width = row.clientWidth;
    const observer = new ResizeObserver(() => {
      if (row.clientWidth === width) return;
      width = row.clientWidth;
      setInline(Number.MAX_SAFE_INTEGER); // measure again from all inline
    });
    observer.observe(row);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    if (!menuOpen) return;
    const away = (event: MouseEvent) => {
      if (!(event.target as Element).closest?.(".more")) setMenuOpen(false);
    };
    const escape = (event: KeyboardEvent) => event.key === "Escape" && setMenuOpen(false);
    document.addEventListener("mousedown", away);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("mousedown", away);
      document.removeEventListener("keydown", escape);
    };
  }, [menuOpen]);

  return (
    <div className="toolbar" ref={bar} data-testid="toolbar">
      <input className="graph-title" value={title} aria-label="Workflow title" disabled={locked} onChange={(e) => onTitle(e.target.value)} />
      <span className="run-state">
        <span data-testid="graph-status">
          <StatusBadge status={status} preparing={preparing} />
        </span>
        <RunClock runId={runId} status={status} updateDate={updateDate} active={active} />
        {dirty && <span className="muted">unsaved</span>}
      </span>
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
      {overflowing.slice(0, shown).map((item) => item.render(false, close))}
      {hidden.length > 0 && (
        <span className="more">
          <button aria-haspopup="menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)} title="The actions that do not fit in the row">
            More &#9662;
          </button>
          {menuOpen && (
            <div className="menu" role="menu" data-testid="toolbar-menu">
              {hidden.map((item) => item.render(true, close))}
            </div>
          )}
        </span>
      )}
      <FilesInput inputRef={fileInput} testId="upload-input" onFiles={actions.upload} />
    </div>
  );
});
