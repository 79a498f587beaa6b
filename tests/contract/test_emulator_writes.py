"""Contract tests of the emulator's writes: imports, tickets, users, organizations, uploads."""

from __future__ import annotations

import time

import pytest

from tests.conftest import zendesk_session


@pytest.fixture
def dest(emulator_factory):
    """A fresh empty account per test (writes must not leak between tests)."""
    return emulator_factory(tickets=0, seed=7, hold_back=0, job_delay=0)


@pytest.fixture
def api(dest):
    """Authenticated session."""
    return zendesk_session(dest)


def poll(api, job, limit=200):
    """Poll a job until it is no longer queued/working."""
    for _ in range(limit):
        job = api.get(job["url"]).json()["job_status"]
        if job["status"] not in ("queued", "working"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job never finished: {job}")


def new_user(api, dest, name="Jane Doe", email="jane@example.com", **extra):
    """Create a user through the single-user upsert."""
    r = api.post(f"{dest.url}/api/v2/users/create_or_update.json",
                 json={"user": {"name": name, "email": email, **extra}})
    assert r.status_code in (200, 201), r.text
    return r.json()["user"]


IMPORT = {
    "external_id": "legacy-8812", "subject": "Cannot log in", "status": "solved",
    "priority": "normal", "tags": ["imported"], "created_at": "2019-03-01T09:00:00Z",
    "updated_at": "2019-03-04T16:30:00Z", "solved_at": "2019-03-04T16:00:00Z",
}


def import_body(requester_id, **extra):
    """A three-comment import in the documented shape."""
    return {"ticket": {**IMPORT, "requester_id": requester_id, "comments": [
        {"author_id": requester_id, "value": "I cannot log in.",
         "created_at": "2019-03-01T09:00:00Z"},
        {"author_id": requester_id, "html_body": "<p>Reset <b>done</b>.</p>", "public": True,
         "created_at": "2019-03-01T10:05:00Z"},
        {"author_id": requester_id, "body": "Internal note", "public": False,
         "created_at": "2019-03-01T10:06:00Z"}], **extra}}


# ---- ticket import ----------------------------------------------------------------------------


def test_ticket_import_honours_timestamps_and_comments(dest, api):
    """Import keeps created/updated/solved_at and stores every comment with its body form."""
    user = new_user(api, dest)
    r = api.post(f"{dest.url}/api/v2/imports/tickets.json", json=import_body(user["id"]))
    assert r.status_code == 201
    t = r.json()["ticket"]
    assert (t["created_at"], t["updated_at"]) == ("2019-03-01T09:00:00Z", "2019-03-04T16:30:00Z")
    assert t["description"] == "I cannot log in."
    comments = api.get(f"{dest.url}/api/v2/tickets/{t['id']}/comments").json()["comments"]
    assert [c["public"] for c in comments] == [True, True, False]
    assert comments[1]["body"] == "Reset done." and "<b>done</b>" in comments[1]["html_body"]
    assert comments[0]["created_at"] == "2019-03-01T09:00:00Z"
    assert api.get(f"{dest.url}/api/v2/tickets/{t['id']}/metrics").status_code == 404
    assert "solved_at" not in t  # only ticket metrics carry it; imports get none
    sent = dest.write_log()[-1]
    assert (sent["method"], sent["path"]) == ("POST", "/api/v2/imports/tickets")
    assert sent["body"]["ticket"]["solved_at"] == "2019-03-04T16:00:00Z"


def test_ccs_and_followers_are_set_through_email_ccs_and_followers(dest, api):
    """5.1 / trap 8: `email_ccs` and `followers` ({user_id or user_email, action}) set the
    read-only `email_cc_ids` / `follower_ids`; `collaborator_ids` is their union. Sending the
    read-only lists sets nothing."""
    requester = new_user(api, dest)
    cc = new_user(api, dest, name="Cc", email="cc@example.com")
    follower = new_user(api, dest, name="Fo", email="fo@example.com")
    body = import_body(
        requester["id"],
        email_ccs=[{"user_email": "CC@example.com", "action": "put"}],
        followers=[{"user_id": follower["id"], "action": "put"}],
    )
    t = api.post(f"{dest.url}/api/v2/imports/tickets", json=body).json()["ticket"]
    assert (t["email_cc_ids"], t["follower_ids"]) == ([cc["id"]], [follower["id"]])
    assert sorted(t["collaborator_ids"]) == sorted([cc["id"], follower["id"]])
    ignored = import_body(requester["id"], email_cc_ids=[cc["id"]], follower_ids=[cc["id"]])
    ignored["ticket"]["external_id"] = "legacy-8813"
    t = api.post(f"{dest.url}/api/v2/imports/tickets", json=ignored).json()["ticket"]
    assert (t["email_cc_ids"], t["follower_ids"], t["collaborator_ids"]) == ([], [], [])


def test_imported_tickets_show_up_in_every_export(dest, api):
    """A tap run after a target run sees the ticket, its audits and its comment events."""
    user = new_user(api, dest)
    t = api.post(f"{dest.url}/api/v2/imports/tickets",
                 json=import_body(user["id"])).json()["ticket"]
    assert t["generated_timestamp"] >= int(time.time()) - 60
    cursor = api.get(f"{dest.url}/api/v2/incremental/tickets/cursor?start_time=0").json()
    assert t["id"] in {x["id"] for x in cursor["tickets"]}
    since = int(time.time()) - 3600
    events = api.get(f"{dest.url}/api/v2/incremental/ticket_events?start_time={since}"
                     f"&include=comment_events").json()["ticket_events"]
    mine = [e for e in events if e["ticket_id"] == t["id"]]
    bodies = [c["body"] for e in mine for c in e["child_events"] if c["event_type"] == "Comment"]
    assert bodies == ["I cannot log in.", "Reset done.", "Internal note"]
    assert mine[0]["created_at"] == "2019-03-01T09:00:00Z"
    users = api.get(f"{dest.url}/api/v2/incremental/users?start_time={since}").json()["users"]
    assert user["id"] in {u["id"] for u in users}


def test_import_with_unknown_requester_is_record_invalid(dest, api):
    """A single import with a missing requester answers 422 RecordInvalid with details."""
    r = api.post(f"{dest.url}/api/v2/imports/tickets", json=import_body(424242))
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "RecordInvalid"
    assert body["details"]["requester"][0]["description"].startswith("Requester:")


def test_import_without_comments_or_description_is_rejected(dest, api):
    """Like Zendesk, a ticket needs a first comment (description)."""
    admin = dest.admin_user_id
    r = api.post(f"{dest.url}/api/v2/imports/tickets",
                 json={"ticket": {"subject": "x", "requester_id": admin}})
    assert r.status_code == 422
    assert r.json()["details"]["description"][0]["description"] == \
        "Description: cannot be blank"
    ok = api.post(f"{dest.url}/api/v2/imports/tickets",
                  json={"ticket": {"subject": "x", "requester_id": admin, "description": "d"}})
    assert ok.status_code == 201


def test_import_with_a_future_comment_date_is_rejected(dest, api):
    """Comment created_at may not be in the future."""
    admin = dest.admin_user_id
    body = {"ticket": {"subject": "x", "requester_id": admin, "comments": [
        {"author_id": admin, "value": "from the future", "created_at": "2999-01-01T00:00:00Z"}]}}
    r = api.post(f"{dest.url}/api/v2/imports/tickets", json=body)
    assert r.status_code == 422


def test_import_requester_object_creates_then_matches_by_email(dest, api):
    """`requester: {name, email}` creates a user once, then matches it in any case."""
    body = {"ticket": {"subject": "x", "comments": [{"value": "hello"}],
                       "requester": {"name": "New Person", "email": "New.Person@example.com"}}}
    one = api.post(f"{dest.url}/api/v2/imports/tickets", json=body).json()["ticket"]
    body["ticket"]["requester"]["email"] = "new.person@EXAMPLE.com"
    two = api.post(f"{dest.url}/api/v2/imports/tickets", json=body).json()["ticket"]
    assert one["requester_id"] == two["requester_id"]
    user = api.get(f"{dest.url}/api/v2/users/{one['requester_id']}").json()["user"]
    assert user["name"] == "New Person"
    comments = api.get(f"{dest.url}/api/v2/tickets/{one['id']}/comments").json()["comments"]
    assert comments[0]["author_id"] == one["requester_id"]


def test_bulk_import_reports_per_item_failures_by_index(dest, api):
    """One bad item fails alone; the job still completes with results per index."""
    user = new_user(api, dest)
    good = import_body(user["id"])["ticket"]
    bad = {**good, "requester_id": 999}
    job = api.post(f"{dest.url}/api/v2/imports/tickets/create_many.json",
                   json={"tickets": [good, bad, good]}).json()["job_status"]
    job = poll(api, job)
    assert job["status"] == "completed" and job["total"] == 3
    results = job["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert results[1]["error"] == "TicketCreateFailed"
    assert results[1]["details"].startswith("Requester:")
    assert results[0]["id"] != results[2]["id"]
    assert len(dest.collection("tickets")) == 2


def test_bulk_import_over_100_is_refused(dest, api):
    """At most 100 tickets per create_many."""
    tickets = [{"subject": str(i), "description": "d"} for i in range(101)]
    r = api.post(f"{dest.url}/api/v2/imports/tickets/create_many", json={"tickets": tickets})
    assert r.status_code == 400
    assert r.json()["error"] == "TooManyValues"


def test_archive_immediately_sends_closed_imports_to_the_archive(dest, api):
    """Archived imports appear in exports and show, but not in `GET /tickets`."""
    admin = dest.admin_user_id
    body = {"tickets": [{"subject": "old", "status": "closed", "requester_id": admin,
                         "comments": [{"value": "old"}]},
                        {"subject": "open", "status": "open", "requester_id": admin,
                         "comments": [{"value": "new"}]}]}
    job = api.post(f"{dest.url}/api/v2/imports/tickets/create_many?archive_immediately=true",
                   json=body).json()["job_status"]
    closed_id, open_id = [r["id"] for r in poll(api, job)["results"]]
    listed = {t["id"] for t in api.get(f"{dest.url}/api/v2/tickets").json()["tickets"]}
    assert open_id in listed and closed_id not in listed
    exported = api.get(f"{dest.url}/api/v2/incremental/tickets?start_time=0").json()["tickets"]
    assert {closed_id, open_id} <= {t["id"] for t in exported}
    assert closed_id in dest.archived_ticket_ids


# ---- live tickets -----------------------------------------------------------------------------


def test_ticket_create_and_update_write_audits_and_comments(dest, api):
    """POST /tickets answers 201 with an audit; PUT changes fields and adds comments."""
    admin = dest.admin_user_id
    r = api.post(f"{dest.url}/api/v2/tickets.json", json={"ticket": {
        "subject": "Printer", "comment": {"body": "E42"}, "requester_id": admin}})
    assert r.status_code == 201
    assert set(r.json()) == {"ticket", "audit"}
    tid = r.json()["ticket"]["id"]
    upd = api.put(f"{dest.url}/api/v2/tickets/{tid}.json", json={"ticket": {
        "status": "solved", "comment": {"body": "Fixed", "public": False}}})
    assert upd.status_code == 200
    assert upd.json()["ticket"]["status"] == "solved"
    change = [e for e in upd.json()["audit"]["events"] if e["type"] == "Change"]
    assert {"field_name": "status", "value": "solved"}.items() <= change[0].items()
    comments = api.get(f"{dest.url}/api/v2/tickets/{tid}/comments").json()["comments"]
    assert [c["body"] for c in comments] == ["E42", "Fixed"]
    assert api.get(f"{dest.url}/api/v2/tickets/{tid}/metrics").status_code == 200


def test_closed_tickets_cannot_be_updated_and_safe_update_conflicts(dest, api):
    """Closed tickets answer 422; a stale updated_stamp with safe_update answers 409."""
    admin = dest.admin_user_id
    closed = api.post(f"{dest.url}/api/v2/imports/tickets", json={"ticket": {
        "subject": "x", "status": "closed", "requester_id": admin,
        "comments": [{"value": "x"}]}}).json()["ticket"]
    r = api.put(f"{dest.url}/api/v2/tickets/{closed['id']}", json={"ticket": {"status": "open"}})
    assert r.status_code == 422
    live = api.post(f"{dest.url}/api/v2/tickets", json={"ticket": {
        "subject": "y", "comment": {"body": "y"}}}).json()["ticket"]
    r = api.put(f"{dest.url}/api/v2/tickets/{live['id']}", json={"ticket": {
        "status": "open", "safe_update": True, "updated_stamp": "2000-01-01T00:00:00Z"}})
    assert r.status_code == 409


def test_new_tickets_refuse_closed_status(dest, api):
    """Only the import API can create closed tickets."""
    r = api.post(f"{dest.url}/api/v2/tickets", json={"ticket": {
        "subject": "x", "status": "closed", "comment": {"body": "x"}}})
    assert r.status_code == 422


# ---- users ------------------------------------------------------------------------------------


def test_user_upsert_matches_email_and_external_id_in_any_case(dest, api):
    """create_or_update answers 201 then 200 and matches case-insensitively."""
    r = api.post(f"{dest.url}/api/v2/users/create_or_update", json={"user": {
        "name": "Ann", "email": "Ann@Example.com", "external_id": "CRM-1"}})
    assert r.status_code == 201
    uid = r.json()["user"]["id"]
    by_mail = api.post(f"{dest.url}/api/v2/users/create_or_update", json={"user": {
        "name": "Ann B", "email": "ann@example.COM"}})
    assert (by_mail.status_code, by_mail.json()["user"]["id"]) == (200, uid)
    by_ext = api.post(f"{dest.url}/api/v2/users/create_or_update", json={"user": {
        "name": "Ann C", "external_id": "crm-1"}})
    assert (by_ext.status_code, by_ext.json()["user"]["id"]) == (200, uid)
    assert by_ext.json()["user"]["external_id"] == "crm-1"


def test_user_write_validation_is_record_invalid(dest, api):
    """Malformed emails answer 422 with details.email."""
    r = api.post(f"{dest.url}/api/v2/users/create_or_update",
                 json={"user": {"name": "X", "email": "b@example"}})
    assert r.status_code == 422
    assert r.json()["details"]["email"][0]["description"] == \
        "Email: b@example is not properly formatted"


def test_bulk_user_jobs_create_update_and_report_failures(dest, api):
    """create_many, create_or_update_many and update_many report per-item results."""
    job = api.post(f"{dest.url}/api/v2/users/create_many", json={"users": [
        {"name": "A", "email": "a@example.com"}, {"name": "B", "email": "b@example"}]}
    ).json()["job_status"]
    res = poll(api, job)["results"]
    assert res[0]["status"] == "Created" and res[0]["email"] == "a@example.com"
    assert res[1] == {"index": 1, "error": "InvalidValue", "status": "Failed", "success": False,
                      "details": "Email: b@example is not properly formatted",
                      "email": "b@example"}
    job = api.post(f"{dest.url}/api/v2/users/create_or_update_many", json={"users": [
        {"name": "A2", "email": "A@example.com"}, {"name": "C", "external_id": "c-1"}]}
    ).json()["job_status"]
    res = poll(api, job)["results"]
    assert [(r["status"], r["action"]) for r in res] == [("Updated", "update"),
                                                         ("Created", "create")]
    uid = res[0]["id"]
    job = api.put(f"{dest.url}/api/v2/users/update_many?ids={uid}",
                  json={"user": {"notes": "vip"}}).json()["job_status"]
    assert poll(api, job)["results"] == [{"id": uid, "action": "update", "success": True,
                                          "status": "Updated"}]
    assert api.get(f"{dest.url}/api/v2/users/{uid}").json()["user"]["notes"] == "vip"


def test_user_writes_show_up_in_the_user_exports(dest, api):
    """Written users carry a fresh updated_at, so exports from a recent bookmark see them."""
    user = new_user(api, dest, name="Fresh", email="fresh@example.com")
    since = int(time.time()) - 120
    cursor = api.get(f"{dest.url}/api/v2/incremental/users/cursor?start_time={since}").json()
    assert user["id"] in {u["id"] for u in cursor["users"]}


# ---- organizations ----------------------------------------------------------------------------


def test_organization_bulk_create_and_both_update_many_forms(dest, api):
    """create_many creates; update_many takes ?external_ids= and the batch form."""
    job = api.post(f"{dest.url}/api/v2/organizations/create_many.json", json={
        "organizations": [{"name": "Acme", "external_id": "org-1"},
                          {"name": "Beta", "external_id": "org-2"},
                          {"name": "acme"}]}).json()["job_status"]
    res = poll(api, job)["results"]
    assert [r.get("status") for r in res] == ["Created", "Created", "Failed"]
    assert res[2]["error"] == "OrganizationCreateFailed" and "taken" in res[2]["details"]
    job = api.put(f"{dest.url}/api/v2/organizations/update_many?external_ids=org-1,org-2",
                  json={"organization": {"notes": "same"}}).json()["job_status"]
    assert all(r["status"] == "Updated" for r in poll(api, job)["results"])
    beta = res[1]["id"]
    job = api.put(f"{dest.url}/api/v2/organizations/update_many",
                  json={"organizations": [{"id": beta, "notes": "own"}]}).json()["job_status"]
    poll(api, job)
    notes = {o["name"]: o["notes"] for o in dest.collection("organizations")}
    assert notes == {"Acme": "same", "Beta": "own"}


def test_organization_upsert_matches_external_id_never_name(dest, api):
    """create_or_update matches id/external_id; a taken name is 422 with details."""
    r = api.post(f"{dest.url}/api/v2/organizations/create_or_update",
                 json={"organization": {"name": "Acme", "external_id": "o-1"}})
    assert r.status_code == 201
    r = api.post(f"{dest.url}/api/v2/organizations/create_or_update",
                 json={"organization": {"name": "Acme Ltd", "external_id": "O-1"}})
    assert r.status_code == 200 and r.json()["organization"]["name"] == "Acme Ltd"
    r = api.post(f"{dest.url}/api/v2/organizations/create_or_update",
                 json={"organization": {"name": "Acme Ltd", "external_id": "o-2"}})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "RecordInvalid" and "name" in body["details"]
    assert body["details"]["name"][0]["error"] == "DuplicateValue"


def test_organization_writes_show_up_in_the_organization_export(dest, api):
    """The time-based organization export sees newly written organizations."""
    org = api.post(f"{dest.url}/api/v2/organizations", json={
        "organization": {"name": "Exported"}}).json()["organization"]
    since = int(time.time()) - 120
    body = api.get(f"{dest.url}/api/v2/incremental/organizations?start_time={since}").json()
    assert org["id"] in {o["id"] for o in body["organizations"]}


def test_uploads_attach_to_imported_comments(dest, api):
    """An upload token listed in a comment's uploads becomes an attachment."""
    up = api.post(f"{dest.url}/api/v2/uploads.json?filename=crash.log", data=b"boom",
                  headers={"Content-Type": "text/plain"})
    assert up.status_code == 201
    token = up.json()["upload"]["token"]
    admin = dest.admin_user_id
    t = api.post(f"{dest.url}/api/v2/imports/tickets", json={"ticket": {
        "subject": "x", "requester_id": admin,
        "comments": [{"value": "see log", "uploads": [token]}]}}).json()["ticket"]
    comment = api.get(f"{dest.url}/api/v2/tickets/{t['id']}/comments").json()["comments"][0]
    assert comment["attachments"][0]["file_name"] == "crash.log"
    assert comment["attachments"][0]["size"] == 4
