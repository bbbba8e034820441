// A restored operation says where its results came from: "From the cache (run <id>, <date>)", the run a link.
import { memo } from "react";
import { parseDate } from "../format";
import { Link } from "../router";
import type { RestoredFrom } from "../types";

/** The run's date as the user reads it (the API's are UTC). */
export function when(date: string): string {
  return parseDate(date)?.toLocaleString() ?? date;
}

export const CachedFrom = memo(function CachedFrom({ source }: { source: RestoredFrom | null | undefined }) {
  return (
    <p className="cached-from" data-testid="cached-from">
      {source?.kind === "retry" ? "Kept from the run retried" : "From the cache"}
      {source?.run_id ? (
        <>
          {" "}(run <Link to={`/runs/${source.run_id}`}>{source.run_id}</Link>
          {source.date ? `, ${when(source.date)}` : ""})
        </>
      ) : (
        ": not run again"
      )}
    </p>
  );
});
