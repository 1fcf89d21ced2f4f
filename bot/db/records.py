"""Queries more than one layer asks the same way (kept here so they are written once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db.models import Incident


async def past_incidents(service_id: str, now: datetime, window: timedelta) -> list[tuple[datetime, datetime | None, datetime | None]]:
    """(started, acknowledged, resolved) of the service's finished incidents that started
    within ``window`` before ``now`` while it had an official page to watch — what its status
    page's track record is computed from (``bot.detect.track_record``)."""
    rows = await Incident.filter(
        service_id=service_id, page_watched=True, resolved_at__isnull=False, started_at__gte=now - window
    ).values_list("started_at", "acknowledged_at", "resolved_at")
    return [tuple(row) for row in rows]  # type: ignore[misc]
