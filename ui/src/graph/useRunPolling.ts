// Watching a run: poll the graph while it runs, fold its statuses into the canvas, and say how it ended.
import { useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api";
import { ACTIVE_GRAPH_STATUSES, type Graph } from "../types";
import type { NoticeKind, Say } from "./useNotice";

const POLL_MS = 700;
/** Polls that may fail in a row before the user hears of it (one lost answer is no news). */
const TOLERATED_FAILURES = 2;

export interface RunWatch {
  graphId: string;
  /** Poll while true: the stored workflow runs. */
  watching: boolean;
  mergeServerGraph: (server: Graph) => void;
  say: Say;
  /** Select this node unless the user looks at another one. */
  reveal: (nodeId: string) => void;
}

/** What of a run came from the cache: all of it (and from which run), some of it, or nothing (""). */
export function fromCache(server: Graph): string {
  const operations = server.nodes.filter((n) => n.base_node_name !== "file");
  const restored = operations.filter((n) => n.node_running_status === "RESTORED" && n.restored_from?.kind !== "retry");
  if (!restored.length) return "";
  const runs = [...new Set(restored.map((n) => n.restored_from?.run_id).filter(Boolean))];
  const source = runs.length === 1 ? ` (run ${runs[0]})` : "";
  if (restored.length === operations.length)
    return `: ${restored.length === 1 ? "its result" : "all its results"} came from the cache${source}, nothing ran again`;
  return `; ${restored.length} of ${operations.length} operations came from the cache${source}`;
}

/** How a finished run is announced, and the failed node whose stderr to show first. */
export function runOutcome(server: Graph): { kind: NoticeKind; text: string; failedNode?: string } {
  const failedNodes = server.nodes.filter((n) => n.node_running_status === "FAILED");
  if (server.graph_running_status === "SUCCESS") return { kind: "success", text: `The run succeeded${fromCache(server)}.` };
  if (failedNodes.length) {
    const failed = failedNodes.map((n) => `"${n.title}"`).join(", ");
    return { kind: "error", text: `The run ${server.graph_running_status}: ${failed} failed; its stderr is on the right.`, failedNode: failedNodes[0]._id };
  }
  return { kind: "info", text: `The run ended: ${server.graph_running_status}.` };
}

/** Polls while `watching`; returns how many polls answered, for panels that refresh with the run. */
export function useRunPolling(watch: RunWatch): number {
  const [polls, setPolls] = useState(0);
  const watchRef = useRef(watch);
  watchRef.current = watch;
  const { graphId, watching } = watch;

  useEffect(() => {
    if (!watching) return;
    let stopped = false;
    let failures = 0;
    const poll = async () => {
      const { mergeServerGraph, say, reveal } = watchRef.current;
      try {
        const server = await api.getGraph(graphId);
        if (stopped) return;
        failures = 0;
        mergeServerGraph(server);
        setPolls((k) => k + 1);
        if (ACTIVE_GRAPH_STATUSES.includes(server.graph_running_status)) return;
        const outcome = runOutcome(server);
        say(outcome.kind, outcome.text);
        if (outcome.failedNode) reveal(outcome.failedNode);
      } catch (e) {
        failures += 1;
        if (failures === TOLERATED_FAILURES + 1) say("error", `Lost track of the run: ${errorMessage(e)}`);
      }
    };
    const timer = window.setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [graphId, watching]);

  return polls;
}
