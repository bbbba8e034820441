// The file-type picker of uploads: each type with what it is for (the resource types' descriptions, from
// the API's resources_dict), and "by extension" saying what it guesses.
import { api } from "../api";

export const AUTO = "auto";
const AUTO_HELP = "By the file's extension (.csv, .tsv, .json, .pdf, .png, .zip...); anything else is a plain file.";

/** What a type (or "auto") is for, in a sentence. */
export function typeHelp(kind: string): string {
  if (kind === AUTO) return AUTO_HELP;
  const entry = api.resourcesDict[kind];
  return entry?.description || entry?.title || kind;
}

export function FileTypeSelect({ value, onChange, describe = false }: { value: string; onChange: (kind: string) => void; describe?: boolean }) {
  const kinds = Object.keys(api.resourcesDict);
  return (
    <span className="file-type-select">
      <select value={value} onChange={(e) => onChange(e.target.value)} aria-label="Type of the uploaded file" title={typeHelp(value)}>
        <option value={AUTO} title={AUTO_HELP}>
          type: by extension
        </option>
        {kinds.map((kind) => (
          <option key={kind} value={kind} title={typeHelp(kind)}>
            {api.resourcesDict[kind].title}
          </option>
        ))}
      </select>
      {describe && (
        <small className="muted type-help" data-testid="file-type-help">
          {typeHelp(value)}
        </small>
      )}
    </span>
  );
}
