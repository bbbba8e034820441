// Archive, restore and delete a workflow, operation or file (POST /{graphs|nodes}/{id}/{action}): in the lists'
// rows and on the objects' pages. Archive and restore: whoever may change it (not `_readonly`); delete: its
// author or an admin (the server says so again, and answers 409 naming the workflows that still use it).
import { useState } from "react";
import { api, errorMessage } from "../api";

export type LifecycleKind = "graphs" | "nodes";
export type LifecycleAction = "archive" | "restore" | "delete";

interface Props {
  kind: LifecycleKind;
  item: { _id: string; title?: string; author?: string; _readonly?: boolean; archived?: string | null };
  /** The action done (a list reads its page again, a page reloads the object or leaves after a delete). */
  onDone: (action: LifecycleAction) => void;
  onError: (message: string) => void;
  /** A page's full-size buttons instead of a list row's small ones. */
  large?: boolean;
}

const NOUN: Record<LifecycleKind, string> = { graphs: "workflow", nodes: "item" };

export function LifecycleButtons({ kind, item, onDone, onError, large }: Props) {
  const [busy, setBusy] = useState(false);
  if (item._readonly) return null;
  const mayDelete = api.state.admin || !item.author || item.author === (api.state.user ?? "default");
  const act = async (action: LifecycleAction) => {
    if (action === "delete" && !window.confirm(`Delete ${NOUN[kind]} "${item.title || item._id}"? This cannot be undone.`)) {
      return;
    }
    setBusy(true);
    try {
      await api.lifecycle(kind, item._id, action);
      onDone(action);
    } catch (e) {
      onError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const size = large ? "" : "small";
  return (
    <span className="lifecycle" data-testid="lifecycle">
      {item.archived ? (
        <button className={size} disabled={busy} onClick={() => void act("restore")} data-testid="restore"
                title="Show it again in lists, searches and hubs">
          Restore
        </button>
      ) : (
        <button className={size} disabled={busy} onClick={() => void act("archive")} data-testid="archive"
                title="Hide it from lists, searches and hubs; it is still read and used by id">
          Archive
        </button>
      )}
      {mayDelete && (
        <button className={`${size} danger`} disabled={busy} onClick={() => void act("delete")} data-testid="delete"
                title="Delete it for good (refused while a workflow that is not archived uses it)">
          Delete
        </button>
      )}
    </span>
  );
}

/** A page's note that what it shows is archived, with the way back. */
export function ArchivedNote({ archived }: { archived?: string | null }) {
  if (!archived) return null;
  return (
    <div className="message info" data-testid="archived-note">
      Archived {archived}: hidden from lists, searches and hubs (the "Archived" filter finds it); still read and used by id.
    </div>
  );
}
