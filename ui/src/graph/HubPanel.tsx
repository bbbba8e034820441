// The hub panel: a tab per hub (the database's operations, uploaded files), groups per kind, search
// with the seed's syntax. Items are dragged onto the canvas (or added with their + button).
import { useEffect, useState, type DragEvent } from "react";
import { api, errorMessage } from "../api";
import { expandSearch } from "../pages/Lists";
import type { PlynxNode } from "../types";

export const DRAG_TYPE = "application/x-plynx-node";

interface Hub {
  id: string;
  title: string;
  baseNodeNames: string[];
  groupTitle: (node: PlynxNode) => string;
}

const KIND_TITLES: Record<string, string> = { python: "Python", bash_jinja2: "Bash (Jinja2)", file: "Files" };

const HUBS: Hub[] = [
  { id: "operations", title: "Operations", baseNodeNames: ["python", "bash_jinja2"], groupTitle: (n) => KIND_TITLES[n.base_node_name] ?? n.base_node_name },
  { id: "files", title: "Files", baseNodeNames: ["file"], groupTitle: (n) => n.outputs[0]?.file_type ?? "file" },
];

export function HubPanel({ onAdd, refreshKey }: { onAdd: (node: PlynxNode) => void; refreshKey: number }) {
  const [hub, setHub] = useState(HUBS[0]);
  const [search, setSearch] = useState("");
  const [items, setItems] = useState<PlynxNode[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});

  useEffect(() => {
    let stale = false;
    const timer = window.setTimeout(() => {
      api
        .searchNodes({ search: expandSearch(search), base_node_names: hub.baseNodeNames, status: ["READY", "DEPRECATED"], per_page: 100 })
        .then((body) => {
          if (stale) return;
          setItems(body.items);
          setError(null);
        })
        .catch((e) => !stale && setError(errorMessage(e)));
    }, 200);
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
  }, [hub, search, refreshKey]);

  const groups = new Map<string, PlynxNode[]>();
  for (const item of items) {
    const title = hub.groupTitle(item);
    groups.set(title, [...(groups.get(title) ?? []), item]);
  }

  const onDragStart = (event: DragEvent, node: PlynxNode) => {
    event.dataTransfer.setData(DRAG_TYPE, JSON.stringify(node));
    event.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="hub" data-testid="hub">
      <div className="tabs" role="tablist">
        {HUBS.map((h) => (
          <button key={h.id} role="tab" aria-selected={h.id === hub.id} className={h.id === hub.id ? "on" : ""} onClick={() => setHub(h)}>
            {h.title}
          </button>
        ))}
      </div>
      <input type="search" className="search" placeholder="Search (author:me, words)" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="Search the hub" />
      {error && <div className="message error">{error}</div>}
      <div className="hub-items">
        {[...groups.entries()].map(([title, nodes]) => (
          <div className="hub-group" key={title}>
            <button className="group-title" onClick={() => setCollapsed({ ...collapsed, [title]: !collapsed[title] })}>
              {collapsed[title] ? "▸" : "▾"} {title} <small>{nodes.length}</small>
            </button>
            {!collapsed[title] &&
              nodes.map((node) => (
                <div
                  key={node._id}
                  className={`hub-item kind-${node.base_node_name}`}
                  draggable
                  onDragStart={(e) => onDragStart(e, node)}
                  data-testid="hub-item"
                  data-title={node.title}
                  title={node.description || node.title}
                >
                  <span className="hub-item-title">{node.title}</span>
                  {node.node_status === "DEPRECATED" && <small className="muted"> deprecated</small>}
                  <button className="small add" aria-label={`Add ${node.title}`} onClick={() => onAdd(node)}>
                    +
                  </button>
                </div>
              ))}
          </div>
        ))}
        {!items.length && !error && (
          <p className="muted">
            {hub.id === "files" ? "No files yet: upload one with the toolbar or drop it on the canvas." : "No approved operations yet: create one under Operations."}
          </p>
        )}
      </div>
    </aside>
  );
}
