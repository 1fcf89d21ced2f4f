"""Channel subscriptions: ``/subscribe``, ``/unsubscribe``, ``/subscriptions``.

A subscription is one row per (channel, service or ``all``); subscribing again changes the
existing row (language, role, minimum severity) and re-enables it if delivery had disabled it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from bot.catalog import ALL, Catalog
from bot.db.models import Subscription
from bot.i18n import N_, Nn_
from bot.notify.text import echo
from bot.services.custom import CustomServices, looks_like_url
from bot.services.errors import UserError
from bot.sources._toolkit.detect import page_url
from bot.status import Status

#: the components a service's official page publishes (from its latest observations)
ComponentsOf = Callable[[str], list[str]]

LANGUAGES = ("ar", "en", "both")
SEVERITIES = (Status.DEGRADED.value, Status.PARTIAL_OUTAGE.value, Status.MAJOR_OUTAGE.value)
#: a guild cannot create more rows than this (each one is a delivery per incident)
MAX_PER_GUILD = 200
#: typed words that mean "every service"
ALL_WORDS = (ALL, "الكل", "كل الخدمات")

ERR_UNKNOWN_SERVICE = N_("We don't know a service called {query}. Pick one from the suggestions.")
ERR_LANGUAGE = N_("The alert language must be Arabic, English or both.")
ERR_SEVERITY = N_("The minimum severity must be disruption, partial outage or major outage.")
ERR_TOO_MANY = Nn_(
    "This server already has {n} subscription, the maximum. Remove one with {command} first.",
    "This server already has {n} subscriptions, the maximum. Remove some with {command} first.",
)
ERR_NOT_SUBSCRIBED = N_("{channel} is not subscribed to {service}.")  # service: as the user typed it
ERR_COMPONENT_ALL = N_("A component belongs to one service: pick a service rather than all of them.")
ERR_UNKNOWN_COMPONENT = N_("{service}'s status page lists no component called {component}. Pick one from the suggestions.")


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    """A subscription as the commands show it."""

    id: int
    guild_id: int
    channel_id: int
    service_id: str  # a catalog or custom service id, or "all"
    language: str
    role_id: int | None
    min_severity: str
    enabled: bool = True
    disabled_reason: str | None = None
    component: str | None = None  # one component of the service's page, or the whole service

    @classmethod
    def from_row(cls, row: Subscription) -> "SubscriptionInfo":
        return cls(
            row.id, row.guild_id, row.channel_id, row.service_id, row.language, row.role_id,
            row.min_severity, row.enabled, row.disabled_reason, row.component,
        )


class SubscriptionService:
    """Creates, changes, removes and lists the subscriptions of a guild. With ``custom`` a
    status page URL is a service too (``bot.services.custom``); with ``components_of`` a
    subscription may name one component of its service's page."""

    def __init__(
        self, catalog: Catalog, custom: CustomServices | None = None, components_of: ComponentsOf | None = None
    ) -> None:
        self.catalog = catalog
        self.custom = custom
        self.components_of = components_of

    def needs_lookup(self, query: str) -> bool:
        """``query`` is a web address the catalog does not know: subscribing reads the page
        first (the command defers before calling ``subscribe``)."""
        text = query.strip()
        if self.custom is None or text.casefold() in ALL_WORDS or not looks_like_url(text):
            return False
        try:
            self.resolve(text)
        except UserError:
            return True
        return False

    async def _service_id(self, guild_id: int, query: str, now: datetime) -> str:
        if self.needs_lookup(query):
            assert self.custom is not None
            return (await self.custom.obtain(guild_id, query, now)).id
        return self.resolve(query)

    def component_name(self, service_id: str, typed: str | None) -> str | None:
        """The component as the page writes it (``actions`` → ``Actions``); ``None`` for the
        whole service. Refuses a component the page does not publish (when its list is known)."""
        if typed is None or not typed.strip():
            return None
        if service_id == ALL:
            raise UserError(ERR_COMPONENT_ALL)
        wanted = " ".join(typed.split())
        published = self.components_of(service_id) if self.components_of is not None else []
        if not published:
            return wanted  # no reading yet: kept as typed, matched case-insensitively later
        for name in published:
            if name.strip().casefold() == wanted.casefold():
                return name.strip()
        service = self.catalog.get(service_id)
        raise UserError(ERR_UNKNOWN_COMPONENT, service=service.name if service else service_id, component=echo(wanted))

    def component_choices(self, query: str, current: str, limit: int = 25) -> list[str]:
        """Autocomplete for ``component``: the published components of the service being
        typed, those starting with ``current`` first, then those containing it."""
        try:
            service = self.catalog.get(self.resolve(query, allow_all=False)) if query.strip() else None
        except UserError:
            service = None
        if service is None or self.components_of is None:
            return []
        typed = current.strip().casefold()
        names = list(dict.fromkeys(n.strip() for n in self.components_of(service.id) if n.strip()))
        first = [n for n in names if n.casefold().startswith(typed)]
        inner = [n for n in names if typed in n.casefold() and n not in first]
        return (first + inner)[:limit]

    def resolve(self, query: str, *, allow_all: bool = True) -> str:
        """The service id (or ``all``) a user typed, by id, name or alias in either script."""
        text = query.strip()
        if allow_all and text.casefold() in ALL_WORDS:
            return ALL
        service = self.catalog.resolve(text)
        if service is None and looks_like_url(text) and (page := page_url(text)) is not None:
            service = self.catalog.resolve(page)  # a status page a guild added, typed as a URL
        if service is None:
            raise UserError(ERR_UNKNOWN_SERVICE, query=echo(text))
        return service.id

    async def subscribe(
        self,
        guild_id: int,
        channel_id: int,
        query: str,
        *,
        language: str,
        role_id: int | None = None,
        min_severity: str = Status.DEGRADED.value,
        created_by: int | None = None,
        component: str | None = None,
        now: datetime | None = None,
    ) -> tuple[SubscriptionInfo, bool]:
        """Subscribe ``channel_id`` to the service (a status page URL reads and adds the page,
        see ``bot.services.custom``); returns (the subscription, created?). One row per
        channel and service: subscribing again changes it, its component included."""
        if language not in LANGUAGES:
            raise UserError(ERR_LANGUAGE)
        if min_severity not in SEVERITIES:
            raise UserError(ERR_SEVERITY)
        if component is not None and component.strip() and query.strip().casefold() in ALL_WORDS:
            raise UserError(ERR_COMPONENT_ALL)
        service_id = await self._service_id(guild_id, query, now or datetime.now(timezone.utc))
        try:
            chosen = self.component_name(service_id, component)
            row = await Subscription.get_or_none(channel_id=channel_id, service_id=service_id)
            if row is None:
                count = await Subscription.filter(guild_id=guild_id).count()
                if count >= MAX_PER_GUILD:
                    raise UserError(ERR_TOO_MANY, n=count, command="/unsubscribe")
                row = await Subscription.create(
                    guild_id=guild_id, channel_id=channel_id, service_id=service_id, language=language,
                    role_id=role_id, min_severity=min_severity, created_by=created_by, component=chosen,
                )
                return SubscriptionInfo.from_row(row), True
        except Exception:
            if self.custom is not None:  # a page read for nothing is not kept
                await self.custom.release([service_id])
            raise
        row.language = language
        row.role_id = role_id
        row.min_severity = min_severity
        row.component = chosen
        row.enabled = True
        row.disabled_reason = None
        await row.save(update_fields=["language", "role_id", "min_severity", "component", "enabled", "disabled_reason"])
        return SubscriptionInfo.from_row(row), False

    async def unsubscribe(self, guild_id: int, channel_id: int, query: str, *, release: bool = True) -> list[str]:
        """Remove the channel's subscription to the service (``all``: every subscription of
        the channel). Returns the service ids removed; raises when there was none. Custom
        services no subscription uses any more are released, unless ``release`` is false (the
        caller names them in its answer first, then calls ``release``)."""
        service_id = self.resolve(query)
        rows = Subscription.filter(guild_id=guild_id, channel_id=channel_id)
        if service_id != ALL:
            rows = rows.filter(service_id=service_id)
        removed = [row.service_id for row in await rows.order_by("id")]
        if not removed:
            raise UserError(ERR_NOT_SUBSCRIBED, channel=f"<#{channel_id}>", service=echo(query))
        await rows.delete()
        if release:
            await self.release(removed)
        return removed

    async def release(self, service_ids: list[str]) -> None:
        """Let go of the custom services among ``service_ids`` that nothing uses any more."""
        if self.custom is not None:
            await self.custom.release(service_ids)

    async def services_of(self, guild_id: int | None) -> set[str]:
        """The service ids a guild subscribes to (which typed status pages it may be offered)."""
        if guild_id is None:
            return set()
        rows = await Subscription.filter(guild_id=guild_id).distinct().values_list("service_id", flat=True)
        return {str(sid) for sid in rows}

    async def list(self, guild_id: int) -> list[SubscriptionInfo]:
        """The guild's subscriptions, by channel then service."""
        rows = await Subscription.filter(guild_id=guild_id).order_by("channel_id", "service_id")
        return [SubscriptionInfo.from_row(r) for r in rows]
