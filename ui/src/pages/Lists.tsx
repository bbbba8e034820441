// Workflows, operations, files and runs: search (the seed's syntax, `author:me`), status filters,
// paging, newest first; every row opens its editor. Operations show once per operation (the newest
// version), the older versions folded under it.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { api, errorMessage, type SearchQuery } from "../api";
import { LifecycleButtons, type LifecycleKind } from "../components/Lifecycle";
import { StatusBadge } from "../components/StatusBadge";
import { foldVersions, OlderToggle } from "../components/Versions";
import { useAcceptedTypes } from "../files/acceptance";
import { FileTypeWarning } from "../files/FileTypeWarning";
import { UploadPanel } from "../files/UploadPanel";
import { ago } from "../format";
import { Link, navigate } from "../router";
import type { GraphHeader, PlynxNode } from "../types";

const PER_PAGE = 20;

/** `author:me` means the signed-in user; the server's parser knows only real names. */
export function expandSearch(search: string): string {
  const user = api.state.user ?? "default";
  return search.replace(/(^|\s)author:me(?=\s|$)/g, `$1author:${user}`);
}

interface Column<T> {
  title: string;
  cell: (item: T) => ReactNode;
}

interface SearchListProps<T> {
  title: string;
  testId: string;
  statuses: string[];
  defaultStatuses?: string[];
  fixedStatuses?: string[];
  fetch: (query: SearchQuery) => Promise<{ items: T[]; total_count: number }>;
  columns: Column<T>[];
  href: (item: T) => string;
  actions?: ReactNode;
  refreshMs?: number;
  /** Rows that are versions of one operation: the newest shown, the older ones folded under it. */
  fold?: (items: T[]) => { head: T; older: T[] }[];
  /** Changed: read the page again now (a file was uploaded). */
  refreshKey?: number;
  /** Rows that may be archived, restored and deleted (their kind), with the "Archived" filter. */
  lifecycle?: LifecycleKind;
}

function SearchList<T extends { _id: string; title?: string; author?: string; _readonly?: boolean; archived?: string | null }>(
  props: SearchListProps<T>,
) {
  const [search, setSearch] = useState("");
  const [archived, setArchived] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [statuses, setStatuses] = useState<string[]>(props.defaultStatuses ?? []);
  const [offset, setOffset] = useState(0);
  const [items, setItems] = useState<T[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [unfolded, setUnfolded] = useState<Set<string>>(new Set());
  const seq = useRef(0);

  const load = async () => {
    const mine = ++seq.current;
    try {
      const status = statuses.length ? statuses : props.fixedStatuses ?? [];
      const query = { search: expandSearch(search), per_page: PER_PAGE, offset, status };
      const body = await props.fetch(archived ? { ...query, archived: true } : query);
      if (mine !== seq.current) return;
      setItems(body.items);
      setTotal(body.total_count);
      setError(null);
    } catch (e) {
      if (mine !== seq.current) return;
      setError(errorMessage(e));
    }
  };

  useEffect(() => {
    const timer = window.setTimeout(() => void load(), 250);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search, statuses.join(","), offset, props.refreshKey, archived]);

  useEffect(() => {
    if (!props.refreshMs) return;
    const timer = window.setInterval(() => void load(), props.refreshMs);
    return () => window.clearInterval(timer);
  });

  const toggle = (status: string) => {
    setOffset(0);
    setStatuses((current) => (current.includes(status) ? current.filter((s) => s !== status) : [...current, status]));
  };

  return (
    <div className="page" data-testid={props.testId}>
      <div className="page-head">
        <h1>{props.title}</h1>
        <div className="spacer" />
        {props.actions}
      </div>
      <div className="filters">
        <input
          type="search"
          className="search"
          placeholder='Search: words, author:me, author:NAME'
          value={search}
          aria-label="Search"
          onChange={(e) => {
            setSearch(e.target.value);
            setOffset(0);
          }}
        />
        {props.statuses.map((status) => (
          <label key={status} className={`chip ${statuses.includes(status) ? "on" : ""}`}>
            <input type="checkbox" checked={statuses.includes(status)} onChange={() => toggle(status)} />
            {status}
          </label>
        ))}
        {props.lifecycle && (
          <label className={`chip ${archived ? "on" : ""}`} data-testid="archived-filter"
                 title="Only archived ones (hidden from the list otherwise)">
            <input
              type="checkbox"
              checked={archived}
              onChange={() => {
                setArchived(!archived);
                setOffset(0);
              }}
            />
            Archived
          </label>
        )}
      </div>
      {notice && (
        <div className="message info" role="status" data-testid="lifecycle-notice">
          {notice}
        </div>
      )}
      {error && (
        <div className="message error" role="alert">
          {error} <button onClick={() => void load()}>Retry</button>
        </div>
      )}
      {items === null && !error && <p>Loading&hellip;</p>}
      {items !== null && (
        <>
          <table className="list">
            <thead>
              <tr>
                {props.columns.map((column) => (
                  <th key={column.title}>{column.title}</th>
                ))}
                {props.lifecycle && <th>Actions</th>}
              </tr>
            </thead>
            <tbody>
              {(props.fold ? props.fold(items) : items.map((head) => ({ head, older: [] as T[] }))).flatMap(({ head, older }) => {
                const open = unfolded.has(head._id);
                const toggle = () =>
                  setUnfolded((current) => {
                    const next = new Set(current);
                    if (open) next.delete(head._id);
                    else next.add(head._id);
                    return next;
                  });
                const row = (item: T, isOlder: boolean) => (
                  <tr
                    key={item._id}
                    className={isOlder ? "row older" : "row"}
                    data-testid={isOlder ? "older-row" : "list-row"}
                    onClick={(e) => (e.target as HTMLElement).closest("a, button") || navigate(props.href(item))}
                  >
                    {props.columns.map((column, i) => (
                      <td key={column.title}>
                        {column.cell(item)}
                        {i === 0 && !isOlder && <OlderToggle count={older.length} open={open} onToggle={toggle} />}
                      </td>
                    ))}
                    {props.lifecycle && (
                      <td>
                        <LifecycleButtons
                          kind={props.lifecycle}
                          item={item}
                          onDone={(action) => {
                            setNotice(`"${item.title || item._id}": ${action === "delete" ? "deleted" : `${action}d`}.`);
                            setError(null);
                            void load();
                          }}
                          onError={(message) => {
                            setNotice(null);
                            setError(message);
                          }}
                        />
                      </td>
                    )}
                  </tr>
                );
                return [row(head, false), ...(open ? older.map((item) => row(item, true)) : [])];
              })}
              {items.length === 0 && (
                <tr>
                  <td colSpan={props.columns.length + (props.lifecycle ? 1 : 0)} className="empty">
                    Nothing {archived ? "archived " : ""}found{search ? ` for "${search}"` : ""}.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <div className="pager">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PER_PAGE))}>
              &larr; Newer
            </button>
            <span data-testid="page-info">
              {total ? `${offset + 1}–${Math.min(offset + PER_PAGE, total)} of ${total}` : "0 of 0"}
            </span>
            <button disabled={offset + PER_PAGE >= total} onClick={() => setOffset(offset + PER_PAGE)}>
              Older &rarr;
            </button>
          </div>
        </>
      )}
    </div>
  );
}

const GRAPH_STATUSES = ["CREATED", "READY", "RUNNING", "SUCCESS", "FAILED_WAITING", "FAILED", "CANCELED"];
const RUN_STATUSES = ["READY", "RUNNING", "SUCCESS", "FAILED_WAITING", "FAILED", "CANCELED"];

const graphColumns: Column<GraphHeader>[] = [
  { title: "Title", cell: (g) => <Link to={`/graphs/${g._id}`}>{g.title || "(untitled)"}</Link> },
  { title: "Status", cell: (g) => <StatusBadge status={g.graph_running_status} /> },
  { title: "Author", cell: (g) => g.author },
  { title: "Updated", cell: (g) => <span title={g.update_date ?? ""}>{ago(g.update_date)}</span> },
  { title: "Id", cell: (g) => <code>{g._id}</code> },
];

export function GraphList() {
  return (
    <SearchList<GraphHeader>
      title="Workflows"
      testId="graph-list"
      statuses={GRAPH_STATUSES}
      fetch={(q) => api.searchGraphs(q)}
      columns={graphColumns}
      href={(g) => `/graphs/${g._id}`}
      lifecycle="graphs"
      actions={
        <Link to="/graphs/new" className="button primary">
          New workflow
        </Link>
      }
    />
  );
}

export function RunList() {
  return (
    <SearchList<GraphHeader>
      title="Runs"
      testId="run-list"
      statuses={RUN_STATUSES}
      fixedStatuses={RUN_STATUSES}
      fetch={(q) => api.searchGraphs(q)}
      columns={graphColumns}
      href={(g) => `/graphs/${g._id}`}
      refreshMs={3000}
    />
  );
}

const nodeColumns: Column<PlynxNode>[] = [
  { title: "Title", cell: (n) => <Link to={`/nodes/${n._id}`}>{n.title || "(untitled)"}</Link> },
  { title: "Version", cell: (n) => <span data-testid="version-number" title={n.insertion_date ?? ""}>v{n.version_number ?? 1}</span> },
  { title: "Kind", cell: (n) => <span className={`kind kind-${n.base_node_name}`}>{n.base_node_name}</span> },
  { title: "Status", cell: (n) => <StatusBadge status={n.node_status} /> },
  { title: "Author", cell: (n) => n.author },
  { title: "Updated", cell: (n) => <span title={n.update_date ?? ""}>{ago(n.update_date)}</span> },
];

export function OperationList() {
  return (
    <SearchList<PlynxNode>
      title="Operations"
      testId="operation-list"
      statuses={["CREATED", "READY", "DEPRECATED", "MANDATORY_DEPRECATED"]}
      fetch={(q) => api.searchNodes({ ...q, base_node_names: ["python", "bash_jinja2", "graph"] })}
      columns={nodeColumns}
      href={(n) => `/nodes/${n._id}`}
      fold={foldVersions}
      lifecycle="nodes"
      actions={
        <>
          <Link to="/nodes/new?kind=python" className="button primary">
            New python operation
          </Link>{" "}
          <Link to="/nodes/new?kind=bash_jinja2" className="button">
            New bash operation
          </Link>
        </>
      }
    />
  );
}

function fileColumns(accepted: Set<string> | null, onRetyped: () => void): Column<PlynxNode>[] {
  return [
    { title: "Title", cell: (n) => <Link to={`/files/${n._id}`}>{n.title || "(untitled)"}</Link> },
    {
      title: "Type",
      cell: (n) => (
        <>
          {n.outputs[0]?.file_type}
          <FileTypeWarning node={n} accepted={accepted} onRetyped={onRetyped} compact />
        </>
      ),
    },
    { title: "Status", cell: (n) => <StatusBadge status={n.node_status} /> },
    { title: "Author", cell: (n) => n.author },
    { title: "Uploaded", cell: (n) => <span title={n.insertion_date ?? ""}>{ago(n.insertion_date)}</span> },
  ];
}

export function FileList() {
  const [refreshKey, setRefreshKey] = useState(0);
  const accepted = useAcceptedTypes(refreshKey);
  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);
  return (
    <SearchList<PlynxNode>
      title="Files"
      testId="file-list"
      statuses={[]}
      fetch={(q) => api.searchNodes({ ...q, base_node_names: ["file"] })}
      columns={fileColumns(accepted, refresh)}
      href={(n) => `/files/${n._id}`}
      refreshKey={refreshKey}
      lifecycle="nodes"
      actions={<UploadPanel onUploaded={refresh} />}
    />
  );
}
