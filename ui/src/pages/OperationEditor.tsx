// The operation editor: inputs and outputs (file types, arrays, min count), parameters, the command or
// code, Preview command, Save / Validate / Approve, Deprecate with successor, new versions and history.
import { CompositeInside } from "../components/CompositeInside";
import { useEffect, useRef, useState } from "react";
import { useAcceptedTypes } from "../files/acceptance";
import { FileTypeWarning } from "../files/FileTypeWarning";
import { NewVersion, NewVersionNote } from "../files/NewVersion";
import { api, ApiError, errorMessage } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { ArchivedNote, LifecycleButtons } from "../components/Lifecycle";
import { PageError } from "../components/PageError";
import { ParameterWidget } from "../components/ParameterWidget";
import { ResourceView } from "../components/ResourceView";
import { StatusBadge } from "../components/StatusBadge";
import { ago, kindLabel } from "../format";
import { TryPanel } from "../trials/TryPanel";
import { newId } from "../graph/model";
import { Link, navigate } from "../router";
import type { CodeValue, NodeInput, NodeOutput, Parameter, ParameterType, PlynxNode, ValidationError } from "../types";

const PARAMETER_TYPES: ParameterType[] = ["str", "int", "float", "bool", "text", "enum", "list_str", "list_int", "color"];

const DEFAULTS: Record<string, unknown> = {
  str: "",
  int: 0,
  float: 0,
  bool: false,
  text: "",
  enum: { values: ["a", "b"], index: 0 },
  list_str: [],
  list_int: [],
  color: "#336699",
};

function problems(tree: ValidationError | undefined): string[] {
  if (!tree) return [];
  const texts: Record<string, string> = { INVALID_VALUE: "has an invalid value", MISSING_PARAMETER: "is empty", MISSING_INPUT: "is missing" };
  return tree.children.map((c) => `${c.target === "PARAMETER" ? "Parameter" : c.target} "${c.object_id}" ${texts[c.validation_code] ?? c.validation_code}`);
}

export function OperationEditor({ nodeId, kind }: { nodeId: string; kind: string | null }) {
  const [node, setNode] = useState<PlynxNode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: "error" | "success" | "info"; text: string } | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [preview, setPreview] = useState<string | null>(null);
  const previewBox = useRef<HTMLDivElement>(null);
  const [successor, setSuccessor] = useState("");
  const [history, setHistory] = useState<PlynxNode[]>([]);
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  // Approving a new version of an approved operation: the version it came from, while the user decides
  // whether this one replaces it (default yes: APPROVE's make_successor).
  const [replacing, setReplacing] = useState<PlynxNode | null>(null);
  const [replace, setReplace] = useState(true);
  const [trying, setTrying] = useState(false);
  const isNew = nodeId === "new";
  const accepted = useAcceptedTypes();

  useEffect(() => {
    let stale = false;
    api
      .getNode(isNew ? kind || "python" : nodeId)
      .then((n) => {
        if (stale) return;
        setNode(n);
        // A file lives under Files (the nav's tab): /nodes/<id> of a file becomes /files/<id>.
        if (n.base_node_name === "file" && window.location.pathname.startsWith("/nodes/")) navigate(`/files/${n._id}`, true);
      })
      .catch((e) => !stale && setError(e instanceof ApiError && e.status === 404 ? `There is no operation "${nodeId}". ${e.message}` : errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [nodeId, kind, isNew]);

  // Version history: GET /nodes/{id}/versions, or (before that endpoint) parent_node_id followed back.
  useEffect(() => {
    if (!node || !node.insertion_date) {
      setHistory([]);
      return;
    }
    let stale = false;
    (async () => {
      let chain: PlynxNode[] = [];
      try {
        const body = await api.request("GET", `/nodes/${encodeURIComponent(node._id)}/versions`);
        chain = (body.items as PlynxNode[]).filter((n) => n._id !== node._id);
      } catch (e) {
        if (!(e instanceof ApiError) || e.kind !== "unavailable") return;
        let parent: string | null | undefined = node.parent_node_id;
        while (parent && chain.length < 20) {
          try {
            const older = await api.getNode(parent);
            chain.push(older);
            parent = older.parent_node_id;
          } catch {
            break;
          }
        }
      }
      if (!stale) setHistory(chain);
    })();
    return () => {
      stale = true;
    };
  }, [node?._id, node?.insertion_date]);

  // Preview command renders below the code: bring it into view, or the button looks dead.
  useEffect(() => {
    if (preview !== null) previewBox.current?.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }, [preview]);

  if (error) return <PageError error={error} />;
  if (!node) return <div className="page">Loading&hellip;</div>;

  const isFile = node.base_node_name === "file";
  const readOnly = !!node._readonly || (node.node_status !== undefined && node.node_status !== "CREATED") || isFile;
  const change = (patch: Partial<PlynxNode>) => {
    setNode({ ...node, ...patch });
    setDirty(true);
  };
  const cmd = node.parameters.find((p) => p.name === "_cmd" || p.name === "cmd");
  const cmdValue = (cmd?.value ?? { mode: "python", value: "" }) as CodeValue;
  const isComposite = node.base_node_name === "graph";
  const otherParameters = node.parameters.filter((p) => p !== cmd && !(isComposite && p.name === "_nodes"));

  const act = async (action: string, options: { make_successor?: boolean } = {}) => {
    setBusy(true);
    setNotice(null);
    try {
      const body: PlynxNode = action === "DEPRECATE" || action === "MANDATORY_DEPRECATE" ? { ...node, successor_node_id: successor || null } : node;
      const response = await api.postNode(body, action, options);
      if (action === "PREVIEW_CMD") {
        setPreview(response.preview_text ?? "");
        return;
      }
      setErrors(problems(response.validation_error));
      if (response.status === "VALIDATION_FAILED") {
        setNotice({ kind: "error", text: `${action === "APPROVE" ? "Not approved" : "Not valid"}: see the problems below.` });
        return;
      }
      if (response.node) {
        setNode(response.node);
        setDirty(false);
        if (isNew || window.location.pathname !== `/nodes/${response.node._id}`) window.history.replaceState({}, "", `/nodes/${response.node._id}`);
      }
      const done: Record<string, string> = {
        SAVE: "Saved.",
        VALIDATE: "The operation is valid.",
        APPROVE: "Approved: it is now in the hub of every graph editor.",
        DEPRECATE: "Deprecated.",
        MANDATORY_DEPRECATE: "Deprecated: graphs can no longer use it.",
      };
      let text = done[action] ?? `${action} done.`;
      if (response.replaced_node_id)
        text = "Approved: it replaces the version it came from (now deprecated, with this one as its successor); Upgrade nodes in a workflow moves its nodes here.";
      else if (response.replace_skipped && options.make_successor) text += ` ${response.replace_skipped}.`; // changed meanwhile
      setNotice({ kind: "success", text });
    } catch (e) {
      setNotice({ kind: "error", text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  /** APPROVE; a new version of an approved operation of the same author first asks whether it replaces it. */
  const approve = async () => {
    const parentId = node.parent_node_id;
    if (parentId && (isNew || node.node_status === "CREATED")) {
      let parent: PlynxNode | null = null;
      try {
        parent = await api.getNode(parentId);
      } catch {
        parent = null; // gone or not visible: nothing to replace
      }
      if (parent && parent.node_status === "READY" && !parent._readonly && (!node.author || parent.author === node.author)) {
        setReplace(true);
        setReplacing(parent);
        return;
      }
    }
    await act("APPROVE");
  };

  const newVersion = () => {
    const copy: PlynxNode = JSON.parse(JSON.stringify(node));
    copy.parent_node_id = node._id;
    copy._id = newId();
    copy.node_status = "CREATED";
    copy._readonly = false;
    delete copy.insertion_date;
    delete copy.update_date;
    setNode(copy);
    setDirty(true);
    setErrors([]);
    window.history.replaceState({}, "", `/nodes/new?kind=${node.base_node_name}`);
    setNotice({ kind: "info", text: "A new version: edit it, then Save or Approve. The approved version stays as it was." });
  };

  const setInput = (i: number, patch: Partial<NodeInput>) => change({ inputs: node.inputs.map((input, j) => (i === j ? { ...input, ...patch } : input)) });
  const setOutput = (i: number, patch: Partial<NodeOutput>) => change({ outputs: node.outputs.map((output, j) => (i === j ? { ...output, ...patch } : output)) });
  const setParameter = (i: number, patch: Partial<Parameter>) => change({ parameters: node.parameters.map((p) => (p === otherParameters[i] ? { ...p, ...patch } : p)) });
  const kinds = Object.keys(api.resourcesDict).length ? Object.keys(api.resourcesDict) : ["file"];

  return (
    <div className="page operation-editor" data-testid="operation-editor">
      <div className="page-head">
        <h1>{isFile ? "File" : "Operation"}</h1>
        <span className={`pnode-kind kind-${node.base_node_name}`}>{kindLabel(node.base_node_name)}</span>
        <StatusBadge status={node.node_status} />
        {dirty && <span className="muted">unsaved</span>}
        <div className="spacer" />
        {isFile && <NewVersion node={node} />}
        {!isFile && (
          <>
            <button onClick={() => void act("SAVE")} disabled={busy || readOnly}>
              Save
            </button>
            <button onClick={() => void act("VALIDATE")} disabled={busy}>
              Validate
            </button>
            <button className="primary" onClick={() => void approve()} disabled={busy || readOnly}>
              Approve
            </button>
            {!isComposite && (
              <button onClick={() => void act("PREVIEW_CMD")} disabled={busy}>
                Preview command
              </button>
            )}
            {!isComposite && (
              <button onClick={() => setTrying(!trying)} disabled={busy} aria-pressed={trying} title="Run this draft once on inputs you pick, before approving it">
                Try
              </button>
            )}
            {readOnly && !node._readonly && (
              <button onClick={newVersion} disabled={busy}>
                New version
              </button>
            )}
          </>
        )}
        {node.insertion_date && !dirty && (
          <LifecycleButtons
            kind="nodes"
            item={node}
            large
            onDone={(action) => {
              if (action === "delete") navigate(isFile ? "/files" : "/nodes");
              else {
                api.getNode(node._id).then(setNode, (e) => setError(errorMessage(e)));
                setNotice({ kind: "success", text: `${isFile ? "File" : "Operation"} ${action}d.` });
              }
            }}
            onError={(text) => setNotice({ kind: "error", text })}
          />
        )}
      </div>
      <ArchivedNote archived={node.archived} />
      {replacing && (
        <div className="modal" role="dialog" aria-label="Approve a new version">
          <div className="modal-body narrow-modal" data-testid="approve-dialog">
            <h2>Approve a new version</h2>
            <p>
              This version comes from <Link to={`/nodes/${replacing._id}`}>{replacing.title}</Link> <small className="muted">(approved {ago(replacing.insertion_date)})</small>.
            </p>
            <label className="checkbox">
              <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> Replace the version it came from: it is deprecated with this one as
              its successor, and Upgrade nodes moves workflows to this one
            </label>
            <div className="modal-actions">
              <button
                className="primary"
                onClick={() => {
                  setReplacing(null);
                  void act("APPROVE", { make_successor: replace });
                }}
              >
                Approve
              </button>
              <button onClick={() => setReplacing(null)}>Cancel</button>
            </div>
          </div>
        </div>
      )}
      {notice && (
        <div className={`message ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"} data-testid="op-notice">
          {notice.text}
        </div>
      )}
      {errors.length > 0 && (
        <div className="message error" data-testid="op-errors">
          <ul>
            {errors.map((text, i) => (
              <li key={i}>{text}</li>
            ))}
          </ul>
        </div>
      )}
      {trying && !isFile && !isComposite && <TryPanel node={node} onClose={() => setTrying(false)} />}
      {readOnly && !isFile && (
        <p className="muted">
          {node._readonly ? "This operation belongs to someone else." : `This operation is ${node.node_status}: approved operations never change.`} Use New version to
          change it.
        </p>
      )}
      <div className="form">
        <label>
          Title <input name="title" value={node.title} disabled={readOnly} onChange={(e) => change({ title: e.target.value })} />
        </label>
        <label>
          Description <textarea name="description" rows={2} value={node.description} disabled={readOnly} onChange={(e) => change({ description: e.target.value })} />
        </label>
      </div>
      {isFile && <NewVersionNote />}
      {isFile && <FileTypeWarning node={node} accepted={accepted} onRetyped={(plain) => navigate(`/files/${plain._id}`)} />}
      {isFile ? (
        node.outputs.map((output) => <ResourceView key={output.name} name={output.name} resourceId={output.resource_id} fileType={output.file_type} testId="file-resource" />)
      ) : (
        <>
          <div className="columns">
            <section>
              <h2>Inputs</h2>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Types</th>
                    <th>Min</th>
                    <th>Array</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {node.inputs.map((input, i) => (
                    <tr key={i} data-testid="input-row">
                      <td>
                        <input aria-label="Input name" value={input.name} disabled={readOnly} onChange={(e) => setInput(i, { name: e.target.value })} />
                      </td>
                      <td>
                        <TypeChecks kinds={kinds} value={input.file_types} disabled={readOnly} onChange={(file_types) => setInput(i, { file_types })} />
                      </td>
                      <td>
                        <input aria-label="Minimum count" className="narrow" type="number" min={0} value={input.min_count} disabled={readOnly} onChange={(e) => setInput(i, { min_count: Math.max(0, Number(e.target.value) || 0) })} />
                      </td>
                      <td>
                        <input aria-label="Array" type="checkbox" checked={input.max_count !== 1} disabled={readOnly} onChange={(e) => setInput(i, { max_count: e.target.checked ? -1 : 1 })} />
                      </td>
                      <td>
                        <button className="small" disabled={readOnly} onClick={() => change({ inputs: node.inputs.filter((_, j) => j !== i) })} aria-label="Remove input">
                          ✕
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button
                disabled={readOnly}
                onClick={() => change({ inputs: [...node.inputs, { name: `in${node.inputs.length + 1}`, file_types: ["file"], values: [], min_count: 1, max_count: 1 }] })}
              >
                Add input
              </button>
            </section>
            <section>
              <h2>Outputs</h2>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Type</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {node.outputs.map((output, i) => (
                    <tr key={i} data-testid="output-row">
                      <td>
                        <input aria-label="Output name" value={output.name} disabled={readOnly} onChange={(e) => setOutput(i, { name: e.target.value })} />
                      </td>
                      <td>
                        <select aria-label="Output type" value={output.file_type} disabled={readOnly} onChange={(e) => setOutput(i, { file_type: e.target.value })}>
                          {kinds.map((k) => (
                            <option key={k}>{k}</option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <button className="small" disabled={readOnly} onClick={() => change({ outputs: node.outputs.filter((_, j) => j !== i) })} aria-label="Remove output">
                          ✕
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button disabled={readOnly} onClick={() => change({ outputs: [...node.outputs, { name: `out${node.outputs.length + 1}`, file_type: "file", resource_id: null }] })}>
                Add output
              </button>
            </section>
          </div>
          <h2>Parameters</h2>
          <table className="grid params">
            <tbody>
              {otherParameters.map((parameter, i) => (
                <tr key={i} data-testid="parameter-row">
                  <td>
                    <input aria-label="Parameter name" value={parameter.name} disabled={readOnly || parameter.name.startsWith("_")} onChange={(e) => setParameter(i, { name: e.target.value })} />
                  </td>
                  <td>
                    <select
                      aria-label="Parameter type"
                      value={parameter.parameter_type}
                      disabled={readOnly || parameter.name.startsWith("_")}
                      onChange={(e) => setParameter(i, { parameter_type: e.target.value as ParameterType, value: DEFAULTS[e.target.value] })}
                    >
                      {PARAMETER_TYPES.map((t) => (
                        <option key={t}>{t}</option>
                      ))}
                    </select>
                  </td>
                  <td className="wide">
                    <ParameterWidget parameter={parameter} readOnly={readOnly} bare onChange={(value) => setParameter(i, { value })} />
                  </td>
                  <td>
                    <button className="small" disabled={readOnly || parameter.name.startsWith("_")} aria-label="Remove parameter" onClick={() => change({ parameters: node.parameters.filter((p) => p !== parameter) })}>
                      ✕
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            disabled={readOnly}
            onClick={() =>
              change({
                parameters: [...node.parameters, { name: `param${otherParameters.length + 1}`, parameter_type: "str", value: "", mutable_type: true, removable: true, publicable: true, widget: null }],
              })
            }
          >
            Add parameter
          </button>
          {isComposite && <CompositeInside node={node} />}
          {!isComposite && (<>
          <h2>{node.base_node_name === "python" ? "Code" : "Command"}</h2>
          <p className="muted">
            {node.base_node_name === "python"
              ? "inputs, outputs and params are dicts: inputs[name] is a path (a list of paths for an array), outputs[name] the path to write."
              : "Jinja2: {{ inputs.name }}, {{ outputs.name }}, {{ params['name'] }} are replaced before the script runs."}
          </p>
          <CodeEditor
            value={cmdValue.value ?? ""}
            mode={cmdValue.mode}
            readOnly={readOnly}
            height="300px"
            testId="operation-code"
            onChange={(text) => change({ parameters: node.parameters.map((p) => (p === cmd ? { ...p, value: { ...cmdValue, value: text } } : p)) })}
          />
          {preview !== null && (
            <div className="preview" data-testid="cmd-preview" ref={previewBox}>
              <h3>
                Preview of the command <button className="small" onClick={() => setPreview(null)}>Close</button>
              </h3>
              <pre>{preview}</pre>
            </div>
          )}
          </>)}
          {node.node_status === "READY" && !node._readonly && (
            <div className="deprecate">
              <h2>Deprecate</h2>
              <label>
                Successor operation id <input value={successor} onChange={(e) => setSuccessor(e.target.value)} placeholder="optional" />
              </label>{" "}
              <button onClick={() => void act("DEPRECATE")} disabled={busy}>
                Deprecate
              </button>{" "}
              <button onClick={() => void act("MANDATORY_DEPRECATE")} disabled={busy}>
                Deprecate (mandatory)
              </button>
            </div>
          )}
        </>
      )}
      <h2>Versions</h2>
      <ul className="versions" data-testid="versions">
        <li>
          this version <code>{node._id}</code> <StatusBadge status={node.node_status} /> {ago(node.update_date)}
        </li>
        {history.map((older) => (
          <li key={older._id}>
            <Link to={`/nodes/${older._id}`}>{older.title}</Link> <code>{older._id}</code> <StatusBadge status={older.node_status} /> {ago(older.update_date)}
          </li>
        ))}
      </ul>
      <p>
        <button className="link" onClick={() => navigate(isFile ? "/files" : "/nodes")}>
          &larr; All {isFile ? "files" : "operations"}
        </button>
      </p>
    </div>
  );
}

/** An input's accepted types as checkboxes (not a list box that needs Ctrl-click); none ticked means `file`. */
function TypeChecks({ kinds, value, disabled, onChange }: { kinds: string[]; value: string[]; disabled: boolean; onChange: (types: string[]) => void }) {
  return (
    <fieldset className="type-checks" aria-label="Input types" disabled={disabled}>
      {kinds.map((kind) => (
        <label key={kind} className="type-check" title={api.resourcesDict[kind]?.description ?? kind}>
          <input
            type="checkbox"
            checked={value.includes(kind)}
            onChange={(e) => onChange(e.target.checked ? [...value, kind] : value.filter((t) => t !== kind))}
          />
          {kind}
        </label>
      ))}
    </fieldset>
  );
}
