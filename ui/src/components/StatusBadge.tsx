/** A coloured status pill; the colours are shared with the canvas (see styles.css). */
export function StatusBadge({ status }: { status: string | undefined | null }) {
  if (!status) return null;
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {status}
    </span>
  );
}
