"""Named leases in the ``leases`` table: who holds a name, until when, in database time.

Several ``run`` processes share one PostgreSQL database; a lease is how one of them gets a
job the others must not do at the same time: being the poller (``bot.runtime.leader``), or
building one channel's grouped alert (``bot.discord.delivery``). One upsert takes a free or
expired lease or renews our own, comparing against the database's ``now()`` so the clocks of
different hosts never matter. A row beats an advisory lock: advisory locks belong to one
connection, and holding a pooled connection for a lease would starve the pool. SQLite serves
a single process (the settings refuse several with it), so there every claim is ours.
"""

from __future__ import annotations

from typing import Protocol

from tortoise import Tortoise

#: the lease that makes a process the poller
POLLER = "poller"

_CLAIM_POSTGRES = """
INSERT INTO leases (name, holder, until) VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
WHERE leases.holder = EXCLUDED.holder OR leases.until < now()
RETURNING holder
"""


class LeaseStore(Protocol):
    async def claim(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew ``name`` for ``seconds``; False while another holder's lease runs."""

    async def release(self, name: str, holder: str) -> None:
        """Give ``name`` up now (only if ``holder`` holds it)."""

    async def holder(self, name: str) -> str | None:
        """Who holds ``name`` now (None: nobody, or the lease ran out)."""


class DatabaseLeases:
    """Leases in the ``leases`` table (PostgreSQL); on SQLite every claim succeeds."""

    def _postgres(self) -> bool:
        return Tortoise.get_connection("default").capabilities.dialect == "postgres"

    async def claim(self, name: str, holder: str, seconds: float) -> bool:
        if not self._postgres():
            return True
        conn = Tortoise.get_connection("default")  # (execute_query drops an INSERT's RETURNING rows)
        rows = await conn.execute_query_dict(_CLAIM_POSTGRES, [name, holder, float(seconds)])
        return bool(rows)

    async def release(self, name: str, holder: str) -> None:
        if self._postgres():
            conn = Tortoise.get_connection("default")
            await conn.execute_query("DELETE FROM leases WHERE name = $1 AND holder = $2", [name, holder])

    async def holder(self, name: str) -> str | None:
        if not self._postgres():
            return None
        conn = Tortoise.get_connection("default")
        rows = await conn.execute_query_dict("SELECT holder FROM leases WHERE name = $1 AND until >= now()", [name])
        return str(rows[0]["holder"]) if rows else None



__all__ = ["DatabaseLeases", "LeaseStore", "POLLER"]
