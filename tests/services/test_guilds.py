"""Guild settings: defaults, validated updates, time zone suggestions (real database)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.db.models import GuildSettings
from bot.services.errors import UserError
from bot.services.guilds import (
    COMMON_TIMEZONES,
    DEFAULT_PREFS,
    ERR_COUNTRY,
    ERR_DIGITS,
    ERR_LANGUAGE,
    ERR_TIMEZONE,
    GuildPrefs,
    GuildService,
    canonical_timezone,
    suggest_countries,
    suggest_timezones,
)

GUILD = 1234


async def test_a_guild_without_a_row_speaks_english_in_utc(db: Any) -> None:
    service = GuildService()
    assert await service.get(GUILD) == GuildPrefs("en", "UTC", "latn") == DEFAULT_PREFS
    assert await service.get(None) == DEFAULT_PREFS
    assert await GuildSettings.all().count() == 0  # reading never writes


async def test_update_changes_only_what_was_given(db: Any) -> None:
    service = GuildService()
    prefs = await service.update(GUILD, language="ar")
    assert prefs == GuildPrefs("ar", "UTC", "latn")
    prefs = await service.update(GUILD, timezone="africa/cairo ", digits="arab")
    assert prefs == GuildPrefs("ar", "Africa/Cairo", "arab", "EG")  # the country follows the zone
    assert await service.get(GUILD) == prefs
    assert await service.get(GUILD + 1) == DEFAULT_PREFS


async def test_a_country_is_set_by_code_or_name_in_either_language(db: Any) -> None:
    service = GuildService()
    await service.update(GUILD, timezone="Asia/Riyadh")
    assert (await service.get(GUILD)).country == "SA"  # unset: from the time zone
    for typed in ("iq", "Iraq", "العراق"):
        assert (await service.update(GUILD, country=typed)).country == "IQ"
    assert (await service.update(GUILD, timezone="Europe/Berlin")).country == "IQ"  # set: kept
    with pytest.raises(UserError) as caught:
        await service.update(GUILD, country="Atlantis")
    assert caught.value.msgid == ERR_COUNTRY and caught.value.kwargs == {"country": "Atlantis"}


def test_country_suggestions_name_both_languages() -> None:
    [(code, label)] = suggest_countries("عراق", "ar")
    assert code == "IQ" and "Iraq" in label and "العراق" in label
    assert len(suggest_countries("", "en")) == 25


@pytest.mark.parametrize(
    ("kwargs", "msgid"),
    [({"timezone": "Mars/Olympus"}, ERR_TIMEZONE), ({"language": "fr"}, ERR_LANGUAGE), ({"digits": "roman"}, ERR_DIGITS)],
)
async def test_a_bad_value_is_a_user_error_and_writes_nothing(db: Any, kwargs: dict[str, str], msgid: str) -> None:
    service = GuildService()
    with pytest.raises(UserError) as caught:
        await service.update(GUILD, **{"language": "ar", **kwargs})  # the valid part is not written either
    assert caught.value.msgid == msgid
    assert await GuildSettings.all().count() == 0


def test_translator_follows_the_guild_and_an_override() -> None:
    prefs = GuildPrefs("en", "Asia/Riyadh", "arab")
    assert prefs.translator().lang == "en"
    t = prefs.translator("ar")
    assert (t.lang, t.tz_name, t.digits) == ("ar", "Asia/Riyadh", "arab")


def test_canonical_timezone() -> None:
    assert canonical_timezone("asia/riyadh") == "Asia/Riyadh"
    assert canonical_timezone("America/New York") == "America/New_York"
    assert canonical_timezone("UTC") == "UTC"
    with pytest.raises(UserError) as caught:
        canonical_timezone("Nowhere/Special")
    assert caught.value.kwargs == {"zone": "Nowhere/Special", "example": "Asia/Riyadh"}


def test_suggest_timezones() -> None:
    assert suggest_timezones("") == list(COMMON_TIMEZONES[:25])
    assert suggest_timezones("")[:3] == ["Asia/Riyadh", "Africa/Cairo", "Asia/Dubai"]
    assert suggest_timezones("cairo")[0] == "Africa/Cairo"
    assert suggest_timezones("riy") == ["Asia/Riyadh"]
    europe = suggest_timezones("europe/")
    assert len(europe) == 25 and len(set(europe)) == 25 and all(z.startswith("Europe/") for z in europe)
    assert suggest_timezones("zzzz") == []


async def test_the_countries_that_matter_are_the_guilds_and_recent_reporters(db: Any) -> None:
    from datetime import datetime, timedelta, timezone

    from bot.db.models import CrowdReport
    from bot.services.guilds import countries_that_matter

    now = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    service = GuildService()
    await service.update(1, country="IQ")
    await service.update(2, timezone="Asia/Baghdad")  # no country set: its zone's
    await service.update(3, timezone="Europe/Berlin")
    await service.update(4, language="ar")  # UTC: no country
    for at, country in ((now - timedelta(hours=1), "US"), (now - timedelta(hours=2), "US"), (now - timedelta(days=2), "FR"), (now, None)):
        await CrowdReport.create(service_id="x", guild_id=9, user_hash="h", problem="login", weight=1.0, counted=True, at=at, country=country)
    assert await countries_that_matter(now) == ["IQ", "US", "DE"]
