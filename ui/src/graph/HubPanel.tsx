// The hub panel: a tab per hub the API offers (GET /hubs, searched with POST /search_in_hubs: the
// database's operations, static lists with groups) plus the uploaded files; search with the seed's
// syntax. Items are dragged onto the canvas (or added with their + button). An operation shows once, as
// its newest version (number, date, author, description), its older versions folded under it.
import { useCallback, useEffect, useState, type DragEvent, type ReactNode } from "react";
import { api, ApiError, errorMessage } from "../api";
import { foldVersions, OlderToggle, VersionMeta, type Family } from "../components/Versions";
import { UploadPanel } from "../files/UploadPanel";
import { expandSearch } from "../pages/Lists";
import type { PlynxNode } from "../types";

export const DRAG_TYPE = "application/x-plynx-node";

/** A hub item: an operation or a titled group of items (the seed's hub groups). */
export type HubItem = (PlynxNode & { _type?: "Node" }) | { _type: "Group"; title: string; items: HubItem[] };

interface Hub {
  kind: string;
  title: string;
}

const FILES: Hub = { kind: "files", title: "Files" };
/** Before GET /hubs exists: the database's approved operations through search_nodes. */
const FALLBACK: Hub = { kind: "database", title: "Operations" };
const KIND_TITLES: Record<string, string> = { python: "Python", bash_jinja2: "Bash (Jinja2)", graph: "Composite", file: "Files" };

function isGroup(item: HubItem): item is { _type: "Group"; title: string; items: HubItem[] } {
  return item._type === "Group";
}

/** Operations of a flat list grouped by kind (or file type), so a long list stays readable. */
function grouped(items: HubItem[], files: boolean): HubItem[] {
  if (items.some(isGroup)) return items;
  const groups = new Map<string, PlynxNode[]>();
  for (const item of items as PlynxNode[]) {
    const title = files ? item.outputs[0]?.file_type ?? "file" : KIND_TITLES[item.base_node_name] ?? item.base_node_name;
    groups.set(title, [...(groups.get(title) ?? []), item]);
  }
  return [...groups.entries()].map(([title, nodes]) => ({ _type: "Group" as const, title, items: nodes }));
}

export function flatten(items: HubItem[]): PlynxNode[] {
  return items.flatMap((item) => (isGroup(item) ? flatten(item.items) : [item]));
}

let hubsCache: Hub[] | null = null;

/** The hubs the API offers, or the database fallback before GET /hubs exists. */
export async function loadHubs(): Promise<Hub[]> {
  if (hubsCache) return hubsCache;
  try {
    const body = await api.request("GET", "/hubs");
    hubsCache = (body.hubs as Hub[]).length ? (body.hubs as Hub[]) : [FALLBACK];
  } catch (e) {
    if (!(e instanceof ApiError) || e.kind !== "unavailable") throw e;
    hubsCache = [FALLBACK];
  }
  return hubsCache;
}

export async function searchHub(hub: Hub, search: string, perPage = 100): Promise<HubItem[]> {
  if (hub.kind === FILES.kind)
    return (await api.searchNodes({ search, base_node_names: ["file"], status: ["READY"], per_page: perPage })).items;
  if (hub.kind === FALLBACK.kind)
    return (await api.searchNodes({ search, base_node_names: ["python", "bash_jinja2", "graph"], status: ["READY", "DEPRECATED"], per_page: perPage })).items;
  const body = await api.request("POST", "/search_in_hubs", { hub: hub.kind, search, per_page: perPage });
  return body.items as HubItem[];
}

function onDragStart(event: DragEvent, node: PlynxNode) {
  event.dataTransfer.setData(DRAG_TYPE, JSON.stringify(node));
  event.dataTransfer.effectAllowed = "copy";
}

/** One hub entry: its title, version, date and author, its description; drag it or press +. */
function HubNode({ node, onAdd, older, toggle }: { node: PlynxNode; onAdd: (node: PlynxNode) => void; older?: boolean; toggle?: ReactNode }) {
  return (
    <div
      className={`hub-item kind-${node.base_node_name}${older ? " older" : ""}`}
      draggable
      onDragStart={(e) => onDragStart(e, node)}
      data-testid={older ? "hub-item-older" : "hub-item"}
      data-title={node.title}
      data-version={node.version_number ?? ""}
      title={node.description || node.title}
    >
      <span className="hub-item-title">{node.title}</span>
      {node.node_status === "DEPRECATED" && <small className="muted"> deprecated</small>}
      <button className="small add" aria-label={`Add ${node.title}`} onClick={() => onAdd(node)}>
        +
      </button>
      {(node.version_number !== undefined || node.description || toggle) && (
        <div className="hub-item-sub">
          {node.version_number !== undefined && <VersionMeta node={node} />}
          {toggle}
          {node.description && <div className="hub-item-description">{node.description}</div>}
        </div>
      )}
    </div>
  );
}

/** The newest version of an operation, its older versions folded under it. */
function HubFamily({ family, onAdd }: { family: Family<PlynxNode>; onAdd: (node: PlynxNode) => void }) {
  const [open, setOpen] = useState(false);
  const toggle = <OlderToggle count={family.older.length} open={open} onToggle={() => setOpen(!open)} />;
  return (
    <div className="hub-family" data-testid="hub-family">
      <HubNode node={family.head} onAdd={onAdd} toggle={family.older.length ? toggle : undefined} />
      {open && (
        <div className="hub-older" data-testid="hub-older">
          {family.older.map((node) => (
            <HubNode key={node._id} node={node} onAdd={onAdd} older />
          ))}
        </div>
      )}
    </div>
  );
}

function Group({ item, depth, onAdd }: { item: { title: string; items: HubItem[] }; depth: number; onAdd: (node: PlynxNode) => void }) {
  const [open, setOpen] = useState(true);
  const families = foldVersions(item.items.filter((sub): sub is PlynxNode & { _type?: "Node" } => !isGroup(sub)));
  const byMember = new Map(families.flatMap((family) => [family.head, ...family.older].map((node) => [node._id, family] as const)));
  const shown = new Set<Family<PlynxNode>>();
  return (
    <div className="hub-group" style={{ marginLeft: depth ? 8 : 0 }}>
      <button className="group-title" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "▾" : "▸"} {item.title} <small>{foldVersions(flatten(item.items)).length}</small>
      </button>
      {open &&
        item.items.map((sub, i) => {
          if (isGroup(sub)) return <Group key={`g${i}-${sub.title}`} item={sub} depth={depth + 1} onAdd={onAdd} />;
          const family = byMember.get(sub._id);
          if (!family || shown.has(family)) return null;
          shown.add(family);
          return <HubFamily key={family.head._id} family={family} onAdd={onAdd} />;
        })}
    </div>
  );
}

export function HubPanel({ onAdd, refreshKey }: { onAdd: (node: PlynxNode) => void; refreshKey: number }) {
  const [hubs, setHubs] = useState<Hub[]>([]);
  const [hub, setHub] = useState<Hub | null>(null);
  const [search, setSearch] = useState("");
  const [items, setItems] = useState<HubItem[] | null>(null); // null until the open tab's first answer
  const [error, setError] = useState<string | null>(null);
  const [uploads, setUploads] = useState(0); // files uploaded in the Files tab: its list is stale
  const uploaded = useCallback(() => setUploads((k) => k + 1), []);

  useEffect(() => {
    loadHubs()
      .then((found) => {
        setHubs([...found, FILES]);
        setHub((current) => current ?? found[0]);
      })
      .catch((e) => setError(errorMessage(e)));
  }, []);

  useEffect(() => {
    if (!hub) return;
    let stale = false;
    const timer = window.setTimeout(() => {
      searchHub(hub, expandSearch(search))
        .then((found) => {
          if (stale) return;
          setItems(grouped(found, hub.kind === FILES.kind));
          setError(null);
        })
        .catch((e) => !stale && setError(errorMessage(e)));
    }, 200);
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
  }, [hub, search, refreshKey, uploads]);

  return (
    <aside className="hub" data-testid="hub">
      <div className="tabs" role="tablist">
        {hubs.map((h) => (
          <button key={h.kind} role="tab" aria-selected={h.kind === hub?.kind} className={h.kind === hub?.kind ? "on" : ""} onClick={() => {
              if (h.kind !== hub?.kind) setItems(null); // not the last tab's items, nor "nothing here", while it loads
              setHub(h);
            }} title={h.title}>
            {h.title}
          </button>
        ))}
      </div>
      <input
        type="search"
        className="search"
        placeholder="Search: words, author:me, input_file_type:csv"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        aria-label="Search the hub"
      />
      {hub?.kind === FILES.kind && <UploadPanel onUploaded={uploaded} compact />}
      {error && <div className="message error">{error}</div>}
      <div className="hub-items">
        {items === null && !error && <p className="muted" data-testid="hub-loading">Loading…</p>}
        {items?.map((item, i) =>
          isGroup(item) ? <Group key={`g${i}-${item.title}`} item={item} depth={0} onAdd={onAdd} /> : <Group key={item._id} item={{ title: item.title, items: [item] }} depth={0} onAdd={onAdd} />,
        )}
        {items?.length === 0 && !error && hub && (
          <p className="muted" data-testid="hub-empty">
            {search.trim()
              ? `Nothing matches "${search.trim()}".`
              : hub.kind === FILES.kind
                ? "No files yet: upload one above, with the toolbar, or drop it on the canvas."
                : "Nothing here yet: approve an operation under Operations."}
          </p>
        )}
      </div>
    </aside>
  );
}
