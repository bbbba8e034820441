// A workflow's notifications (yours: GET/PUT/DELETE /graphs/{id}/notifications) and triggers (its webhook
// trigger's URL, shown once, rotate and revoke; its file triggers: /graphs/{id}/triggers).
import { useCallback, useEffect, useState } from "react";
import { api, errorMessage } from "../api";
import { ago } from "../format";

interface Settings {
  on: "success" | "failure" | "both" | "never";
  webhook_url: string | null;
  email: string | null;
  secret: string | null;
  signature_header: string;
}

interface Webhook {
  created: string;
  created_by: string;
  last: { run_id?: string; at?: string; error?: string } | null;
  token?: string;
}

interface FileTrigger {
  file_id: string;
  created_by: string;
  last: { run_id?: string; error?: string; version?: string } | null;
}

const enc = encodeURIComponent;

export function Automation({ graphId, onClose }: { graphId: string; onClose: () => void }) {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [on, setOn] = useState<Settings["on"]>("never");
  const [hook, setHook] = useState("");
  const [email, setEmail] = useState("");
  const [showSecret, setShowSecret] = useState(false);
  const [webhook, setWebhook] = useState<Webhook | null>(null);
  const [files, setFiles] = useState<FileTrigger[]>([]);
  const [fileId, setFileId] = useState("");
  const [shownUrl, setShownUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const applySettings = (found: Settings) => {
    setSettings(found);
    setOn(found.on);
    setHook(found.webhook_url ?? "");
    setEmail(found.email ?? "");
  };
  const loadTriggers = useCallback(async () => {
    const found = (await api.request("GET", `/graphs/${enc(graphId)}/triggers`)).data;
    setWebhook(found.webhook);
    setFiles(found.files);
  }, [graphId]);

  useEffect(() => {
    let stale = false;
    Promise.all([api.request("GET", `/graphs/${enc(graphId)}/notifications`), loadTriggers()])
      .then(([mine]) => !stale && applySettings(mine.data))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [graphId, loadTriggers]);

  const act = async (what: () => Promise<void>, done: string) => {
    setError(null);
    setNote(null);
    try {
      await what();
      setNote(done);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const save = () =>
    act(async () => {
      const body = { on, webhook_url: hook.trim() || null, email: email.trim() || null };
      applySettings((await api.request("PUT", `/graphs/${enc(graphId)}/notifications`, body, "Notifications")).data);
    }, "Notification settings saved");
  const rotateSecret = () =>
    act(async () => {
      const body = { on, webhook_url: hook.trim() || null, email: email.trim() || null, rotate_secret: true };
      applySettings((await api.request("PUT", `/graphs/${enc(graphId)}/notifications`, body, "Notifications")).data);
      setShowSecret(true);
    }, "A new signing secret: give it to your receiver");
  const turnOff = () =>
    act(async () => {
      await api.request("DELETE", `/graphs/${enc(graphId)}/notifications`);
      applySettings((await api.request("GET", `/graphs/${enc(graphId)}/notifications`)).data);
    }, "Notifications off");
  const makeWebhook = (rotate: boolean) =>
    act(async () => {
      const path = `/graphs/${enc(graphId)}/triggers/webhook${rotate ? "/rotate" : ""}`;
      const made = (await api.request("POST", path, undefined, "Webhook triggers")).data as Webhook;
      setShownUrl(`${api.base}/triggers/${made.token}`);
      await loadTriggers();
    }, rotate ? "New URL: the old one no longer starts runs" : "Webhook trigger created");
  const revoke = () =>
    act(async () => {
      await api.request("DELETE", `/graphs/${enc(graphId)}/triggers/webhook`);
      setShownUrl(null);
      await loadTriggers();
    }, "Webhook trigger revoked");
  const watch = () =>
    act(async () => {
      await api.request("POST", `/graphs/${enc(graphId)}/triggers/files`, { file_id: fileId.trim() }, "File triggers");
      setFileId("");
      await loadTriggers();
    }, "The workflow runs on each new version of that file");
  const unwatch = (id: string) =>
    act(async () => {
      await api.request("DELETE", `/graphs/${enc(graphId)}/triggers/files/${enc(id)}`);
      await loadTriggers();
    }, "File trigger removed");

  return (
    <div className="modal" role="dialog" aria-label="Automation">
      <div className="modal-body automation">
        <div className="page-head">
          <h2>Notifications and triggers</h2>
          <div className="spacer" />
          <button onClick={onClose}>Close</button>
        </div>
        {error && (
          <div className="message error" role="alert">
            {error}
          </div>
        )}
        {note && (
          <div className="message" role="status">
            {note}
          </div>
        )}
        <section data-testid="notify-settings">
          <h3>Tell me when a run ends</h3>
          {/* the fields wait for your stored settings: nothing typed before they come is overwritten */}
          <p className="muted">Your own settings: other users of this workflow set theirs.</p>
          <label>
            When{" "}
            <select aria-label="Notify on" value={on} disabled={!settings} onChange={(e) => setOn(e.target.value as Settings["on"])}>
              <option value="never">never</option>
              <option value="success">it succeeds</option>
              <option value="failure">it fails or is canceled</option>
              <option value="both">it ends, either way</option>
            </select>
          </label>
          <label>
            Webhook URL{" "}
            <input aria-label="Webhook URL" value={hook} placeholder="https://…" size={44} disabled={!settings} onChange={(e) => setHook(e.target.value)} />
          </label>
          <label>
            Email{" "}
            <input aria-label="Email" value={email} placeholder="you@example.com" size={30} disabled={!settings} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <div className="page-head">
            <button className="primary" onClick={save} disabled={!settings}>
              Save notifications
            </button>
            <button onClick={turnOff} disabled={!settings?.secret}>
              Turn off
            </button>
          </div>
          {settings?.secret && (
            <p data-testid="signing-secret">
              Signing secret ({settings.signature_header}: HMAC-SHA256 of <code>t.body</code>):{" "}
              {showSecret ? <code>{settings.secret}</code> : <button onClick={() => setShowSecret(true)}>Show</button>}{" "}
              <button onClick={rotateSecret}>New secret</button>
            </p>
          )}
        </section>
        <section data-testid="webhook-trigger">
          <h3>Start runs from outside</h3>
          {webhook ? (
            <p>
              A webhook trigger made by {webhook.created_by} {ago(webhook.created)}
              {webhook.last?.run_id && <span className="muted"> · last run {webhook.last.run_id}</span>}{" "}
              <button onClick={() => makeWebhook(true)}>Rotate URL</button> <button onClick={revoke}>Revoke</button>
            </p>
          ) : (
            <p>
              No webhook trigger. <button onClick={() => makeWebhook(false)}>Create webhook trigger</button>
            </p>
          )}
          {shownUrl && (
            <div className="message" data-testid="trigger-url">
              POST to this URL to start a run (no credentials; body: optional <code>{'{"parameters": {…}}'}</code>). It is
              shown only now: <code>{shownUrl}</code>
            </div>
          )}
          <h3>Run on a new version of a file</h3>
          {files.length > 0 && (
            <ul data-testid="file-triggers">
              {files.map((f) => (
                <li key={f.file_id}>
                  <code>{f.file_id}</code> <span className="muted">by {f.created_by}</span>
                  {f.last?.run_id && <span className="muted"> · last run {f.last.run_id}</span>}
                  {f.last?.error && <span className="error"> · {f.last.error}</span>}{" "}
                  <button onClick={() => unwatch(f.file_id)}>Remove</button>
                </li>
              ))}
            </ul>
          )}
          <label>
            File id{" "}
            <input aria-label="File id" value={fileId} size={28} onChange={(e) => setFileId(e.target.value)} />
          </label>{" "}
          <button onClick={watch} disabled={!fileId.trim()}>
            Watch file
          </button>
        </section>
      </div>
    </div>
  );
}
