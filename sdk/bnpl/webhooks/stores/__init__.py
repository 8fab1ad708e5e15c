"""Pluggable de-duplication stores for :class:`bnpl.webhooks.dispatch.WebhookHandler`.

``MemoryStore`` (tests, one process), ``SQLiteStore`` (one host, the default), ``RedisStore`` and
``PostgresStore`` (several instances). Redis and PostgreSQL need the ``bnpl[redis]`` / ``bnpl[postgres]``
extras; their modules import the driver only when a store is created.
"""

from bnpl.webhooks.stores.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_RETENTION_SECONDS,
    ClaimResult,
    DedupStore,
    DedupStoreError,
    InvalidStoreArgumentError,
    MissingExtraError,
)
from bnpl.webhooks.stores.memory import MemoryStore
from bnpl.webhooks.stores.postgres import PostgresStore
from bnpl.webhooks.stores.redis import RedisStore
from bnpl.webhooks.stores.sqlite import SQLiteStore

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_RETENTION_SECONDS",
    "ClaimResult",
    "DedupStore",
    "DedupStoreError",
    "InvalidStoreArgumentError",
    "MemoryStore",
    "MissingExtraError",
    "PostgresStore",
    "RedisStore",
    "SQLiteStore",
]
