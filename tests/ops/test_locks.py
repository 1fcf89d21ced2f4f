"""``KeyedLock``: one holder per key at a time, other keys untouched, and nothing kept once the
last holder leaves (a lock per service or channel must not outlive its use)."""

from __future__ import annotations

import asyncio

import pytest

from bot.ops.locks import KeyedLock


async def test_holders_of_one_key_take_turns_in_arrival_order_while_other_keys_go_on() -> None:
    locks = KeyedLock()
    order: list[str] = []
    release = asyncio.Event()

    async def holder(key: str, name: str, wait: bool = False) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            if wait:
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(holder("a", "a1", wait=True))
    await asyncio.sleep(0)
    second = asyncio.create_task(holder("a", "a2"))
    other = asyncio.create_task(holder("b", "b1"))
    await other  # another key is not held back
    assert order == ["a1 in", "b1 in", "b1 out"] and len(locks) == 1
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["a1 out", "a2 in", "a2 out"]
    assert len(locks) == 0  # the last holder left: no lock kept


async def test_a_holder_that_fails_lets_go_of_the_key() -> None:
    locks = KeyedLock()
    with pytest.raises(RuntimeError):
        async with locks.hold(7):
            raise RuntimeError("boom")
    assert len(locks) == 0
    async with locks.hold(7):
        assert len(locks) == 1
