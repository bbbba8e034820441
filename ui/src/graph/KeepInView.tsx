// The selected node stays in view: selecting one opens the properties panel, which narrows the canvas
// and could cover the node (its output handle) that was just clicked; the view pans just enough.
import { useReactFlow } from "@xyflow/react";
import { useEffect } from "react";

const MARGIN = 16; // px left between the node and the canvas's edge

export function KeepInView({ selectedId }: { selectedId: string | null }) {
  const flow = useReactFlow();
  useEffect(() => {
    if (!selectedId) return;
    const frame = window.requestAnimationFrame(() => {
      const pane = document.querySelector(".canvas .react-flow")?.getBoundingClientRect();
      const box = document.querySelector(`.react-flow__node[data-id="${CSS.escape(selectedId)}"]`)?.getBoundingClientRect();
      if (!pane || !box || box.width > pane.width - 2 * MARGIN) return;
      const dx = box.right > pane.right - MARGIN ? pane.right - MARGIN - box.right : box.left < pane.left ? pane.left + MARGIN - box.left : 0;
      if (dx === 0) return;
      const viewport = flow.getViewport();
      void flow.setViewport({ ...viewport, x: viewport.x + dx }, { duration: 150 });
    });
    return () => window.cancelAnimationFrame(frame);
  }, [selectedId, flow]);
  return null;
}
