"""The local stack's EventBridge Scheduler: moto stores the schedules but fires none, so this thread does.

Every tick it reads the stage's group through the Scheduler API (ListSchedules, GetSchedule) as the API made
it, and for each ENABLED schedule due since the last tick invokes the target's handler (app.py's
schedule_fired) with the target's Input, the context attributes filled in as EventBridge fills them. Like
EventBridge, fires missed while the stack was down are not replayed: the first tick counts from start.
The clock is injectable: tests call `tick(now)` with a time of their own instead of waiting for it.
"""
from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
import uuid
from typing import Any, Callable

LOG = logging.getLogger(__name__)
TICK_SECONDS = 1.0  # EventBridge's own resolution is a minute; a second keeps `at(...)` close to its time


class LocalScheduler:
    """Fires the schedules of one group; `start()` ticks in a daemon thread, `tick()` is one step."""

    def __init__(self, handler: Callable[[dict, Any], Any], client: Any, group: str,
                 clock: Callable[[], float] = time.time, interval: float = TICK_SECONDS) -> None:
        self.handler = handler
        self.client = client
        self.group = group
        self.clock = clock
        self.interval = interval
        self.since = clock()
        self.fired: list[dict] = []  # the events handed to the handler (tests and logs read them)
        self._definitions: dict[str, tuple[Any, dict]] = {}  # name -> (LastModificationDate, GetSchedule)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one tick at a time (the thread's, a test's)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.since = self.clock()
        self._thread = threading.Thread(target=self._loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a bad tick must not end the firer
                LOG.exception("local scheduler tick failed")

    def tick(self, now: float | None = None) -> list[dict]:
        """Fire what is due in (since, now]; returns the events fired."""
        from chalicelib.domain import schedules as expressions

        with self._lock:
            end = self.clock() if now is None else now
            start, self.since = self.since, max(self.since, end)
            if end <= start:
                return []
            fired = []
            for definition in self._enabled():
                try:
                    expression = expressions.parse(definition["ScheduleExpression"])
                    zone = definition.get("ScheduleExpressionTimezone") or "UTC"
                    # a rate fires at its StartDate and every period after; without one, from its creation on
                    anchor = _aware(definition.get("StartDate") or definition["CreationDate"])
                    due = expression.fires_between(zone, _utc(start), _utc(end), anchor)
                except Exception:  # noqa: BLE001 - one bad schedule does not stop the others
                    LOG.exception("schedule %s cannot be evaluated", definition.get("Name"))
                    continue
                for when in due:
                    fired.append(self._fire(definition, when))
            return fired

    def _enabled(self) -> list[dict]:
        listed: list[dict] = []
        token = None
        while True:
            page = self.client.list_schedules(GroupName=self.group, **({"NextToken": token} if token else {}))
            listed += page.get("Schedules", [])
            token = page.get("NextToken")
            if not token:
                break
        definitions = []
        for summary in listed:
            if summary.get("State") != "ENABLED":
                continue
            name, stamp = summary["Name"], summary.get("LastModificationDate")
            cached = self._definitions.get(name)
            if cached is None or cached[0] != stamp:
                cached = (stamp, self.client.get_schedule(Name=name, GroupName=self.group))
                self._definitions[name] = cached
            if cached[1].get("State") == "ENABLED":
                definitions.append(cached[1])
        return definitions

    def _fire(self, definition: dict, when: _dt.datetime) -> dict:
        """Invoke the target as EventBridge does: its Input with the context attributes filled in."""
        import json

        text = definition["Target"].get("Input") or "{}"
        for attribute, value in (("<aws.scheduler.scheduled-time>", when.astimezone(_dt.timezone.utc)
                                  .strftime("%Y-%m-%dT%H:%M:%SZ")),
                                 ("<aws.scheduler.execution-id>", str(uuid.uuid4())),
                                 ("<aws.scheduler.schedule-arn>", definition.get("Arn", "")),
                                 ("<aws.scheduler.attempt-number>", "1")):
            text = text.replace(attribute, value)
        event = json.loads(text)
        self.fired.append(event)
        try:
            result = self.handler(event, None)
            LOG.info("schedule %s fired: %s", definition.get("Name"), result)
        except Exception:  # noqa: BLE001 - as a failed Lambda invocation: logged, not retried (RetryPolicy 0)
            LOG.exception("schedule %s: its target failed", definition.get("Name"))
        return event


def _utc(epoch: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc)


def _aware(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    return _dt.datetime.fromisoformat(str(value))
