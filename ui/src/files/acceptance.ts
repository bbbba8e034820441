// Which file types the approved operations of the library take: a file of a type none takes cannot be
// wired to anything yet, and the Files page says so (with "use as plain file").
import { useEffect, useState } from "react";
import { api } from "../api";
import type { PlynxNode, ResourcesDict } from "../types";

const PER_PAGE = 1000; // the API's largest page (chalicelib/store/search.py MAX_PER_PAGE)
const MAX_PAGES = 20;
const FRESH_MS = 15_000;

let cached: { at: number; types: Promise<Set<string>> } | null = null;

async function collect(): Promise<Set<string>> {
  const types = new Set<string>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await api.searchNodes({
      search: "",
      base_node_names: ["python", "bash_jinja2", "graph"],
      status: ["READY"],
      per_page: PER_PAGE,
      offset: page * PER_PAGE,
    });
    body.items.forEach((op: PlynxNode) => op.inputs.forEach((i) => (i.file_types.length ? i.file_types : ["file"]).forEach((t) => types.add(t))));
    if ((page + 1) * PER_PAGE >= body.total_count) break;
  }
  return types;
}

/** The input types of the approved operations the user can see (cached a few seconds). */
export function acceptedTypes(): Promise<Set<string>> {
  if (!cached || performance.now() - cached.at > FRESH_MS) {
    const types = collect();
    cached = { at: performance.now(), types };
    types.catch(() => (cached = null));
  }
  return cached.types;
}

/** The accepted types, or null while they load (or when they could not be read: no warning then). */
export function useAcceptedTypes(refreshKey = 0): Set<string> | null {
  const [types, setTypes] = useState<Set<string> | null>(null);
  useEffect(() => {
    let stale = false;
    acceptedTypes()
      .then((found) => !stale && setTypes(found))
      .catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [refreshKey]);
  return types;
}

/** The resource types with their descriptions, read once if nothing has read them yet. */
export function useResourceKinds(): ResourcesDict {
  const [kinds, setKinds] = useState<ResourcesDict>(api.resourcesDict);
  useEffect(() => {
    if (Object.keys(api.resourcesDict).length) return;
    api
      .getNode("file")
      .then(() => setKinds(api.resourcesDict))
      .catch(() => undefined);
  }, []);
  return kinds;
}
