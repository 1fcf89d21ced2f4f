"""The Redis the multi-process tests and benchmarks share (127.0.0.1:6379 on the CI machine)."""

from __future__ import annotations

import contextlib
import socket

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def redis_up() -> bool:
    with contextlib.suppress(OSError), socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
        return True
    return False


async def forget_bot(namespace: str) -> None:
    """Remove one bot's shared limit and pace (``outage-bot:<namespace>:*``) before a run."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(f"outage-bot:{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
