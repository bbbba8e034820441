// The editor's keyboard (Ctrl/Cmd + Z, Shift+Z or Y, S, A, C, V; not while typing in a field) and the
// browser's "leave the page?" question while there are unsaved changes.
import { useEffect } from "react";
import type { PlynxNode } from "../types";
import { pasteNodes, toGraph } from "./model";
import type { GraphState } from "./useGraphState";
import type { Say } from "./useNotice";

const CLIPBOARD_KEY = "plynx.clipboard";
const PASTE_OFFSET = 40;

export interface EditorKeys {
  graph: GraphState;
  save: () => void;
  addNodes: (placed: PlynxNode[]) => void;
  say: Say;
}

export function useEditorKeys({ graph, save, addNodes, say }: EditorKeys): void {
  const { header, nodesRef, edgesRef, setNodes, undo, redo, refuseIfLocked, dirty } = graph;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (target.closest("input, textarea, select, [contenteditable=true], .cm-editor")) return;
      const mod = event.ctrlKey || event.metaKey;
      if (!mod) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) {
        event.preventDefault();
        if (!refuseIfLocked()) undo();
      } else if ((key === "z" && event.shiftKey) || key === "y") {
        event.preventDefault();
        if (!refuseIfLocked()) redo();
      } else if (key === "s") {
        event.preventDefault();
        save();
      } else if (key === "a") {
        event.preventDefault();
        setNodes((current) => current.map((n) => (n.selected ? n : { ...n, selected: true })));
      } else if (key === "c") {
        const chosen = nodesRef.current.filter((n) => n.selected);
        if (!chosen.length) return;
        const inside = (id: string) => chosen.some((n) => n.id === id);
        const copied = toGraph(header, chosen, edgesRef.current.filter((e) => inside(e.source) && inside(e.target))).nodes;
        localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(copied));
        say("info", `Copied ${copied.length} node${copied.length === 1 ? "" : "s"}.`);
      } else if (key === "v") {
        if (refuseIfLocked()) return;
        const raw = localStorage.getItem(CLIPBOARD_KEY);
        if (!raw) return;
        try {
          addNodes(pasteNodes(JSON.parse(raw) as PlynxNode[], PASTE_OFFSET));
        } catch {
          say("error", "The clipboard does not hold PLynx nodes.");
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo, save, addNodes, header, say, refuseIfLocked, setNodes, nodesRef, edgesRef]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
}
