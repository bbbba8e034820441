// The answer of Generate code: the Python that recreates the workflow, to read and copy.
import { CodeEditor } from "../components/CodeEditor";

export function CodeDialog({ code, onClose }: { code: string; onClose: () => void }) {
  return (
    <div className="modal" role="dialog" aria-label="Generated code">
      <div className="modal-body">
        <div className="page-head">
          <h2>Python code that recreates this workflow</h2>
          <div className="spacer" />
          <button onClick={() => void navigator.clipboard?.writeText(code)}>Copy</button>
          <button onClick={onClose}>Close</button>
        </div>
        <CodeEditor value={code} mode="python" readOnly height="60vh" />
      </div>
    </div>
  );
}
