"""The IODA poller: national internet connectivity of the countries that matter, kept current.

Every ``interval`` (10 minutes by default: IODA builds its alerts on 5-minute rounds and asks
for restraint; one request covers every country) it asks the ``countries`` provider which
countries matter now — the guilds' countries and the countries of recent crowd reports — and
reads IODA's ``outages/events`` for them through the project's HTTP client (``guard=True``:
the SSRF guard applies, so a misconfigured ``IODA_URL`` cannot reach inside the network). The
answer is read by ``bot.sources.ioda`` and folded into a ``NationalState`` held in memory and
saved under ``KeyValue`` ``ioda`` when it changes, so a restart keeps what IODA last said
(readings older than ``bot.detect.national.MAX_AGE`` count as unknown anyway).

Nothing here raises into the caller's loop: a network error, an HTTP error or an answer that
does not read leaves the state as it was (its readings age into unknown), logged once per
change of error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bot.clock import utcnow
from bot.db.models import KeyValue
from bot.detect.national import InternetContext, NationalState, internet_context
from bot.sources.base import Fetcher, SourceError
from bot.sources.ioda import DEFAULT_API, CountryOutage, IodaReading, events_url, failed, parse_events

log = logging.getLogger("bot.runtime.ioda")

STATE_KEY = "ioda"
DEFAULT_INTERVAL = 600.0
#: one answer is a few KB; anything near this is not the answer we asked for
MAX_BYTES = 1024 * 1024
TIMEOUT = 20.0
#: at most this many countries per request (more make more requests)
MAX_COUNTRIES = 60

CountriesProvider = Callable[[datetime], Awaitable[Sequence[str]]]


class IodaPoller:
    """Reads IODA for the countries that matter and keeps the national state (see module)."""

    def __init__(
        self,
        fetcher: Fetcher,
        countries: CountriesProvider,
        *,
        api: str = DEFAULT_API,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], datetime] = utcnow,
        persist: bool = True,
    ) -> None:
        self.fetcher = fetcher
        self.countries = countries
        self.api = api
        self.interval = interval
        self.clock = clock
        self.persist = persist
        self.state = NationalState()
        self.last_error: SourceError | None = None

    # -- what the monitor and /isitdown read ------------------------------------------

    def context(self, countries: Sequence[str], now: datetime) -> InternetContext | None:
        return internet_context(countries, self.state, now)

    def outage(self, country: str | None, now: datetime) -> CountryOutage | None:
        return self.state.outage(country, now)

    def health(self) -> dict[str, Any]:
        """For ``/healthz`` (informational: a restart does not fix IODA): the last error, the
        countries read and the national outages IODA shows."""
        last = max(self.state.checked_at.values(), default=None)
        return {
            "countries_read": len(self.state.checked_at),
            "last_read_at": last.isoformat() if last else None,
            "error": f"{self.last_error.kind}: {self.last_error.message}" if self.last_error else None,
            "national_outages": {c: o.since.isoformat() for c, o in sorted(self.state.outages.items())},
        }

    # -- running ---------------------------------------------------------------------------

    async def load(self) -> None:
        """The state saved by the last run (unreadable: start empty)."""
        row = await KeyValue.get_or_none(key=STATE_KEY)
        if row is not None and isinstance(row.value, dict):
            self.state = NationalState.from_dict(row.value)

    async def poll_once(self, now: datetime | None = None) -> IodaReading | None:
        """One reading of every country that matters, ``MAX_COUNTRIES`` per request (None when
        no country matters yet); never raises."""
        now = now or self.clock()
        try:
            wanted = sorted({c.upper() for c in await self.countries(now) if c})
        except Exception:  # noqa: BLE001 - the database may be away; try again next round
            log.exception("could not list the countries that matter for IODA")
            return None
        if not wanted:
            return None
        readings = [await self._read(wanted[i : i + MAX_COUNTRIES], now) for i in range(0, len(wanted), MAX_COUNTRIES)]
        reading = IodaReading(
            now,
            frozenset().union(*(r.known for r in readings)),
            {c: o for r in readings for c, o in r.outages.items()},
            next((r.error for r in readings if r.error is not None), None),
        )
        await self._take(reading)
        return reading

    async def _read(self, countries: list[str], now: datetime) -> IodaReading:
        result = await self.fetcher.get(events_url(countries, now, api=self.api), guard=True, max_bytes=MAX_BYTES, timeout=TIMEOUT)
        if result.error is not None:
            return failed(countries, now, result.error)
        reading = parse_events(result.body, countries=countries, until=now, fetched_at=now)
        if result.status == 200:
            return reading
        # IODA explains a refused query in its envelope; otherwise the status says it
        if reading.error is not None and "IODA says" in reading.error.message:
            return reading
        return failed(countries, now, SourceError("http_status", f"HTTP {result.status}"))

    async def _take(self, reading: IodaReading) -> None:
        if reading.error != self.last_error:
            if reading.error is not None:
                log.warning("IODA could not be read: %s (%s)", reading.error.message, reading.error.kind)
            elif self.last_error is not None:
                log.info("IODA read again")
        self.last_error = reading.error
        before = self.state
        self.state = before.apply(reading)
        for country in sorted(set(self.state.outages) ^ set(before.outages)):
            if country in self.state.outages:
                log.info("IODA: national internet outage in %s since %s", country, self.state.outages[country].since.isoformat())
            else:
                log.info("IODA: internet connectivity in %s is back to normal", country)
        if self.persist and self.state != before:
            try:
                await KeyValue.update_or_create(key=STATE_KEY, defaults={"value": self.state.to_dict()})
            except Exception:  # noqa: BLE001 - memory stays right; the next change saves again
                log.exception("could not save the IODA state")

    async def run(self, stop: asyncio.Event, *, gate: Callable[[], bool] | None = None) -> None:
        """Poll until ``stop`` is set; a failed round waits for the next one. With ``gate``,
        poll only while it says yes (the elected poller); otherwise read what it stored."""
        while not stop.is_set():
            try:
                if gate is None or gate():
                    await self.poll_once()
                else:
                    await self.load()
            except Exception:  # noqa: BLE001 - belt and braces: the loop must not end
                log.exception("IODA round failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass


__all__ = ["CountriesProvider", "IodaPoller", "STATE_KEY"]
