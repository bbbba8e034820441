// A workflow's schedules (GET/POST /graphs/{id}/schedules, PATCH/DELETE /schedules/{id}): each with its
// expression, zone, next fire times and last fire; add one with an expression, a zone and this workflow's
// run parameters (the run form's widgets); pause, resume, delete. The server checks everything again.
import { useCallback, useEffect, useState } from "react";
import { api, errorMessage } from "../api";
import { ParameterWidget, parameterProblem } from "../components/ParameterWidget";
import { Link } from "../router";
import { runParameters, shownValue } from "../runs/runParameters";
import type { Graph, Schedule } from "../types";

const EXAMPLES = ["rate(1 hour)", "cron(0 8 ? * MON-FRI *)", "cron(0 0 1 * ? *)"];
const ZONES = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"];

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** A fire time as the zone's wall clock says it: `Mon 2026-12-07 08:00 (+01:00)`. */
function shownTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2})?(.*)$/.exec(iso);
  if (!match) return iso;
  const day = new Date(`${match[1]}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });
  return `${day} ${match[1]} ${match[2]} (${match[3] === "+00:00" ? "UTC" : match[3]})`;
}

function AddSchedule({ graph, onAdded }: { graph: Graph; onAdded: (made: Schedule) => void }) {
  const listed = runParameters(graph);
  const [expression, setExpression] = useState("");
  const [zone, setZone] = useState(browserZone);
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(listed.map((p) => [p.key, p.parameter.value])));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const invalid = listed.some((p) => parameterProblem({ ...p.parameter, value: values[p.key] }));
  // Only the values changed from the saved ones go with the schedule: the others follow the workflow.
  const changed = Object.fromEntries(listed.filter((p) => JSON.stringify(values[p.key]) !== JSON.stringify(p.parameter.value)).map((p) => [p.key, values[p.key]]));
  const add = async () => {
    setBusy(true);
    setError(null);
    try {
      const made = await api.addSchedule(graph._id, { expression: expression.trim(), timezone: zone.trim(), ...(Object.keys(changed).length ? { parameters: changed } : {}) });
      setExpression("");
      onAdded(made);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="schedule-add"
      data-testid="schedule-add"
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid && expression.trim()) void add();
      }}
    >
      <h3>Add a schedule</h3>
      <label>
        Expression
        <input
          value={expression}
          list="schedule-examples"
          placeholder="cron(0 8 ? * MON-FRI *)"
          aria-label="Schedule expression"
          onChange={(e) => setExpression(e.target.value)}
        />
      </label>
      <datalist id="schedule-examples">
        {EXAMPLES.map((example) => (
          <option key={example} value={example} />
        ))}
      </datalist>
      <label>
        Time zone
        <input value={zone} list="schedule-zones" aria-label="Time zone" onChange={(e) => setZone(e.target.value)} />
      </label>
      <datalist id="schedule-zones">
        {[...new Set([browserZone(), ...ZONES])].map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <p className="muted">
        EventBridge Scheduler&rsquo;s syntax: <code>rate(5 minutes)</code> (at least 1 minute), <code>cron(minutes hours day-of-month month day-of-week year)</code> with <code>?</code> in
        one day field, or <code>at(2027-01-01T08:00:00)</code> once.
      </p>
      {listed.length > 0 && (
        <fieldset data-testid="schedule-parameters">
          <legend>Run parameters of each fire</legend>
          {listed.map((p) => (
            <ParameterWidget key={p.key} parameter={{ ...p.parameter, value: values[p.key] }} readOnly={false} onChange={(value) => setValues((old) => ({ ...old, [p.key]: value }))} />
          ))}
        </fieldset>
      )}
      {error && (
        <div className="message error" role="alert">
          {error}
        </div>
      )}
      <button type="submit" className="primary" disabled={busy || invalid || !expression.trim()}>
        Add schedule
      </button>
    </form>
  );
}

function ScheduleRow({ schedule, onChanged, onDeleted }: { schedule: Schedule; onChanged: (s: Schedule) => void; onDeleted: (id: string) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const last = schedule.last_fire;
  return (
    <li className="schedule" data-testid="schedule" data-schedule={schedule._id}>
      <div className="schedule-head">
        <code data-testid="schedule-expression">{schedule.expression}</code>
        <span className="muted">{schedule.timezone}</span>
        <span className={schedule.enabled ? "badge ok" : "badge"} data-testid="schedule-state">
          {schedule.enabled ? "enabled" : "paused"}
        </span>
        <div className="spacer" />
        {!schedule._readonly && (
          <>
            <button disabled={busy} onClick={() => act(async () => onChanged(await api.updateSchedule(schedule._id, { enabled: !schedule.enabled })))}>
              {schedule.enabled ? "Pause" : "Resume"}
            </button>
            <button
              disabled={busy}
              onClick={() => {
                if (window.confirm(`Delete the schedule ${schedule.expression}?`))
                  void act(async () => {
                    await api.deleteSchedule(schedule._id);
                    onDeleted(schedule._id);
                  });
              }}
            >
              Delete
            </button>
          </>
        )}
      </div>
      {Object.keys(schedule.parameters).length > 0 && (
        <div className="muted">
          with{" "}
          {Object.entries(schedule.parameters)
            .map(([key, value]) => `${key.split(".").slice(1).join(".")} = ${shownValue(value)}`)
            .join(", ")}
        </div>
      )}
      {schedule.enabled ? (
        schedule.next_fire_times.length ? (
          <ol className="fire-times" data-testid="next-fire-times">
            {schedule.next_fire_times.map((time) => (
              <li key={time} title={time}>
                {shownTime(time)}
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">No fire time ahead.</p>
        )
      ) : (
        <p className="muted">Paused: it does not fire until resumed.</p>
      )}
      <div className="muted" data-testid="last-fire">
        {last ? (
          <>
            Last fire {last.scheduled ?? last.fired}: {last.outcome}
            {last.run_id ? (
              <>
                {" "}
                &middot; <Link to={`/runs/${last.run_id}`}>run {last.run_id}</Link>
              </>
            ) : (
              <> &middot; {last.message}</>
            )}
          </>
        ) : (
          "Not fired yet."
        )}{" "}
        &middot; runs as {schedule.author}
      </div>
      {error && (
        <div className="message error" role="alert">
          {error}
        </div>
      )}
    </li>
  );
}

export function SchedulePanel({ graph, saved, onClose }: { graph: Graph; saved: boolean; onClose: () => void }) {
  const [items, setItems] = useState<Schedule[] | null>(null);
  const [limit, setLimit] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api
      .graphSchedules(graph._id)
      .then((found) => {
        setItems(found.items);
        setLimit(found.max_schedules);
      })
      .catch((e) => setError(errorMessage(e)));
  }, [graph._id]);
  useEffect(() => {
    if (saved) load();
  }, [load, saved]);
  const readOnly = !!graph._readonly || (items ?? []).some((s) => s._readonly);
  return (
    <div className="modal" role="dialog" aria-label="Schedules">
      <div className="modal-body schedules">
        <div className="page-head">
          <h2>Schedules of this workflow</h2>
          <div className="spacer" />
          <span className="muted" data-testid="schedule-count">
            {items && limit ? `${items.length} of at most ${limit}` : ""}
          </span>
          <button onClick={onClose}>Close</button>
        </div>
        <p className="muted">Each fire runs the workflow as saved at that moment, on behalf of who made the schedule.</p>
        {!saved && <p className="message">Save the workflow first: a schedule runs the saved workflow.</p>}
        {error && (
          <div className="message error" role="alert">
            {error}
          </div>
        )}
        {items && !items.length && <p className="empty">No schedules yet.</p>}
        {items && items.length > 0 && (
          <ul className="schedule-list" data-testid="schedule-list">
            {items.map((schedule) => (
              <ScheduleRow
                key={schedule._id}
                schedule={schedule}
                onChanged={(changed) => setItems((now) => (now ?? []).map((s) => (s._id === changed._id ? changed : s)))}
                onDeleted={(id) => setItems((now) => (now ?? []).filter((s) => s._id !== id))}
              />
            ))}
          </ul>
        )}
        {saved && items && !readOnly && <AddSchedule graph={graph} onAdded={(made) => setItems((now) => [...(now ?? []), made])} />}
      </div>
    </div>
  );
}
