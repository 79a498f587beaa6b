"""Continuous mode: keep polling the incremental exports after the normal sync.

Each poll starts at the stream's bookmark; verified webhooks make a poll come early; SIGTERM and
SIGINT stop cleanly after the current page.

Only the export streams repeat (full-table streams are read once per run). Each poll resumes at
the stream's own bookmark (`cursor` or `start_time`), so a poll emits only what changed and a
later run resumes from the final STATE with no gap. Polls of one stream are spaced so that the
selected exports fit Zendesk's export limit (zendesk_api.md 2.2: 10 requests/min shared by all
export streams, 20/min for the cursor user export); the process-wide governor still paces every
request, so a poll that needs several pages waits instead of meeting a 429.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import typing as t
from collections import Counter
from decimal import Decimal

import requests
from singer_sdk import typing as th
from singer_sdk.exceptions import RetriableAPIError

from tap_zendesk.api.governor import EXPORTS, EXPORTS_CURSOR, buckets_for
from tap_zendesk.client import ExportStream
from tap_zendesk.webhooks import DeliveryVerifier, WebhookListener

if t.TYPE_CHECKING:
    from types import FrameType

    from tap_zendesk.tap import TapZendesk

#: Zendesk's export limit per minute without the High Volume add-on (zendesk_api.md 2.2).
DEFAULT_EXPORT_LIMIT = 10
#: The cursor user export has its own bucket, twice the export limit (20/min; 60 with HV).
CURSOR_USERS_FACTOR = 2
#: Zendesk holds back the last minute of changes (4.4): a webhook-triggered poll waits this long.
DEFAULT_WEBHOOK_POLL_DELAY = 65.0
#: Longest pause between two checks of the stop flag while idle.
IDLE_SLICE = 0.5
#: While idle, STATE goes out at least this often: a target checks its batch age on messages.
HEARTBEAT_SECONDS = 5.0

CONTINUOUS_PROPERTIES = th.PropertiesList(
    th.Property(
        "poll_interval_seconds",
        th.NumberType,
        description=(
            "Continuous mode: after the normal sync, keep running and poll the incremental "
            "exports from their bookmarks every this many seconds (e.g. 60), emitting new "
            "records and STATE; SIGTERM or SIGINT ends the run cleanly after the current page. "
            "Unset: one sync, then exit. An interval too short for Zendesk's export limit "
            "(10 requests/min shared by the selected exports, or `export_rate_limit`) is raised "
            "to the shortest one that fits, with a warning."
        ),
    ),
    th.Property(
        "webhook_listen_port",
        th.IntegerType,
        description=(
            "Continuous mode: port of a listener for Zendesk webhook deliveries (needs "
            "`webhook_signing_secret`). A verified event for a ticket, user or organization "
            "polls the matching export early; the export stays the source of truth. Unset: no "
            "listener; 0 picks a free port (logged)."
        ),
    ),
    th.Property(
        "webhook_listen_host",
        th.StringType,
        default="127.0.0.1",
        description=(
            "Address the webhook listener binds to. Loopback by default: put a TLS-terminating "
            "proxy in front of it for Zendesk to reach it, or use e.g. `0.0.0.0`."
        ),
    ),
    th.Property(
        "webhook_signing_secret",
        th.StringType,
        secret=True,
        description=(
            "The webhook's signing secret (`GET /api/v2/webhooks/{id}/signing_secret`, or "
            "`python -m tap_zendesk.webhook_setup`), used as given. Deliveries whose "
            "`X-Zendesk-Webhook-Signature` does not match are rejected with 401."
        ),
    ),
    th.Property(
        "webhook_max_age_seconds",
        th.NumberType,
        default=300,
        description=(
            "Deliveries whose signature timestamp is further than this from now (replays) are "
            "rejected with 401."
        ),
    ),
    th.Property(
        "webhook_poll_delay_seconds",
        th.NumberType,
        default=DEFAULT_WEBHOOK_POLL_DELAY,
        description=(
            "Seconds from a webhook to the poll it triggers. Zendesk's exports leave out the "
            "most recent minute of changes, so polling at once would find nothing."
        ),
    ),
)


def poll_interval(config: t.Mapping[str, t.Any]) -> float | None:
    """Return the configured poll interval, None when continuous mode is off."""
    value = config.get("poll_interval_seconds")
    return None if value is None else float(value)


def _number(value: t.Any) -> float | None:
    """Return a JSON number as float (config files may yield Decimal); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return float(value)


def config_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Rules the JSON schema cannot express, each with its fix."""
    errors: list[str] = []
    interval = config.get("poll_interval_seconds")
    seconds = _number(interval)
    if interval is not None and (seconds is None or seconds <= 0):
        errors.append(
            "`poll_interval_seconds` must be a positive number of seconds (e.g. 60), or unset "
            "to sync once and exit."
        )
    port = config.get("webhook_listen_port")
    secret = config.get("webhook_signing_secret")
    if port is not None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            errors.append("`webhook_listen_port` must be a port number from 0 to 65535.")
        if interval is None:
            errors.append(
                "`webhook_listen_port` needs continuous mode: set `poll_interval_seconds` too."
            )
        if not secret:
            errors.append(
                "`webhook_listen_port` needs `webhook_signing_secret` (read it with `python -m "
                "tap_zendesk.webhook_setup --config ... --show-secret <webhook id>`)."
            )
    elif secret:
        errors.append("`webhook_signing_secret` is set but `webhook_listen_port` is not.")
    for key in ("webhook_max_age_seconds", "webhook_poll_delay_seconds"):
        value = config.get(key)
        if value is not None and (_number(value) is None or float(value) < 0):
            errors.append(f"`{key}` must be a number of seconds, 0 or more.")
    return errors


def min_interval(paths: t.Iterable[str], export_limit: int | None) -> float:
    """Shortest spacing of one stream's polls that keeps every export bucket in its limit.

    With n streams in a bucket of L requests per minute, each stream may poll floor(L / n)
    times in any minute, once every 60 / floor(L / n) seconds; with more streams than the
    limit, each polls once every ceil(n / L) minutes.
    """
    limit = export_limit or DEFAULT_EXPORT_LIMIT
    limits = {EXPORTS: limit, EXPORTS_CURSOR: CURSOR_USERS_FACTOR * limit}
    counts = Counter(b for path in paths for b in buckets_for(path) if b in limits)
    gap = 0.0
    for bucket, n in counts.items():
        per_minute = limits[bucket] // n
        gap = max(gap, 60.0 / per_minute if per_minute else 60.0 * math.ceil(n / limits[bucket]))
    return gap


class StopAfterPage(BaseException):
    """Raised after a page's STATE once a stop was asked; the SDK unwinds without error logs."""

    def __init__(self, stream: ExportStream) -> None:
        super().__init__(stream.name)
        self.stream = stream


class ContinuousSync:
    """The poll loop, the webhook listener and the signal handling of one tap run."""

    def __init__(self, tap: TapZendesk, *, clock: t.Callable[[], float] = time.monotonic) -> None:
        self.tap = tap
        self.logger = tap.logger
        config = tap.config
        self.interval = float(config["poll_interval_seconds"])
        self.webhook_delay = float(
            config.get("webhook_poll_delay_seconds", DEFAULT_WEBHOOK_POLL_DELAY)
        )
        self._clock = clock
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._wanted: dict[str, float] = {}
        self.gap = 0.0
        #: Polls per stream after the initial sync; cycles: polls of the least polled stream.
        self.polls: Counter[str] = Counter()
        self.cycles = 0
        self._progress = threading.Condition()
        #: Set once the initial sync is done and polling starts; set when the run is over.
        self.polling = threading.Event()
        self.stopped = threading.Event()
        self.listener: WebhookListener | None = None
        self._signals = 0
        self._saved_handlers: dict[int, t.Any] = {}

    # -- control, from any thread -----------------------------------------------------------
    def request_stop(self) -> None:
        """Finish the current page, write the final STATE and return from the run."""
        self._stop.set()
        self._wake.set()

    def nudge(self, streams: t.Iterable[str], why: str = "request") -> None:
        """Poll these streams early, after the export hold-back and within the budget."""
        now = self._clock()
        hit = []
        with self._lock:
            for name in streams:
                if self.polling.is_set() and name not in self._due:
                    continue  # not selected
                at = max(now + self.webhook_delay, self._last.get(name, now) + self.gap)
                self._wanted[name] = max(self._wanted.get(name, 0.0), at)
                if name in self._due and at < self._due[name]:
                    self._due[name] = at
                hit.append(name)
        if hit:
            self.logger.info("Polling %s early (%s).", ", ".join(hit), why)
            self._wake.set()

    def wait_for_cycles(self, count: int, timeout: float) -> bool:
        """Block until `count` poll cycles are done or the run ended (for callers and tests)."""
        with self._progress:
            return self._progress.wait_for(
                lambda: self.cycles >= count or self.stopped.is_set(), timeout
            )

    # -- the run ----------------------------------------------------------------------------
    def export_streams(self) -> list[ExportStream]:
        """Return the selected top-level export streams in sync order (children follow)."""
        return [
            s
            for s in self.tap.streams.values()
            if isinstance(s, ExportStream)
            and s.parent_stream_type is None
            and (s.selected or s.has_selected_descendents)
        ]

    def run(self, initial_sync: t.Callable[[], None]) -> None:
        """Run the normal sync, then poll until stopped; always write the last STATE."""
        streams = self.export_streams()
        for stream in streams:
            stream.page_hook = self._after_page
        self._install_signal_handlers()
        try:
            self._start_listener()
            try:
                initial_sync()
                if not self._stop.is_set():
                    self._loop(streams)
            except StopAfterPage as stop:
                stop.stream.finalize_state_progress_markers()
            self.tap.state_writer.write_state(self.tap.state)
            self.logger.info("Continuous mode stopped; the last STATE resumes the next run.")
        finally:
            if self.listener is not None:
                self.listener.stop()
            self._restore_signal_handlers()
            for stream in streams:
                stream.page_hook = None
            with self._progress:
                self.stopped.set()
                self._progress.notify_all()

    def _loop(self, streams: list[ExportStream]) -> None:
        """Poll every due stream, write a heartbeat STATE per cycle, idle until the next."""
        if not streams:
            self.logger.warning("Continuous mode: no incremental export is selected; stopping.")
            return
        self.gap = min_interval((s.path for s in streams), self.tap.config.get("export_rate_limit"))
        interval = self.interval
        if interval < self.gap:
            self.logger.warning(
                "poll_interval_seconds=%s is too short for %d export streams in Zendesk's "
                "export limit; polling every %.1f s instead.",
                self.interval,
                len(streams),
                self.gap,
            )
            interval = self.gap
        now = self._clock()
        with self._lock:
            for stream in streams:
                self._last[stream.name] = now
                due = now + interval
                wanted = self._wanted.get(stream.name)  # a webhook during the initial sync
                if wanted is not None:
                    due = min(due, max(wanted, now + self.gap))
                self._due[stream.name] = due
        self.logger.info(
            "Continuous mode: polling %s every %.1f s.",
            ", ".join(s.name for s in streams),
            interval,
        )
        self.polling.set()
        heartbeat = self._clock()
        while not self._stop.is_set():
            self._wake.clear()
            now = self._clock()
            with self._lock:
                ready = [s for s in streams if self._due[s.name] <= now]
            for stream in ready:
                if self._stop.is_set():
                    break
                self._poll(stream, interval)
            if ready or self._clock() - heartbeat >= HEARTBEAT_SECONDS:
                self.tap.state_writer.write_state(self.tap.state)  # heartbeat for the target
                heartbeat = self._clock()
            if ready:
                with self._progress:  # a cycle: every stream polled once more
                    self.cycles = min(self.polls[s.name] for s in streams)
                    self._progress.notify_all()
            with self._lock:
                next_due = min(self._due[s.name] for s in streams)
            pause = min(next_due, heartbeat + HEARTBEAT_SECONDS) - self._clock()
            if pause > 0:
                self._wake.wait(min(pause, IDLE_SLICE))

    def _poll(self, stream: ExportStream, interval: float) -> None:
        """One sync of one stream from its bookmark; a transient outage waits one interval."""
        started = self._clock()
        with self._lock:
            self._last[stream.name] = started
            self._due[stream.name] = started + interval
        stream.reset_run()
        self.polls[stream.name] += 1
        try:
            stream.sync()
        except (RetriableAPIError, requests.RequestException) as exc:  # retries used up
            self.logger.warning(
                "%s: poll failed (%s); next try in %.1f s.", stream.name, exc, interval
            )
        stream.finalize_state_progress_markers()
        with self._lock:
            wanted = self._wanted.pop(stream.name, 0.0)
            if wanted > started:  # a hint arrived for a change this poll may have missed
                self._due[stream.name] = min(
                    self._due[stream.name], max(wanted, started + self.gap)
                )
                self._wanted[stream.name] = wanted

    def _after_page(self, stream: ExportStream) -> None:
        """Stop here if asked: the page and its STATE are out, the one safe place mid-stream."""
        if self._stop.is_set():
            raise StopAfterPage(stream)

    # -- webhooks ---------------------------------------------------------------------------
    def _start_listener(self) -> None:
        """Start the listener when a port is configured."""
        config = self.tap.config
        port = config.get("webhook_listen_port")
        if port is None:
            return
        verifier = DeliveryVerifier(
            config["webhook_signing_secret"],
            max_age=float(config.get("webhook_max_age_seconds", 300)),
        )
        self.listener = WebhookListener(
            config.get("webhook_listen_host") or "127.0.0.1",
            int(port),
            verifier,
            self.nudge,
            self.logger,
        ).start()

    # -- signals ----------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        """Stop after the current page on SIGTERM/SIGINT; a second signal runs the SDK's.

        The SDK's own handler writes STATE and exits at once, possibly in the middle of a page.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._saved_handlers[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        """Give the handlers back (in-process callers run more than one tap)."""
        for sig, handler in self._saved_handlers.items():
            signal.signal(sig, handler)
        self._saved_handlers.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Ask the loop to stop; a second signal falls back to the SDK's immediate exit."""
        self._signals += 1
        if self._signals == 1:
            self.logger.info(
                "Received %s: finishing the current page, then writing the final STATE.",
                signal.Signals(signum).name,
            )
            self.request_stop()
            return
        previous = self._saved_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)
        raise SystemExit(0)
