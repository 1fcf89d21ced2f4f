"""The poller election: one lease row in database time, renewed every third of the lease.

The database cases run on PostgreSQL (several processes share it); SQLite serves one process,
so there every claim is this process's. ``Leadership`` is driven step by step with a manual
monotonic clock over an in-memory store with the same contract."""

from __future__ import annotations

import asyncio

from bot.db.leases import DatabaseLeases
from bot.runtime.leader import Leadership
from tests.conftest import TestDB


async def test_one_holder_at_a_time_until_its_lease_runs_out(postgres_db: TestDB) -> None:
    leases = DatabaseLeases()
    assert await leases.holder("poller") is None
    assert await leases.claim("poller", "a", 0.6)
    assert not await leases.claim("poller", "b", 0.6)  # a holds it
    assert await leases.claim("poller", "a", 0.6)  # a renews
    assert await leases.holder("poller") == "a"
    await asyncio.sleep(0.8)  # a stopped renewing (kill -9): its lease ran out in database time
    assert await leases.holder("poller") is None
    assert await leases.claim("poller", "b", 0.6)
    assert not await leases.claim("poller", "a", 0.6)  # the old holder is refused, not restored
    await leases.release("poller", "a")  # only the holder can release
    assert await leases.holder("poller") == "b"
    await leases.release("poller", "b")  # a clean stop hands over at once
    assert await leases.claim("poller", "a", 30)
    assert await leases.claim("other", "b", 30)  # leases are per name


async def test_sqlite_serves_one_process_so_every_claim_is_ours(sqlite_db: TestDB) -> None:
    leases = DatabaseLeases()
    assert await leases.claim("poller", "a", 1) and await leases.claim("poller", "b", 1)


class Store:
    """The ``LeaseStore`` contract in memory, on the test's clock."""

    def __init__(self, clock: "Clock") -> None:
        self.clock = clock
        self.rows: dict[str, tuple[str, float]] = {}
        self.down = False

    async def claim(self, name: str, holder: str, seconds: float) -> bool:
        if self.down:
            raise ConnectionError("database away")
        current = self.rows.get(name)
        if current is None or current[0] == holder or current[1] < self.clock.now:
            self.rows[name] = (holder, self.clock.now + seconds)
            return True
        return False

    async def release(self, name: str, holder: str) -> None:
        if self.rows.get(name, ("", 0))[0] == holder:
            del self.rows[name]

    async def holder(self, name: str) -> str | None:
        row = self.rows.get(name)
        return row[0] if row and row[1] >= self.clock.now else None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def candidate(store: Store, clock: Clock, name: str, log: list[str]) -> Leadership:
    async def elected() -> None:
        log.append(f"{name} elected")

    async def deposed() -> None:
        log.append(f"{name} deposed")

    return Leadership(store, name, lease=9.0, on_elected=elected, on_deposed=deposed, clock=clock)


async def test_a_dead_poller_is_replaced_within_two_lease_periods() -> None:
    clock, log = Clock(), []
    store = Store(clock)
    a, b = candidate(store, clock, "a", log), candidate(store, clock, "b", log)
    assert await a.step() and not await b.step()
    assert log == ["a elected"]
    died = clock.now
    # a is killed: it never steps again; b tries every third of the lease as run() does
    while not await b.step():
        clock.now += b.lease / 3
    assert log == ["a elected", "b elected"]
    assert clock.now - died <= 2 * b.lease
    assert a.held is False  # by its own clock a knows it lost, before anyone could take over


async def test_the_old_poller_stops_writing_before_the_new_one_may_start() -> None:
    """A poller paused past its lease (a long GC, a frozen VM) wakes up deposed."""
    clock, log = Clock(), []
    store = Store(clock)
    a, b = candidate(store, clock, "a", log), candidate(store, clock, "b", log)
    assert await a.step()
    # a's own deadline ends strictly before the database's: nobody else can hold it while a writes
    a_valid_until = clock.now + 0.9 * a.lease
    clock.now = a_valid_until
    assert not a.leading
    assert not await b.step()  # the database still says a
    clock.now += 0.2 * a.lease
    assert await b.step()
    assert not await a.step()  # a wakes up: refused, deposed, and says so
    assert log == ["a elected", "b elected", "a deposed"]


async def test_a_database_hiccup_keeps_the_poller_while_its_lease_lasts() -> None:
    clock, log = Clock(), []
    store = Store(clock)
    a = candidate(store, clock, "a", log)
    assert await a.step()
    store.down = True
    clock.now += a.lease / 3
    assert await a.step()  # the renewal failed, the last one still covers us
    clock.now += a.lease
    assert not await a.step()
    assert log == ["a elected", "a deposed"]
    store.down = False
    assert await a.step()  # back, and nobody else took it meanwhile
    assert log == ["a elected", "a deposed", "a elected"]


async def test_not_leading_until_the_election_hook_has_run() -> None:
    """The scheduler's gate opens only once the monitor has read what the last poller wrote."""
    clock = Clock()
    store = Store(clock)
    seen: list[bool] = []
    leader = Leadership(store, "a", lease=9.0, clock=clock)

    async def elected() -> None:
        seen.append(leader.leading)

    leader.on_elected = elected
    assert await leader.step()
    assert seen == [False] and leader.leading


async def test_a_clean_stop_releases_the_lease_at_once() -> None:
    clock = Clock()
    store = Store(clock)
    leader = Leadership(store, "a", lease=9.0, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(leader.run(stop))
    while not leader.leading:
        await asyncio.sleep(0)
    assert await store.holder("poller") == "a"
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await store.holder("poller") is None and not leader.leading
