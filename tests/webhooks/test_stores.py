"""One contract, four stores: MemoryStore, SQLiteStore, RedisStore and PostgresStore (real servers)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnpl.webhooks.stores import (
    ClaimResult,
    DedupStore,
    InvalidStoreArgumentError,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SQLiteStore,
)

SDK = str(Path(__file__).resolve().parents[2] / "sdk")
DAY = 24 * 3600.0


class FakeClock:
    """A clock the test moves by hand: lease expiry without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Factory = Callable[..., DedupStore]


@pytest.fixture(params=["memory", "sqlite", "redis", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Factory]:
    """Build stores of one kind sharing one backend (file, Redis prefix, PostgreSQL tables), as several
    processes of one receiver would. MemoryStore instances share nothing, so it returns the same one."""
    created: list[DedupStore] = []
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    memory: list[MemoryStore] = []
    url = ""
    if kind == "redis":
        url = request.getfixturevalue("redis_url")
    if kind == "postgres":
        url = request.getfixturevalue("postgres_url")

    def make(**kw: Any) -> DedupStore:
        kw.setdefault("clock", clock)
        store: DedupStore
        if kind == "memory":
            if not memory:
                memory.append(MemoryStore(**kw))
            return memory[0]
        if kind == "sqlite":
            store = SQLiteStore(tmp_path / "dedup.sqlite3", **kw)
        elif kind == "redis":
            store = RedisStore(url, prefix=prefix, **kw)
        else:
            store = PostgresStore(url, table_prefix=prefix, **kw)
        created.append(store)
        return store

    yield make
    for store in created:
        store.close()
    for store in memory:
        store.close()
    if kind == "postgres":
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {prefix}_events, {prefix}_objects")


@pytest.fixture
def store(make_store: Factory) -> DedupStore:
    return make_store()


def test_store_satisfies_the_protocol(store: DedupStore) -> None:
    assert isinstance(store, DedupStore)


def test_first_claim_wins_then_in_progress_then_processed(store: DedupStore) -> None:
    assert store.claim("evt_1", 30) is ClaimResult.CLAIMED
    assert store.claim("evt_1", 30) is ClaimResult.IN_PROGRESS
    store.complete("evt_1", "ord_1", 4)
    assert store.claim("evt_1", 30) is ClaimResult.ALREADY_PROCESSED
    assert store.last_sequence("ord_1") == 4
    # another id is independent
    assert store.claim("evt_2", 30) is ClaimResult.CLAIMED


def test_release_lets_a_redelivery_claim_at_once(store: DedupStore) -> None:
    assert store.claim("evt_r", 300) is ClaimResult.CLAIMED
    store.release("evt_r")
    assert store.claim("evt_r", 300) is ClaimResult.CLAIMED
    assert store.last_sequence("ord_r") is None  # a release records nothing


def test_release_never_unmarks_a_processed_event(store: DedupStore) -> None:
    assert store.claim("evt_p", 30) is ClaimResult.CLAIMED
    store.complete("evt_p", "ord_p", 1)
    store.release("evt_p")
    assert store.claim("evt_p", 30) is ClaimResult.ALREADY_PROCESSED


def test_lease_expires_so_a_crashed_workers_claim_does_not_block(make_store: Factory, clock: FakeClock) -> None:
    crashed, other = make_store(), make_store()
    assert crashed.claim("evt_c", 60) is ClaimResult.CLAIMED
    clock.advance(59.5)
    assert other.claim("evt_c", 60) is ClaimResult.IN_PROGRESS
    clock.advance(1.0)
    assert other.claim("evt_c", 60) is ClaimResult.CLAIMED
    assert crashed.claim("evt_c", 60) is ClaimResult.IN_PROGRESS  # the new lease protects the new owner


def test_complete_keeps_the_highest_sequence(store: DedupStore) -> None:
    assert store.last_sequence("ord_s") is None
    store.complete("evt_a", "ord_s", 5)
    store.complete("evt_b", "ord_s", 3)  # a late event never lowers the high-water mark
    assert store.last_sequence("ord_s") == 5
    store.complete("evt_c", "ord_s", 9)
    assert store.last_sequence("ord_s") == 9
    assert store.last_sequence("ord_other") is None


def test_complete_without_a_prior_claim_still_records(store: DedupStore) -> None:
    store.complete("evt_direct", "cus_1", 2)
    assert store.claim("evt_direct", 30) is ClaimResult.ALREADY_PROCESSED
    assert store.last_sequence("cus_1") == 2


def test_processed_ids_are_forgotten_after_the_retention_but_sequences_stay(
    make_store: Factory, kind: str, clock: FakeClock
) -> None:
    store = make_store(retention_seconds=7 * DAY)
    store.claim("evt_old", 30)
    store.complete("evt_old", "ord_old", 3)
    store.claim("evt_leased", 30)  # an abandoned lease
    if kind == "redis":
        # Redis expires keys on its own clock: check the TTL it was given instead of waiting a week
        assert isinstance(store, RedisStore)
        ttl_ms = store._client.pttl(f"{store._prefix}:evt:evt_old")
        assert 7 * DAY * 1000 - 60_000 < ttl_ms <= 7 * DAY * 1000
        assert store.purge_expired() == 0
        return
    clock.advance(7 * DAY - 1)
    assert store.purge_expired() == 1  # only the expired lease
    assert store.claim("evt_old", 30) is ClaimResult.ALREADY_PROCESSED
    clock.advance(2)
    assert store.purge_expired() == 1
    assert store.claim("evt_old", 30) is ClaimResult.CLAIMED
    assert store.last_sequence("ord_old") == 3  # still protects against a replay of a purged id


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("claim", ("", 30)),
        ("claim", ("x" * 256, 30)),
        ("claim", (None, 30)),
        ("claim", ("evt_ok", 0)),
        ("claim", ("evt_ok", -1)),
        ("claim", ("evt_ok", float("nan"))),
        ("claim", ("evt_ok", True)),
        ("complete", ("evt_ok", "", 1)),
        ("complete", ("evt_ok", "ord_1", -1)),
        ("complete", ("evt_ok", "ord_1", True)),
        ("complete", ("evt_ok", "ord_1", 1.0)),
        ("complete", ("evt_ok", "ord_1", 2**53)),
        ("release", ("",)),
        ("last_sequence", ("",)),
    ],
)
def test_bad_arguments_raise_a_typed_error_and_change_nothing(
    store: DedupStore, method: str, args: tuple[Any, ...]
) -> None:
    with pytest.raises(InvalidStoreArgumentError):
        getattr(store, method)(*args)
    assert store.claim("evt_ok", 30) is ClaimResult.CLAIMED
    assert store.last_sequence("ord_1") is None


def test_threads_racing_for_one_id_exactly_one_claims(make_store: Factory, kind: str) -> None:
    threads_n, rounds = 8, 15
    store = make_store()
    results: dict[str, list[ClaimResult]] = {f"evt_race{i}": [] for i in range(rounds)}
    barrier = threading.Barrier(threads_n)
    lock = threading.Lock()

    def worker() -> None:
        for event_id in results:
            barrier.wait()  # everyone claims the same id at the same moment
            outcome = store.claim(event_id, 30)
            with lock:
                results[event_id].append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for outcomes in results.values():
        assert outcomes.count(ClaimResult.CLAIMED) == 1
        assert outcomes.count(ClaimResult.IN_PROGRESS) == threads_n - 1


_CHILD = """
import json, sys
sys.path.insert(0, {sdk!r})
from bnpl.webhooks.stores import {cls}
store = {cls}({target!r}{extra})
won = [f"evt_p{{i}}" for i in range({n}) if store.claim(f"evt_p{{i}}", 300).value == "claimed"]
store.close()
print(json.dumps(won))
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"], indirect=True)
def test_two_processes_never_claim_the_same_id(make_store: Factory, kind: str, tmp_path: Path, request: Any) -> None:
    n = 300
    store = make_store()  # creates the file / tables before the children race
    if kind == "sqlite":
        cls, target, extra = "SQLiteStore", str(tmp_path / "dedup.sqlite3"), ""
    else:
        cls, target = "PostgresStore", request.getfixturevalue("postgres_url")
        extra = f", table_prefix={store._events.removesuffix('_events')!r}"  # type: ignore[attr-defined]
    script = _CHILD.format(sdk=SDK, cls=cls, target=target, extra=extra, n=n)
    # our own interpreter running our own script: no untrusted input
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) for _ in range(2)]  # noqa: S603
    won = [set(json.loads(p.communicate(timeout=120)[0])) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert won[0].isdisjoint(won[1])
    assert won[0] | won[1] == {f"evt_p{i}" for i in range(n)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seqs=st.lists(st.integers(min_value=0, max_value=2**53 - 1), min_size=1, max_size=12))
def test_high_water_mark_is_the_max_of_completed_sequences(make_store: Factory, seqs: list[int]) -> None:
    store = make_store()
    obj = f"ord_{uuid.uuid4().hex[:10]}"
    for i, seq in enumerate(seqs):
        store.complete(f"evt_{obj}_{i}", obj, seq)
    assert store.last_sequence(obj) == max(seqs)


def test_constructors_refuse_bad_arguments() -> None:
    with pytest.raises(InvalidStoreArgumentError):
        SQLiteStore(":memory:")
    with pytest.raises(InvalidStoreArgumentError):
        RedisStore("http://example.com")
    with pytest.raises(InvalidStoreArgumentError):
        RedisStore(42)
    with pytest.raises(InvalidStoreArgumentError):
        PostgresStore(42)
    with pytest.raises(InvalidStoreArgumentError):
        MemoryStore(retention_seconds=0)


def test_redis_and_postgres_reprs_never_show_credentials(redis_url: str, postgres_url: str) -> None:
    r = RedisStore(redis_url)
    assert "redis://" not in repr(r)
    assert "127.0.0.1" not in repr(r)
    r.close()
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    p = PostgresStore(postgres_url, table_prefix=prefix)
    assert "postgresql://" not in repr(p)
    assert "postgres@" not in repr(p)
    p.close()
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {prefix}_events, {prefix}_objects")


def test_closed_sqlite_store_refuses_use(tmp_path: Path) -> None:
    from bnpl.webhooks.stores import DedupStoreError

    store = SQLiteStore(tmp_path / "x.sqlite3")
    store.close()
    with pytest.raises(DedupStoreError):
        store.claim("evt_1", 30)
