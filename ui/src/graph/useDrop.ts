// Drag and drop onto the canvas: hub items are placed where they drop; files from the desktop (or the
// toolbar's Upload file) are uploaded, one at a time, and placed as file nodes.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useRef, type DragEvent } from "react";
import { api, errorMessage } from "../api";
import { useUploader } from "../files/useUploader";
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

export function useDrop({ refuseIfLocked, addNodes, addFromHub, freeSpot, perform, uploadType, onUploaded, say }: DropTargets) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  // Where the files of the batch being uploaded go: dropped ones from the drop point on, 40 px apart.
  const dropAt = useRef<Point | undefined>(undefined);
  const placeUploaded = useCallback(
    (node: PlynxNode, _file: File, _type: string, index: number) => {
      const at = dropAt.current;
      const where = at ? { x: at.x + 40 * index, y: at.y + 40 * index } : freeSpot(node);
      addNodes([instanceOf(node, where.x, where.y)]);
      onUploaded();
    },
    [freeSpot, addNodes, onUploaded],
  );
  const { uploadFiles: send, upload, cancelUpload } = useUploader({ perform, onUploaded: placeUploaded, say });

  const uploadFiles = useCallback(
    async (files: File[], at?: Point) => {
      if (refuseIfLocked()) return;
      const known = Object.keys(api.resourcesDict);
      dropAt.current = at;
      await send(files, (file) => (uploadType === "auto" ? guessFileType(file.name, known) : uploadType));
    },
    [refuseIfLocked, uploadType, send],
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
