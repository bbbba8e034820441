// One widget per parameter type of the seed (str, int, float, bool, text, enum, list_str, list_int,
// code, color, list_node); a value that does not fit its type is kept and named, not dropped.
import { useEffect, useState } from "react";
import type { CodeValue, EnumValue, Parameter } from "../types";
import { CodeEditor } from "./CodeEditor";

export function parameterProblem(parameter: Parameter): string | null {
  const { parameter_type: type, value } = parameter;
  if (type === "int") {
    return typeof value === "number" && Number.isInteger(value) ? null : "must be a whole number, like 42";
  }
  if (type === "float") {
    return typeof value === "number" && Number.isFinite(value) ? null : "must be a number, like 0.25";
  }
  if (type === "list_int") {
    return Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isInteger(v)) ? null : "every line must be a whole number";
  }
  return null;
}

function parseNumber(text: string, integer: boolean): number | string {
  const trimmed = text.trim();
  if (trimmed === "") return text;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return text;
  if (integer && !/^[-+]?\d+$/.test(trimmed)) return text;
  return n;
}

function NumberInput({ value, integer, onChange, disabled, name }: { value: unknown; integer: boolean; onChange: (v: unknown) => void; disabled: boolean; name: string }) {
  const [text, setText] = useState(value == null ? "" : String(value));
  useEffect(() => {
    if (parseNumber(text, integer) !== value) setText(value == null ? "" : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      type="text"
      inputMode={integer ? "numeric" : "decimal"}
      value={text}
      disabled={disabled}
      name={name}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseNumber(e.target.value, integer));
      }}
    />
  );
}

export function ParameterWidget({
  parameter,
  onChange,
  readOnly,
  bare = false,
}: {
  parameter: Parameter;
  onChange: (value: unknown) => void;
  readOnly: boolean;
  /** Without its name above it (where a table column already names it). */
  bare?: boolean;
}) {
  const { parameter_type: type, value, name } = parameter;
  const problem = parameterProblem(parameter);
  let widget;
  switch (type) {
    case "int":
    case "float":
      widget = <NumberInput value={value} integer={type === "int"} onChange={onChange} disabled={readOnly} name={name} />;
      break;
    case "bool":
      widget = <input type="checkbox" checked={value === true} disabled={readOnly} name={name} onChange={(e) => onChange(e.target.checked)} />;
      break;
    case "text":
      widget = <textarea rows={4} value={String(value ?? "")} disabled={readOnly} name={name} onChange={(e) => onChange(e.target.value)} />;
      break;
    case "enum": {
      const enumValue = (value ?? { values: [], index: 0 }) as EnumValue;
      const values = Array.isArray(enumValue.values) ? enumValue.values : [];
      widget = (
        <select
          value={String(enumValue.index ?? 0)}
          disabled={readOnly}
          name={name}
          onChange={(e) => onChange({ ...enumValue, values, index: Number(e.target.value) })}
        >
          {values.map((option, i) => (
            <option key={i} value={String(i)}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    }
    case "list_str":
    case "list_int": {
      const lines = Array.isArray(value) ? value.map(String).join("\n") : String(value ?? "");
      widget = (
        <textarea
          rows={3}
          value={lines}
          disabled={readOnly}
          name={name}
          placeholder="one value per line"
          onChange={(e) => {
            const items = e.target.value.split("\n").filter((line) => line !== "");
            onChange(type === "list_int" ? items.map((item) => parseNumber(item, true)) : items);
          }}
        />
      );
      break;
    }
    case "code": {
      const code = (value ?? { mode: "python", value: "" }) as CodeValue;
      widget = (
        <CodeEditor
          value={code.value ?? ""}
          mode={code.mode}
          readOnly={readOnly}
          onChange={(text) => onChange({ ...code, value: text })}
          testId={`code-${name}`}
        />
      );
      break;
    }
    case "color":
      widget = <input type="color" value={String(value ?? "#000000")} disabled={readOnly} name={name} onChange={(e) => onChange(e.target.value)} />;
      break;
    case "list_node":
      widget = <code className="readonly-value">{JSON.stringify(value)}</code>;
      break;
    default:
      widget = <input type="text" value={value == null ? "" : String(value)} disabled={readOnly} name={name} onChange={(e) => onChange(e.target.value)} />;
  }
  const label = parameter.widget?.alias || name;
  return (
    <div className={`param ${problem ? "invalid" : ""}`} data-testid={`param-${name}`}>
      <label>
        {!bare && (
          <span className="param-name">
            {label} <small>{type}</small>
          </span>
        )}
        {widget}
      </label>
      {problem && (
        <div className="field-error" role="alert">
          {label} {problem}
        </div>
      )}
    </div>
  );
}
