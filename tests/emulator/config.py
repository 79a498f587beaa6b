"""Every emulator knob in one dataclass, so the CLI and the Python API cannot drift apart."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any


def knob(default: Any, help_text: str) -> Any:
    """A config field with CLI help text."""
    return field(default=default, metadata={"help": help_text})


@dataclass
class EmulatorConfig:
    """Knobs of one emulated Zendesk account; each field is also a `--kebab-case` CLI flag."""

    # --- account data -------------------------------------------------------------------
    tickets: int = knob(2000, "tickets to generate (0 = empty destination account)")
    seed: int = knob(7, "random seed of the generated account")
    anchor: str = knob("2026-01-01T00:00:00Z", "latest generated timestamp (ISO 8601)")
    burst: int | None = knob(None, "tickets sharing one generated_timestamp")
    port: int = knob(0, "TCP port on 127.0.0.1 (0 = any free port)")
    subdomain: str = knob("demo", "account subdomain (informational)")

    # --- auth and plan ------------------------------------------------------------------
    email: str = knob("demo@example.com", "admin email of `{email}/token:{api_token}`")
    api_token: str = knob("demo", "API token, accepted with any staff email")
    oauth_token: str = knob("demo-oauth", "OAuth bearer token")
    oauth_client_id: str = knob("demo-client", "unique identifier of the registered OAuth "
                                               "client (/oauth/tokens)")
    oauth_client_secret: str = knob("demo-secret", "secret of the registered OAuth client")
    oauth_token_lifetime: float = knob(1800.0, "seconds an issued OAuth access token lives; "
                                               "0 = never expires (expires_in null)")
    role: str = knob("admin", "role of the admin credentials: admin | agent")
    disable: tuple[str, ...] = knob((), "comma-separated stream families to gate (plan), "
                                        "e.g. help_center,side_conversations,sla_policies,"
                                        "bulk_user_import,cursor_exports")
    disabled_status: int = knob(403, "status of gated families: 403 (shape B) or 404")

    # --- incremental exports ------------------------------------------------------------
    hold_back: int = knob(60, "hide export items newer than now - hold_back seconds")
    start_time_min_age: int = knob(60, "start_time newer than now - this is a 422")
    stall_same_second: bool = knob(False, "reproduce the same-second stall instead of "
                                          "keeping a second's items together")
    cursor_null_on_empty: bool = knob(True, "empty cursor-export page answers "
                                            "after_cursor null (recorded behaviour)")
    export_max_per_page: int = knob(1000, "largest export per_page")

    # --- lists --------------------------------------------------------------------------
    audits_style: str = knob("legacy", "/ticket_audits reply to page[size]: legacy "
                                       "(top-level after_url) | cbp (meta/links, recorded)")
    cbp_max_size: int = knob(100, "largest page[size]; above it 400")
    offset_max_page: int = knob(100, "deepest offset page; beyond it 400 "
                                     "InvalidPaginationDepth")
    csat_time_field: str = knob("updated_at", "field satisfaction_ratings start/end_time "
                                              "filter on")

    # --- rate limits (None = not enforced; headers still report nominal values) ---------
    rate_limit: int | None = knob(None, "account requests per window (nominal 700)")
    export_rate_limit: int | None = knob(None, "incremental export requests per window "
                                               "(nominal 10)")
    cursor_export_rate_limit: int | None = knob(None, "cursor user export requests per "
                                                      "window (nominal 20)")
    tickets_index_rate_limit: int | None = knob(None, "GET /tickets requests per window "
                                                      "(nominal 100)")
    user_upsert_rate_limit: int | None = knob(None, "POST /users/create_or_update requests "
                                                    "per second, no header (Zendesk: 1)")
    window_seconds: float = knob(60.0, "rate-limit window length in seconds")
    chaos_rate: float = knob(0.0, "share of API requests answered 429/500/503 at random")
    chaos_seed: int = knob(1, "seed of the chaos mode")

    # --- jobs ---------------------------------------------------------------------------
    job_delay: float = knob(0.3, "seconds from queued to completed; 0 completes at once")
    job_polls: int = knob(0, "if > 0, jobs advance per status poll instead of by time")
    max_jobs: int = knob(30, "queued/working jobs allowed before 429 TooManyJobs")
    job_retention: float = knob(86400.0, "seconds a job status stays readable")
    job_id_prefix: str = knob("", "job id prefix, e.g. 'V3-' as on newer accounts")

    # --- webhooks (webhooks.py) ---------------------------------------------------------
    webhook_repeat: int = knob(0, "send every webhook delivery this many extra times, byte "
                                  "for byte (same event id, invocation id and signature)")
    webhook_timeout: float = knob(12.0, "seconds to wait for a webhook endpoint to answer")

    # --- attachments and account definitions (tests/emulator/attachments.py, definitions.py)
    attachment_auth: bool = knob(False, "content_url downloads need the account's credentials "
                                        "(private attachments); off: the URL's token suffices")
    max_upload_bytes: int = knob(50 * 1024 * 1024, "largest file POST /uploads accepts; "
                                                   "larger ones get 413")
    definitions: str = knob("", "for a tickets=0 account: pre-create the custom fields, groups, "
                                "brands, forms and statuses a seeded account has, under this "
                                "account's own ids: all | some (about half) | '' (none)")

    # --- server -------------------------------------------------------------------------
    socket_timeout: float = knob(120.0, "idle keep-alive connections close after this")
    prewarm: bool = knob(True, "serialise big collections and sort export indexes at start")

    def __post_init__(self) -> None:
        if isinstance(self.disable, str):
            self.disable = tuple(p.strip() for p in self.disable.split(",") if p.strip())
        else:
            self.disable = tuple(self.disable)
        if self.role not in ("admin", "agent"):
            raise ValueError(f"role must be admin or agent, not {self.role!r}")
        if self.audits_style not in ("legacy", "cbp"):
            raise ValueError("audits_style must be legacy or cbp")
        if self.definitions not in ("", "all", "some"):
            raise ValueError("definitions must be all, some or ''")

    @property
    def nominal_rate_limit(self) -> int:
        """Limit the account headers report even when nothing is enforced."""
        return self.rate_limit or 700


_NOMINAL = {"export_rate_limit": 10, "cursor_export_rate_limit": 20,
            "tickets_index_rate_limit": 100}


def nominal(cfg: EmulatorConfig, name: str) -> int:
    """The total a Zendesk-RateLimit-* header shows for a bucket, enforced or not."""
    value = getattr(cfg, name)
    return value if value else _NOMINAL[name]


def _parse_optional_int(text: str) -> int | None:
    """Parse `none`/`off`/empty as None so limits can be switched off from the CLI."""
    return None if text.lower() in ("", "none", "off", "0") else int(text)


def build_arg_parser() -> argparse.ArgumentParser:
    """Derive one CLI flag per config field so new knobs need no extra CLI code."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator",
        description="Local Zendesk Support API emulator (one process = one account).",
    )
    for f in fields(EmulatorConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else None
        kind = str(f.type)
        text = f"{f.metadata.get('help', '')} (default: {default!r})"
        if kind == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                                help=text)
        elif kind == "int | None":
            parser.add_argument(flag, type=_parse_optional_int, default=default,
                                help=text + "; 'none' switches it off")
        elif kind in ("int", "float"):
            parser.add_argument(flag, type=int if kind == "int" else float, default=default,
                                help=text)
        elif kind.startswith("tuple"):
            parser.add_argument(flag, type=str, default="", help=f.metadata.get("help"))
        else:
            parser.add_argument(flag, type=str, default=default, help=text)
    return parser


def config_from_args(argv: list[str] | None = None) -> EmulatorConfig:
    """Build a config from command-line arguments."""
    ns = build_arg_parser().parse_args(argv)
    return EmulatorConfig(**vars(ns))


def config_from_kwargs(**knobs: object) -> EmulatorConfig:
    """Build a config from keyword arguments, rejecting unknown knobs early."""
    names = {f.name for f in fields(EmulatorConfig)}
    unknown = set(knobs) - names
    if unknown:
        raise TypeError(f"unknown emulator knob(s): {', '.join(sorted(unknown))}")
    return EmulatorConfig(**knobs)  # type: ignore[arg-type]


__all__ = ["EmulatorConfig", "build_arg_parser", "config_from_args", "config_from_kwargs",
           "nominal"]
