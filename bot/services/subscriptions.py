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

from typing import Sequence

from tortoise.transactions import in_transaction

from bot.catalog import ALL, Catalog
from bot.db.models import Subscription
from bot.i18n import N_, Nn_
from bot.notify.text import echo
from bot.services.errors import UserError
from bot.settings import HUB_ALL, FollowHub, SettingsError
from bot.status import Status

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
    service_id: str  # a catalog id or "all"
    language: str
    role_id: int | None
    min_severity: str
    enabled: bool = True
    disabled_reason: str | None = None
    delivery: str = DIRECT
    hub_channel_id: int | None = None
    webhook_id: int | None = None
    #: the follower webhook this change made useless (to delete on Discord), if any
    replaced_webhook_id: int | None = None

    @classmethod
    def from_row(cls, row: Subscription, *, replaced_webhook_id: int | None = None) -> "SubscriptionInfo":
        return cls(
            row.id, row.guild_id, row.channel_id, row.service_id, row.language, row.role_id,
            row.min_severity, row.enabled, row.disabled_reason, row.delivery, row.hub_channel_id,
            row.webhook_id, replaced_webhook_id,
        )


def check_hubs(hubs: Sequence[FollowHub], catalog: Catalog) -> tuple[FollowHub, ...]:
    """The configured hubs, each naming ``all`` or a service of the catalog."""
    for hub in hubs:
        if hub.service_id != HUB_ALL and catalog.get(hub.service_id) is None:
            raise SettingsError(f"FOLLOW_HUBS has {hub.key}: the catalog has no service {hub.service_id!r}")
    return tuple(hubs)


class SubscriptionService:
    """Creates, changes, removes and lists the subscriptions of a guild."""

    def __init__(self, catalog: Catalog, hubs: Sequence[FollowHub] = ()) -> None:
        self.catalog = catalog
        self.hubs = check_hubs(hubs, catalog)

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
        follow: tuple[FollowHub, int] | None = None,
    ) -> tuple[SubscriptionInfo, bool]:
        """Subscribe ``channel_id`` to the service; returns (the subscription, created?).

        ``follow``: (the hub, the follower webhook Discord made) for ``delivery:follow``. The
        returned ``replaced_webhook_id`` is a follower webhook this change made useless."""
        if language not in LANGUAGES:
            raise UserError(ERR_LANGUAGE)
        if min_severity not in SEVERITIES:
            raise UserError(ERR_SEVERITY)
        if follow is not None and role_id is not None:
            raise UserError(ERR_FOLLOW_ROLE)
        service_id = self.resolve(query)
        delivery, hub_channel_id, webhook_id = (FOLLOW, follow[0].channel_id, follow[1]) if follow else (DIRECT, None, None)
        row = await Subscription.get_or_none(channel_id=channel_id, service_id=service_id)
        if row is None:
            count = await Subscription.filter(guild_id=guild_id).count()
            if count >= MAX_PER_GUILD:
                raise UserError(ERR_TOO_MANY, n=count, command="/unsubscribe")
            row = await Subscription.create(
                guild_id=guild_id, channel_id=channel_id, service_id=service_id, language=language,
                role_id=role_id, min_severity=min_severity, created_by=created_by,
                delivery=delivery, hub_channel_id=hub_channel_id, webhook_id=webhook_id,
            )
            return SubscriptionInfo.from_row(row), True
        replaced = row.webhook_id if row.webhook_id not in (None, webhook_id) else None
        row.language = language
        row.role_id = role_id
        row.min_severity = min_severity
        row.enabled = True
        row.disabled_reason = None
        row.delivery, row.hub_channel_id, row.webhook_id = delivery, hub_channel_id, webhook_id
        await row.save(update_fields=["language", "role_id", "min_severity", "enabled", "disabled_reason",
                                      "delivery", "hub_channel_id", "webhook_id"])
        return SubscriptionInfo.from_row(row, replaced_webhook_id=replaced), False

    async def current(self, channel_id: int, query: str) -> SubscriptionInfo | None:
        """The channel's subscription to the service, if any."""
        row = await Subscription.get_or_none(channel_id=channel_id, service_id=self.resolve(query))
        return SubscriptionInfo.from_row(row) if row is not None else None

    async def unsubscribe(self, guild_id: int, channel_id: int, query: str) -> list[str]:
        """Remove the channel's subscription to the service (``all``: every subscription of
        the channel). Returns the service ids removed; raises when there was none."""
        return [sub.service_id for sub in await self.remove(guild_id, channel_id, query)]

    async def remove(self, guild_id: int, channel_id: int, query: str) -> list[SubscriptionInfo]:
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
        return removed

    async def list(self, guild_id: int) -> list[SubscriptionInfo]:
        """The guild's subscriptions, by channel then service."""
        rows = await Subscription.filter(guild_id=guild_id).order_by("channel_id", "service_id")
        return [SubscriptionInfo.from_row(r) for r in rows]
