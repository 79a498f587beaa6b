"""Contract tests of the emulator's transport: CLI, paths, keep-alive, absolute URLs, admin API."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import zendesk_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emu(emulator_factory):
    """A small account shared by this module."""
    return emulator_factory(tickets=60, seed=7, hold_back=0, job_delay=0)


def test_cli_prints_its_url_first_and_stops_on_sigterm():
    """Harnesses read the first stdout line to find the port, then SIGTERM the process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--tickets", "5", "--seed", "7",
         "--hold-back", "0", "--rate-limit", "none"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", line), line
        port = int(line.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/v2/users/me.json")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_paths_answer_with_and_without_json_suffix(emu):
    """Zendesk accepts both forms, so clients following either kind of URL must work."""
    s = zendesk_session(emu)
    plain = s.get(f"{emu.url}/api/v2/groups")
    suffixed = s.get(f"{emu.url}/api/v2/groups.json")
    assert plain.status_code == suffixed.status_code == 200
    assert plain.json()["groups"] == suffixed.json()["groups"]


def test_unknown_path_is_an_invalid_endpoint_404(emu):
    """Unknown paths answer Zendesk's InvalidEndpoint body, not an HTML page."""
    r = zendesk_session(emu).get(f"{emu.url}/api/v2/no_such_thing.json")
    assert r.status_code == 404
    assert r.json() == {"error": "InvalidEndpoint", "description": "Not found"}


def test_unknown_id_is_a_record_not_found_404(emu):
    """Unknown ids answer RecordNotFound."""
    r = zendesk_session(emu).get(f"{emu.url}/api/v2/tickets/9223372036854775807.json")
    assert r.status_code == 404
    assert r.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_one_connection_serves_many_requests(emu):
    """HTTP/1.1 keep-alive with exact Content-Length lets clients reuse one socket."""
    port = int(emu.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    auth = {"Authorization": _basic()}
    conn.request("GET", "/api/v2/groups.json", headers=auth)
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    for _ in range(3):
        conn.request("GET", "/api/v2/brands.json", headers=auth)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200
        assert len(body) == int(resp.getheader("Content-Length"))
    assert conn.sock is sock
    conn.close()


def test_chunked_request_bodies_are_read(emu):
    """Clients that stream a body without Content-Length still get their write applied."""
    def chunks():
        yield b'{"organization": {"name": '
        yield b'"Chunked Org"}}'

    r = zendesk_session(emu).post(f"{emu.url}/api/v2/organizations", data=chunks(),
                                  headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert r.json()["organization"]["name"] == "Chunked Org"


def _basic() -> str:
    import base64

    return "Basic " + base64.b64encode(b"demo@example.com/token:demo").decode()


def test_every_built_url_is_absolute_on_the_emulators_own_base(emu):
    """Objects' url, next_page, links.next, after_url and job urls all point back here."""
    s = zendesk_session(emu)
    base = emu.url
    ticket = s.get(f"{base}/api/v2/tickets.json?per_page=2").json()
    assert ticket["tickets"][0]["url"].startswith(base + "/api/v2/tickets/")
    assert ticket["next_page"].startswith(base + "/api/v2/tickets.json?")
    cbp = s.get(f"{base}/api/v2/users.json?page[size]=2").json()
    assert cbp["links"]["next"].startswith(base + "/api/v2/users.json?")
    exp = s.get(f"{base}/api/v2/incremental/tickets/cursor?start_time=0&per_page=5").json()
    assert exp["after_url"].startswith(base + "/api/v2/incremental/tickets/cursor?")
    job = s.post(f"{base}/api/v2/organizations/create_many.json",
                 json={"organizations": [{"name": "Url Check Org"}]}).json()["job_status"]
    assert job["url"] == f"{base}/api/v2/job_statuses/{job['id']}.json"


def test_admin_stats_count_api_requests_per_normalized_path(emu):
    """Stats let tests assert call patterns; admin calls are neither counted nor authed."""
    emu.reset_stats()
    s = zendesk_session(emu)
    tid = emu.collection("tickets")[0]["id"]
    s.get(f"{emu.url}/api/v2/tickets/{tid}.json")
    s.get(f"{emu.url}/api/v2/tickets/{tid}/comments")
    stats = json.loads(http_get(emu, "/__emulator/stats"))
    assert stats["requests"]["GET /api/v2/tickets/{id}"] == 1
    assert stats["requests"]["GET /api/v2/tickets/{id}/comments"] == 1
    assert stats["total_requests"] == 2
    assert emu.requests_to("/api/v2/tickets/{id}") == 1


def test_admin_data_endpoint_returns_the_current_collection(emu):
    """`/__emulator/data/<collection>` shows what writes left behind, without auth."""
    body = json.loads(http_get(emu, "/__emulator/data/groups"))
    assert [g["id"] for g in body["groups"]] == [g["id"] for g in emu.collection("groups")]


def http_get(emu, path: str) -> bytes:
    """GET without credentials."""
    port = int(emu.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    assert resp.status == 200, data
    return data


def test_unknown_knobs_are_rejected():
    """A misspelt knob must fail loudly instead of silently using a default."""
    from tests.emulator import Emulator

    with pytest.raises(TypeError):
        Emulator(tickets=1, job_dealy=1)
