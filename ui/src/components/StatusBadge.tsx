/** A coloured status pill; the colours are shared with the canvas (see styles.css). A READY run that the server
 * still prepares (APPROVE answered; cache planning, compile, state machines go on) says `preparing`. */
export function StatusBadge({ status, preparing }: { status: string | undefined | null; preparing?: boolean }) {
  if (!status) return null;
  const shown = preparing && status === "READY" ? "preparing" : status;
  return (
    <span
      className={`badge status-${status}`}
      data-status={status}
      data-preparing={shown === "preparing" ? "true" : undefined}
      title={shown === "preparing" ? "The run is recorded and queued; the server is preparing it (cache, compile, state machines)" : undefined}
    >
      {shown}
    </span>
  );
}
