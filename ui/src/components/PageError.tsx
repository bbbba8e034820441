/** A page that could not load what it shows: the reason, in place of the page. */
export function PageError({ error }: { error: string }) {
  return (
    <div className="page">
      <div className="message error" role="alert">
        {error}
      </div>
    </div>
  );
}
