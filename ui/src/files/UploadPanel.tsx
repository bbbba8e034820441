// Upload where files live (the Files page, the hub's Files tab): a type picker that says what each type
// is for, an Upload button, and a drop zone; the editor's uploader and progress bar (useUploader).
import { useCallback, useRef, useState, type DragEvent } from "react";
import { guessFileType } from "../graph/model";
import type { PlynxNode } from "../types";
import { AUTO, FileTypeSelect } from "./FileTypeSelect";
import { useResourceKinds } from "./acceptance";
import { FilesInput } from "./FilesInput";
import { UploadProgress } from "./UploadProgress";
import { useUploader, type UploadNote } from "./useUploader";

type Note = { kind: "error" | "info" | "success"; text: string } | null;

export function UploadPanel({ onUploaded, compact = false }: { onUploaded: (node: PlynxNode) => void; compact?: boolean }) {
  const kinds = useResourceKinds();
  const [fileType, setFileType] = useState(AUTO);
  const [note, setNote] = useState<Note>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const say = useCallback<UploadNote>((kind, text) => setNote({ kind, text }), []);
  const placed = useCallback((node: PlynxNode) => onUploaded(node), [onUploaded]);
  const { uploadFiles, upload, cancelUpload } = useUploader({ onUploaded: placed, say });

  const send = (files: File[]) => {
    if (!files.length || upload) return;
    const known = Object.keys(kinds);
    void uploadFiles(files, (file) => (fileType === AUTO ? guessFileType(file.name, known) : fileType));
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    send(Array.from(event.dataTransfer.files ?? []));
  };

  return (
    <div
      className={`upload-panel${compact ? " compact" : ""}${over ? " over" : ""}`}
      data-testid="upload-panel"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div className="upload-row">
        <button className="primary" onClick={() => input.current?.click()} disabled={!!upload}>
          Upload files
        </button>
        <FileTypeSelect value={fileType} onChange={setFileType} describe />
      </div>
      <div className="muted drop-hint">or drop files here</div>
      {note && (
        <div className={`message ${note.kind}`} role={note.kind === "error" ? "alert" : "status"} data-testid="upload-note">
          {note.text}
        </div>
      )}
      {upload && <UploadProgress upload={upload} onCancel={cancelUpload} />}
      <FilesInput inputRef={input} testId="files-upload-input" onFiles={send} />
    </div>
  );
}
