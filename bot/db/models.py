"""Tortoise models: everything that must survive a restart.

Incidents, their timeline and deliveries live here so a restart neither loses an alert nor
sends one twice (Gatus #679/#1111); detector and source state live here so the in-memory
caches can be rebuilt.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class GuildSettings(Model):
    """Per-guild preferences, a guild without a row speaks English in UTC with Latin digits."""

    guild_id = fields.BigIntField(primary_key=True)
    language = fields.CharField(max_length=4, default="en")  # ar | en
    timezone = fields.CharField(max_length=64, default="UTC")
    digits = fields.CharField(max_length=4, default="latn")  # latn | arab
    country = fields.CharField(max_length=2, null=True)  # ISO 3166 alpha-2; None: from the time zone
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "guild_settings"


class Subscription(Model):
    """A channel following one service (or all) in a language."""

    id = fields.IntField(primary_key=True)
    guild_id = fields.BigIntField(db_index=True)
    channel_id = fields.BigIntField(db_index=True)
    service_id = fields.CharField(max_length=64, db_index=True)  # a catalog or custom id, or "all"
    #: one component of the service's official page ("Actions"): alerted only when it is affected
    component = fields.CharField(max_length=200, null=True)
    language = fields.CharField(max_length=4, default="en")  # ar | en | both
    role_id = fields.BigIntField(null=True)
    min_severity = fields.CharField(max_length=16, default="degraded")
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=200, null=True)
    created_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    #: ``direct`` (the bot posts in the channel), ``follow`` (the channel follows the hub
    #: ``hub_channel_id`` through Discord's follower webhook ``webhook_id``; the outbox skips
    #: it) or ``hub`` (an operator's announcement channel from FOLLOW_HUBS: posted, then published)
    delivery = fields.CharField(max_length=8, default="direct")
    hub_channel_id = fields.BigIntField(null=True)
    webhook_id = fields.BigIntField(null=True)

    class Meta:
        table = "subscriptions"
        unique_together = (("channel_id", "service_id"),)


class CustomService(Model):
    """A status page typed by a Discord user (``/subscribe <url>``), polled like a catalog
    service while a subscription uses it; shared by every guild that adds the same page."""

    id = fields.CharField(max_length=64, primary_key=True)  # "u-<host>-<hash>", the service id
    url = fields.CharField(max_length=500, unique=True)  # the page as normalized from what was typed
    kind = fields.CharField(max_length=16)  # the source kind the page was detected as
    source_url = fields.CharField(max_length=500)  # the SourceSpec url (the page or its API)
    name = fields.CharField(max_length=100)  # what the page calls itself
    created_by_guild = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "custom_services"


class Incident(Model):
    """A period in which the verdict of a service was not operational."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=96, unique=True)
    service_id = fields.CharField(max_length=64, db_index=True)
    status = fields.CharField(max_length=16)
    peak_status = fields.CharField(max_length=16)
    confidence = fields.CharField(max_length=16, null=True)
    unacknowledged = fields.BooleanField(default=False)
    started_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True, db_index=True)
    official_update = fields.TextField(null=True)
    report_peak = fields.IntField(null=True)
    report_peak_at = fields.DatetimeField(null=True)
    #: when the official page first reported it (None: not yet, or never)
    acknowledged_at = fields.DatetimeField(null=True)
    #: the service had an official page to watch, so "never acknowledged" means something
    page_watched = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    events: fields.ReverseRelation["IncidentEventRecord"]

    class Meta:
        table = "incidents"


class IncidentEventRecord(Model):
    """One entry in the timeline of an incident, turned into deliveries by the outbox."""

    id = fields.IntField(primary_key=True)
    incident: fields.ForeignKeyRelation[Incident] = fields.ForeignKeyField(
        "models.Incident", related_name="events", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16)
    at = fields.DatetimeField(db_index=True)
    status = fields.CharField(max_length=16)
    payload: Any = fields.JSONField()  # the serialized IncidentEvent, for rendering later

    class Meta:
        table = "incident_events"


class Delivery(Model):
    """One message for one incident event to one channel, persisted before it is sent."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[IncidentEventRecord] = fields.ForeignKeyField(
        "models.IncidentEventRecord", related_name="deliveries", on_delete=fields.CASCADE
    )
    subscription: fields.ForeignKeyRelation[Subscription] = fields.ForeignKeyField(
        "models.Subscription", related_name="deliveries", on_delete=fields.CASCADE
    )
    channel_id = fields.BigIntField()
    language = fields.CharField(max_length=4)
    nonce = fields.CharField(max_length=25, unique=True)
    state = fields.CharField(max_length=12, default="pending", db_index=True)  # pending|sent|failed|dropped
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    message_id = fields.BigIntField(null=True)
    last_error = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    #: when a hub delivery's message was published (crossposted) to the hub's followers
    published_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "deliveries"
        unique_together = (("event_id", "subscription_id"),)


class AlertMessage(Model):
    """The alert message of an incident in a channel: edited on updates, replied to on recovery."""

    id = fields.IntField(primary_key=True)
    incident: fields.ForeignKeyRelation[Incident] = fields.ForeignKeyField(
        "models.Incident", related_name="alert_messages", on_delete=fields.CASCADE
    )
    channel_id = fields.BigIntField()
    message_id = fields.BigIntField()
    #: set when the message carries a group of incidents (``bot.detect.upstream``): every
    #: incident of the group in this channel points at the same message
    group_key = fields.CharField(max_length=104, null=True)

    class Meta:
        table = "alert_messages"
        unique_together = (("incident_id", "channel_id"),)


class DetectorState(Model):
    """The state of the incident state machine for one service (JSON), rebuilt at start."""

    service_id = fields.CharField(max_length=64, primary_key=True)
    state: Any = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "detector_state"


class SourceState(Model):
    """Per-source scheduling and the last observation, ``owner``/``lease_until`` let several
    worker processes share the sources."""

    key = fields.CharField(max_length=128, primary_key=True)  # "<service_id>:<index>"
    service_id = fields.CharField(max_length=64, db_index=True)
    kind = fields.CharField(max_length=16)
    next_due = fields.DatetimeField(db_index=True)
    consecutive_errors = fields.IntField(default=0)
    last_observation: Any = fields.JSONField(null=True)
    owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "source_state"


class CrowdReport(Model):
    """One crowd report (a user saying it is down for them), purged after the retention period."""

    id = fields.IntField(primary_key=True)
    service_id = fields.CharField(max_length=64)
    guild_id = fields.BigIntField(null=True)
    user_hash = fields.CharField(max_length=64)
    problem = fields.CharField(max_length=16, default="other")
    weight = fields.FloatField(default=1.0)
    counted = fields.BooleanField(default=True)
    at = fields.DatetimeField(db_index=True)
    country = fields.CharField(max_length=2, null=True)  # the reporting guild's, when it has one

    class Meta:
        table = "crowd_reports"
        # (user_hash, service_id, at): the rate limit's, on PostgreSQL only (bot.db.setup.RATE_LIMIT_INDEX)
        indexes = (("service_id", "at"), ("user_hash", "service_id", "at"))


class WorksReport(Model):
    """One “works for me” answer (a user saying the service works for them), purged with the
    crowd reports: it weighs against a crowd-only alert (``bot.detect.crowd.weigh_works``)."""

    id = fields.IntField(primary_key=True)
    service_id = fields.CharField(max_length=64)
    guild_id = fields.BigIntField(null=True)
    user_hash = fields.CharField(max_length=64)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "works_reports"
        indexes = (("service_id", "at"),)


class CrowdBucket(Model):
    """Weighted report count per service per 5-minute bucket, kept for the baseline."""

    id = fields.IntField(primary_key=True)
    service_id = fields.CharField(max_length=64)
    bucket_start = fields.DatetimeField()
    count = fields.FloatField(default=0.0)

    class Meta:
        table = "crowd_buckets"
        unique_together = (("service_id", "bucket_start"),)


class KeyValue(Model):
    """Small named values (the report-hash salt, the crowd baselines) that must persist."""

    key = fields.CharField(max_length=64, primary_key=True)
    value: Any = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "key_value"


class Lease(Model):
    """A named lease (the poller's election): who holds it and until when (database time)."""

    name = fields.CharField(max_length=64, primary_key=True)
    holder = fields.CharField(max_length=128)
    until = fields.DatetimeField()

    class Meta:
        table = "leases"
