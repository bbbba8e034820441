// The editor's one notice line: errors stay until dismissed, the rest fade after a few seconds.
import { useCallback, useEffect, useState } from "react";

export type NoticeKind = "error" | "info" | "success";
export type Notice = { kind: NoticeKind; text: string } | null;
export type Say = (kind: NoticeKind, text: string) => void;

const FADE_MS = 5000;

export function useNotice(): { notice: Notice; say: Say; dismiss: () => void } {
  const [notice, setNotice] = useState<Notice>(null);
  const say = useCallback<Say>((kind, text) => setNotice({ kind, text }), []);
  const dismiss = useCallback(() => setNotice(null), []);
  useEffect(() => {
    if (!notice || notice.kind === "error") return;
    const timer = window.setTimeout(() => setNotice(null), FADE_MS);
    return () => window.clearTimeout(timer);
  }, [notice]);
  return { notice, say, dismiss };
}
