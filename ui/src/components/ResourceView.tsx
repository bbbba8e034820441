// An output or log: its preview (text escaped by React, HTML only inside a sandboxed iframe,
// images as blob URLs), its size and a download link. Nothing from a resource reaches innerHTML.
import { useEffect, useState } from "react";
import { api, errorMessage } from "../api";
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
}: {
  name: string;
  resourceId: string | null | undefined;
  fileType: string;
  refreshKey?: number;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState<string | null>(null);
  const [html, setHtml] = useState<string | null>(null);
  const [size, setSize] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const isImage = fileType === "image";
  const imageUrl = useObjectUrl(resourceId ?? null, isImage);

  useEffect(() => {
    if (!open || !resourceId || isImage) return;
    let stale = false;
    api
      .previewText(resourceId)
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
  }, [open, resourceId, refreshKey, isImage]);

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
          {isImage && imageUrl && <img src={imageUrl} alt={name} />}
          {html !== null && <iframe title={`${name} preview`} sandbox="" srcDoc={html} />}
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
