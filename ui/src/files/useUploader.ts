// The one uploader of the UI (the editor's canvas and toolbar, the Files page, the hub's Files tab): files
// go one at a time straight to S3 in presigned parts (api.uploadDirect: retried parts, Cancel), with the
// state the progress bar shows.
import { useCallback, useRef, useState } from "react";
import { api, errorMessage } from "../api";
import type { PlynxNode } from "../types";

/** The upload under way: what, how far, since when (the progress bar's rate), and how to stop it. */
export interface UploadState {
  name: string;
  sent: number;
  total: number;
  started: number;
}

export type UploadNote = (kind: "error" | "info" | "success", text: string) => void;

export interface UploaderOptions {
  /** Runs one upload as a busy step (the editor's action runner); by default it just runs. */
  perform?: (label: string, action: () => Promise<void>) => Promise<void>;
  /** A file is stored as a `file` node of that type (`index`: its place among the files of this batch). */
  onUploaded: (node: PlynxNode, file: File, fileType: string, index: number) => void;
  say: UploadNote;
}

const justRun = async (_label: string, action: () => Promise<void>) => action();

export function useUploader({ perform = justRun, onUploaded, say }: UploaderOptions) {
  const [upload, setUpload] = useState<UploadState | null>(null);
  const controller = useRef<AbortController | null>(null);
  const cancelUpload = useCallback(() => controller.current?.abort(), []);

  /** Upload the files in turn, each as the type `typeOf` picks for it; Cancel stops the rest too. */
  const uploadFiles = useCallback(
    async (files: File[], typeOf: (file: File) => string) => {
      let cancelled = false;
      const done: string[] = []; // the note names every file of the batch, not only the last
      for (const [index, file] of files.entries()) {
        const fileType = typeOf(file);
        await perform(`Uploading ${file.name}…`, async () => {
          const stop = new AbortController();
          controller.current = stop;
          const started = performance.now();
          setUpload({ name: file.name, sent: 0, total: file.size, started });
          try {
            // Straight to S3 in parts, whatever the size (POST /upload_file stops at 6 MB).
            const body = await api.uploadDirect(file, file.name, fileType,
              (sent, total) => setUpload({ name: file.name, sent, total, started }), stop.signal);
            onUploaded(body.node, file, fileType, index);
            done.push(`"${file.name}" as ${fileType}`);
            say("success", `Uploaded ${done.join(", ")}.`);
          } catch (e) {
            cancelled = stop.signal.aborted;
            if (cancelled) say("info", `Upload of "${file.name}" cancelled.`);
            else say("error", `Upload of "${file.name}" failed: ${errorMessage(e)}`);
          } finally {
            controller.current = null;
            setUpload(null);
          }
        });
        if (cancelled) break;
      }
    },
    [perform, onUploaded, say],
  );

  return { uploadFiles, upload, cancelUpload };
}
