"""Stand-ins for the emulator at sizes it cannot serve, for the memory and CPU figures only.

`SyntheticExport`: the emulator builds the whole account in memory (about 2 GB per 100k
tickets), so the 1M-ticket figure cannot use it. This server serves only what a tickets-only
sync reads: the three custom field definition lists (copied from a real emulator, so discovery
types the same fields) and `/api/v2/incremental/tickets/cursor.json`, whose page k is 1000 real
emulator tickets with ids, urls and timestamps moved to make them tickets k*1000+1 ..
k*1000+1000. Memory stays one template page whatever the size.

`NullDestination`: the emulator's user upsert rebuilds its email/external_id index on every
write, so writing 26k users (a 100k-ticket account) takes tens of minutes. This server accepts
every bulk write as a job that is complete at the first status read, with every item created,
and finds nothing on lookups: the target's own work at any size, HTTP nearly free.

Neither checks anything; request counts and correctness come from the emulator.
"""

from __future__ import annotations

import copy
import threading
import typing as t
from base64 import urlsafe_b64decode, urlsafe_b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import msgspec
import requests

from tests.benchmarks.harness import API_TOKEN, EMAIL

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
FIELD_LISTS = ("ticket_fields", "user_fields", "organization_fields")
PAGE = 1000
#: First synthesized ticket's update (epoch seconds); each next ticket one second later.
EPOCH = 1_700_000_000


def capture(emulator_url: str) -> tuple[list[dict], dict[str, bytes]]:
    """One page of real tickets and the field-definition replies of an emulator account."""
    session = requests.Session()
    session.auth = (f"{EMAIL}/token", API_TOKEN)
    page = session.get(
        f"{emulator_url}{EXPORT_PATH}", params={"start_time": 0, "per_page": PAGE}, timeout=60
    ).json()
    lists = {
        name: session.get(f"{emulator_url}/api/v2/{name}.json", timeout=60).content
        for name in FIELD_LISTS
    }
    return page["tickets"], lists


_Server = t.TypeVar("_Server", bound="_LocalJsonServer")


class _LocalJsonServer:
    """A keep-alive HTTP/1.1 JSON server on a free 127.0.0.1 port, started and stopped like the
    emulator; each request of `METHODS` is counted in `requests` and answered by `reply`."""

    METHODS: tuple[str, ...] = ("GET",)

    def __init__(self) -> None:
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def reply(self, method: str, raw_path: str, body: bytes) -> tuple[int, bytes]:
        """Status and JSON body for one request."""
        raise NotImplementedError

    def start(self: _Server) -> _Server:
        """Serve on a free 127.0.0.1 port in a daemon thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            """Keep-alive HTTP/1.1; every request answered by `owner.reply`."""

            protocol_version = "HTTP/1.1"

            def log_message(self, *args: t.Any) -> None:
                """Quiet."""

            def _serve(self) -> None:
                """Read the body, reply, count."""
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests += 1
                status, reply = owner.reply(self.command, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        for method in self.METHODS:
            setattr(Handler, f"do_{method}", Handler._serve)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class SyntheticExport(_LocalJsonServer):
    """`total` tickets served page by page from `template` rows; start/stop like the emulator."""

    def __init__(self, template: list[dict], lists: dict[str, bytes], total: int) -> None:
        super().__init__()
        self.template = [copy.deepcopy(row) for row in template]
        self.lists = lists
        self.total = total

    def reply(self, method: str, raw_path: str, body: bytes) -> tuple[int, bytes]:
        """The body for one GET."""
        parts = urlsplit(raw_path)
        for name in FIELD_LISTS:
            if parts.path in (f"/api/v2/{name}.json", f"/api/v2/{name}"):
                return 200, self.lists[name]
        if parts.path != EXPORT_PATH:
            return 404, b'{"error":"InvalidEndpoint"}'
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        cursor = query.get("cursor")
        start = int(urlsafe_b64decode(cursor).decode()) if cursor else 0
        return 200, self.page(start)

    def page(self, start: int) -> bytes:
        """Tickets start+1 .. start+1000 (fewer at the end), in the export's envelope."""
        count = max(0, min(PAGE, self.total - start))
        rows = []
        for i in range(count):
            number = start + i + 1
            row = dict(self.template[i % len(self.template)])
            stamp = EPOCH + number
            row["id"] = number
            row["url"] = f"{self.url}/api/v2/tickets/{number}.json"
            row["generated_timestamp"] = stamp
            row["updated_at"] = _iso(stamp)
            rows.append(row)
        end = start + count >= self.total
        after = urlsafe_b64encode(str(start + count).encode()).decode()
        return msgspec.json.encode(
            {
                "tickets": rows,
                "after_url": f"{self.url}{EXPORT_PATH}?cursor={after}&per_page={PAGE}",
                "before_url": None,
                "after_cursor": after,
                "before_cursor": None,
                "end_of_stream": end,
            }
        )


class NullDestination(_LocalJsonServer):
    """Accepts every bulk write; each job is completed, all items created, at the first read."""

    METHODS = ("GET", "POST", "PUT")

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, int] = {}
        self.next_id = 1
        self._lock = threading.Lock()

    def reply(self, method: str, raw_path: str, body: bytes) -> tuple[int, bytes]:
        """The reply to one request."""
        parts = urlsplit(raw_path)
        path = parts.path.removesuffix(".json")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        encode = msgspec.json.encode
        if method in ("POST", "PUT") and path.endswith(("_many", "create_or_update_many")):
            items = next(iter(msgspec.json.decode(body).values()), [])
            with self._lock:
                job_id = f"null{len(self.jobs) + 1}"
                self.jobs[job_id] = len(items)
            return 200, encode({"job_status": self._job(job_id, "queued")})
        if path == "/api/v2/job_statuses/show_many":
            ids = [i for i in query.get("ids", "").split(",") if i]
            return 200, encode({"job_statuses": [self._job(i, "completed") for i in ids]})
        if path.startswith("/api/v2/job_statuses/"):
            return 200, encode({"job_status": self._job(path.rsplit("/", 1)[1], "completed")})
        if path == "/api/v2/job_statuses":
            return 200, encode({"job_statuses": [], "meta": {"has_more": False}})
        kind = path.split("/")[3] if path.count("/") >= 3 else ""
        return 200, encode({kind or "results": [], "meta": {"has_more": False}})

    def _job(self, job_id: str, status: str) -> dict[str, t.Any]:
        """A job status; a completed one lists every item as created with a new id."""
        total = self.jobs.get(job_id, 0)
        job: dict[str, t.Any] = {
            "id": job_id,
            "url": f"{self.url}/api/v2/job_statuses/{job_id}.json",
            "status": status,
            "total": total,
            "progress": total if status == "completed" else 0,
        }
        if status == "completed":
            with self._lock:
                first, self.next_id = self.next_id, self.next_id + total
            job["results"] = [
                {"index": i, "id": first + i, "status": "Created", "success": True}
                for i in range(total)
            ]
        return job


def _iso(epoch: int) -> str:
    """Epoch seconds as Zendesk's UTC timestamp text."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
