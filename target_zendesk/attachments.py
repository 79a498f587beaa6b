"""Comment attachments: download from the source account, upload to the destination, via disk.

zendesk_api.md 6.1: files are uploaded first (`POST /api/v2/uploads?filename=`, raw bytes and
their real Content-Type; `token=` adds a file to an earlier upload, so one token carries a
comment's files), then the comment lists the token in `uploads`. Each file goes through a
spool file: downloaded in chunks, uploaded from the file, deleted; no file is held in memory.

Downloads follow only `content_url`s on the configured source host (credentials go there and
nowhere else); a redirect to another host is followed only to hosts listed in
`source_attachment_hosts`, without credentials. Every upload is recorded in the journal at
once, so a rerun after a kill reuses its token instead of uploading the file again.
"""

from __future__ import annotations

import datetime
import html
import logging
import tempfile
import threading
import time
import typing as t
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tap_zendesk.api.auth import ZendeskAuth
from tap_zendesk.api.client import classify, decode_json, log_retry, make_session, retrying
from tap_zendesk.api.errors import AuthenticationError, FatalSyncError, ZendeskRequestError
from tap_zendesk.api.governor import RateLimitGovernor
from tap_zendesk.api.retry import RetryPolicy
from tap_zendesk.api.urls import UnsafeURLError, base_url, check_url, path_of

if t.TYPE_CHECKING:
    from tap_zendesk.api.client import ZendeskClient
    from target_zendesk.runtime import Runtime

#: Zendesk's per-file attachment limit (50 MB per its help centre; not in zendesk_api.md).
DEFAULT_MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
#: Upload tokens expire (60 minutes reported, zendesk_api.md 6.1); one from an earlier run is
#: reused only with this much life left, else the file is uploaded again.
TOKEN_LIFETIME = 3600.0
TOKEN_MARGIN = 600.0
CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 5
UPLOADS_PATH = "/api/v2/uploads"
STREAM = "attachments"
#: Settings that describe the source account.
SOURCE_SETTINGS = ("source_api_url", "source_subdomain", "source_email", "source_api_token")


class AttachmentError(Exception):
    """Raised for one file that cannot be moved; the file is rejected, the ticket still goes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AttachmentCredentialsError(FatalSyncError):
    """Raised when the source or destination refuses the credentials for files (401/403)."""


class _NoAuth:
    """Stands in for credentials when the source is read without any (public attachments)."""

    def confirm(self, response: requests.Response) -> None:
        """Nothing to confirm."""

    def recover_from_401(self, response: requests.Response) -> bool:
        """Nothing to refresh."""
        return False

    def describe(self) -> str:
        """Name the mode in error messages."""
        return "no credentials"

    def failure_hint(self) -> str:
        """Say how to send credentials."""
        return (
            "The source requires authentication for attachments: set `source_email` + "
            "`source_api_token` or `source_oauth_token`."
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add nothing."""
        return request


def source_config(config: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """Return the source account's connection settings; None without a source host."""
    out: dict[str, t.Any] = {}
    if config.get("source_api_url"):
        out["api_url"] = config["source_api_url"]
    elif config.get("source_subdomain"):
        out["subdomain"] = config["source_subdomain"]
    else:
        return None
    if config.get("source_oauth_token"):
        out["oauth_token"] = config["source_oauth_token"]
    elif config.get("source_api_token"):
        out["email"] = config.get("source_email") or ""
        out["api_token"] = config["source_api_token"]
    return out


def validate_source_settings(config: t.Mapping[str, t.Any]) -> list[str]:
    """List problems with the source settings, each with its fix."""
    errors: list[str] = []
    has_host = bool(config.get("source_api_url") or config.get("source_subdomain"))
    if config.get("source_api_token") and not config.get("source_email"):
        errors.append("`source_api_token` needs `source_email` (the token owner's address).")
    if config.get("source_email") and not config.get("source_api_token"):
        errors.append("`source_email` needs `source_api_token`.")
    creds = config.get("source_api_token") or config.get("source_oauth_token")
    if creds and not has_host:
        errors.append(
            "Source credentials are set but no source host: set `source_subdomain` (e.g. `acme`) "
            "or `source_api_url`; attachments are downloaded only from that host."
        )
    if has_host:
        try:
            cfg = source_config(config) or {}
            dest = base_url(config) if (config.get("api_url") or config.get("subdomain")) else ""
            if dest and base_url(cfg) == dest:
                errors.append(
                    "The source host is the destination host: set `source_subdomain` or "
                    "`source_api_url` to the account the attachments come from."
                )
        except (ValueError, KeyError) as exc:
            errors.append(f"Source settings: {exc}".replace("`api_url`", "`source_api_url`"))
    limit = config.get("max_attachment_bytes")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        errors.append("`max_attachment_bytes` must be a positive integer, e.g. 52428800 (50 MB).")
    workers = config.get("attachment_workers")
    if workers is not None and (not isinstance(workers, int) or not 1 <= workers <= 16):
        errors.append("`attachment_workers` must be an integer from 1 to 16.")
    return errors


@dataclass
class _Unit:
    """One comment's files: uploaded under one token, in order."""

    ticket_key: str
    external_id: str | None
    comment: dict[str, t.Any]
    files: list[dict[str, t.Any]]


@dataclass
class _Tally:
    """What one unit did, added to the run's counters."""

    uploaded: int = 0
    reused: int = 0
    rejected: int = 0
    bytes: int = 0
    tokens: list[str] = field(default_factory=list)


class AttachmentMover:
    """Moves the files of each ticket's comments before the ticket is imported."""

    def __init__(self, runtime: Runtime) -> None:
        config = runtime.config
        self.runtime = runtime
        self.logger: logging.Logger = runtime.logger.getChild("attachments")
        self.enabled = bool(config.get("copy_attachments", True))
        self.limit = int(config.get("max_attachment_bytes") or DEFAULT_MAX_ATTACHMENT_BYTES)
        self.workers = int(config.get("attachment_workers") or 4)
        self.dest: ZendeskClient = runtime.client
        self.source = _Source.from_config(config, self.logger)
        # Beside the journal, on disk (a temp directory may be memory-backed).
        journal = runtime.journal.path
        self.spool = (
            journal.parent / f"{journal.stem}.spool"
            if str(journal) != ":memory:"
            else Path(tempfile.gettempdir())
        )
        if self.spool.name.endswith(".spool"):
            for stale in self.spool.glob("*.part"):  # left by a killed run
                stale.unlink(missing_ok=True)
        self._warned = False
        self._lock = threading.Lock()

    @property
    def request_count(self) -> int:
        """Requests sent to the source account."""
        return self.source.request_count if self.source else 0

    # -- entry point -----------------------------------------------------------------------
    def prepare(
        self,
        threads: t.Mapping[str, list[dict[str, t.Any]]],
        external_ids: t.Mapping[str, str | None],
    ) -> None:
        """Upload the files of these tickets' comments; set each comment's `uploads`."""
        units = []
        counters = self.runtime.counters
        for ticket_key, comments in threads.items():
            for comment in comments:
                files = [
                    a
                    for a in comment.pop("attachments", None) or ()
                    if isinstance(a, dict) and not a.get("deleted")
                ]
                if files:
                    units.append(_Unit(ticket_key, external_ids.get(ticket_key), comment, files))
        if not units:
            return
        total = sum(len(u.files) for u in units)
        counters.add(STREAM, "read", total)
        if not self.enabled or self.source is None:
            self._skip(total)
            return
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.workers == 1 or len(units) == 1:
            tallies = [self._move(u) for u in units]
        else:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="attachments") as pool:
                tallies = list(pool.map(self._move, units))
        for name in ("uploaded", "reused", "bytes"):
            counters.add(STREAM, name, sum(getattr(x, name) for x in tallies))

    def _skip(self, count: int) -> None:
        """Files are not copied (setting off or no source account): counted and said once."""
        why = (
            "copy_attachments is off"
            if not self.enabled
            else "no source account is configured (set `source_subdomain` or `source_api_url`)"
        )
        counters = self.runtime.counters
        counters.add(STREAM, "skipped", count)
        counters.reason(STREAM, f"not copied: {why}", count)
        if not self._warned:
            self._warned = True
            self.logger.warning(
                "Comment attachments are not copied: %s. Tickets are imported without them.", why
            )

    # -- one comment -----------------------------------------------------------------------
    def _move(self, unit: _Unit) -> _Tally:
        """Upload a comment's files under one token (reusing what an earlier run uploaded)."""
        tally = _Tally()
        keys = [_key(unit.ticket_key, f) for f in unit.files]
        known = self.runtime.journal.uploads_get(keys)
        now = time.time()
        token: str | None = None
        moved: dict[str, str | None] = {}
        for att, key in zip(unit.files, keys, strict=True):
            row = known.get(key)
            if row is not None and row[3] - now > TOKEN_MARGIN:
                tally.reused += 1
                tally.tokens.append(row[0])
                token = token or row[0]
                moved[str(att.get("content_url"))] = row[2]
                continue
            try:
                token, dest_url, size = self._transfer(unit, att, key, token)
            except AttachmentError as exc:
                self._reject(unit, att, exc)
                tally.rejected += 1
                continue
            tally.uploaded += 1
            tally.bytes += size
            tally.tokens.append(token)
            moved[str(att.get("content_url"))] = dest_url
        if tally.tokens:
            unit.comment["uploads"] = list(dict.fromkeys(tally.tokens))
        _rewrite_inline(unit.comment, unit.files, moved)
        return tally

    def _transfer(
        self, unit: _Unit, att: dict[str, t.Any], key: str, token: str | None
    ) -> tuple[str, str | None, int]:
        """Download one file to the spool, upload it (joining `token`), journal it."""
        name = str(att.get("file_name") or "file")
        size = att.get("size")
        if isinstance(size, int) and size > self.limit:
            raise AttachmentError("TooLarge", self._too_large(name, size))
        url = att.get("content_url")
        if not isinstance(url, str) or not url:
            raise AttachmentError("MissingField", f"{name} has no `content_url` to download")
        source = self.source
        if source is None:  # prepare() skips the files then
            raise AttachmentError("NoSource", f"{name}: no source account is configured")
        path = self.spool / f"{uuid.uuid4().hex}.part"
        try:
            got = source.download(url, path, self.limit, name)
            reply = self._upload(path, name, str(att.get("content_type") or ""), token)
        finally:
            path.unlink(missing_ok=True)
        upload = reply.get("upload") if isinstance(reply.get("upload"), dict) else {}
        new_token = upload.get("token")
        if not isinstance(new_token, str) or not new_token:
            raise AttachmentError("NoToken", f"the upload of {name} answered without a token")
        dest = upload.get("attachment")
        if not isinstance(dest, dict):
            dest = (upload.get("attachments") or [{}])[-1]
        self.runtime.journal.upload_put(
            key,
            unit.ticket_key,
            new_token,
            dest.get("id") if isinstance(dest.get("id"), int) else None,
            dest.get("content_url"),
            got,
            _expiry(upload.get("expires_at")),
        )
        return new_token, dest.get("content_url"), got

    def _too_large(self, name: str, size: int) -> str:
        return (
            f"{name} is {size:,} bytes; the destination takes at most {self.limit:,} bytes per "
            "file (`max_attachment_bytes`, Zendesk's limit is 50 MB)"
        )

    def _upload(self, path: Path, name: str, content_type: str, token: str | None) -> dict:
        """`POST /api/v2/uploads?filename=[&token=]` streaming the file, with retries.

        Retried like a read: a resent upload can leave an unused one behind, which Zendesk
        deletes when its token expires; it cannot attach a file twice.
        """
        client = self.dest
        url = client.url(UPLOADS_PATH)
        params = {"filename": name, **({"token": token} if token else {})}
        headers = {"Content-Type": content_type or "application/binary"}

        def attempt() -> dict[str, t.Any]:
            client.governor.acquire(UPLOADS_PATH)
            with self._lock:
                client.request_count += 1
            with path.open("rb") as body:
                response = client.session.post(
                    url,
                    params=params,
                    data=body,
                    headers=headers,
                    auth=client.auth,
                    timeout=client.timeout,
                )
            client.governor.observe(response, UPLOADS_PATH)
            classify(response, host=client.base, auth=client.auth)
            return decode_json(response)

        send = retrying(
            attempt,
            client.policy,
            idempotent=True,
            on_backoff=lambda d: log_retry(self.logger, "Attachment upload", d),
        )
        try:
            return send()
        except AuthenticationError:
            raise
        except ZendeskRequestError as exc:
            if exc.status_code == 404 and token:  # the earlier upload's token is gone
                return self._upload(path, name, content_type, None)
            if exc.status_code == 403:
                raise AttachmentCredentialsError(
                    f"{exc}. The destination refused an upload: the credentials need an agent "
                    "or admin, and attachments must be enabled on the account."
                ) from None
            raise AttachmentError(
                "UploadRefused" if exc.status_code != 413 else "TooLarge", str(exc)
            ) from None

    def _reject(self, unit: _Unit, att: dict[str, t.Any], exc: AttachmentError) -> None:
        """One rejects line per file: ticket key, file name, size and why."""
        name = att.get("file_name") or "file"
        size = att.get("size")
        shown = f"{size:,} bytes" if isinstance(size, int) else "size unknown"
        self.runtime.reject(
            STREAM,
            f"{unit.ticket_key}/{name}",
            exc.code,
            f"ticket {unit.ticket_key}, file {name} ({shown}): {exc}; the ticket is imported "
            "without it",
            external_id=unit.external_id,
        )


class _Source:
    """The source account, for downloads only: its host, credentials, session and pacing."""

    def __init__(
        self,
        base: str,
        auth: t.Any,
        hosts: t.Iterable[str],
        logger: logging.Logger,
        policy: RetryPolicy,
        timeout: float,
    ) -> None:
        self.base = base
        self.host = urlsplit(base).hostname or ""
        self.auth = auth
        self.hosts = {h.strip().lower() for h in hosts if h and h.strip()}
        self.logger = logger
        self.policy = policy
        self.timeout = timeout
        self.session = make_session("target-zendesk")
        self.session.headers["Accept"] = "*/*"
        self.governor = RateLimitGovernor(logger=logger)
        self.request_count = 0
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any], logger: logging.Logger) -> _Source | None:
        """Build from the `source_*` settings; None without a source host."""
        cfg = source_config(config)
        if cfg is None:
            return None
        creds = "api_token" in cfg or "oauth_token" in cfg
        return cls(
            base_url(cfg),
            ZendeskAuth(cfg) if creds else _NoAuth(),
            config.get("source_attachment_hosts") or (),
            logger,
            RetryPolicy(max_retries=int(config.get("max_retries", 3))),
            float(config.get("request_timeout", 30)),
        )

    def download(self, url: str, path: Path, limit: int, name: str) -> int:
        """Stream `url` into `path` (retrying); return the bytes written."""
        try:
            check_url(url, self.base)
        except UnsafeURLError:
            raise AttachmentError(
                "UntrustedURL",
                f"{name}: its content_url is not on the source host {self.host}, so it is not "
                "downloaded (credentials are only ever sent to the source host)",
            ) from None
        send = retrying(
            lambda: self._attempt(url, path, limit, name),
            self.policy,
            idempotent=True,
            on_backoff=lambda d: log_retry(self.logger, "Attachment download", d),
        )
        try:
            return send()
        except AuthenticationError as exc:
            raise AttachmentCredentialsError(
                f"{exc} Attachments are downloaded from the source account: check "
                "`source_email` + `source_api_token` or `source_oauth_token`."
            ) from None
        except ZendeskRequestError as exc:
            raise AttachmentError("DownloadFailed", f"{name}: {exc}") from None

    def _attempt(self, url: str, path: Path, limit: int, name: str) -> int:
        """One download, following at most MAX_REDIRECTS redirects the rules allow."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            same = _same_host(current, self.base)
            where = path_of(current)
            if same:
                self.governor.acquire(where)
            with self._lock:
                self.request_count += 1
            response = self.session.get(
                current,
                auth=self.auth if same else None,
                stream=True,
                allow_redirects=False,
                timeout=self.timeout,
            )
            try:
                if response.is_redirect:
                    current = self._next_hop(current, response, name)
                    continue
                if same:
                    self.governor.observe(response, where)
                    classify(response, host=self.base, auth=self.auth)
                elif response.status_code >= 400:
                    classify(response, host=current, auth=_NoAuth())
                return _save(response, path, limit, name)
            finally:
                response.close()
        raise AttachmentError("TooManyRedirects", f"{name}: more than {MAX_REDIRECTS} redirects")

    def _next_hop(self, current: str, response: requests.Response, name: str) -> str:
        """Follow a redirect on the source host, or to a listed host (without credentials)."""
        target = urljoin(current, response.headers.get("Location", ""))
        parts = urlsplit(target)
        if _same_host(target, self.base):
            return target
        if parts.scheme == "https" and (parts.hostname or "").lower() in self.hosts:
            return target
        raise AttachmentError(
            "UntrustedRedirect",
            f"{name}: the source redirected the download to {parts.scheme}://{parts.hostname}, "
            "which is not the source host; list that host in `source_attachment_hosts` to "
            "allow it (it gets no credentials)",
        )


def _same_host(url: str, base: str) -> bool:
    try:
        check_url(url, base)
    except UnsafeURLError:
        return False
    return True


def _save(response: requests.Response, path: Path, limit: int, name: str) -> int:
    """Write a streamed body to disk in chunks; stop past `limit` bytes."""
    written = 0
    with path.open("wb") as out:
        for chunk in response.iter_content(CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                raise AttachmentError(
                    "TooLarge",
                    f"{name} is larger than {limit:,} bytes (`max_attachment_bytes`; Zendesk's "
                    "limit is 50 MB)",
                )
            out.write(chunk)
    return written


def _key(ticket_key: str, att: dict[str, t.Any]) -> str:
    """Return the journal key of a source file: its attachment id, else ticket and URL."""
    if att.get("id") is not None:
        return str(att["id"])
    return f"{ticket_key}:{att.get('content_url')}"


def _expiry(value: t.Any) -> float:
    """Epoch seconds of a token's `expires_at` (ISO 8601), else an hour from now."""
    if isinstance(value, str) and value:
        try:
            stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return stamp.timestamp()
        except ValueError:
            pass
    return time.time() + TOKEN_LIFETIME


def _rewrite_inline(
    comment: dict[str, t.Any], files: list[dict[str, t.Any]], moved: dict[str, str | None]
) -> None:
    """Point inline images of `html_body` at the destination's copies."""
    body = comment.get("html_body")
    if not isinstance(body, str):
        return
    for att in files:
        old = str(att.get("content_url"))
        new = moved.get(old)
        if new and att.get("inline"):
            body = body.replace(old, new).replace(html.escape(old), html.escape(new))
    comment["html_body"] = body
