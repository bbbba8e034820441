"""A small client of the PLynx REST API: register operations, upload files, save and run graphs."""
from __future__ import annotations

import collections
import json
import os
import sys
import time
from typing import IO, Any

import requests

from plynx.node import to_node
from plynx.node.typing import PRIMITIVE_KINDS
from plynx.node.utils import Group

from .graph import Graph, NodeRef

DEFAULT_URL = "http://localhost:5005/plynx/api/v0"
_DONE = ("SUCCESS", "FAILED", "CANCELED")


class PlynxError(RuntimeError):
    """The API refused a request (its message), or a graph did not pass validation or failed."""

    def __init__(self, message: str, details: Any = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.details = details
        self.status_code = status_code  # the HTTP status of a refused request


class Run:
    """A finished (or still running) graph and helpers to read what its nodes produced."""

    def __init__(self, client: Client, graph: dict, record: dict | None = None) -> None:
        self.client = client
        self.graph = graph
        self.record = record  # the run record (`GET /runs/{run_id}`) when the run was read as one

    @property
    def status(self) -> str:
        return self.graph["graph_running_status"]

    @property
    def run_id(self) -> str | None:
        return self.record["_id"] if self.record else self.graph.get("run_id")

    def node(self, ref: NodeRef | str) -> dict:
        node_id = ref.id if isinstance(ref, NodeRef) else ref
        return next(n for n in self.graph["nodes"] if n["_id"] == node_id)

    def output(self, ref: NodeRef | str, name: str) -> Any:
        """An output's content: a value for primitive kinds, bytes for files (a zip for directories)."""
        output = next(o for o in self.node(ref)["outputs"] if o["name"] == name)
        if not output.get("resource_id"):
            raise PlynxError(f"Output `{name}` has no resource (node {self.node(ref)['node_running_status']})")
        data = self.client.resource(output["resource_id"])
        return json.loads(data) if output["file_type"] in PRIMITIVE_KINDS else data

    def log(self, ref: NodeRef | str, name: str = "worker") -> str:
        log = next(entry for entry in self.node(ref)["logs"] if entry["name"] == name)
        return self.client.resource(log["resource_id"]).decode("utf-8", "replace") if log.get("resource_id") else ""


class Client:
    """Talks to one PLynx API as one user.

    By default from the environment: `PLYNX_API` (or `PLYNX_API_URL`), then `PLYNX_TOKEN` (an access token,
    sent as Bearer), `PLYNX_REFRESH_TOKEN` (a refresh token: access tokens are fetched from `GET /token` and
    renewed when one expires, for runs watched longer than an access token lives) or `PLYNX_USER` and
    `PLYNX_PASSWORD` (Basic; `default` with an empty password, the single-user mode's account, when none is
    set). What is given here wins over the environment, a user over any token.
    """

    def __init__(self, url: str | None = None, user: str | None = None, password: str | None = None,
                 token: str | None = None, timeout: float = 60.0, refresh_token: str | None = None) -> None:
        self.url = (url or os.environ.get("PLYNX_API") or os.environ.get("PLYNX_API_URL") or DEFAULT_URL).rstrip("/")
        self.session = requests.Session()
        explicit = user or token or refresh_token
        token = token or (None if explicit else os.environ.get("PLYNX_TOKEN"))
        self.refresh_token = None if user else refresh_token or (
            None if explicit or token else os.environ.get("PLYNX_REFRESH_TOKEN"))
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif not self.refresh_token:
            self.session.auth = (user or os.environ.get("PLYNX_USER", "default"),
                                 password if password is not None else os.environ.get("PLYNX_PASSWORD", ""))
        self.timeout = timeout

    # --- plumbing -------------------------------------------------------------------------------

    def renew(self) -> None:
        """A new access token from the refresh token (`GET /token`); the refresh token is renewed too."""
        response = requests.get(f"{self.url}/token", headers={"Authorization": f"Bearer {self.refresh_token}"},
                                timeout=self.timeout)
        if response.status_code != 200:
            raise PlynxError(f"GET token: {response.status_code} {_message(response)}", status_code=response.status_code)
        tokens = response.json()
        self.session.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        self.refresh_token = tokens.get("refresh_token") or self.refresh_token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self.refresh_token and "Authorization" not in self.session.headers:
            self.renew()
        url = f"{self.url}/{path.lstrip('/')}"
        response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        if response.status_code == 401 and self.refresh_token:  # the access token expired: once more, renewed
            self.renew()
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise PlynxError(f"{method} {path}: {response.status_code} {_message(response)}",
                             status_code=response.status_code)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> dict:
        return self.request(method, path, **kwargs).json()

    # --- operations and files --------------------------------------------------------------------

    def register(self, item: Any, approve: bool = True) -> Any:
        """Store an operation (a decorated function or node dict) or every operation of a Group."""
        if isinstance(item, Group):
            return [self.register(sub, approve) for sub in item.items]
        node = to_node(item) if callable(item) else dict(item)
        body = self.call("POST", "nodes", json={"node": node, "actions": ["SAVE", "APPROVE"] if approve else ["SAVE"]})
        if body["status"] != "SUCCESS":
            raise PlynxError(f"Operation `{node.get('title')}` did not pass validation", body.get("validation_error"))
        return body["node"]

    def upload(self, data: bytes | str | IO[bytes], title: str, file_type: str = "file",
               description: str = "") -> dict:
        """Upload a file (bytes, a path, or an open binary file); returns the stored file node."""
        if isinstance(data, str):
            with open(data, "rb") as handle:
                content = handle.read()
        elif isinstance(data, bytes):
            content = data
        else:
            content = data.read()
        body = self.call("POST", "upload_file", files={"data": (title, content)},
                         data={"title": title, "description": description, "file_type": file_type})
        return body["node"]

    def upload_file(self, path: str, title: str | None = None, file_type: str = "file", description: str = "",
                    progress: bool = True, stream: IO[str] | None = None, retries: int = 3) -> dict:
        """Upload a file of any size straight to S3 in parts (memory: one part); returns the file node.

        The API hands out presigned part URLs (`POST /uploads`), each part is PUT from disk, and the API
        hashes what S3 holds (`POST /uploads/{id}/complete`); a part that fails is sent again.
        """
        size = os.path.getsize(path)
        created = self.call("POST", "uploads", json={"title": title or os.path.basename(path), "size": size,
                                                    "file_type": file_type, "description": description})
        upload_id, part_size, count = created["upload_id"], created["part_size"], created["part_count"]
        urls = {part["part_number"]: part["url"] for part in created["parts"]}
        out, sent, started, parts = stream or sys.stderr, 0, time.monotonic(), []
        try:
            with open(path, "rb") as source:
                for number in range(1, count + 1):
                    if number not in urls:
                        more = list(range(number, min(count, number + 99) + 1))
                        urls.update({p["part_number"]: p["url"] for p in self.call(
                            "POST", f"uploads/{upload_id}/parts", json={"part_numbers": more})["parts"]})
                    source.seek((number - 1) * part_size)
                    body = source.read(part_size)
                    parts.append({"part_number": number, "etag": self._put_part(urls.pop(number), body, retries)})
                    sent += len(body)
                    if progress:
                        out.write("\r" + upload_line(sent, size, time.monotonic() - started))
                        out.flush()
        except BaseException:
            try:
                self.request("DELETE", f"uploads/{upload_id}")
            except (PlynxError, requests.RequestException):
                pass  # the bucket's lifecycle rule drops what is left; the first error is the one to see
            raise
        if progress:
            out.write("\n")
        return self.call("POST", f"uploads/{upload_id}/complete", json={"parts": parts})["node"]

    def _put_part(self, url: str, body: bytes, retries: int) -> str:
        """PUT one part to its presigned URL (no API credentials: the URL is signed); its ETag."""
        for attempt in range(retries + 1):
            try:
                response = requests.put(url, data=body, timeout=max(self.timeout, 300))
                if response.status_code == 200:
                    return response.headers["ETag"]
                error = f"{response.status_code} {response.text[:300]}"
            except requests.RequestException as exc:
                error = str(exc)
            if attempt < retries:
                time.sleep(0.5 * 2 ** attempt)
        raise PlynxError(f"A part of the upload failed {retries + 1} times: {error}")

    def resource(self, resource_id: str) -> bytes:
        return self.request("GET", f"resources/{resource_id}").content

    def search_operations(self, search: str = "", hub: str | None = None, per_page: int = 30) -> list[dict]:
        """Operations of a hub (or of the database) matching the seed's search string."""
        if hub:
            body = self.call("POST", "search_in_hubs", json={"hub": hub, "search": search, "per_page": per_page})
        else:
            body = self.call("POST", "search_nodes", json={"search": search, "per_page": per_page,
                                                           "status": ["READY"]})
        return body["items"]

    # --- graphs -----------------------------------------------------------------------------------

    def save(self, graph: Graph) -> str:
        """Save the graph (without running it) and return its id."""
        body = self.call("POST", "graphs", json={"graph": graph.to_dict(), "actions": ["SAVE"]})
        graph.graph_id = body["graph"]["_id"]
        return graph.graph_id

    def get_graph(self, graph_id: str) -> dict:
        return self.call("GET", f"graphs/{graph_id}")["data"]

    def run(self, graph: Graph, wait: bool = True, progress: bool = True, poll: float = 0.5,
            raise_on_failure: bool = True, stream: IO[str] | None = None, timeout: float | None = None,
            parameters: dict[str, Any] | None = None) -> Run:
        """Save and approve the graph; wait for it with a progress line unless told not to.

        `parameters`: this run's values of the graph's run parameters, `{ref.param("name"): value}` (or
        `"<node_id>.<name>"`); the saved graph keeps its own."""
        request: dict[str, Any] = {"graph": graph.to_dict(), "actions": ["SAVE", "APPROVE"]}
        if parameters:
            request["parameters"] = parameters
        body = self.call("POST", "graphs", json=request)
        graph.graph_id = body["graph"]["_id"]
        if body["status"] != "SUCCESS":
            raise PlynxError(f"Graph `{graph.title}` did not pass validation", body.get("validation_error"))
        if not wait:
            return Run(self, body["graph"])
        return self.wait(graph.graph_id, progress=progress, poll=poll, raise_on_failure=raise_on_failure,
                         stream=stream, timeout=timeout)

    def wait(self, graph_id: str, progress: bool = True, poll: float = 0.5, raise_on_failure: bool = True,
             stream: IO[str] | None = None, timeout: float | None = None) -> Run:
        """Poll a graph until its run ends, drawing `[####....] 3/5 SUCCESS: 3 RUNNING: 1`."""
        out = stream or sys.stderr
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            data = self.get_graph(graph_id)
            if progress:
                out.write("\r" + progress_line(data))
                out.flush()
            if data["graph_running_status"] in _DONE:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise PlynxError(f"Graph `{data['title']}` still {data['graph_running_status']} after {timeout} s",
                                 Run(self, data))
            time.sleep(poll)
        if progress:
            out.write("\n")
        run = Run(self, data)
        if raise_on_failure and run.status != "SUCCESS":
            failed = [n["title"] for n in data["nodes"] if n["node_running_status"] == "FAILED"]
            raise PlynxError(f"Graph `{data['title']}` ended {run.status}; failed: {failed}", run)
        return run


    # --- runs (records kept by the server: `GET /graphs/{id}/runs`, `GET /runs/{run_id}`) -------------------

    def start(self, graph_id: str, parameters: dict[str, Any] | None = None) -> str:
        """Run a saved graph (`POST /graphs/{id}/approve`) with this run's values of its run parameters
        (`{"<node_id>.<name>": value}`: publicable parameters, checked by type, a 400 otherwise); the run's id."""
        body = self.call("POST", f"graphs/{graph_id}/approve", json={"parameters": parameters} if parameters else {})
        if body["status"] != "SUCCESS":
            raise PlynxError(f"Graph `{graph_id}` did not pass validation: {body.get('message')}",
                             body.get("validation_error"))
        return body["run_id"]

    def runs(self, graph_id: str, offset: int = 0, per_page: int = 20) -> tuple[list[dict], int]:
        """A graph's kept runs, newest first, and how many there are."""
        body = self.call("GET", f"graphs/{graph_id}/runs", params={"offset": offset, "per_page": per_page})
        return body["items"], body["total_count"]

    def get_run(self, run_id: str) -> Run:
        """One run as it ran: its record and the graph with that run's statuses, outputs and logs."""
        data = self.call("GET", f"runs/{run_id}")["data"]
        return Run(self, data["graph"], data)

    def cancel_run(self, run_id: str) -> Run:
        data = self.call("POST", f"runs/{run_id}/cancel", json={})["data"]
        return Run(self, data["graph"], data)

    def retry(self, run_id: str) -> Run:
        """A new run of a failed or canceled run's graph version: what succeeded is restored, the rest runs."""
        data = self.call("POST", f"runs/{run_id}/retry", json={})["data"]
        return Run(self, data["graph"], data)

    def wait_run(self, run_id: str, progress: bool = True, poll: float = 0.5, stream: IO[str] | None = None,
                 timeout: float | None = None) -> Run:
        """Poll a run until it ends, drawing the progress line; the ended run (whatever its status).

        On a terminal the line is redrawn in place; elsewhere (a CI log, a pipe) a line is written when it changes.
        """
        out = stream or sys.stderr
        in_place = getattr(out, "isatty", lambda: False)()
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = ""
        while True:
            run = self.get_run(run_id)
            line = progress_line(run.graph)
            if progress and line != shown:
                out.write("\r" + line if in_place else line + "\n")
                out.flush()
                shown = line
            if run.status in _DONE:
                break
            if deadline is not None and time.monotonic() > deadline:
                if progress and in_place:
                    out.write("\n")
                raise TimeoutError(f"Run `{run_id}` still {run.status} after {timeout} s")
            time.sleep(poll)
        if progress and in_place:
            out.write("\n")
        return run


def _message(response: requests.Response) -> str:
    """The API's error message (Chalice's `Message`), else the body's text."""
    try:
        return str(response.json().get("Message", response.text))
    except (ValueError, AttributeError):
        return response.text


def upload_line(sent: int, size: int, seconds: float, width: int = 20) -> str:
    """One line of an upload's progress: a bar, bytes sent of the total, and the rate."""
    filled = int(width * sent / size) if size else width
    rate = sent / seconds / 1e6 if seconds > 0 else 0.0
    return f"[{'#' * filled}{'.' * (width - filled)}] {sent / 1e6:.1f}/{size / 1e6:.1f} MB  {rate:.1f} MB/s"


def progress_line(graph: dict, width: int = 20) -> str:
    """One line of progress: a bar over the operations (files do not run) and counts by status."""
    statuses = collections.Counter(n["node_running_status"] for n in graph["nodes"]
                                   if n["base_node_name"] != "file")
    total = sum(statuses.values())
    done = sum(statuses[s] for s in ("SUCCESS", "RESTORED", "FAILED", "CANCELED"))
    filled = int(width * done / total) if total else width
    counts = "  ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    # READY while the server prepares the run after APPROVE answered (cache planning, compile): not finished
    status = "preparing" if graph.get("preparing") else graph["graph_running_status"]
    return f"{status:<8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {counts}"
