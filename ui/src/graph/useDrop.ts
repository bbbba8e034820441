// Drag and drop onto the canvas: hub items are placed where they drop; files from the desktop (or the
// toolbar's Upload file) are uploaded, one at a time, and placed as file nodes.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useRef, useState, type DragEvent } from "react";
import { api, errorMessage } from "../api";
import type { PlynxNode } from "../types";
import { DRAG_TYPE } from "./HubPanel";
import { guessFileType, instanceOf, type FlowEdge, type FlowNode } from "./model";
import type { Say } from "./useNotice";

type Point = { x: number; y: number };

export interface DropTargets {
  refuseIfLocked: () => boolean;
  addNodes: (placed: PlynxNode[]) => void;
  addFromHub: (source: PlynxNode, at?: Point) => void;
  /** Where a node added without a drop goes (free space near the middle of the view). */
  freeSpot: (node: PlynxNode) => Point;
  /** Runs one busy step (the editor's action runner). */
  perform: (label: string, action: () => Promise<void>) => Promise<void>;
  /** The file type chosen in the toolbar; "auto" guesses it from the extension. */
  uploadType: string;
  /** A file was uploaded: the hub's file list is stale. */
  onUploaded: () => void;
  say: Say;
}

/** The upload under way: what, how far, since when (the progress bar's rate), and how to stop it. */
export interface UploadState {
  name: string;
  sent: number;
  total: number;
  started: number;
}

export function useDrop({ refuseIfLocked, addNodes, addFromHub, freeSpot, perform, uploadType, onUploaded, say }: DropTargets) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const [upload, setUpload] = useState<UploadState | null>(null);
  const controller = useRef<AbortController | null>(null);
  const cancelUpload = useCallback(() => controller.current?.abort(), []);

  const uploadFiles = useCallback(
    async (files: File[], at?: Point) => {
      if (refuseIfLocked()) return;
      const known = Object.keys(api.resourcesDict);
      let offset = 0;
      let cancelled = false;
      for (const file of files) {
        const fileType = uploadType === "auto" ? guessFileType(file.name, known) : uploadType;
        await perform(`Uploading ${file.name}…`, async () => {
          const stop = new AbortController();
          controller.current = stop;
          const started = performance.now();
          setUpload({ name: file.name, sent: 0, total: file.size, started });
          try {
            // Straight to S3 in parts, whatever the size (POST /upload_file stops at 6 MB).
            const body = await api.uploadDirect(file, file.name, fileType,
              (sent, total) => setUpload({ name: file.name, sent, total, started }), stop.signal);
            const where = at ? { x: at.x + offset, y: at.y + offset } : freeSpot(body.node);
            addNodes([instanceOf(body.node, where.x, where.y)]);
            offset += 40;
            say("success", `Uploaded "${file.name}" as ${fileType}.`);
            onUploaded();
          } catch (e) {
            cancelled = stop.signal.aborted;
            if (cancelled) say("info", `Upload of "${file.name}" cancelled.`);
            else say("error", `Upload of "${file.name}" failed: ${errorMessage(e)}`);
          } finally {
            controller.current = null;
            setUpload(null);
          }
        });
        if (cancelled) break; // Cancel stops the files still to come too
      }
    },
    [refuseIfLocked, uploadType, perform, freeSpot, addNodes, say, onUploaded],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const raw = event.dataTransfer.getData(DRAG_TYPE);
      if (raw) {
        try {
          addFromHub(JSON.parse(raw) as PlynxNode, position);
        } catch (e) {
          say("error", `Could not place that item: ${errorMessage(e)}`);
        }
        return;
      }
      const files = Array.from(event.dataTransfer.files ?? []);
      if (files.length) void uploadFiles(files, position);
    },
    [flow, addFromHub, uploadFiles, say],
  );

  return { uploadFiles, onDragOver, onDrop, upload, cancelUpload };
}
