"""Grouping by upstream provider (``bot.detect.upstream``): table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.upstream import (
    Group, GroupRef, OpenIncident, followed_together, group_from_extra, group_incidents, group_of, group_to_extra,
    grouped_for_channel, upstream_of,
)

T0 = datetime(2025, 6, 12, 17, 50, tzinfo=timezone.utc)
PROVIDERS = {"cloudflare", "aws"}
DEPENDS = {"discord": {"cloudflare"}, "x": {"cloudflare"}, "chatgpt": {"cloudflare", "aws"}, "slack": {"aws"}}


def inc(service: str, minutes: float, resolved: float | None = None) -> OpenIncident:
    return OpenIncident(
        service, f"{service}-{minutes}", T0 + timedelta(minutes=minutes),
        None if resolved is None else T0 + timedelta(minutes=resolved),
    )  # fmt: skip


def shape(groups: list[Group]) -> list[tuple[str, list[str]]]:
    return [(g.provider.service_id, [m.service_id for m in g.members]) for g in groups]


@pytest.mark.parametrize(
    ("incidents", "expected"),
    [
        # a dependent failing with its provider joins it
        ([inc("cloudflare", 0), inc("discord", 3)], [("cloudflare", ["discord"])]),
        # members in order of start, provider first
        ([inc("cloudflare", 0), inc("x", 9), inc("discord", 3)], [("cloudflare", ["discord", "x"])]),
        # users of a dependent often notice first: up to 15 minutes before the provider
        ([inc("discord", -15), inc("cloudflare", 0)], [("cloudflare", ["discord"])]),
        ([inc("discord", -16), inc("cloudflare", 0)], []),
        # … and up to 30 minutes after
        ([inc("cloudflare", 0), inc("discord", 30)], [("cloudflare", ["discord"])]),
        ([inc("cloudflare", 0), inc("discord", 31)], []),
        # no documented link, no group, however close in time
        ([inc("cloudflare", 0), inc("github", 1)], []),
        ([inc("aws", 0), inc("discord", 1)], []),
        # a provider failing alone is an ordinary alert
        ([inc("cloudflare", 0)], []),
        # a dependent of two failing providers joins the one that started closest to it
        ([inc("cloudflare", 0), inc("aws", 20), inc("chatgpt", 18)], [("aws", ["chatgpt"])]),
        ([inc("cloudflare", 0), inc("aws", 20), inc("chatgpt", 5)], [("cloudflare", ["chatgpt"])]),
        # a tie goes to the earlier provider
        ([inc("cloudflare", 0), inc("aws", 20), inc("chatgpt", 10)], [("cloudflare", ["chatgpt"])]),
        # two providers, two groups, ordered by the provider's start
        ([inc("aws", 5), inc("slack", 6), inc("cloudflare", 0), inc("x", 1)], [("cloudflare", ["x"]), ("aws", ["slack"])]),
        # a provider's incident never joins another provider's group
        ([inc("cloudflare", 0), inc("aws", 2), inc("discord", 1)], [("cloudflare", ["discord"])]),
    ],
)
def test_groups(incidents: list[OpenIncident], expected: list[tuple[str, list[str]]]) -> None:
    assert shape(group_incidents(incidents, DEPENDS, PROVIDERS)) == expected


@pytest.mark.parametrize(
    ("incidents", "expected"),
    [
        # a member that recovered stays in the group while another incident is open
        ([inc("cloudflare", 0), inc("discord", 3, resolved=40), inc("x", 5)], [("cloudflare", ["discord", "x"])]),
        # the provider recovered first; its dependents are still down: still one group
        ([inc("cloudflare", 0, resolved=20), inc("discord", 3)], [("cloudflare", ["discord"])]),
        # everything recovered: the group is over
        ([inc("cloudflare", 0, resolved=50), inc("discord", 3, resolved=45)], []),
    ],
)
def test_a_group_lives_until_its_last_incident_recovers(incidents: list[OpenIncident], expected: list[tuple[str, list[str]]]) -> None:
    assert shape(group_incidents(incidents, DEPENDS, PROVIDERS)) == expected


def test_the_group_key_is_stable_as_services_join() -> None:
    early = group_incidents([inc("cloudflare", 0), inc("discord", 3)], DEPENDS, PROVIDERS)
    later = group_incidents([inc("cloudflare", 0), inc("discord", 3), inc("x", 12)], DEPENDS, PROVIDERS)
    assert early[0].key == later[0].key == "group:cloudflare-0"
    assert later[0].services == ("cloudflare", "discord", "x")


GROUPS = group_incidents([inc("cloudflare", 0), inc("discord", 3), inc("x", 5), inc("aws", 2), inc("slack", 4)], DEPENDS, PROVIDERS)


@pytest.mark.parametrize(
    ("subscribed", "grouped"),
    [
        # two of a group's services: one message for both
        ({"discord", "x"}, {"discord": "cloudflare", "x": "cloudflare"}),
        # the provider counts as one of them
        ({"cloudflare", "discord"}, {"cloudflare": "cloudflare", "discord": "cloudflare"}),
        # one service of the group: its own alert
        ({"discord"}, {}),
        ({"discord", "slack"}, {}),
        # every service: every group
        ({"all"}, {"cloudflare": "cloudflare", "discord": "cloudflare", "x": "cloudflare", "aws": "aws", "slack": "aws"}),
        # two groups at once
        ({"discord", "x", "aws", "slack", "github"}, {"discord": "cloudflare", "x": "cloudflare", "aws": "aws", "slack": "aws"}),
        ({"github"}, {}),
    ],
)
def test_a_channel_reads_a_group_as_one_message_when_it_follows_two_of_its_services(subscribed: set[str], grouped: dict[str, str]) -> None:
    plan = grouped_for_channel(GROUPS, subscribed)
    assert {service: group.provider.service_id for service, group in plan.items()} == grouped


@pytest.mark.parametrize(("service", "upstream"), [("discord", "cloudflare"), ("slack", "aws"), ("cloudflare", None), ("github", None)])
def test_the_likely_upstream_of_a_service(service: str, upstream: str | None) -> None:
    assert upstream_of(service, GROUPS) == upstream


# -- the group as an event carries it to delivery ---------------------------------------------


@pytest.mark.parametrize(
    ("services", "subscribed", "together"),
    [
        (("cloudflare", "discord", "x"), {"discord", "x"}, ["discord", "x"]),
        (("cloudflare", "discord", "x"), {"cloudflare", "discord"}, ["cloudflare", "discord"]),
        (("cloudflare", "discord", "x"), {"x"}, []),  # one service: its own alert
        (("cloudflare", "discord", "x"), {"github", "x"}, []),
        (("cloudflare", "discord"), {"all"}, ["cloudflare", "discord"]),
        (("cloudflare", "discord"), set(), []),
    ],
)
def test_followed_together(services: tuple[str, ...], subscribed: set[str], together: list[str]) -> None:
    assert followed_together(services, subscribed) == together


def test_a_group_survives_the_trip_through_an_event_and_its_members_find_it() -> None:
    [group] = group_incidents([inc("cloudflare", 0), inc("x", 9), inc("discord", 3)], DEPENDS, PROVIDERS)
    ref = group_from_extra(group_to_extra(group))
    assert ref == GroupRef(group.key, "cloudflare", {"cloudflare": "cloudflare-0", "discord": "discord-3", "x": "x-9"})
    assert ref.services == ("cloudflare", "discord", "x")
    assert group_of("x", [group]) is group and group_of("cloudflare", [group]) is group
    assert group_of("github", [group]) is None


@pytest.mark.parametrize(
    "raw",
    [None, "", "not json", "[]", '{"key": 1}', '{"key": "g", "provider": "cf", "incidents": {}}',
     '{"key": "g", "provider": "cf", "incidents": {"cf": 3}}', '{"key": "g", "provider": "cf", "incidents": []}'],
)  # fmt: skip
def test_a_malformed_group_is_no_group(raw: str | None) -> None:
    assert group_from_extra(raw) is None
