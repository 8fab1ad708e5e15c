"""The outbox delivery worker: fans each event out to the merchant's subscribed endpoints and POSTs it, signed as
``webhooks/SPEC.md`` specifies, retrying on the SPEC's schedule until a 2xx, a 410 or the last retry.

Two ways to drive it, on the same code path:

* ``DeliveryWorker.run_due(now)`` delivers everything due at ``now`` and returns the number of attempts made.
  Tests and the test-clock engine step it with their own clock, so 4 days of retries take a few calls.
* ``start()`` / ``stop()`` run a background thread that wakes on :meth:`DeliveryWorker.notify` (the API calls it
  after a request that wrote events; wake-ups within 10 ms share one round) and otherwise polls every
  ``poll_interval`` seconds.

Fan-out reads a queue of new events (``delivery_pending``, fed by a trigger on ``events`` only while the event's
merchant has an enabled endpoint), never the outbox itself, so a round with nothing to do is two indexed reads.

Several workers (threads or processes) may share one database: an attempt is claimed with a conditional UPDATE
of the delivery's lease, so two workers never send the same attempt. Delivery is at least once: a worker that
dies mid-attempt leaves a lease that expires after ``timeout + 30 s``, and the attempt is then made again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import random
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bnpl.sandbox.db import Database, Row, Transaction
from bnpl.sandbox.delivery_schema import ensure_delivery_schema
from bnpl.sandbox.service._common import to_us
from bnpl.webhooks import Webhook, encrypt_fields
from bnpl.webhooks.keys import ENCRYPTION_KEY_PREFIX, decode_secret

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENCRYPTION_KEY_INFO",
    "MAX_ATTEMPTS",
    "RETRY_SCHEDULE",
    "AttemptResult",
    "DeliveryWorker",
    "encryption_key_for",
    "is_subscribed",
    "retry_delay",
    "webhook_id_for",
]

_log = logging.getLogger("bnpl.sandbox.delivery")

RETRY_SCHEDULE: Final[tuple[int, ...]] = (
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
)
"""Seconds between attempt ``n`` and ``n + 1`` (SPEC §4), before jitter."""
MAX_ATTEMPTS: Final = len(RETRY_SCHEDULE) + 1
"""The first attempt plus one per retry; a delivery that fails this many times is ``abandoned``."""
DEFAULT_TIMEOUT: Final = 15.0
ENCRYPTION_KEY_INFO: Final = b"bnpl-webhook-encryption"
_LEASE_MARGIN_S: Final = 30.0
_FANOUT_BATCH: Final = 500
# The oldest queued events, removed as they are read (one statement: a second worker cannot read them too).
_TAKE_SQLITE: Final = (
    "DELETE FROM delivery_pending WHERE event_pk IN "
    "(SELECT event_pk FROM delivery_pending ORDER BY event_pk LIMIT ?) RETURNING event_pk"
)
_TAKE_PG: Final = (
    "DELETE FROM delivery_pending WHERE event_pk IN "
    "(SELECT event_pk FROM delivery_pending ORDER BY event_pk LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING event_pk"
)
_COALESCE_S: Final = 0.01  # after a wake-up, wait this long so notifications arriving meanwhile share the round
_ERROR_MAX: Final = 500

Outcome = Literal["succeeded", "retrying", "abandoned", "failed"]


def retry_delay(attempts_made: int, *, jitter: float = 0.2, rng: random.Random | None = None) -> float | None:
    """Seconds to wait after ``attempts_made`` failed attempts, with ``±jitter`` (a fraction); ``None`` when the
    schedule is exhausted (the delivery is abandoned)."""
    if isinstance(attempts_made, bool) or not isinstance(attempts_made, int) or attempts_made < 1:
        raise ValueError(f"attempts_made must be an integer >= 1, got {attempts_made!r}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be a fraction in [0, 1), got {jitter!r}")
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_SCHEDULE[attempts_made - 1]
    if jitter == 0:
        return float(base)
    return base * (1 + (rng or random).uniform(-jitter, jitter))


def encryption_key_for(secret: str) -> str:
    """The endpoint's ``whenc_`` field-encryption key, derived from its current ``whsec_`` signing secret.

    HKDF-SHA256 (RFC 5869): input key material = the secret's bytes (the base64-decoded part after ``whsec_``,
    as for signing), no salt, ``info = b"bnpl-webhook-encryption"``, 32 bytes of output, written
    ``"whenc_" + base64(key)``. A merchant computes the same key from the secret it was given.
    """
    raw = decode_secret(secret)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=ENCRYPTION_KEY_INFO).derive(raw)
    return ENCRYPTION_KEY_PREFIX + base64.b64encode(key).decode("ascii")


def webhook_id_for(event_id: str, endpoint_id: str) -> str:
    """The ``webhook-id`` of an event's delivery to one endpoint: the same on every retry and redelivery."""
    digest = hashlib.sha256(f"{event_id}:{endpoint_id}".encode()).hexdigest()
    return "msg_" + digest[:32]


def is_subscribed(enabled_events: str, event_type: str) -> bool:
    """True when an endpoint's ``enabled_events`` JSON lists ``event_type`` or ``"*"``."""
    try:
        types = json.loads(enabled_events)
    except ValueError:
        return False
    return isinstance(types, list) and ("*" in types or event_type in types)


@dataclass(frozen=True, slots=True)
class _Job:
    """One claimed attempt: everything needed to send it without the database."""

    delivery_pk: int
    lease_token: str
    attempt: int
    merchant_id: str
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    body: bytes
    signing_secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt did: ``outcome`` is ``succeeded``, ``retrying``, ``abandoned`` or ``failed`` (410)."""

    event_id: str
    endpoint_id: str
    attempt: int
    outcome: Outcome
    status_code: int | None
    error: str | None
    duration_us: int
    next_attempt_at: datetime | None


class DeliveryWorker:
    """Delivers the outbox of ``db`` to webhook endpoints.

    ``now`` (a callable returning an aware datetime) drives the schedule: when attempts are due, the backoff
    and the lease. ``signing_clock`` (Unix seconds, default :func:`time.time`) stamps ``webhook-timestamp``:
    receivers check it against their real clock, so it stays real even when a test clock drives ``now``.
    ``timeout`` bounds each phase of a request (connect, write, read); ``concurrency`` is how many attempts are
    sent at once; ``jitter`` is the ± fraction applied to the schedule (0 makes it exact); ``rng`` makes the
    jitter reproducible.

    Usage: ``run_due(now)`` to step deterministically, or ``start()`` / ``notify()`` / ``stop()`` (also a
    context manager) for the running service. Call :meth:`close` (or ``stop``) to release the HTTP pool.
    """

    def __init__(
        self,
        db: Database,
        *,
        now: Callable[[], datetime] | None = None,
        signing_clock: Callable[[], float] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        poll_interval: float = 0.5,
        concurrency: int = 8,
        batch_size: int = 100,
        jitter: float = 0.2,
        rng: random.Random | None = None,
        user_agent: str | None = None,
    ) -> None:
        if not isinstance(db, Database):
            raise TypeError("db must be a bnpl.sandbox.db.Database (run migrate(db) first)")
        for name, value in (("timeout", timeout), ("poll_interval", poll_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        for name, count in (("concurrency", concurrency), ("batch_size", batch_size)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"{name} must be a positive integer, got {count!r}")
        if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0 <= jitter < 1:
            raise ValueError(f"jitter must be a fraction in [0, 1), got {jitter!r}")
        if now is not None and not callable(now):
            raise TypeError("now must be a callable returning an aware datetime")
        self.db = db
        self._now = now or (lambda: datetime.now(UTC))
        self._signing_clock = signing_clock or time.time
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.jitter = float(jitter)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        if user_agent is None:
            from bnpl import __version__

            user_agent = f"bnpl-sandbox/{__version__}"
        self.user_agent = user_agent
        # The HTTP pool and sending threads start with the first attempt, over one SSL context per process
        # (building one costs ~40 ms, and the test-clock engine makes a worker per advance).
        self._http: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._senders_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()  # one run_due at a time per worker object; other workers may race
        # The sending threads record results one at a time: on SQLite, concurrent writers would otherwise meet
        # in the busy handler, which backs off by sleeping (5x slower under load).
        self._write_lock = threading.Lock()
        ensure_delivery_schema(db)

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "idle"
        return f"DeliveryWorker({self.db!r}, {state}, timeout={self.timeout}, concurrency={self.concurrency})"

    # --- stepping -------------------------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> int:
        """Fan out new events, then make every attempt due at ``now`` (default ``now()``); return how many.

        Attempts whose retry falls after ``now`` are left for a later call. Raises ``ValueError`` for a naive
        ``now``.
        """
        when = self._checked(now if now is not None else self._now())
        with self._run_lock:
            self.fan_out(when)
            made = 0
            while True:
                jobs = self._claim(when)
                if not jobs:
                    return made
                _, pool = self._senders()
                for result in pool.map(lambda job: self._attempt(job, when), jobs):
                    made += 1
                    _log.debug(
                        "delivery %s -> %s attempt %d: %s",
                        result.event_id,
                        result.endpoint_id,
                        result.attempt,
                        result.outcome,
                    )

    def fan_out(self, now: datetime | None = None) -> int:
        """Create a pending delivery for each queued event and each endpoint subscribed to it now (same
        merchant, enabled, not deleted, ``enabled_events`` lists the type or ``"*"``); return how many were created.

        Events are queued in ``delivery_pending`` by a trigger in the transaction that writes them (only while
        their merchant has an enabled endpoint, see :mod:`bnpl.sandbox.delivery_schema`). Taking them off the
        queue and inserting their deliveries is one transaction, so each event is fanned out exactly once even
        with several workers, and a worker that dies midway leaves the events queued.
        """
        when = self._checked(now if now is not None else self._now())
        now_us = to_us(when)
        created = 0
        while True:
            # Look first without the write lock: most rounds find the queue empty, and SQLite writers queue.
            if self.db.read_one("SELECT 1 FROM delivery_pending LIMIT 1") is None:
                return created
            with self.db.transaction() as tx:
                taken = [int(r["event_pk"]) for r in tx.fetchall(self._take_sql, (_FANOUT_BATCH,))]
                if not taken:
                    return created  # another worker took them
                marks = ",".join("?" * len(taken))  # placeholders only; the values are bound parameters
                events = tx.fetchall(
                    "SELECT pk, id, merchant_id, type FROM events WHERE pk IN (" + marks + ") ORDER BY pk",  # noqa: S608
                    taken,
                )
                merchants = sorted({str(e["merchant_id"]) for e in events})
                marks = ",".join("?" * len(merchants))
                endpoints = (
                    tx.fetchall(
                        "SELECT id, merchant_id, enabled_events FROM webhook_endpoints WHERE status = 'enabled' "  # noqa: S608
                        "AND deleted_at IS NULL AND merchant_id IN (" + marks + ") ORDER BY pk",
                        merchants,
                    )
                    if merchants
                    else []
                )
                for event in events:
                    for endpoint in endpoints:
                        if endpoint["merchant_id"] == event["merchant_id"] and is_subscribed(
                            endpoint["enabled_events"], event["type"]
                        ):
                            created += tx.execute(
                                "INSERT INTO deliveries (event_id, endpoint_id, next_attempt_at, created) "
                                "VALUES (?,?,?,?) ON CONFLICT (event_id, endpoint_id) DO NOTHING",
                                (event["id"], endpoint["id"], now_us, now_us),
                            )
            if len(taken) < _FANOUT_BATCH:
                return created

    @property
    def _take_sql(self) -> str:
        # PostgreSQL: SKIP LOCKED lets a second process take the next rows instead of waiting for the first's.
        return _TAKE_PG if self.db.dialect == "postgres" else _TAKE_SQLITE

    # --- background mode ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread until :meth:`stop`; idempotent."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="bnpl-delivery", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Wake the background thread now (call after committing events); cheap and thread-safe."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background thread (waiting for in-flight attempts) and close the HTTP pool."""
        thread, self._thread = self._thread, None
        self._stopping.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout)
        self.close()

    def close(self) -> None:
        """Release the HTTP connection pool and the sending threads (a later attempt starts new ones)."""
        with self._senders_lock:
            pool, self._pool = self._pool, None
            http, self._http = self._http, None
        if pool is not None:
            pool.shutdown(wait=True)
        if http is not None:
            http.close()

    def _senders(self) -> tuple[httpx.Client, ThreadPoolExecutor]:
        with self._senders_lock:
            if self._http is None or self._pool is None:
                size = max(self.concurrency, 4)
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.timeout),
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                    follow_redirects=False,  # a redirect is not an acknowledgement (SPEC §4: only 2xx)
                    trust_env=False,  # proxy variables must not reroute deliveries to 127.0.0.1 receivers
                    verify=_ssl_context(),
                )
                self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="bnpl-delivery-send")
            return self._http, self._pool

    def __enter__(self) -> DeliveryWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception:
                # A locked or briefly unreachable database must not kill the worker; try again next tick.
                _log.exception("delivery round failed; retrying in %.1fs", self.poll_interval)
            if self._wake.wait(self.poll_interval):
                # Coalesce: the notifications of a burst of requests become one round, not one round each.
                self._stopping.wait(_COALESCE_S)

    # --- claiming and sending -------------------------------------------------------------------------------

    @staticmethod
    def _checked(when: datetime) -> datetime:
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime (e.g. datetime.now(UTC))")
        return when.astimezone(UTC)

    def _claim(self, when: datetime) -> list[_Job]:
        """Take the lease of up to ``batch_size`` due deliveries; return them ready to send."""
        now_us = to_us(when)
        lease_until = to_us(when + timedelta(seconds=self.timeout * 3 + _LEASE_MARGIN_S))
        jobs: list[_Job] = []
        if (
            self.db.read_one(
                "SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND "
                "(lease_until IS NULL OR lease_until <= ?) LIMIT 1",
                (now_us, now_us),
            )
            is None
        ):
            return jobs  # nothing due: no write lock taken
        with self.db.transaction() as tx:
            due = tx.fetchall(
                "SELECT pk FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND "
                "(lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, pk LIMIT ?",
                (now_us, now_us, self.batch_size),
            )
            for candidate in due:
                token = secrets.token_hex(8)
                # The conditional UPDATE is the claim: under concurrency exactly one worker's matches the row.
                row = tx.fetchone(
                    "UPDATE deliveries SET lease_token = ?, lease_until = ?, attempt = attempt + 1 WHERE pk = ? "
                    "AND status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
                    "RETURNING pk, attempt, event_id, endpoint_id",
                    (token, lease_until, candidate["pk"], now_us, now_us),
                )
                if row is None:
                    continue
                job = self._job(tx, row, token, now_us)
                if job is not None:
                    jobs.append(job)
        return jobs

    def _job(self, tx: Transaction, row: Row, token: str, now_us: int) -> _Job | None:
        event = tx.fetchone("SELECT merchant_id, type, payload FROM events WHERE id = ?", (row["event_id"],))
        endpoint = tx.fetchone(
            "SELECT merchant_id, url, secret, previous_secret, previous_secret_expires_at, encrypt_pii, status, "
            "deleted_at FROM webhook_endpoints WHERE id = ?",
            (row["endpoint_id"],),
        )
        if (
            event is None
            or endpoint is None
            or endpoint["status"] != "enabled"
            or endpoint["deleted_at"] is not None
            or endpoint["merchant_id"] != event["merchant_id"]
        ):
            # The endpoint was disabled or deleted after fan-out: nothing to send, ever.
            tx.execute(
                "UPDATE deliveries SET status = 'failed', error = ?, lease_token = NULL, lease_until = NULL, "
                "attempt = attempt - 1 WHERE pk = ?",
                ("endpoint disabled or deleted", row["pk"]),
            )
            return None
        secret = str(endpoint["secret"])
        signing = [secret]
        previous, expires = endpoint["previous_secret"], endpoint["previous_secret_expires_at"]
        if previous and expires is not None and int(expires) > now_us:
            signing.append(str(previous))  # rotation: both signatures until the old secret expires
        payload = str(event["payload"])
        if endpoint["encrypt_pii"]:
            sealed = encrypt_fields(json.loads(payload), encryption_key_for(secret))
            body = json.dumps(sealed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        else:
            body = payload.encode("utf-8")  # the stored bytes exactly
        return _Job(
            delivery_pk=int(row["pk"]),
            lease_token=token,
            attempt=int(row["attempt"]),
            merchant_id=str(event["merchant_id"]),
            event_id=str(row["event_id"]),
            event_type=str(event["type"]),
            endpoint_id=str(row["endpoint_id"]),
            url=str(endpoint["url"]),
            body=body,
            signing_secrets=tuple(signing),
        )

    def _send(self, job: _Job) -> tuple[int | None, str | None, int]:
        """POST one attempt; return (status code or None, error or None, duration in µs)."""
        headers = Webhook(secrets=job.signing_secrets).sign(
            webhook_id_for(job.event_id, job.endpoint_id), int(self._signing_clock()), job.body
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = self.user_agent
        started = time.perf_counter()
        try:
            response = self._senders()[0].post(job.url, content=job.body, headers=headers)
        except httpx.TimeoutException as exc:
            return None, f"timeout after {self.timeout:g}s ({type(exc).__name__})", _elapsed_us(started)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:_ERROR_MAX], _elapsed_us(started)
        duration = _elapsed_us(started)
        if 200 <= response.status_code < 300:
            return response.status_code, None, duration
        return response.status_code, f"HTTP {response.status_code}", duration

    def _attempt(self, job: _Job, when: datetime) -> AttemptResult:
        """Send a claimed attempt and record its outcome (releasing the lease)."""
        try:
            status, error, duration = self._send(job)
        except Exception as exc:  # a signing or encoding bug must not leave the lease dangling
            status, error, duration = None, f"internal error: {type(exc).__name__}"[:_ERROR_MAX], 0
        next_at: datetime | None = None
        outcome: Outcome
        if status is not None and 200 <= status < 300:
            outcome = "succeeded"
        elif status == 410:
            outcome = "failed"
        else:
            delay = retry_delay(job.attempt, jitter=self.jitter, rng=self._rng)
            if delay is None:
                outcome = "abandoned"
            else:
                outcome = "retrying"
                next_at = when + timedelta(seconds=delay)
        self._record(job, when, outcome, status, error, duration, next_at)
        return AttemptResult(job.event_id, job.endpoint_id, job.attempt, outcome, status, error, duration, next_at)

    def _record(
        self,
        job: _Job,
        when: datetime,
        outcome: Outcome,
        status: int | None,
        error: str | None,
        duration: int,
        next_at: datetime | None,
    ) -> None:
        next_us = to_us(next_at) if next_at is not None else None
        row_status = {"succeeded": "succeeded", "retrying": "pending", "abandoned": "abandoned", "failed": "failed"}[
            outcome
        ]
        with self._write_lock, self.db.transaction() as tx:
            # Only the lease holder updates the row; a redelivery that took the lease meanwhile wins.
            tx.execute(
                "UPDATE deliveries SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
                "response_code = ?, error = ?, lease_token = NULL, lease_until = NULL WHERE pk = ? AND lease_token = ?",
                (row_status, next_us, status, error, job.delivery_pk, job.lease_token),
            )
            if outcome == "failed":
                # 410 Gone: the endpoint is disabled and its queue dropped (SPEC §4).
                tx.execute("UPDATE webhook_endpoints SET status = 'disabled' WHERE id = ?", (job.endpoint_id,))
                tx.execute(
                    "UPDATE deliveries SET status = 'failed', error = ? WHERE endpoint_id = ? AND "
                    "status = 'pending' AND lease_token IS NULL",
                    ("endpoint answered 410 Gone", job.endpoint_id),
                )
            tx.execute(
                "INSERT INTO delivery_attempts (delivery_pk, merchant_id, endpoint_id, event_id, event_type, "
                "webhook_id, attempt, started, duration_us, status_code, error, outcome, next_attempt_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job.delivery_pk,
                    job.merchant_id,
                    job.endpoint_id,
                    job.event_id,
                    job.event_type,
                    webhook_id_for(job.event_id, job.endpoint_id),
                    job.attempt,
                    to_us(when),
                    duration,
                    status,
                    error,
                    outcome,
                    next_us,
                ),
            )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Shared by every worker's client (an SSLContext is safe to share once built); trust_env=False as above.
    return httpx.create_ssl_context(trust_env=False)


def _elapsed_us(started: float) -> int:
    return int((time.perf_counter() - started) * 1_000_000)
