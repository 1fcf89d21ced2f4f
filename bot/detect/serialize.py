"""JSON forms of incident events and verdicts (pure).

An ``IncidentEvent`` is persisted as ``IncidentEventRecord.payload`` in the transaction that
changes the incident, and rendered later — possibly by another process, after a restart — by
the delivery worker: ``event_from_dict(record.payload)`` gives back the very same event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from bot.detect.model import Confidence, EventKind, Evidence, IncidentEvent, Verdict
from bot.sources.base import SourceRole
from bot.status import Status


def evidence_to_dict(ev: Evidence) -> dict[str, Any]:
    return {
        "role": ev.role.value,
        "source_kind": ev.source_kind,
        "status": ev.status.value,
        "since": _iso(ev.since),
        "official_title": ev.official_title,
        "official_update": ev.official_update,
        "official_url": ev.official_url,
        "http_status": ev.http_status,
        "latency_ms": ev.latency_ms,
        "error_kind": ev.error_kind,
        "reports": ev.reports,
        "usual": ev.usual,
        "top_problem": ev.top_problem,
        "top_problem_share": ev.top_problem_share,
        "countries": list(ev.countries),
        "works": ev.works,
        "target": ev.target,
        "components": list(ev.components),
    }


def evidence_from_dict(data: Mapping[str, Any]) -> Evidence:
    return Evidence(
        role=SourceRole(data["role"]),
        source_kind=data["source_kind"],
        status=Status(data["status"]),
        since=_dt(data.get("since")),
        official_title=data.get("official_title"),
        official_update=data.get("official_update"),
        official_url=data.get("official_url"),
        http_status=data.get("http_status"),
        latency_ms=data.get("latency_ms"),
        error_kind=data.get("error_kind"),
        reports=data.get("reports"),
        usual=data.get("usual"),
        top_problem=data.get("top_problem"),
        top_problem_share=data.get("top_problem_share"),
        countries=tuple(data.get("countries") or ()),
        works=data.get("works"),
        target=data.get("target"),
        components=tuple(str(c) for c in data.get("components") or ()),
    )


def event_to_dict(event: IncidentEvent) -> dict[str, Any]:
    """JSON types only (ISO 8601 datetimes, enum values); ``event_from_dict`` inverts it."""
    return {
        "kind": event.kind.value,
        "service_id": event.service_id,
        "incident_key": event.incident_key,
        "at": _iso(event.at),
        "status": event.status.value,
        "confidence": event.confidence.value if event.confidence else None,
        "started_at": _iso(event.started_at),
        "evidence": [evidence_to_dict(e) for e in event.evidence],
        "unacknowledged": event.unacknowledged,
        "unacknowledged_since": _iso(event.unacknowledged_since),
        "official_update": event.official_update,
        "report_peak": event.report_peak,
        "report_peak_at": _iso(event.report_peak_at),
        "resolved_at": _iso(event.resolved_at),
        "previous_status": event.previous_status.value if event.previous_status else None,
        "extra": dict(event.extra),
    }


def event_from_dict(data: Mapping[str, Any]) -> IncidentEvent:
    at = _dt(data["at"])
    started = _dt(data["started_at"])
    assert at is not None and started is not None
    return IncidentEvent(
        kind=EventKind(data["kind"]),
        service_id=data["service_id"],
        incident_key=data["incident_key"],
        at=at,
        status=Status(data["status"]),
        confidence=Confidence(data["confidence"]) if data.get("confidence") else None,
        started_at=started,
        evidence=tuple(evidence_from_dict(e) for e in data.get("evidence") or ()),
        unacknowledged=bool(data.get("unacknowledged", False)),
        unacknowledged_since=_dt(data.get("unacknowledged_since")),
        official_update=data.get("official_update"),
        report_peak=data.get("report_peak"),
        report_peak_at=_dt(data.get("report_peak_at")),
        resolved_at=_dt(data.get("resolved_at")),
        previous_status=Status(data["previous_status"]) if data.get("previous_status") else None,
        extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
    )


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    """For ``/healthz``-style dumps and the CLI; not read back."""
    return {
        "service_id": verdict.service_id,
        "status": verdict.status.value,
        "confidence": verdict.confidence.value if verdict.confidence else None,
        "at": _iso(verdict.at),
        "since": _iso(verdict.since),
        "unacknowledged": verdict.unacknowledged,
        "unacknowledged_since": _iso(verdict.unacknowledged_since),
        "official_status": verdict.official_status.value if verdict.official_status else None,
        "evidence": [evidence_to_dict(e) for e in verdict.evidence],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


__all__ = [
    "event_from_dict",
    "event_to_dict",
    "evidence_from_dict",
    "evidence_to_dict",
    "verdict_to_dict",
]
