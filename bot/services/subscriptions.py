"""Channel subscriptions: ``/subscribe``, ``/unsubscribe``, ``/subscriptions``.

A subscription is one row per (channel, service or ``all``); subscribing again changes the
existing row (language, role, minimum severity, delivery) and re-enables it if delivery had
disabled it.

Delivery is ``direct`` (the bot posts in the channel: roles, the guild's time zone, recovery
replies) or ``follow``: the channel follows one of the operator's hub announcement channels
(``FOLLOW_HUBS``) and Discord copies each alert the bot publishes there. Which hub a follow
gets is decided here (``hub_for``); the hubs themselves are ``hub`` rows that ``sync_hubs``
keeps equal to the configuration, delivered by the worker like a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

from tortoise.transactions import in_transaction

from bot.catalog import ALL, Catalog
from bot.db.models import Subscription
from bot.i18n import N_, Nn_
from bot.notify.text import echo
from bot.services.custom import CustomServices, looks_like_url
from bot.services.errors import UserError
from bot.sources._toolkit.detect import page_url
from bot.settings import HUB_ALL, FollowHub, SettingsError
from bot.status import Status

#: the components a service's official page publishes (from its latest observations)
ComponentsOf = Callable[[str], list[str]]

LANGUAGES = ("ar", "en", "both")
DIRECT, FOLLOW, HUB = "direct", "follow", "hub"
#: what ``/subscribe delivery`` offers (``hub`` rows come from FOLLOW_HUBS only)
DELIVERIES = (DIRECT, FOLLOW)
#: the guild id of hub rows: they belong to the operator's configuration, not to a guild's list
HUB_GUILD = 0
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
ERR_FOLLOW_OFF = N_("Follow delivery is not set up on this bot. Subscribe with direct delivery instead.")
ERR_FOLLOW_SEVERITY = N_(
    "A followed channel gets either every alert or major outages only: pick disruption or major outage as the minimum severity, or use direct delivery."
)
ERR_FOLLOW_ROLE = N_("Followed alerts can't mention a role: Discord's copies ping no one. Leave the role out, or use direct delivery.")
ERR_NO_HUB = N_("There is no announcement channel with alerts for {service} {in_language} to follow. Use direct delivery instead.")
ERR_NO_MAJOR_HUB = N_(
    "There is no announcement channel with major outages of {service} {in_language} to follow. Use direct delivery instead."
)


class NoHubError(UserError):
    """No hub carries what a ``delivery:follow`` asked for; the answer names the service and
    language in the guild's words (``replies.no_hub``)."""

    def __init__(self, service_id: str, language: str, major: bool) -> None:
        super().__init__(ERR_NO_MAJOR_HUB if major else ERR_NO_HUB)
        self.service_id, self.language, self.major = service_id, language, major


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
    delivery: str = DIRECT
    hub_channel_id: int | None = None
    webhook_id: int | None = None
    #: the follower webhook this change made useless (to delete on Discord), if any
    replaced_webhook_id: int | None = None

    @classmethod
    def from_row(cls, row: Subscription, *, replaced_webhook_id: int | None = None) -> "SubscriptionInfo":
        return cls(
            row.id, row.guild_id, row.channel_id, row.service_id, row.language, row.role_id,
            row.min_severity, row.enabled, row.disabled_reason, row.component, row.delivery, row.hub_channel_id,
            row.webhook_id, replaced_webhook_id,
        )


def check_hubs(hubs: Sequence[FollowHub], catalog: Catalog) -> tuple[FollowHub, ...]:
    """The configured hubs, each naming ``all`` or a service of the catalog."""
    for hub in hubs:
        if hub.service_id != HUB_ALL and catalog.get(hub.service_id) is None:
            raise SettingsError(f"FOLLOW_HUBS has {hub.key}: the catalog has no service {hub.service_id!r}")
    return tuple(hubs)


class SubscriptionService:
    """Creates, changes, removes and lists the subscriptions of a guild. With ``custom`` a
    status page URL is a service too (``bot.services.custom``); with ``components_of`` a
    subscription may name one component of its service's page."""

    def __init__(
        self,
        catalog: Catalog,
        custom: CustomServices | None = None,
        components_of: ComponentsOf | None = None,
        *,
        hubs: Sequence[FollowHub] = (),
    ) -> None:
        self.catalog = catalog
        self.custom = custom
        self.components_of = components_of
        self.hubs = check_hubs(hubs, catalog)

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

    def hub_for(self, query: str, *, language: str, min_severity: str) -> tuple[str, FollowHub]:
        """(the service id, the hub a ``delivery:follow`` subscription follows); a clear
        ``UserError`` when no hub carries what was asked."""
        if language not in LANGUAGES:
            raise UserError(ERR_LANGUAGE)
        if min_severity not in SEVERITIES:
            raise UserError(ERR_SEVERITY)
        service_id = self.resolve(query)
        if not self.hubs:
            raise UserError(ERR_FOLLOW_OFF)
        if min_severity == Status.PARTIAL_OUTAGE.value:
            raise UserError(ERR_FOLLOW_SEVERITY)
        major = min_severity == Status.MAJOR_OUTAGE.value
        for hub in self.hubs:
            if (hub.language, hub.service_id, hub.major) == (language, service_id, major):
                return service_id, hub
        raise NoHubError(service_id, language, major)

    async def sync_hubs(self) -> int:
        """Make the ``hub`` rows equal the configured hubs (one per hub channel, re-enabled);
        hubs no longer configured are disabled, their history kept. Returns how many are live."""
        async with in_transaction() as conn:
            live: list[int] = []
            for hub in self.hubs:
                row = await Subscription.filter(channel_id=hub.channel_id, service_id=hub.service_id).using_db(conn).first()
                values = dict(guild_id=HUB_GUILD, language=hub.language, role_id=None, min_severity=hub.min_severity,
                              enabled=True, disabled_reason=None, delivery=HUB, hub_channel_id=None, webhook_id=None)
                if row is None:
                    row = await Subscription.create(channel_id=hub.channel_id, service_id=hub.service_id, using_db=conn, **values)
                else:
                    await Subscription.filter(id=row.id).using_db(conn).update(**values)
                live.append(row.id)
            await Subscription.filter(delivery=HUB).exclude(id__in=live).using_db(conn).update(
                enabled=False, disabled_reason="hub removed from FOLLOW_HUBS"
            )
        return len(live)

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
        follow: tuple[FollowHub, int] | None = None,
    ) -> tuple[SubscriptionInfo, bool]:
        """Subscribe ``channel_id`` to the service (a status page URL reads and adds the page,
        see ``bot.services.custom``); returns (the subscription, created?). One row per
        channel and service: subscribing again changes it, its component included.

        ``follow``: (the hub, the follower webhook Discord made) for ``delivery:follow``. The
        returned ``replaced_webhook_id`` is a follower webhook this change made useless."""
        if language not in LANGUAGES:
            raise UserError(ERR_LANGUAGE)
        if min_severity not in SEVERITIES:
            raise UserError(ERR_SEVERITY)
        if follow is not None and role_id is not None:
            raise UserError(ERR_FOLLOW_ROLE)
        if component is not None and component.strip() and query.strip().casefold() in ALL_WORDS:
            raise UserError(ERR_COMPONENT_ALL)
        service_id = await self._service_id(guild_id, query, now or datetime.now(timezone.utc))
        delivery, hub_channel_id, webhook_id = (FOLLOW, follow[0].channel_id, follow[1]) if follow else (DIRECT, None, None)
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
                    delivery=delivery, hub_channel_id=hub_channel_id, webhook_id=webhook_id,
                )
                return SubscriptionInfo.from_row(row), True
        except Exception:
            if self.custom is not None:  # a page read for nothing is not kept
                await self.custom.release([service_id])
            raise
        replaced = row.webhook_id if row.webhook_id not in (None, webhook_id) else None
        row.language = language
        row.role_id = role_id
        row.min_severity = min_severity
        row.component = chosen
        row.enabled = True
        row.disabled_reason = None
        row.delivery, row.hub_channel_id, row.webhook_id = delivery, hub_channel_id, webhook_id
        await row.save(update_fields=["language", "role_id", "min_severity", "component", "enabled", "disabled_reason",
                                      "delivery", "hub_channel_id", "webhook_id"])
        return SubscriptionInfo.from_row(row, replaced_webhook_id=replaced), False

    async def current(self, channel_id: int, query: str) -> SubscriptionInfo | None:
        """The channel's subscription to the service, if any."""
        row = await Subscription.get_or_none(channel_id=channel_id, service_id=self.resolve(query))
        return SubscriptionInfo.from_row(row) if row is not None else None

    async def unsubscribe(self, guild_id: int, channel_id: int, query: str, *, release: bool = True) -> list[str]:
        """Remove the channel's subscription to the service (``all``: every subscription of
        the channel). Returns the service ids removed; raises when there was none. Custom
        services no subscription uses any more are released, unless ``release`` is false (the
        caller names them in its answer first, then calls ``release``)."""
        return [sub.service_id for sub in await self.remove(guild_id, channel_id, query, release=release)]

    async def remove(self, guild_id: int, channel_id: int, query: str, *, release: bool = True) -> list[SubscriptionInfo]:
        """``unsubscribe`` returning the removed subscriptions (their follower webhooks are to be
        deleted on Discord)."""
        service_id = self.resolve(query)
        rows = Subscription.filter(guild_id=guild_id, channel_id=channel_id)
        if service_id != ALL:
            rows = rows.filter(service_id=service_id)
        removed = [SubscriptionInfo.from_row(row) for row in await rows.order_by("id")]
        if not removed:
            raise UserError(ERR_NOT_SUBSCRIBED, channel=f"<#{channel_id}>", service=echo(query))
        await rows.delete()
        if release:
            await self.release([sub.service_id for sub in removed])
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
