// The toolbar's graph actions (Save, Validate, Run, Cancel, Clone, Upgrade nodes, Generate code, Make
// operation) as one table run by one runner: it shows what is going on, refuses changes to a locked
// workflow, and turns a failure into a notice.
import { useCallback, useMemo, useRef, useState } from "react";
import { api, errorMessage } from "../api";
import { navigate } from "../router";
import type { Graph, ValidationError } from "../types";
import { copyOfGraph } from "./model";
import type { Say } from "./useNotice";

/** What the actions read and change in the editor, as it is when an action starts. */
export interface ActionContext {
  graphId: string;
  saved: boolean;
  dirty: boolean;
  currentGraph: () => Graph;
  mergeServerGraph: (server: Graph) => void;
  markSaved: () => void;
  /** Show a validation tree; returns how many problems it holds. */
  applyValidation: (tree: ValidationError | undefined) => number;
  /** Load the server's graph into the canvas, as one undo step. */
  replace: (server: Graph) => void;
  showCode: (code: string) => void;
  refuseIfLocked: () => boolean;
  say: Say;
}

interface ActionSpec {
  /** Shown while the action runs; a failure says "<label without …> failed: <why>". */
  label: string;
  /** It changes the workflow, so it is refused while the workflow is running or someone else's. */
  changes?: boolean;
  run: (ctx: ActionContext) => Promise<void>;
}

const problems = (count: number) => `${count} problem${count === 1 ? "" : "s"}`;
const STARTING = "Starting the run…";

/** APPROVE (saving first if need be), with the run's parameter values when the run form gave some. */
async function approve(ctx: ActionContext, parameters?: Record<string, unknown>): Promise<void> {
  if (!ctx.currentGraph().nodes.length) {
    ctx.say("info", "Nothing to run: the workflow is empty (nothing was saved). Add operations and files from the left first.");
    return;
  }
  const response = await api.postGraph(ctx.currentGraph(), ["APPROVE"], parameters);
  const count = ctx.applyValidation(response.validation_error);
  if (response.graph) ctx.mergeServerGraph(response.graph);
  ctx.markSaved();
  if (response.status === "VALIDATION_FAILED") ctx.say("error", `Not started: ${problems(count)}, shown on the nodes in red.`);
  else ctx.say("info", response.graph?.preparing ? "Preparing the run…" : "Running…");
}

const ACTIONS = {
  save: {
    label: "Saving…",
    changes: true,
    run: async (ctx) => {
      const response = await api.postGraph(ctx.currentGraph(), ["SAVE"]);
      if (response.graph) ctx.mergeServerGraph(response.graph);
      ctx.markSaved();
      ctx.say("success", "Saved.");
    },
  },
  validate: {
    label: "Validating…",
    run: async (ctx) => {
      const response = await api.postGraph(ctx.currentGraph(), ["VALIDATE"]);
      const count = ctx.applyValidation(response.validation_error);
      if (response.status === "VALIDATION_FAILED") ctx.say("error", `The workflow is not valid: ${problems(count)}, shown on the nodes in red.`);
      else ctx.say("success", "The workflow is valid: it can run.");
    },
  },
  approve: {
    label: STARTING,
    changes: true,
    run: (ctx) => approve(ctx),
  },
  cancel: {
    label: "Canceling…",
    run: async (ctx) => {
      const response = await api.graphAction(ctx.graphId, "cancel");
      if (response.graph) ctx.mergeServerGraph(response.graph);
      ctx.say("info", "Cancel requested.");
    },
  },
  clone: {
    label: "Cloning…",
    run: async (ctx) => {
      // The server clones what is stored; with unsaved changes the copy is this canvas, saved under a new id.
      let newGraphId: string | undefined;
      if (ctx.saved && !ctx.dirty) newGraphId = (await api.graphAction(ctx.graphId, "clone")).new_graph_id;
      else {
        const copy = copyOfGraph(ctx.currentGraph());
        newGraphId = (await api.postGraph(copy, ["SAVE"])).graph?._id ?? copy._id;
      }
      if (newGraphId) navigate(`/graphs/${newGraphId}`);
    },
  },
  upgrade: {
    label: "Upgrading nodes…",
    changes: true,
    run: async (ctx) => {
      const response = await api.postGraph(ctx.currentGraph(), ["UPGRADE_NODES"]);
      if (response.graph) ctx.replace(response.graph);
      ctx.say("success", `${response.upgraded_nodes_count ?? 0} node(s) upgraded to their successors.`);
    },
  },
  generateCode: {
    label: "Generating code…",
    run: async (ctx) => {
      const response = await api.postGraph(ctx.currentGraph(), ["GENERATE_CODE"]);
      ctx.showCode(response.code ?? "# the server returned no code");
    },
  },
  asOperation: {
    label: "Saving as an operation…",
    run: async (ctx) => {
      if (!ctx.saved || ctx.dirty) {
        const response = await api.postGraph(ctx.currentGraph(), ["SAVE"]);
        if (response.graph) ctx.mergeServerGraph(response.graph);
        ctx.markSaved();
      }
      const response = await api.graphAction(ctx.graphId, "as_operation");
      if (response.node) navigate(`/nodes/${response.node._id}`);
    },
  },
} satisfies Record<string, ActionSpec>;

export type GraphActionName = keyof typeof ACTIONS;
export type GraphActions = Record<GraphActionName, () => void>;

/** The actions as stable callbacks, `perform` for other busy work, and what is busy now (null: nothing). */
export function useGraphActions(context: ActionContext) {
  const [busy, setBusy] = useState<string | null>(null);
  // The actions read the editor as it is when they start, yet stay the same functions across renders.
  const contextRef = useRef(context);
  contextRef.current = context;

  const perform = useCallback(async (label: string, action: () => Promise<void>) => {
    setBusy(label);
    try {
      await action();
    } catch (e) {
      contextRef.current.say("error", `${label.replace(/…$/, "")} failed: ${errorMessage(e)}`);
    } finally {
      setBusy(null);
    }
  }, []);

  const actions = useMemo(() => {
    const bound = {} as GraphActions;
    for (const [name, spec] of Object.entries(ACTIONS) as [GraphActionName, ActionSpec][])
      bound[name] = () => {
        const ctx = contextRef.current;
        if (spec.changes && ctx.refuseIfLocked()) return;
        void perform(spec.label, () => spec.run(ctx));
      };
    return bound;
  }, [perform]);

  /** Run with the run form's values. */
  const startRun = useCallback(
    (parameters: Record<string, unknown>) => {
      const ctx = contextRef.current;
      if (ctx.refuseIfLocked()) return;
      void perform(STARTING, () => approve(ctx, parameters));
    },
    [perform],
  );

  return { busy, perform, actions, startRun };
}
