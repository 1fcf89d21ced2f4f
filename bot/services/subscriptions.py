"""Channel subscriptions: ``/subscribe``, ``/unsubscribe``, ``/subscriptions``.

A subscription is one row per (channel, service or ``all``); subscribing again changes the
existing row (language, role, minimum severity) and re-enables it if delivery had disabled it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import ALL, Catalog
from bot.db.models import Subscription
from bot.i18n import N_, Nn_
from bot.notify.text import echo
from bot.services.errors import UserError
from bot.status import Status

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

    @classmethod
    def from_row(cls, row: Subscription) -> "SubscriptionInfo":
        return cls(
            row.id, row.guild_id, row.channel_id, row.service_id, row.language, row.role_id,
            row.min_severity, row.enabled, row.disabled_reason,
        )


class SubscriptionService:
    """Creates, changes, removes and lists the subscriptions of a guild."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

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
    ) -> tuple[SubscriptionInfo, bool]:
        """Subscribe ``channel_id`` to the service; returns (the subscription, created?)."""
        if language not in LANGUAGES:
            raise UserError(ERR_LANGUAGE)
        if min_severity not in SEVERITIES:
            raise UserError(ERR_SEVERITY)
        service_id = self.resolve(query)
        row = await Subscription.get_or_none(channel_id=channel_id, service_id=service_id)
        if row is None:
            count = await Subscription.filter(guild_id=guild_id).count()
            if count >= MAX_PER_GUILD:
                raise UserError(ERR_TOO_MANY, n=count, command="/unsubscribe")
            row = await Subscription.create(
                guild_id=guild_id, channel_id=channel_id, service_id=service_id, language=language,
                role_id=role_id, min_severity=min_severity, created_by=created_by,
            )
            return SubscriptionInfo.from_row(row), True
        row.language = language
        row.role_id = role_id
        row.min_severity = min_severity
        row.enabled = True
        row.disabled_reason = None
        await row.save(update_fields=["language", "role_id", "min_severity", "enabled", "disabled_reason"])
        return SubscriptionInfo.from_row(row), False

    async def unsubscribe(self, guild_id: int, channel_id: int, query: str) -> list[str]:
        """Remove the channel's subscription to the service (``all``: every subscription of
        the channel). Returns the service ids removed; raises when there was none."""
        service_id = self.resolve(query)
        rows = Subscription.filter(guild_id=guild_id, channel_id=channel_id)
        if service_id != ALL:
            rows = rows.filter(service_id=service_id)
        removed = [row.service_id for row in await rows.order_by("id")]
        if not removed:
            raise UserError(ERR_NOT_SUBSCRIBED, channel=f"<#{channel_id}>", service=echo(query))
        await rows.delete()
        return removed

    async def list(self, guild_id: int) -> list[SubscriptionInfo]:
        """The guild's subscriptions, by channel then service."""
        rows = await Subscription.filter(guild_id=guild_id).order_by("channel_id", "service_id")
        return [SubscriptionInfo.from_row(r) for r in rows]
