// Try: run the operation as the editor holds it (saved or not, never approved by this) once on inputs and
// parameter values picked here (POST /nodes/try), and watch its status, outputs and logs as a run's. A trial
// is not cached and not in the library; only its author sees it. Earlier trials of this draft are listed.
import { useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api";
import { ParameterWidget } from "../components/ParameterWidget";
import { ResourceView } from "../components/ResourceView";
import { StatusBadge } from "../components/StatusBadge";
import { FilesInput } from "../files/FilesInput";
import { Link } from "../router";
import type { NodeInput, Parameter, PlynxNode, Run, RunNode, ValidationError } from "../types";

const ACTIVE = ["READY", "RUNNING", "FAILED_WAITING"];
const HEX = /^[0-9a-f]{64}$/;

interface Pick {
  resourceId: string;
  label: string;
  fileType?: string;
}

type Trial = Run & { operation?: RunNode | null; node_id?: string };

interface TrialSummary {
  trial_id: string;
  run_status: string;
  start: string;
}

function problems(tree: ValidationError | undefined): string[] {
  if (!tree) return [];
  const flat: string[] = [];
  const walk = (t: ValidationError) => {
    if (!t.children.length) flat.push(`${t.target.toLowerCase()} "${t.object_id}": ${t.validation_code}`);
    t.children.forEach(walk);
  };
  walk(tree);
  return flat;
}

interface Made {
  resourceId: string;
  label: string;
  fileType: string;
}

const RECENT = 5; // runs and trials read for their outputs when the panel opens (one GET each)

/** Outputs the caller may read from their newest trials of this draft and the latest runs they may see. */
function useRecentOutputs(nodeId: string, refresh: unknown): Made[] {
  const [made, setMade] = useState<Made[]>([]);
  useEffect(() => {
    let stale = false;
    (async () => {
      const found: Made[] = [];
      const take = (run: Trial, where: string) => {
        for (const node of run.graph?.nodes ?? []) {
          if (node.base_node_name === "file") continue;
          for (const output of node.outputs) {
            if (output.resource_id) found.push({ resourceId: output.resource_id, fileType: output.file_type, label: `${output.name} of ${where}` });
          }
        }
      };
      try {
        const trials = (await api.request("GET", `/trials?node_id=${encodeURIComponent(nodeId)}`)).items as TrialSummary[];
        for (const item of trials.filter((t) => t.run_status === "SUCCESS").slice(0, RECENT)) {
          take((await api.request("GET", `/trials/${encodeURIComponent(item.trial_id)}`)).data as Trial, `the trial of ${item.start}`);
        }
        const state = await api.request("GET", "/state");
        const runs = (state.recent_runs as { run_id: string | null; title: string; graph_running_status: string }[])
          .filter((r) => r.run_id && r.graph_running_status === "SUCCESS")
          .slice(0, RECENT);
        for (const run of runs) take(await api.getRun(run.run_id as string), `run of "${run.title}"`);
      } catch {
        // what was read so far is offered; the resource id field takes any other
      }
      if (!stale) setMade(found);
    })();
    return () => {
      stale = true;
    };
  }, [nodeId, refresh]);
  return made;
}

/** One input's picks: a file (yours or others' you may see), an upload, or a resource id (an earlier output). */
function InputPicker({ input, files, made, picks, onChange }: { input: NodeInput; files: PlynxNode[]; made: Made[]; picks: Pick[]; onChange: (picks: Pick[]) => void }) {
  const [typed, setTyped] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const many = input.max_count !== 1;
  const add = (pick: Pick) => onChange(many ? [...picks, pick] : [pick]);
  const kind = input.file_types[0] ?? "file";
  const upload = async (chosen: File[]) => {
    setNote("Uploading…");
    try {
      for (const file of many ? chosen : chosen.slice(0, 1)) {
        const done = await api.upload(file, file.name, kind);
        const output = done.node.outputs[0];
        add({ resourceId: output.resource_id as string, label: file.name, fileType: output.file_type });
      }
      setNote(null);
    } catch (e) {
      setNote(errorMessage(e));
    }
  };
  return (
    <tr data-testid="try-input" data-input={input.name}>
      <td>
        <strong>{input.name}</strong>
        <div className="muted">{input.file_types.join(", ")}{many ? " (array)" : ""}</div>
      </td>
      <td className="wide">
        <ul className="try-picks">
          {picks.map((pick, i) => (
            <li key={`${pick.resourceId}-${i}`} data-testid="try-pick">
              {pick.label} <code>{pick.resourceId.slice(0, 10)}</code>{" "}
              <button className="small" aria-label={`Remove ${pick.label}`} onClick={() => onChange(picks.filter((_, j) => j !== i))}>
                ✕
              </button>
            </li>
          ))}
        </ul>
        <select
          aria-label={`File for ${input.name}`}
          value=""
          onChange={(e) => {
            const [source, key] = [e.target.value.slice(0, 5), e.target.value.slice(5)];
            if (source === "file:") {
              const file = files.find((f) => f._id === key);
              const output = file?.outputs[0];
              if (file && output?.resource_id) add({ resourceId: output.resource_id, label: file.title, fileType: output.file_type });
            } else if (source === "made:") {
              const output = made[Number(key)];
              if (output) add({ resourceId: output.resourceId, label: output.label, fileType: output.fileType });
            }
          }}
        >
          <option value="">{many || !picks.length ? "Choose a file…" : "Choose another file…"}</option>
          <optgroup label="Files">
            {files.map((file) => (
              <option key={file._id} value={`file:${file._id}`}>
                {file.title} ({file.outputs[0]?.file_type}){file._readonly ? ` · ${file.author}` : ""}
              </option>
            ))}
          </optgroup>
          {made.length > 0 && (
            <optgroup label="Outputs of recent trials and runs">
              {made.map((output, i) => (
                <option key={`${output.resourceId}-${i}`} value={`made:${i}`}>
                  {output.label} ({output.fileType})
                </option>
              ))}
            </optgroup>
          )}
        </select>{" "}
        <button className="small" onClick={() => picker.current?.click()}>
          Upload…
        </button>
        <FilesInput inputRef={picker} testId={`try-upload-${input.name}`} onFiles={(chosen) => void upload(chosen)} />{" "}
        <input
          aria-label={`Resource id for ${input.name}`}
          placeholder="or an output's resource id"
          value={typed}
          onChange={(e) => setTyped(e.target.value.trim())}
        />{" "}
        <button
          className="small"
          disabled={!HEX.test(typed)}
          onClick={() => {
            add({ resourceId: typed, label: "resource" });
            setTyped("");
          }}
        >
          Add
        </button>
        {note && <div className="muted">{note}</div>}
      </td>
    </tr>
  );
}

export function TryPanel({ node, onClose }: { node: PlynxNode; onClose: () => void }) {
  const [files, setFiles] = useState<PlynxNode[]>([]);
  const [picks, setPicks] = useState<Record<string, Pick[]>>({});
  const tunable = node.parameters.filter((p) => !p.name.startsWith("_") && p.parameter_type !== "list_node");
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(tunable.map((p) => [p.name, p.value])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [trialId, setTrialId] = useState<string | null>(null);
  const [trial, setTrial] = useState<Trial | null>(null);
  const [earlier, setEarlier] = useState<TrialSummary[]>([]);
  const [tick, setTick] = useState(0);
  const ended = trial && !ACTIVE.includes(trial.run_status) ? trial._id : null;
  const made = useRecentOutputs(node._id, ended);

  useEffect(() => {
    api
      .searchNodes({ base_node_names: ["file"], status: ["READY"], per_page: 100 })
      .then((found) => setFiles(found.items))
      .catch(() => setFiles([]));
  }, []);

  useEffect(() => {
    api
      .request("GET", `/trials?node_id=${encodeURIComponent(node._id)}`)
      .then((body) => setEarlier(body.items as TrialSummary[]))
      .catch(() => setEarlier([]));
  }, [node._id, trialId]);

  useEffect(() => {
    if (!trialId) return;
    let stale = false;
    api
      .request("GET", `/trials/${encodeURIComponent(trialId)}`)
      .then((body) => !stale && setTrial(body.data as Trial))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [trialId, tick]);

  const active = !!trial && trial._id === trialId && ACTIVE.includes(trial.run_status);
  useEffect(() => {
    if (!trialId || (trial && trial._id === trialId && !active)) return;
    const timer = window.setTimeout(() => setTick((t) => t + 1), 1000);
    return () => window.clearTimeout(timer);
  }, [trialId, trial, active]);

  const start = async () => {
    setBusy(true);
    setError(null);
    setErrors([]);
    try {
      const inputs = Object.fromEntries(
        node.inputs.map((input) => [input.name, (picks[input.name] ?? []).map((p) => (p.fileType ? { resource_id: p.resourceId, file_type: p.fileType } : p.resourceId))]),
      );
      const parameters = Object.fromEntries(tunable.map((p) => [p.name, values[p.name]]));
      const answer = await api.request("POST", "/nodes/try", { node, inputs, parameters }, "Try");
      if (answer.status !== "SUCCESS") {
        setError(answer.message ?? "The operation did not pass validation");
        setErrors(problems(answer.validation_error));
        return;
      }
      setTrial(null);
      setTrialId(answer.trial_id as string);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const ran = trial?.operation;
  return (
    <section className="try-panel" data-testid="try-panel" aria-label="Try the operation">
      <div className="page-head">
        <h2>Try it</h2>
        <span className="muted">one run of this draft, as it is now: not cached, not in the library, seen by you only</span>
        <div className="spacer" />
        <button className="small" onClick={onClose}>
          Close
        </button>
      </div>
      {node.inputs.length > 0 && (
        <table className="grid" data-testid="try-inputs">
          <tbody>
            {node.inputs.map((input) => (
              <InputPicker key={input.name} input={input} files={files} made={made} picks={picks[input.name] ?? []} onChange={(chosen) => setPicks({ ...picks, [input.name]: chosen })} />
            ))}
          </tbody>
        </table>
      )}
      {tunable.length > 0 && (
        <table className="grid params" data-testid="try-parameters">
          <tbody>
            {tunable.map((parameter: Parameter) => (
              <tr key={parameter.name} data-parameter={parameter.name}>
                <td>{parameter.name}</td>
                <td className="wide">
                  <ParameterWidget parameter={{ ...parameter, value: values[parameter.name] }} readOnly={false} bare onChange={(value) => setValues({ ...values, [parameter.name]: value })} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <button className="primary" onClick={() => void start()} disabled={busy || active}>
          {active ? "Running…" : "Run the trial"}
        </button>
      </p>
      {error && (
        <div className="message error" role="alert" data-testid="try-error">
          {error}
          {errors.length > 0 && (
            <ul>
              {errors.map((text, i) => (
                <li key={i}>{text}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {trial && trial._id === trialId && (
        <div className="try-result" data-testid="try-result" data-status={trial.run_status}>
          <p>
            Trial <Link to={`/runs/${trial._id}`}>{trial._id}</Link>{" "}
            <span data-testid="try-status">
              <StatusBadge status={ran?.node_running_status ?? trial.run_status} />
            </span>
            {trial.error && <span className="muted"> {trial.error}</span>}
          </p>
          {ran &&
            [...ran.outputs, ...(ran.logs ?? [])]
              .filter((o) => o.resource_id)
              .map((o) => (
                <ResourceView
                  key={o.name}
                  name={o.name}
                  resourceId={o.resource_id}
                  fileType={o.file_type}
                  testId={`try-resource-${o.name}`}
                  initiallyOpen={o.name === "stdout" || (o.name === "stderr" && ran.node_running_status === "FAILED")}
                />
              ))}
        </div>
      )}
      {earlier.length > 0 && (
        <details data-testid="try-earlier">
          <summary>Earlier trials of this draft ({earlier.length})</summary>
          <ul>
            {earlier.map((item) => (
              <li key={item.trial_id}>
                <button className="link" onClick={() => setTrialId(item.trial_id)}>
                  {item.start}
                </button>{" "}
                <StatusBadge status={item.run_status} />
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
