"""A de-duplication store in Redis: for receivers running as several instances on several hosts.

Needs the ``redis`` package: ``pip install 'bnpl[redis]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bnpl.webhooks.stores.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_RETENTION_SECONDS,
    ClaimResult,
    Clock,
    InvalidStoreArgumentError,
    MissingExtraError,
    now_from,
    validate_event_id,
    validate_lease,
    validate_object_id,
    validate_prefix,
    validate_retention,
    validate_sequence,
)

if TYPE_CHECKING:
    import redis as redis_module

__all__ = ["RedisStore"]

# One key per event: "c:<lease deadline ms>" while claimed, "p:<processed at ms>" once processed.
# The deadline is compared in the script (so the clock is injectable and the check is atomic); PX also lets
# Redis drop a dead lease by itself. Processed keys expire after the retention.
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 1) == 'p' then return 1 end
  if tonumber(string.sub(v, 3)) > tonumber(ARGV[1]) then return 2 end
end
redis.call('SET', KEYS[1], 'c:' .. ARGV[2], 'PX', ARGV[3])
return 0
"""

# Mark processed and raise the object's high-water sequence in one atomic script.
_COMPLETE = """
redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
local cur = redis.call('GET', KEYS[2])
if (not cur) or tonumber(cur) < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[3])
end
return 0
"""

# Only a lease is dropped; a processed marker stays.
_RELEASE = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'c' then redis.call('DEL', KEYS[1]) end
return 0
"""

_CLAIM_RESULTS = {0: ClaimResult.CLAIMED, 1: ClaimResult.ALREADY_PROCESSED, 2: ClaimResult.IN_PROGRESS}


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - the extra is installed in the dev venv
        raise MissingExtraError("RedisStore", "redis", "redis") from exc
    return redis


class RedisStore:
    """Keeps claims and processed ids as Redis keys with TTLs, and per-object sequences as plain keys.

    Pass a URL (``redis://host:6379/0``) or an existing ``redis.Redis`` client (which you then close yourself).
    Keys are ``<prefix>:evt:<event id>`` and ``<prefix>:seq:<object id>``. Claims and completions are Lua
    scripts, so they are atomic on a single Redis server (or a Sentinel-managed primary). Redis expires
    processed ids after ``retention_seconds`` on its own, so :meth:`purge_expired` has nothing to do.
    """

    def __init__(
        self,
        url_or_client: str | redis_module.Redis | Any,
        *,
        prefix: str = "bnpl_webhook",
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        redis = _import_redis()
        if isinstance(url_or_client, str):
            if not url_or_client.startswith(("redis://", "rediss://", "unix://")):
                raise InvalidStoreArgumentError("url must start with redis://, rediss:// or unix://")
            self._client = redis.Redis.from_url(url_or_client)
            self._owns_client = True
        elif isinstance(url_or_client, redis.Redis):
            self._client = url_or_client
            self._owns_client = False
        else:
            raise InvalidStoreArgumentError(
                f"RedisStore needs a redis:// URL or a redis.Redis client, got {type(url_or_client).__name__}"
            )
        self._prefix = validate_prefix(prefix)
        self._retention_ms = int(validate_retention(retention_seconds) * 1000)
        self._clock = clock
        self._claim = self._client.register_script(_CLAIM)
        self._complete = self._client.register_script(_COMPLETE)
        self._release = self._client.register_script(_RELEASE)

    def __repr__(self) -> str:
        # never show the URL: it may carry a password
        return f"RedisStore(prefix={self._prefix!r})"

    def _event_key(self, event_id: str) -> str:
        return f"{self._prefix}:evt:{event_id}"

    def _seq_key(self, object_id: str) -> str:
        return f"{self._prefix}:seq:{object_id}"

    def _now_ms(self) -> int:
        return int(now_from(self._clock) * 1000)

    def claim(self, event_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> ClaimResult:
        """Take a lease on ``event_id`` (see :meth:`bnpl.webhooks.stores.base.DedupStore.claim`)."""
        validate_event_id(event_id)
        lease_ms = max(1, int(validate_lease(lease_seconds) * 1000))
        now = self._now_ms()
        code = self._claim(keys=[self._event_key(event_id)], args=[now, now + lease_ms, lease_ms])
        return _CLAIM_RESULTS[int(code)]

    def complete(self, event_id: str, object_id: str, sequence: int) -> None:
        """Mark processed and raise the object's sequence, atomically."""
        validate_event_id(event_id)
        validate_object_id(object_id)
        validate_sequence(sequence)
        self._complete(
            keys=[self._event_key(event_id), self._seq_key(object_id)],
            args=[self._now_ms(), self._retention_ms, sequence],
        )

    def release(self, event_id: str) -> None:
        """Drop the lease on ``event_id``; a processed id stays processed."""
        validate_event_id(event_id)
        self._release(keys=[self._event_key(event_id)])

    def last_sequence(self, object_id: str) -> int | None:
        """The highest sequence applied for ``object_id``."""
        validate_object_id(object_id)
        value = self._client.get(self._seq_key(object_id))
        return None if value is None else int(value)

    def purge_expired(self) -> int:
        """Nothing to do: Redis expires processed ids and leases itself. Returns 0."""
        return 0

    def close(self) -> None:
        """Close the client if this store created it from a URL."""
        if self._owns_client:
            self._client.close()
