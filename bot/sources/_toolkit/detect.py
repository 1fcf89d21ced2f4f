"""Which format a status page typed by a user is in (pure): the API endpoints to try for a page
URL, one reading per endpoint answer, and the page's own name.

A Discord user types ``https://www.githubstatus.com``; the bot does not know the format. Every
registered official kind says where its API would be for that URL (``OfficialKind.endpoint``);
endpoints on another host are skipped (Slack's fixed API, say), the feed kind also tries the
Statuspage-style ``history.rss`` beside the page. The caller fetches each distinct endpoint once
through the SSRF guard and hands the answers back here: ``reading`` turns one answer into an
observation exactly as a poll would (transport error, HTTP status, parse error → ``unknown``
with the reason), and the first candidate that reads without error names the format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from bot.sources._toolkit.kind import OfficialKind, beside
from bot.sources._toolkit.page import error_observation
from bot.sources.base import FetchResult, Observation, SourceError, registry

#: tried first, in this order (the formats most pages use); other official kinds follow by name.
#: Statuspal leads: it has candidates only for its own hosts and typed API URLs (each parser
#: refuses the other's answer, so the order is only the cheaper first try)
PREFERRED = ("statuspal", "statuspage", "statusio", "slack", "gcloud", "apple", "feed")
#: feeds a Statuspage-style page publishes beside itself
FEED_PATHS = ("/history.rss",)
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way the page might be read: ``kind`` at ``endpoint``, configured as ``spec_url``."""

    kind: str
    endpoint: str
    spec_url: str
    #: the ``Accept`` header the kind's API needs (Xbox answers XML without it)
    accept: str | None = None


def page_url(typed: str) -> str | None:
    """The page URL a user meant (``status.example.com`` → ``https://status.example.com``),
    without fragment or trailing slash; ``None`` when it is no http(s) URL."""
    text = typed.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def custom_id(url: str) -> str:
    """A stable service id for a page (``u-status-example-com-1a2b3c``): the host, readable,
    and a hash of the whole URL, so two pages on one host stay apart. At most 64 characters."""
    host = urlsplit(url).hostname or "page"
    slug = _SLUG.sub("-", host.lower()).strip("-")[:48] or "page"
    digest = hashlib.blake2b(url.encode("utf-8"), digest_size=3).hexdigest()
    return f"u-{slug}-{digest}"


def official_kinds() -> list[type[OfficialKind]]:
    """Every registered official kind, the preferred ones first."""
    kinds = [k for k in registry().values() if isinstance(k, type) and issubclass(k, OfficialKind)]
    order = {name: i for i, name in enumerate(PREFERRED)}
    return sorted(kinds, key=lambda k: (order.get(k.name, len(order)), k.name))


def candidates(url: str) -> list[Candidate]:
    """Where each kind would read ``url`` (same host only, unless the kind derives its API's
    host from the page's), in the order they are tried."""
    parts = urlsplit(url)
    host = parts.hostname
    is_file = "." in parts.path.rsplit("/", 1)[-1]  # ``…/summary.json``, ``…/status.js``: read as it is
    out: list[Candidate] = []
    for kind in official_kinds():
        try:
            endpoint = kind.endpoint(url, {})
        except ValueError:
            continue  # the kind needs more than a URL (status.io's page id)
        if (urlsplit(endpoint).hostname == host or kind.api_elsewhere) and (endpoint == url or not is_file):
            out.append(Candidate(kind.name, endpoint, url, kind.accept))
        if kind.name == "feed" and not is_file:
            out += [Candidate(kind.name, beside(url, path), beside(url, path)) for path in FEED_PATHS]
    return out


def reading(candidate: Candidate, result: FetchResult, *, service_id: str, now: datetime) -> Observation:
    """The observation ``candidate``'s kind makes of one fetch (``poll_official``'s rules):
    a transport error or a non-2xx answer is an ``unknown`` observation saying so."""
    kind = registry()[candidate.kind]
    assert issubclass(kind, OfficialKind)
    if result.error is not None:
        return error_observation(
            service_id=service_id, kind=kind.name, fetched_at=now, error=result.error, url=candidate.spec_url,
            http_status=result.status, latency_ms=result.latency_ms,
        )
    if result.status is None or not 200 <= result.status < 300:
        return error_observation(
            service_id=service_id, kind=kind.name, fetched_at=now, url=candidate.spec_url,
            error=SourceError("http_status", f"{candidate.endpoint} answered HTTP {result.status}"),
            http_status=result.status, latency_ms=result.latency_ms,
        )
    return kind.parse(
        result.body, service_id=service_id, fetched_at=now, url=candidate.spec_url,
        latency_ms=result.latency_ms, http_status=result.status,
    )  # fmt: skip


def page_name(candidate: Candidate, body: bytes) -> str | None:
    """The name the page gives itself, trimmed to what a service name may be."""
    kind = registry()[candidate.kind]
    name = kind.page_name(body) if issubclass(kind, OfficialKind) else None
    if not name:
        return None
    name = " ".join(name.split())
    return name[:100] or None
