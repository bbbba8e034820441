// CodeMirror is most of the bundle: it loads when a code editor is first shown, so lists, the
// dashboard and the canvas open without it.
import { lazy, Suspense, type ComponentProps } from "react";

const CodeMirrorEditor = lazy(() => import("./CodeMirrorEditor"));

export function CodeEditor(props: ComponentProps<typeof CodeMirrorEditor>) {
  return (
    <Suspense fallback={<pre className="code-loading">{props.value}</pre>}>
      <CodeMirrorEditor {...props} />
    </Suspense>
  );
}
