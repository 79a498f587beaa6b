r"""Create the Zendesk webhook (and trigger) that calls the tap's listener; read its secret.

    python -m tap_zendesk.webhook_setup --config tap.json \\
        --endpoint https://sync.example.com/zendesk --subscriptions users,organizations
    python -m tap_zendesk.webhook_setup --config tap.json \\
        --endpoint https://sync.example.com/zendesk --subscriptions tickets --trigger
    python -m tap_zendesk.webhook_setup --config tap.json --webhook-id 01GB... --show-secret

Event-type webhooks (users, organizations) fire on their own; ticket changes reach a webhook
only through a trigger (`conditional_ticket_events`, zendesk_api.md 7.3), which `--trigger`
creates. One webhook cannot do both (7.1): run the command once per kind. The signing secret is
printed to stdout only with `--show-secret`, and never logged.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import typing as t
from pathlib import Path

from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.api.client import ZendeskClient
from tap_zendesk.api.errors import FatalSyncError
from tap_zendesk.api.settings import validate_connection_config

CONDITIONAL = "conditional_ticket_events"
#: Event types that change a user or organization row (zendesk_api.md 7.4).
PRESETS: dict[str, tuple[str, ...]] = {
    "users": tuple(
        f"zen:event-type:user.{name}"
        for name in """created deleted merged active_changed alias_changed custom_field_changed
        custom_role_changed default_group_changed details_changed external_id_changed
        identity_created identity_changed identity_deleted name_changed notes_changed
        only_private_comments_changed organization_membership_created
        organization_membership_deleted role_changed suspended_changed tags_changed
        time_zone_changed""".split()
    ),
    "organizations": tuple(
        f"zen:event-type:organization.{name}"
        for name in """created deleted name_changed external_id_changed tags_changed
        custom_field_changed""".split()
    ),
    "tickets": (CONDITIONAL,),
}
#: What the trigger sends: ids only (deliveries are hints; the export carries the data, 7.7).
TRIGGER_BODY = (
    '{"ticket_id": "{{ticket.id}}", "status": "{{ticket.status}}", '
    '"updated_at": "{{ticket.updated_at_with_timestamp}}"}'
)

logger = logging.getLogger("tap_zendesk.webhook_setup")


class SetupError(FatalSyncError):
    """Raised when the arguments cannot make a valid webhook."""


def subscriptions(spec: str) -> list[str]:
    """`users,organizations` (presets) or literal `zen:event-type:...` names -> one list."""
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        for name in PRESETS.get(part, (part,)):
            if name not in out:
                out.append(name)
    if not out:
        raise SetupError("--subscriptions is empty: use users, organizations or tickets.")
    if CONDITIONAL in out and len(out) > 1:
        raise SetupError(
            "A webhook is either called by triggers (tickets) or subscribed to event types "
            "(users, organizations), not both: run the command once for each."
        )
    unknown = [s for s in out if s != CONDITIONAL and not s.startswith("zen:event-type:")]
    if unknown:
        raise SetupError(
            f"Unknown subscription {unknown[0]!r}: use users, organizations, tickets, or "
            "zen:event-type:... names."
        )
    return out


def create_webhook(
    client: ZendeskClient, endpoint: str, subs: list[str], name: str
) -> dict[str, t.Any]:
    """`POST /api/v2/webhooks` (7.1); the reply's webhook (id, status, ...)."""
    body = {
        "webhook": {
            "name": name,
            "description": "Tells tap-zendesk (continuous mode) to poll the exports early.",
            "endpoint": endpoint,
            "http_method": "POST",
            "request_format": "json",
            "status": "active",
            "subscriptions": subs,
        }
    }
    reply = client.request_json("POST", "/api/v2/webhooks", json=body, idempotent=False)
    return reply["webhook"]


def create_trigger(client: ZendeskClient, webhook_id: str, name: str) -> dict[str, t.Any]:
    """Create a trigger that calls the webhook on every ticket create or change (7.3)."""
    body = {
        "trigger": {
            "title": f"{name}: notify on ticket create or change",
            "active": True,
            "conditions": {
                "all": [],
                "any": [
                    {"field": "update_type", "operator": "is", "value": "Create"},
                    {"field": "update_type", "operator": "is", "value": "Change"},
                ],
            },
            "actions": [{"field": "notification_webhook", "value": [webhook_id, TRIGGER_BODY]}],
        }
    }
    reply = client.request_json("POST", "/api/v2/triggers", json=body, idempotent=False)
    return reply["trigger"]


def signing_secret(client: ZendeskClient, webhook_id: str) -> str:
    """`GET /api/v2/webhooks/{id}/signing_secret` (7.1): the secret, to use byte for byte."""
    reply = client.get_json(f"/api/v2/webhooks/{webhook_id}/signing_secret")
    return str(reply["signing_secret"]["secret"])


def _parser() -> argparse.ArgumentParser:
    """Command-line flags."""
    parser = argparse.ArgumentParser(
        prog="python -m tap_zendesk.webhook_setup",
        description=(
            "Create a Zendesk webhook pointing at the tap's webhook listener (and, for tickets, "
            "the trigger that calls it), or read an existing webhook's signing secret."
        ),
    )
    parser.add_argument("--config", required=True, type=Path, help="the tap's config JSON")
    parser.add_argument("--endpoint", help="public URL Zendesk POSTs to (your listener)")
    parser.add_argument(
        "--subscriptions",
        default="users,organizations",
        help="comma-separated presets (users, organizations, tickets) or zen:event-type:... "
        "names; tickets means conditional_ticket_events (default: users,organizations)",
    )
    parser.add_argument("--name", default="tap-zendesk continuous mode", help="webhook name")
    parser.add_argument(
        "--trigger",
        action="store_true",
        help="with tickets: also create the trigger that calls the webhook on ticket changes",
    )
    parser.add_argument("--webhook-id", help="an existing webhook: only read its secret")
    parser.add_argument(
        "--show-secret",
        action="store_true",
        help="print the signing secret to stdout (for `webhook_signing_secret`)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; results on stdout as JSON, progress on stderr, secret only if asked."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    try:
        config = json.loads(args.config.read_text(encoding="utf-8"))
        validate_connection_config(config)
        client = ZendeskClient(config, logger=logger, user_agent="tap-zendesk-webhook-setup")
        out: dict[str, t.Any] = {}
        if args.webhook_id:
            out["webhook_id"] = args.webhook_id
        else:
            if not args.endpoint:
                raise SetupError("--endpoint is required to create a webhook.")
            subs = subscriptions(args.subscriptions)
            if args.trigger and subs != [CONDITIONAL]:
                raise SetupError("--trigger needs --subscriptions tickets.")
            hook = create_webhook(client, args.endpoint, subs, args.name)
            out["webhook_id"] = hook["id"]
            logger.info("Created webhook %s (%d subscriptions).", hook["id"], len(subs))
            if args.trigger:
                trigger = create_trigger(client, hook["id"], args.name)
                out["trigger_id"] = trigger["id"]
                logger.info("Created trigger %s calling it.", trigger["id"])
            elif subs == [CONDITIONAL]:
                logger.warning(
                    "Nothing calls a conditional_ticket_events webhook until a trigger does: "
                    "rerun with --trigger, or add a notification_webhook action to a trigger."
                )
        if args.show_secret:
            out["signing_secret"] = signing_secret(client, out["webhook_id"])
        else:
            logger.info(
                "Rerun with --webhook-id %s --show-secret to print its signing secret.",
                out["webhook_id"],
            )
    except (OSError, ValueError, ConfigValidationError, FatalSyncError) as exc:
        errors = getattr(exc, "errors", None)
        logger.error("%s%s", exc, "".join(f"\n  - {e}" for e in errors or ()))  # noqa: TRY400
        return 2
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback with request details
        logger.error("Zendesk refused the request: %s", exc)  # noqa: TRY400
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
