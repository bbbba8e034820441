// A file whose type no approved operation takes cannot be wired to anything: say so, and let its author
// make it a plain `file` in one click (APPROVE of a new version of type `file`: same content, addressed by
// its SHA-256, nothing uploaded again; the old version is deprecated with the new one as its successor).
import { useState } from "react";
import { api, errorMessage } from "../api";
import type { PlynxNode } from "../types";

export const PLAIN = "file";

/** The warning's text, or null when the file is fine (or is not a current file). */
export function typeProblem(node: PlynxNode, accepted: Set<string> | null): string | null {
  const type = node.outputs[0]?.file_type;
  if (!accepted || !type || type === PLAIN || node.node_status !== "READY" || accepted.has(type)) return null;
  const title = api.resourcesDict[type]?.title ?? type;
  return `No approved operation takes ${title} (${type}) files, so this file cannot be wired to one.`;
}

/** The re-typed file: a new READY version of type `file` (only its author may make it). */
export async function retypeAsPlainFile(node: PlynxNode): Promise<PlynxNode> {
  const plain = { ...node, outputs: node.outputs.map((o, i) => (i === 0 ? { ...o, file_type: PLAIN } : o)) };
  const response = await api.postNode(plain, "APPROVE");
  if (!response.node) throw new Error(response.message ?? "The server returned no file");
  return response.node;
}

export function FileTypeWarning({
  node,
  accepted,
  onRetyped,
  compact = false,
}: {
  node: PlynxNode;
  accepted: Set<string> | null;
  onRetyped: (plain: PlynxNode) => void;
  compact?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = typeProblem(node, accepted);
  if (!problem) return null;
  const mine = node.author === api.state.user && !node._readonly;
  const retype = async () => {
    setBusy(true);
    setError(null);
    try {
      onRetyped(await retypeAsPlainFile(node));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className={`file-warning${compact ? " compact" : ""}`} data-testid="file-type-warning" role="status">
      <span title={problem}>⚠ {compact ? `no operation takes ${node.outputs[0].file_type}` : problem}</span>{" "}
      {mine ? (
        <button
          className="small"
          onClick={(e) => {
            e.stopPropagation();
            void retype();
          }}
          disabled={busy}
          title="Make it a plain file (type `file`): every operation input of type file takes it"
        >
          Use as plain file
        </button>
      ) : (
        !compact && <span className="muted">Its author can make it a plain file.</span>
      )}
      {error && <span className="error-text"> {error}</span>}
    </div>
  );
}
