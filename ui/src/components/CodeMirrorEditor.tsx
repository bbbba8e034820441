import CodeMirror from "@uiw/react-codemirror";
import { python } from "@codemirror/lang-python";
import { StreamLanguage } from "@codemirror/language";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { useMemo } from "react";

const shellLanguage = StreamLanguage.define(shell);

/** CodeMirror for an operation's script: python or shell (jinja2 placeholders read fine as shell). */
export default function CodeMirrorEditor({
  value,
  mode,
  onChange,
  readOnly = false,
  height = "220px",
  testId,
}: {
  value: string;
  mode: string;
  onChange?: (value: string) => void;
  readOnly?: boolean;
  height?: string;
  testId?: string;
}) {
  const extensions = useMemo(() => [mode === "python" ? python() : shellLanguage], [mode]);
  return (
    <div className="code-editor" data-testid={testId}>
      <CodeMirror
        value={value}
        height={height}
        extensions={extensions}
        editable={!readOnly}
        readOnly={readOnly}
        basicSetup={{ closeBrackets: false, autocompletion: false, foldGutter: false }}
        onChange={(text) => onChange?.(text)}
      />
    </div>
  );
}
