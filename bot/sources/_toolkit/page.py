"""Building observations of an official page: the worst of several statuses, the page's
status from its incidents and maintenances, the observation itself, the ``unknown`` one that
says why a page could not be read, and the guard that keeps any payload from raising (pure)."""

from __future__ import annotations

import dataclasses
import operator
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from bot.sources._toolkit.payload import PayloadError
from bot.sources.base import Component, IncidentInfo, Maintenance, Observation, SourceError, SourceRole
from bot.status import Status

def worst(statuses: Iterable[Status]) -> Status:
    """``Status.worst`` over an iterable, operational when empty."""
    items = list(statuses)
    return Status.worst(*items) if items else Status.OPERATIONAL


def error_observation(
    *,
    service_id: str,
    kind: str,
    fetched_at: datetime,
    error: SourceError,
    url: str | None = None,
    http_status: int | None = None,
    latency_ms: float | None = None,
) -> Observation:
    """An ``unknown`` observation that says why the source could not be read."""
    return Observation(
        service_id=service_id,
        source_kind=kind,
        status=Status.UNKNOWN,
        fetched_at=fetched_at,
        role=SourceRole.OFFICIAL,
        error=error,
        url=url,
        http_status=http_status,
        latency_ms=latency_ms,
    )


def guarded_parse(
    kind: str, impl: Callable[..., Observation], *, fills_fetch: bool = False
) -> Callable[..., Observation]:
    """Wrap a parser body so that no payload can make it raise: ``PayloadError`` and any
    other exception become an ``unknown`` observation with a ``parse`` error.

    The wrapper also takes the fetch's ``latency_ms`` and ``http_status`` (``poll_official``
    passes them) and puts them on the observation. With ``fills_fetch`` the body accepts
    both keywords itself and builds the final observation at once, which saves a copy of it
    on every poll of a busy kind."""

    def parse(
        payload: bytes,
        *,
        service_id: str,
        fetched_at: datetime,
        url: str | None = None,
        latency_ms: float | None = None,
        http_status: int | None = None,
        **options: Any,
    ) -> Observation:
        try:
            if fills_fetch:
                return impl(
                    payload, service_id=service_id, fetched_at=fetched_at, url=url,
                    latency_ms=latency_ms, http_status=http_status, **options,
                )
            observation = impl(payload, service_id=service_id, fetched_at=fetched_at, url=url, **options)
        except PayloadError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - a parser must never take the poll loop down
            message = f"unexpected payload shape ({type(exc).__name__}: {exc})"
        else:
            if latency_ms is None and http_status is None:
                return observation
            return with_fetch(observation, latency_ms=latency_ms, http_status=http_status)
        return error_observation(
            service_id=service_id,
            kind=kind,
            fetched_at=fetched_at,
            error=SourceError("parse", f"{kind}: {message}"[:500]),
            url=url,
            http_status=http_status,
            latency_ms=latency_ms,
        )

    parse.__doc__ = impl.__doc__
    parse.__name__ = "parse"
    parse.takes_fetch = True  # type: ignore[attr-defined]  # see poll_official
    return parse


# ``dataclasses.replace`` walks ``fields()`` and builds a dict of keyword arguments on every
# call (~8 µs for an Observation); one is needed per poll, so copy the field values with a
# C-level attrgetter and call the constructor positionally instead. Only valid while every
# field is a positional ``__init__`` parameter: otherwise fall back to ``replace``.
_OBS_FIELDS = tuple(f.name for f in dataclasses.fields(Observation))
_OBS_POSITIONAL = all(f.init and not f.kw_only for f in dataclasses.fields(Observation))
_obs_values = operator.attrgetter(*_OBS_FIELDS)
_FETCHED_AT = _OBS_FIELDS.index("fetched_at")
_LATENCY_MS = _OBS_FIELDS.index("latency_ms")
_HTTP_STATUS = _OBS_FIELDS.index("http_status")


def with_fetch(
    observation: Observation, *, latency_ms: float | None, http_status: int | None, fetched_at: datetime | None = None
) -> Observation:
    """``observation`` with the fetch's latency and HTTP status (and fetch time, if given):
    the same as ``dataclasses.replace``, at a fraction of its cost."""
    if not _OBS_POSITIONAL:  # pragma: no cover - only if Observation grows a keyword-only field
        changes: dict[str, Any] = {"latency_ms": latency_ms, "http_status": http_status}
        if fetched_at is not None:
            changes["fetched_at"] = fetched_at
        return dataclasses.replace(observation, **changes)
    values = list(_obs_values(observation))
    values[_LATENCY_MS] = latency_ms
    values[_HTTP_STATUS] = http_status
    if fetched_at is not None:
        values[_FETCHED_AT] = fetched_at
    return Observation(*values)


def page_status(incidents: Sequence[IncidentInfo], maintenances: Sequence[Maintenance] = ()) -> Status:
    """A page's status from what it lists: the worst open incident, else maintenance when one
    is in progress, else operational."""
    if incidents:
        return worst(i.impact for i in incidents)
    if any(m.in_progress for m in maintenances):
        return Status.MAINTENANCE
    return Status.OPERATIONAL


def page_observation(
    kind: str,
    service_id: str,
    fetched_at: datetime,
    url: str | None,
    *,
    status: Status | None = None,
    incidents: Sequence[IncidentInfo] = (),
    maintenances: Sequence[Maintenance] = (),
    components: Sequence[Component] = (),
    description: str | None = None,
    latency_ms: float | None = None,
    http_status: int | None = None,
    component_names: Sequence[str] = (),
) -> Observation:
    """The observation of an official page (``status`` defaults to ``page_status``)."""
    return Observation(
        service_id=service_id,
        source_kind=kind,
        status=page_status(incidents, maintenances) if status is None else status,
        fetched_at=fetched_at,
        role=SourceRole.OFFICIAL,
        components=tuple(components),
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        url=url,
        description=description,
        latency_ms=latency_ms,
        http_status=http_status,
        component_names=tuple(component_names),
    )


class ComponentTally:
    """The worst status seen for each named component, in first-seen order (a page that lists
    affected components per incident, not a component list)."""

    def __init__(self) -> None:
        self._worst: dict[str, Status] = {}

    def add(self, names: Iterable[str], status: Status) -> None:
        for name in names:
            previous = self._worst.get(name)
            self._worst[name] = status if previous is None else Status.worst(previous, status)

    def components(self) -> list[Component]:
        return [Component(name=n, status=s) for n, s in self._worst.items()]
