"""Contract tests of the emulator's job statuses: lifecycle, effects, cap, show_many, retention."""

from __future__ import annotations

import re
import time

from tests.conftest import zendesk_session

ORGS = {"organizations": [{"name": "Org A"}, {"name": "Org B"}]}


def create_job(emu, api, body=None):
    """Start an organizations create_many job and return (response, job)."""
    r = api.post(f"{emu.url}/api/v2/organizations/create_many", json=body or ORGS)
    return r, r.json().get("job_status")


def test_job_moves_queued_then_working_then_completed(emulator_factory):
    """Poll-driven jobs show every state in order, deterministically."""
    emu = emulator_factory(tickets=0, job_polls=3)
    api = zendesk_session(emu)
    r, job = create_job(emu, api)
    assert job["status"] == "queued" and job["results"] is None and job["progress"] is None
    seen = [api.get(job["url"]).json()["job_status"]["status"] for _ in range(3)]
    assert seen == ["queued", "working", "completed"]
    done = api.get(job["url"]).json()["job_status"]
    assert done["progress"] == done["total"] == 2
    assert done["message"].startswith("Completed at ")
    assert [x["index"] for x in done["results"]] == [0, 1]


def test_timed_jobs_reach_completed_through_the_documented_states(emulator_factory):
    """With job_delay the job completes on its own; observed states keep their order."""
    emu = emulator_factory(tickets=0, job_delay=0.2)
    api = zendesk_session(emu)
    _, job = create_job(emu, api)
    order = ["queued", "working", "completed"]
    seen = [job["status"]]
    for _ in range(500):
        status = api.get(job["url"]).json()["job_status"]["status"]
        if status != seen[-1]:
            seen.append(status)
        if status == "completed":
            break
        time.sleep(0.01)
    assert seen[-1] == "completed"
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)


def test_job_ids_are_32_hex_and_urls_are_absolute(emulator_factory):
    """Job ids are opaque 32-hex strings (a prefix is a knob); urls point at the emulator."""
    emu = emulator_factory(tickets=0, job_delay=0)
    _, job = create_job(emu, zendesk_session(emu))
    assert re.fullmatch(r"[0-9a-f]{32}", job["id"])
    assert job["url"] == f"{emu.url}/api/v2/job_statuses/{job['id']}.json"
    assert set(job) == {"id", "url", "job_type", "status", "total", "progress", "message",
                        "results"}
    prefixed = emulator_factory(tickets=0, job_delay=0, job_id_prefix="V3-")
    _, job = create_job(prefixed, zendesk_session(prefixed))
    assert job["id"].startswith("V3-")


def test_job_effects_appear_only_when_the_job_completes(emulator_factory):
    """Written objects are invisible while the job is queued."""
    emu = emulator_factory(tickets=0, job_polls=2)
    api = zendesk_session(emu)
    _, job = create_job(emu, api)
    search = f"{emu.url}/api/v2/organizations/search?name=Org A"
    assert api.get(search).json()["organizations"] == []
    api.get(job["url"])
    api.get(job["url"])
    assert len(api.get(search).json()["organizations"]) == 1


def test_too_many_queued_jobs_get_429_too_many_jobs(emulator_factory):
    """At most max_jobs queued/working; beyond that 429 TooManyJobs with the job ids."""
    emu = emulator_factory(tickets=0, job_polls=100, max_jobs=3)
    api = zendesk_session(emu)
    ids, remaining = [], []
    for i in range(3):
        r, job = create_job(emu, api, {"organizations": [{"name": f"Org {i}"}]})
        ids.append(job["id"])
        remaining.append(r.headers["Zendesk-RateLimit-inflight-jobs"])
    assert remaining[0].startswith("total=3; remaining=2; resets=")
    assert remaining[-1].startswith("total=3; remaining=0;")
    r, _ = create_job(emu, api, {"organizations": [{"name": "Org 9"}]})
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "TooManyJobs"
    assert sorted(body["current_job_ids"]) == sorted(ids)
    assert "Zendesk-RateLimit-inflight-jobs" in r.headers
    stats = emu.stats()
    assert stats["jobs_created"] == 3 and stats["max_jobs_in_flight"] == 3
    assert stats["rate_limited"] == 1


def test_job_show_many_returns_every_requested_job(emulator_factory):
    """`/job_statuses/show_many?ids=` returns job_statuses."""
    emu = emulator_factory(tickets=0, job_delay=0)
    api = zendesk_session(emu)
    ids = [create_job(emu, api, {"organizations": [{"name": f"O{i}"}]})[1]["id"]
           for i in range(2)]
    body = api.get(f"{emu.url}/api/v2/job_statuses/show_many.json?ids={','.join(ids)}").json()
    assert sorted(j["id"] for j in body["job_statuses"]) == sorted(ids)
    assert all(j["status"] == "completed" for j in body["job_statuses"])


def test_jobs_past_retention_are_404(emulator_factory):
    """After the retention period a job status is gone (RecordNotFound)."""
    emu = emulator_factory(tickets=0, job_delay=0, job_retention=0)
    api = zendesk_session(emu)
    _, job = create_job(emu, api)
    r = api.get(job["url"])
    assert r.status_code == 404
    assert r.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_jobs_list_shows_created_jobs_with_cbp(emulator_factory):
    """`/job_statuses` lists created jobs (CBP only)."""
    emu = emulator_factory(tickets=0, job_delay=0)
    api = zendesk_session(emu)
    job = create_job(emu, api)[1]
    body = api.get(f"{emu.url}/api/v2/job_statuses?page[size]=10").json()
    assert job["id"] in [j["id"] for j in body["job_statuses"]]
    assert set(body) == {"job_statuses", "meta", "links"}
