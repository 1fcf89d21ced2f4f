"""RSS/Atom status feeds through feedparser: Statuspage ``history.rss``/``history.atom``,
AWS Health (``status.aws.amazon.com/rss/*.rss``), Azure's status feed, and the like.

An item is an **active incident** when its latest update is not resolved/completed and it
was published or updated within ``active_hours`` (default 6) before ``fetched_at``. The
latest update is the first ``<strong>Label</strong>`` paragraph of a Statuspage body, or the
title for AWS (``[RESOLVED]``/"operating normally"). AWS publishes one item per update with
guids ``#<service-region>_<epoch>``: the newest item of a service-region decides for all of
them, so an old "Informational message" is closed by a later "[RESOLVED]".

Status from keywords (title + latest update, case-insensitive): maintenance/scheduled →
maintenance (a maintenance, not an incident); outage/disruption/unavailable/down →
partial_outage; degraded/elevated error/increased error/increased latency/performance/
delay → degraded; anything else that is still open → degraded.

Pure: the payload is handed to feedparser as a stream (a bytes argument would be tried as a
file name), so it does no I/O.
"""

from __future__ import annotations

import io
import re
from calendar import timegm
from datetime import datetime, timedelta, timezone
from typing import Any

import feedparser

from bot.sources._toolkit import OfficialKind, PayloadError, guarded_parse, page_observation, strip_tags, text
from bot.sources.base import IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "feed"
DEFAULT_ACTIVE_HOURS = 6.0

_LABEL = re.compile(r"<strong>\s*([^<]{1,40}?)\s*</strong>\s*(?:-|–|—|:)?\s*(.*?)(?:</p>|$)", re.I | re.S)
_RESOLVED_TITLE = re.compile(r"\[\s*(resolved|completed)\s*\]|operating normally", re.I)
_RESOLVED_LABELS = frozenset({"resolved", "completed", "postmortem"})
_MAINT_LABELS = frozenset({"scheduled", "in progress", "verifying"})
_OUTAGE = ("outage", "disruption", "unavailable", "is down", "not available")
_MAINT = ("maintenance", "scheduled")


def _entry_time(entry: Any) -> datetime | None:
    for key in ("updated_parsed", "published_parsed"):
        value = dict.get(entry, key)  # plain dict lookup: skips feedparser's deprecated key aliasing
        if value:
            try:
                return datetime.fromtimestamp(timegm(value), tz=timezone.utc)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _body(entry: Any) -> str:
    content = entry.get("content")
    if isinstance(content, list) and content and isinstance(content[0], dict):
        value = content[0].get("value")
        if isinstance(value, str) and value.strip():
            return value
    summary = entry.get("summary")
    return summary if isinstance(summary, str) else ""


def _group_key(entry_id: str) -> str:
    """AWS guids end in ``#<service-region>_<epoch>``: group by the service-region part."""
    if "#" in entry_id:
        fragment = entry_id.rsplit("#", 1)[1]
        if "_" in fragment and fragment.rsplit("_", 1)[1].isdigit():
            return fragment.rsplit("_", 1)[0]
    return entry_id


def _classify(words: str) -> Status:
    lowered = words.lower()
    if any(k in lowered for k in _OUTAGE):
        return Status.PARTIAL_OUTAGE
    return Status.DEGRADED  # degraded keywords and unrecognised open items alike


def _active_hours(options: dict[str, Any]) -> float:
    value = options.get("active_hours", DEFAULT_ACTIVE_HOURS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return DEFAULT_ACTIVE_HOURS
    return float(value)


def _parse(
    payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any
) -> Observation:
    """Read one RSS/Atom payload."""
    if not isinstance(payload, (bytes, bytearray)):
        raise PayloadError(f"payload must be bytes, got {type(payload).__name__}")
    if not payload.strip():
        raise PayloadError("empty body, expected an RSS/Atom feed")
    parsed = feedparser.parse(io.BytesIO(bytes(payload)))
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        raise PayloadError(f"not an RSS/Atom feed{f' ({reason})' if reason else ''}"[:300])
    window = timedelta(hours=_active_hours(options))
    feed_link = parsed.feed.get("link") if isinstance(parsed.feed.get("link"), str) else None

    # newest first, then the newest item of each group decides whether the group is open
    entries = []
    for entry in parsed.entries:
        when = _entry_time(entry)
        entry_id = entry.get("id") or entry.get("link") or entry.get("title") or ""
        entries.append((when, str(entry_id), entry))
    entries.sort(key=lambda e: e[0] or datetime.min.replace(tzinfo=timezone.utc), reverse=True)

    decided: set[str] = set()
    incidents: list[IncidentInfo] = []
    maintenances: list[Maintenance] = []
    for when, entry_id, entry in entries:
        group = _group_key(entry_id)
        if group in decided:
            continue
        decided.add(group)
        title = text(strip_tags(entry.get("title") or "")) or "(untitled)"
        body = _body(entry)
        match = _LABEL.search(body)
        label = match.group(1).strip().lower() if match else None
        latest = text(strip_tags(match.group(2))) if match else text(strip_tags(body))
        if (label in _RESOLVED_LABELS) or _RESOLVED_TITLE.search(title):
            continue
        if when is None or when > fetched_at + window or fetched_at - when > window:
            continue
        link = entry.get("link") if isinstance(entry.get("link"), str) else None
        if label in _MAINT_LABELS or any(k in title.lower() for k in _MAINT):
            maintenances.append(
                Maintenance(id=entry_id or title, title=title, starts_at=None, ends_at=None,
                            in_progress=label != "scheduled", url=link)
            )
            continue
        incidents.append(
            IncidentInfo(
                id=entry_id or title, title=title, impact=_classify(f"{title}\n{latest or ''}"), status=label or "open",
                url=link, latest_update=latest, updated_at=when, started_at=_published(entry),
            )
        )

    feed_title = text(parsed.feed.get("title"))
    return page_observation(KIND, service_id, fetched_at, feed_link or url, incidents=incidents, maintenances=maintenances, description=feed_title)


def _published(entry: Any) -> datetime | None:
    value = dict.get(entry, "published_parsed")
    if not value:
        return None
    try:
        return datetime.fromtimestamp(timegm(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None


parse = guarded_parse(KIND, _parse)


@register
class FeedKind(OfficialKind):
    """An RSS or Atom status feed; ``url`` is the feed itself."""

    name, parse, extra_options = KIND, parse, frozenset({"active_hours"})

    @classmethod
    def page_name(cls, payload: bytes) -> str | None:
        """The feed's own title (``"StreamYard Status - Incident History"``)."""
        try:
            parsed = feedparser.parse(io.BytesIO(bytes(payload)))
            return text(strip_tags(parsed.feed.get("title") or ""))
        except Exception:  # noqa: BLE001 - a name is optional; the parse itself reports errors
            return None

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        value = options.get("active_hours")
        if "active_hours" in options and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            problems.append("active_hours: must be a positive number of hours")
        return problems
