// An output or log: its preview (text escaped by React; the API's HTML preview of a typed resource
// only inside a sandboxed iframe that runs no script and loads nothing but data: URLs), its size and a
// download link. Nothing from a resource reaches the page's own DOM as markup.
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../api";
import { bytes } from "../format";

function useObjectUrl(resourceId: string | null, enabled: boolean): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!resourceId || !enabled) return;
    let revoked = false;
    let created: string | null = null;
    api
      .blob(resourceId)
      .then((blob) => {
        if (revoked) return;
        created = URL.createObjectURL(blob);
        setUrl(created);
      })
      .catch(() => setUrl(null));
    return () => {
      revoked = true;
      if (created) URL.revokeObjectURL(created);
    };
  }, [resourceId, enabled]);
  return url;
}

/** The API's HTML preview, framed with a policy that allows no script and no network. */
export function framedPreview(html: string): string {
  return (
    '<!doctype html><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; object-src data:; style-src 'unsafe-inline'">` +
    "<style>body{font:12px system-ui,sans-serif;margin:4px;color:#1f2430}table{border-collapse:collapse}" +
    "td,th{border:1px solid #d8dce3;padding:2px 6px;text-align:left}pre{white-space:pre-wrap;margin:0}" +
    ".preview-error{color:#b42318}.preview-note{color:#6b7280}img{max-width:100%}</style>" +
    html
  );
}

export async function download(resourceId: string, name: string): Promise<void> {
  const blob = await api.blob(resourceId);
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  anchor.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ResourceView({
  name,
  resourceId,
  fileType,
  refreshKey,
  testId,
  initiallyOpen = false,
}: {
  name: string;
  resourceId: string | null | undefined;
  fileType: string;
  refreshKey?: number;
  testId?: string;
  initiallyOpen?: boolean;
}) {
  const [open, setOpen] = useState(initiallyOpen);
  useEffect(() => {
    if (initiallyOpen) setOpen(true); // e.g. stderr as its node turns FAILED
  }, [initiallyOpen]);
  const [text, setText] = useState<string | null>(null);
  const [html, setHtml] = useState<string | null>(null);
  const [size, setSize] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const isImage = fileType === "image";
  const imageUrl = useObjectUrl(resourceId ?? null, isImage);

  useEffect(() => {
    if (!open || !resourceId) return;
    let stale = false;
    // A plain file previews as text; a typed one (csv, json, image, ...) as the API renders that type.
    const typed = fileType !== "file";
    api
      .previewText(resourceId, typed ? fileType : undefined)
      .catch((e) => {
        if (typed && e instanceof ApiError && e.status === 400) return api.previewText(resourceId);
        throw e;
      })
      .then((preview) => {
        if (stale) return;
        setSize(preview.size);
        if (preview.contentType.startsWith("text/html")) {
          setHtml(preview.text);
          setText(null);
        } else {
          setText(preview.text);
          setHtml(null);
        }
        setError(null);
      })
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [open, resourceId, refreshKey, fileType]);

  return (
    <div className="resource" data-testid={testId}>
      <div className="resource-head">
        <strong>{name}</strong> <small>{fileType}</small>
        {isImage && imageUrl && <img className="thumb" src={imageUrl} alt={`${name} thumbnail`} />}
        <div className="spacer" />
        {resourceId ? (
          <>
            <button className="small" onClick={() => setOpen(!open)} aria-expanded={open}>
              {open ? "Hide" : "Preview"}
            </button>
            <button className="small" onClick={() => void download(resourceId, name).catch((e) => setError(errorMessage(e)))}>
              Download
            </button>
          </>
        ) : (
          <small className="muted">not produced yet</small>
        )}
      </div>
      {open && resourceId && (
        <div className="preview" data-testid={testId ? `${testId}-preview` : undefined}>
          {error && <div className="message error">{error}</div>}
          {html !== null && <iframe title={`${name} preview`} sandbox="" srcDoc={framedPreview(html)} />}
          {text !== null && (text === "" ? <em className="muted">(empty)</em> : <pre>{text}</pre>)}
          {size !== null && text !== null && size > text.length && (
            <small className="muted">
              showing the first {bytes(text.length)} of {bytes(size)}
            </small>
          )}
        </div>
      )}
    </div>
  );
}
