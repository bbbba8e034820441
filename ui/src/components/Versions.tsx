// One entry per operation: the versions search_nodes numbers (version_number, first_version_id) folded
// under the newest, so a list shows "Sum v3 · 2 h ago · alice" once, with the older versions a click away.
import { ago } from "../format";
import type { PlynxNode } from "../types";

export interface Family<T extends PlynxNode> {
  head: T;
  older: T[];
}

function newer(a: PlynxNode, b: PlynxNode): number {
  return (b.version_number ?? 1) - (a.version_number ?? 1) || (b.insertion_date ?? "").localeCompare(a.insertion_date ?? "");
}

/** Items grouped by the first version they descend from, in the order their first member was listed. */
export function foldVersions<T extends PlynxNode>(items: T[]): Family<T>[] {
  const families = new Map<string, T[]>();
  for (const item of items) {
    const key = item.first_version_id ?? item._id;
    families.set(key, [...(families.get(key) ?? []), item]);
  }
  return [...families.values()].map((members) => {
    const [head, ...older] = [...members].sort(newer);
    return { head, older };
  });
}

/** "v3 · 2 h ago · alice": which version, when, whose. */
export function versionLine(node: PlynxNode): string {
  return [`v${node.version_number ?? 1}`, ago(node.insertion_date), node.author].filter(Boolean).join(" · ");
}

export function VersionMeta({ node }: { node: PlynxNode }) {
  return (
    <small className="version-meta" data-testid="version-meta" title={node.insertion_date ?? ""}>
      {versionLine(node)}
    </small>
  );
}

/** The button that unfolds a family's older versions. */
export function OlderToggle({ count, open, onToggle }: { count: number; open: boolean; onToggle: () => void }) {
  if (!count) return null;
  return (
    <button
      type="button"
      className="small link older-toggle"
      aria-expanded={open}
      onClick={(e) => {
        e.stopPropagation();
        onToggle();
      }}
      draggable={false}
    >
      {open ? "▾" : "▸"} {count} older
    </button>
  );
}
