// A file's new version (POST /upload_file with `replaces`): it replaces this one (deprecated, its successor
// the new one), and the workflows that watch this file run on it (their file triggers: the answer's `triggered`).
import { useRef, useState } from "react";
import { api, errorMessage } from "../api";
import { navigate } from "../router";
import type { PlynxNode } from "../types";
import { FilesInput } from "./FilesInput";

interface Triggered {
  graph_id: string;
  run_id?: string;
  error?: string;
}

export function NewVersion({ node }: { node: PlynxNode }) {
  const input = useRef<HTMLInputElement | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (node._readonly || node.node_status !== "READY") return null;

  const upload = async (file: File) => {
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.append("data", file, file.name);
      form.append("title", node.title);
      form.append("description", node.description ?? "");
      form.append("file_type", node.outputs[0]?.file_type ?? "file");
      form.append("replaces", node._id);
      const body = await api.request("POST", "/upload_file", form, "Uploading a new version");
      const runs = ((body.triggered ?? []) as Triggered[]).map((t) => (t.run_id ? `workflow ${t.graph_id} runs` : `workflow ${t.graph_id} did not run: ${t.error}`));
      sessionStorage.setItem("plynx.new-version-note", `New version uploaded.${runs.length ? " " + runs.join("; ") + "." : ""}`);
      navigate(`/files/${body.node._id}`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button onClick={() => input.current?.click()} disabled={busy} title="Upload a file that replaces this one; workflows that watch it run on the new one">
        Upload new version
      </button>
      <FilesInput inputRef={input} testId="new-version-input" onFiles={(files) => void upload(files[0])} />
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/** The note a new version left for its own page (shown once). */
export function NewVersionNote() {
  const [note] = useState(() => {
    const text = sessionStorage.getItem("plynx.new-version-note");
    sessionStorage.removeItem("plynx.new-version-note");
    return text;
  });
  return note ? (
    <div className="message" role="status" data-testid="new-version-note">
      {note}
    </div>
  ) : null;
}
