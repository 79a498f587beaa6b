"""Every emulator knob in one dataclass, so the CLI and the Python API cannot drift apart."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, fields


@dataclass
class EmulatorConfig:
    """Knobs of one emulated Zendesk account; each field is also a `--kebab-case` CLI flag."""

    # --- account data -------------------------------------------------------------------
    tickets: int = 2000
    seed: int = 7
    anchor: str = "2026-01-01T00:00:00Z"
    burst: int | None = None
    port: int = 0
    subdomain: str = "demo"

    # --- auth and plan ------------------------------------------------------------------
    email: str = "demo@example.com"
    api_token: str = "demo"
    oauth_token: str = "demo-oauth"
    role: str = "admin"  # admin | agent
    disable: tuple[str, ...] = ()  # stream families answering 403/404 (plan gating)
    disabled_status: int = 403  # 403 (shape B) or 404 for disabled families

    # --- incremental exports ------------------------------------------------------------
    hold_back: int = 60  # hide export items newer than now - hold_back seconds
    start_time_min_age: int = 60  # start_time newer than now - this -> 422 InvalidValue
    stall_same_second: bool = False  # reproduce the same-second stall instead of grouping
    cursor_null_on_empty: bool = True  # empty cursor-export page -> after_cursor null (recorded)
    export_max_per_page: int = 1000

    # --- lists --------------------------------------------------------------------------
    audits_style: str = "legacy"  # /ticket_audits page[size] reply: legacy | cbp (recorded)
    cbp_max_size: int = 100
    offset_max_page: int = 100  # deeper offset pages -> 400 InvalidPaginationDepth
    csat_time_field: str = "updated_at"  # field the satisfaction_ratings start/end filter uses

    # --- rate limits (None = not enforced; headers still report the nominal value) -------
    rate_limit: int | None = None
    export_rate_limit: int | None = None
    cursor_export_rate_limit: int | None = None
    tickets_index_rate_limit: int | None = None
    window_seconds: float = 60.0
    chaos_rate: float = 0.0  # share of API requests answered 429/500/503 at random
    chaos_seed: int = 1

    # --- jobs ---------------------------------------------------------------------------
    job_delay: float = 0.3  # seconds from queued to completed; 0 completes at once
    job_polls: int = 0  # >0: advance jobs per status poll instead of by time (deterministic)
    max_jobs: int = 30
    job_retention: float = 86400.0
    job_id_prefix: str = ""  # e.g. "V3-" as seen on newer accounts

    # --- server -------------------------------------------------------------------------
    socket_timeout: float = 120.0  # idle keep-alive connections are dropped after this
    prewarm: bool = True  # serialise tickets/users/orgs and sort export indexes at start

    def __post_init__(self) -> None:
        if isinstance(self.disable, str):
            self.disable = tuple(p.strip() for p in self.disable.split(",") if p.strip())
        else:
            self.disable = tuple(self.disable)
        if self.role not in ("admin", "agent"):
            raise ValueError(f"role must be admin or agent, not {self.role!r}")
        if self.audits_style not in ("legacy", "cbp"):
            raise ValueError("audits_style must be legacy or cbp")

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
        if kind == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif kind == "int | None":
            parser.add_argument(flag, type=_parse_optional_int, default=default)
        elif kind == "int":
            parser.add_argument(flag, type=int, default=default)
        elif kind == "float":
            parser.add_argument(flag, type=float, default=default)
        elif kind.startswith("tuple"):
            parser.add_argument(flag, type=str, default="",
                                help="comma-separated list")
        else:
            parser.add_argument(flag, type=str, default=default)
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
