// A wire dropped on empty canvas: the operations (and, for an input, the files) of every hub whose
// ports fit the wire's type, to place there already connected; one entry per operation (its newest
// version), the older versions folded under it.
import { useEffect, useState } from "react";
import { errorMessage } from "../api";
import { foldVersions, OlderToggle, versionLine, type Family } from "../components/Versions";
import type { PlynxNode } from "../types";
import { flatten, loadHubs, searchHub } from "./HubPanel";

export interface PickerRequest {
  /** Where the menu opens, in pixels inside the canvas. */
  left: number;
  top: number;
  /** Where the chosen node goes, in flow coordinates. */
  position: { x: number; y: number };
  nodeId: string;
  handleId: string;
  handleType: "source" | "target";
  fileTypes: string[];
}

export function fits(node: PlynxNode, request: PickerRequest): boolean {
  return request.handleType === "source"
    ? node.inputs.some((i) => (i.file_types.length ? i.file_types : ["file"]).some((t) => request.fileTypes.includes(t)))
    : node.outputs.some((o) => request.fileTypes.includes(o.file_type));
}

export function TypePicker({
  request,
  onPick,
  onClose,
  onError,
}: {
  request: PickerRequest;
  onPick: (node: PlynxNode) => void;
  onClose: () => void;
  onError: (message: string) => void;
}) {
  const [items, setItems] = useState<PlynxNode[] | null>(null);

  useEffect(() => {
    let stale = false;
    setItems(null);
    (async () => {
      const hubs = [...(await loadHubs()), ...(request.handleType === "target" ? [{ kind: "files", title: "Files" }] : [])];
      const found = flatten((await Promise.all(hubs.map((hub) => searchHub(hub, "", 200)))).flat());
      if (!stale) setItems(found.filter((node) => fits(node, request)));
    })().catch((e) => {
      if (stale) return;
      onClose();
      onError(errorMessage(e));
    });
    return () => {
      stale = true;
    };
  }, [request, onClose, onError]);

  return (
    <div className="picker" style={{ left: request.left, top: request.top }} data-testid="type-picker">
      <div className="picker-head">
        {request.handleType === "source" ? "Operations reading" : "Nodes producing"} {request.fileTypes.join(" or ")}
        <button className="small link" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      {items === null && <div className="muted">Loading…</div>}
      {items?.length === 0 && <div className="muted">Nothing fits that type yet.</div>}
      {items && foldVersions(items).map((family) => <PickerFamily key={family.head._id} family={family} onPick={onPick} />)}
    </div>
  );
}

function PickerItem({ node, onPick, older }: { node: PlynxNode; onPick: (node: PlynxNode) => void; older?: boolean }) {
  return (
    <button className={`picker-item${older ? " older" : ""}`} data-testid={older ? "picker-item-older" : "picker-item"} data-title={node.title} onClick={() => onPick(node)} title={node.description || node.title}>
      {node.title} <small>{node.base_node_name}</small>
      {node.version_number !== undefined && <small className="version-meta"> {versionLine(node)}</small>}
    </button>
  );
}

/** The newest version of an operation, the older ones folded under it. */
function PickerFamily({ family, onPick }: { family: Family<PlynxNode>; onPick: (node: PlynxNode) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="picker-entry">
      <PickerItem node={family.head} onPick={onPick} />
      <OlderToggle count={family.older.length} open={open} onToggle={() => setOpen(!open)} />
      {open && family.older.map((node) => <PickerItem key={node._id} node={node} onPick={onPick} older />)}
    </div>
  );
}
