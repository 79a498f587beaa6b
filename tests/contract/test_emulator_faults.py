"""Contract tests of the emulator's fault injection (one test per kind, plus scheduling)."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from tests.conftest import zendesk_session


@pytest.fixture
def emu(emulator_factory):
    """A fresh account per test so armed faults never leak."""
    return emulator_factory(tickets=60, seed=7, hold_back=0, job_delay=0)


@pytest.fixture
def api(emu):
    """Authenticated session."""
    return zendesk_session(emu)


def test_429_fault_sends_retry_after_and_text(emu, api):
    """A scheduled 429 carries the requested Retry-After."""
    emu.add_fault("429", path="/api/v2/groups", retry_after=7)
    r = api.get(f"{emu.url}/api/v2/groups.json")
    assert (r.status_code, r.headers["Retry-After"]) == (429, "7")
    assert r.text == "Number of allowed API requests per minute exceeded"
    assert api.get(f"{emu.url}/api/v2/groups.json").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults_send_html_bodies(emu, api, status):
    """5xx faults answer HTML, as Zendesk's edge does; 503 may carry Retry-After."""
    emu.add_fault(status, path="/api/v2/users", retry_after=3 if status == 503 else None)
    r = api.get(f"{emu.url}/api/v2/users")
    assert r.status_code == status
    assert r.headers["Content-Type"].startswith("text/html")
    if status == 503:
        assert r.headers["Retry-After"] == "3"


def test_reset_fault_breaks_the_connection_mid_body(emu, api):
    """The client sees a connection error, and the next request works."""
    emu.add_fault("reset", path="/api/v2/tickets")
    with pytest.raises(requests.exceptions.RequestException):
        api.get(f"{emu.url}/api/v2/tickets.json").json()
    assert api.get(f"{emu.url}/api/v2/tickets.json").status_code == 200


def test_stall_fault_times_the_client_out_without_blocking_others(emu, api):
    """A stalled request does not hold up requests on other connections."""
    emu.add_fault("stall", path="/api/v2/brands", seconds=1.0, times=2)
    events = []
    stalled = threading.Thread(target=lambda: events.append(
        ("stalled", requests.get(f"{emu.url}/api/v2/brands", auth=api.auth).status_code)))
    stalled.start()
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(f"{emu.url}/api/v2/brands", auth=api.auth, timeout=0.2)
    events.append(("other", api.get(f"{emu.url}/api/v2/groups").status_code))
    stalled.join()
    assert events[0] == ("other", 200)
    assert events[1] == ("stalled", 200)


def test_truncated_fault_sends_half_a_json_body_with_status_200(emu, api):
    """The reply is complete at the HTTP level but the JSON does not parse."""
    emu.add_fault("truncated", path="/api/v2/users")
    r = api.get(f"{emu.url}/api/v2/users")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_html200_fault_sends_an_html_page_with_status_200(emu, api):
    """Maintenance pages come back as 200 text/html."""
    emu.add_fault("html200", path="/api/v2/organizations")
    r = api.get(f"{emu.url}/api/v2/organizations")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.text.lstrip().startswith("<!DOCTYPE html>")


def test_401_fault_answers_couldnt_authenticate(emu, api):
    """A one-off 401 with valid credentials (token rotated mid-run)."""
    emu.add_fault("401", path="/api/v2/groups")
    r = api.get(f"{emu.url}/api/v2/groups")
    assert (r.status_code, r.json()) == (401, {"error": "Couldn't authenticate you"})


def test_401_fault_to_a_bearer_token_answers_invalid_token(emu):
    """The same fault to an OAuth request answers in OAuth's shape (1.4), as a real 401 does."""
    emu.add_fault("401", path="/api/v2/groups")
    r = requests.get(f"{emu.url}/api/v2/groups", headers={"Authorization": "Bearer demo-oauth"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


def test_expired_cursor_fault_on_cbp_and_on_exports(emu, api):
    """CBP gets page[after] is not valid; exports get a cursor error."""
    emu.add_fault("expired_cursor", path="/api/v2/users")
    r = api.get(f"{emu.url}/api/v2/users?page[size]=5")
    assert r.status_code == 400
    assert r.json() == {"error": "InvalidPaginationParameter",
                        "description": "page[after] is not valid"}
    emu.add_fault("expired_cursor", path="/api/v2/incremental/tickets/cursor")
    r = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0")
    assert r.status_code == 400 and "cursor" in r.json()["description"]


def test_empty_page_fault_keeps_paging_keys_so_nothing_is_lost(emu, api):
    """An empty page still says has_more and points at the rows it left out."""
    emu.add_fault("empty_page", path="/api/v2/users")
    url = f"{emu.url}/api/v2/users?page[size]=10"
    pages, ids = 0, []
    while True:
        body = api.get(url).json()
        pages += 1
        ids += [u["id"] for u in body["users"]]
        if not body["meta"]["has_more"]:
            break
        url = body["links"]["next"]
    assert pages > 1
    assert sorted(ids) == sorted(u["id"] for u in emu.collection("users"))


def test_empty_page_fault_on_exports_keeps_the_position(emu, api):
    """Time-based and cursor exports return count 0 but not end_of_stream."""
    emu.add_fault("empty_page", path="/api/v2/incremental/tickets", times=2)
    timed = api.get(f"{emu.url}/api/v2/incremental/tickets?start_time=0").json()
    assert timed["count"] == 0 and timed["end_of_stream"] is False
    assert timed["end_time"] == 0
    cur = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0").json()
    assert cur["tickets"] == [] and cur["end_of_stream"] is False
    follow = api.get(cur["after_url"]).json()
    assert len(follow["tickets"]) == len(emu.collection("tickets"))


def test_foreign_next_page_fault_points_links_off_host(emu, api):
    """next_page / links.next / after_url can point at another host to test URL checks."""
    emu.add_fault("foreign_next_page", times=3)
    offset = api.get(f"{emu.url}/api/v2/users?per_page=5").json()
    cbp = api.get(f"{emu.url}/api/v2/users?page[size]=5").json()
    export = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0"
                     f"&per_page=5").json()
    assert offset["next_page"].startswith("https://evil.example.com/api/v2/users")
    assert cbp["links"]["next"].startswith("https://evil.example.com/")
    assert export["after_url"].startswith("https://evil.example.com/")
    assert cbp["links"]["prev"] is None or cbp["links"]["prev"].startswith(emu.url)


def test_duplicate_rows_fault_repeats_the_previous_page(emu, api):
    """The next page starts with the rows of the page before it."""
    first = api.get(f"{emu.url}/api/v2/users?page[size]=5").json()
    emu.add_fault("duplicate_rows", path="/api/v2/users")
    second = api.get(first["links"]["next"]).json()
    ids = [u["id"] for u in second["users"]]
    assert ids[:5] == [u["id"] for u in first["users"]]
    assert len(ids) == 10


def test_out_of_order_fault_shuffles_rows_within_the_page(emu, api):
    """Rows of one page come back in a different order than the sort asks."""
    emu.add_fault("out_of_order", path="/api/v2/incremental/tickets")
    body = api.get(f"{emu.url}/api/v2/incremental/tickets?start_time=0").json()
    stamps = [t["generated_timestamp"] for t in body["tickets"]]
    assert stamps != sorted(stamps)
    assert sorted(stamps) == sorted(t["generated_timestamp"] for t in emu.collection("tickets"))


@pytest.mark.parametrize(("kind", "status"), [("job_failed", "failed"),
                                              ("job_killed", "killed")])
def test_job_faults_end_the_next_job_without_effects(emu, api, kind, status):
    """The next job ends failed/killed and writes nothing."""
    emu.add_fault(kind)
    job = api.post(f"{emu.url}/api/v2/organizations/create_many", json={
        "organizations": [{"name": "Never"}]}).json()["job_status"]
    done = api.get(job["url"]).json()["job_status"]
    assert done["status"] == status
    if kind == "job_killed":
        assert done["results"] is None
    else:
        assert all(r["success"] is False for r in done["results"])
    assert not [o for o in emu.collection("organizations") if o["name"] == "Never"]


def test_at_request_fires_on_that_global_request_number(emu, api):
    """`at_request=N` hits exactly the N-th counted request."""
    emu.reset_stats()
    emu.add_fault(500, at_request=3)
    codes = [api.get(f"{emu.url}/api/v2/groups").status_code for _ in range(4)]
    assert codes == [200, 200, 500, 200]


def test_times_limits_how_often_a_path_fault_fires(emu, api):
    """`times=2` fails the next two matching requests only; other paths are untouched."""
    emu.add_fault(503, path="/api/v2/brands", times=2)
    assert api.get(f"{emu.url}/api/v2/groups").status_code == 200
    codes = [api.get(f"{emu.url}/api/v2/brands").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert emu.stats()["faults_fired"] == {"503": 2}


def test_faults_can_be_armed_over_http(emu, api):
    """`POST /__emulator/faults` arms faults for out-of-process harnesses."""
    r = requests.post(f"{emu.url}/__emulator/faults",
                      data=json.dumps({"kind": "502", "path": "/api/v2/groups"}))
    assert r.status_code == 201
    assert api.get(f"{emu.url}/api/v2/groups").status_code == 502
    assert requests.get(f"{emu.url}/__emulator/faults").json() == {"faults": []}


def test_chaos_mode_injects_errors_into_a_share_of_requests(emulator_factory):
    """chaos_rate=1 turns every request into a 429/500/503."""
    emu = emulator_factory(tickets=5, chaos_rate=1.0)
    api = zendesk_session(emu)
    codes = {api.get(f"{emu.url}/api/v2/groups").status_code for _ in range(20)}
    assert codes <= {429, 500, 503} and codes


def test_unknown_fault_kinds_are_rejected(emu):
    """Typos in fault kinds fail at arm time."""
    with pytest.raises(ValueError):
        emu.add_fault("teapot")
