"""The stream-map recipes in meltano.yml, run through Meltano into target-jsonl.

* `tap-zendesk--feedback`: tickets as a normalized `feedback` stream (source_id, title, content,
  customer_id, severity on a fixed 0-4 scale, category) and nothing else.
* `tap-zendesk--pii-safe`: the migration streams with e-mail addresses hashed and phone numbers,
  photos, sender addresses and voice-call texts removed.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import REPO, MeltanoProject, emulator_knobs

pytestmark = pytest.mark.slow

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"\+\d[\d ()-]{6,}\d")
SEVERITY = {None: 0, "low": 1, "normal": 2, "high": 3, "urgent": 4}


def _plugin(name: str) -> dict:
    doc = yaml.safe_load(Path(REPO / "meltano.yml").read_text())
    return next(p for p in doc["plugins"]["extractors"] if p["name"] == name)


def test_feedback_scale_in_meltano_yml_is_the_documented_one() -> None:
    scale = _plugin("tap-zendesk--feedback")["config"]["stream_map_config"]["severity_scale"]
    assert scale == {k: v for k, v in SEVERITY.items() if k}


def test_stream_map_recipes_through_meltano(meltano_project: MeltanoProject,
                                            emulator_factory) -> None:
    src = emulator_factory(**emulator_knobs(tickets=40, seed=7))
    project = meltano_project
    project.env["ZENDESK_EMULATOR_URL"] = src.url
    source = {t["id"]: t for t in src.collection("tickets")}

    project.meltano("run", "tap-zendesk--feedback", "target-jsonl")

    assert project.outputs() == ["feedback/feedback.jsonl"]
    feedback = project.jsonl("feedback", "feedback")
    assert sorted(r["source_id"] for r in feedback) == sorted(source)
    for record in feedback:
        ticket = source[record["source_id"]]
        assert record == {
            "source_id": ticket["id"],
            "title": ticket["subject"],
            "content": ticket["description"],
            "customer_id": ticket["requester_id"],
            "severity": SEVERITY[ticket["priority"]],
            "category": ticket["tags"],
            "created_at": ticket["created_at"],
        }
    assert {r["severity"] for r in feedback} == set(SEVERITY.values()), "scale not exercised"
    assert project.state_ids() == ["emulator:tap-zendesk--feedback-to-target-jsonl"]

    project.meltano("run", "tap-zendesk--pii-safe", "target-jsonl")

    users = project.jsonl("zendesk_pii_safe", "users")
    source_users = {u["id"]: u for u in src.collection("users")}
    assert {u["id"] for u in users} == set(source_users)
    for user in users:
        assert "email" not in user and "phone" not in user and "photo" not in user
        email = source_users[user["id"]].get("email")
        expected = hashlib.sha256(email.strip().lower().encode()).hexdigest() if email else None
        assert user["email_sha256"] == expected
    assert any(u["email_sha256"] for u in users)
    assert any(u.get("phone") for u in source_users.values()), "no phone numbers to strip"

    tickets = project.jsonl("zendesk_pii_safe", "tickets")
    assert len(tickets) == len(source)
    voice = [t for t in tickets if t["via"]["channel"] == "voice"]
    assert voice and all(t["subject"] == "[voice call]" for t in voice)
    assert all(set(t["via"]) == {"channel"} and "recipient" not in t for t in tickets)
    comments = project.jsonl("zendesk_pii_safe", "ticket_comments")
    assert any(c["event_type"] == "VoiceComment" for c in comments)
    for comment in comments:
        assert "data" not in comment and "metadata" not in comment
    assert len(project.jsonl("zendesk_pii_safe", "organizations")) == len(
        src.collection("organizations"))

    # Nothing that looks like an e-mail address or a phone number is left in any file.
    for name in project.outputs():
        if name.startswith("zendesk_pii_safe/"):
            text = (project.root / "output" / name).read_text()
            leaks = {m.group(0) for m in EMAIL.finditer(text)} | {
                m.group(0) for m in PHONE.finditer(text)}
            assert not leaks, f"{name} still holds {sorted(leaks)[:5]}"
