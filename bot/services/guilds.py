"""Guild settings: language, time zone and digits, read for every answer and changed by
``/settings``.

A guild without a row speaks English in UTC with Western digits (DESIGN.md). The language is
only ever the guild's choice: Discord has no Arabic client locale, so ``interaction.locale`` is
never consulted.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.core import get_global

from bot.db.models import CrowdReport, GuildSettings
from bot.i18n import DIGITS, LOCALES, N_, Translator, translations
from bot.notify.render.words import country_name
from bot.notify.text import echo
from bot.services.errors import UserError

#: the zones offered before the user types anything (the bot's audience first)
COMMON_TIMEZONES: tuple[str, ...] = (
    "Asia/Riyadh",
    "Africa/Cairo",
    "Asia/Dubai",
    "Asia/Kuwait",
    "Asia/Qatar",
    "Asia/Bahrain",
    "Asia/Muscat",
    "Asia/Baghdad",
    "Asia/Amman",
    "Asia/Beirut",
    "Asia/Damascus",
    "Asia/Jerusalem",
    "Asia/Aden",
    "Africa/Casablanca",
    "Africa/Algiers",
    "Africa/Tunis",
    "Africa/Tripoli",
    "Africa/Khartoum",
    "Europe/Istanbul",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "UTC",
)

ERR_TIMEZONE = N_("{zone} is not a time zone we know. Pick one from the list, like {example}.")
ERR_LANGUAGE = N_("The language must be Arabic or English.")
ERR_DIGITS = N_("Digits must be Western (0123) or Eastern Arabic (٠١٢٣).")
ERR_COUNTRY = N_("{country} is not a country we know. Pick one from the list.")


@dataclass(frozen=True, slots=True)
class GuildPrefs:
    """What rendering needs from a guild's settings."""

    language: str = "en"
    timezone: str = "UTC"
    digits: str = "latn"
    #: the guild's country as it set it, else the one its time zone lies in (None for UTC)
    country: str | None = None

    def translator(self, language: str | None = None) -> Translator:
        """The guild's translator (in ``language`` instead of the guild's when given)."""
        return translations(language or self.language, self.timezone, self.digits)  # type: ignore[arg-type]


DEFAULT_PREFS = GuildPrefs()


class GuildService:
    """Reads and changes ``GuildSettings`` rows."""

    async def get(self, guild_id: int | None) -> GuildPrefs:
        """The guild's settings (defaults for a guild without a row, or outside a guild)."""
        if guild_id is None:
            return DEFAULT_PREFS
        row = await GuildSettings.get_or_none(guild_id=guild_id)
        if row is None:
            return DEFAULT_PREFS
        return _prefs(row)

    async def update(
        self,
        guild_id: int,
        *,
        language: str | None = None,
        timezone: str | None = None,
        digits: str | None = None,
        country: str | None = None,
    ) -> GuildPrefs:
        """Change what was given (validated first: nothing is written on a mistake)."""
        if language is not None and language not in LOCALES:
            raise UserError(ERR_LANGUAGE)
        if digits is not None and digits not in DIGITS:
            raise UserError(ERR_DIGITS)
        if timezone is not None:
            timezone = canonical_timezone(timezone)
        if country is not None:
            country = canonical_country(country)
        row, _ = await GuildSettings.get_or_create(guild_id=guild_id)
        changed: list[str] = []
        for name, value in (("language", language), ("timezone", timezone), ("digits", digits), ("country", country)):
            if value is not None:
                setattr(row, name, value)
                changed.append(name)
        if changed:
            await row.save(update_fields=[*changed, "updated_at"])
        return _prefs(row)


def _prefs(row: GuildSettings) -> GuildPrefs:
    language = row.language if row.language in LOCALES else "en"
    digits = row.digits if row.digits in DIGITS else "latn"
    try:
        ZoneInfo(row.timezone)
        zone = row.timezone
    except (ZoneInfoNotFoundError, ValueError):
        zone = "UTC"  # a zone removed from tzdata since it was chosen
    country = row.country if row.country in _countries() else country_of_zone(zone)
    return GuildPrefs(language, zone, digits, country)


@lru_cache(maxsize=1)
def _all_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


@lru_cache(maxsize=1)
def _zones_by_folded() -> dict[str, str]:
    return {_fold(z): z for z in _all_zones()}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold().replace(" ", "_")


def canonical_timezone(name: str) -> str:
    """``name`` as the IANA database spells it (case and spaces forgiven); raises ``UserError``."""
    found = _zones_by_folded().get(_fold(name))
    if found is None:
        raise UserError(ERR_TIMEZONE, zone=echo(name, 64), example="Asia/Riyadh")
    return found


def suggest_timezones(query: str, limit: int = 25) -> list[str]:
    """Autocomplete: the common zones when nothing is typed, else zones containing the query
    (those starting with it, or whose city starts with it, first)."""
    q = _fold(query)
    if not q:
        return list(COMMON_TIMEZONES[:limit])
    first: list[str] = []
    rest: list[str] = []
    seen: set[str] = set()
    for zone in (*COMMON_TIMEZONES, *_all_zones()):
        folded = _fold(zone)
        if q not in folded or zone in seen:
            continue
        seen.add(zone)
        city = folded.rsplit("/", 1)[-1]
        (first if folded.startswith(q) or city.startswith(q) else rest).append(zone)
    return (first + rest)[:limit]


# --- countries ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes babel names (regions such as 001 or EU are not countries)."""
    codes = (str(code) for code in Locale.parse("en").territories)
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha() and c not in ("EU", "EZ", "UN", "QO", "ZZ"))


def country_of_zone(zone: str) -> str | None:
    """The country an IANA time zone lies in (``Asia/Baghdad`` → ``IQ``; None for UTC)."""
    found = get_global("zone_territories").get(zone)
    return found if found in _countries() else None


@lru_cache(maxsize=4)
def _country_names(lang: str) -> dict[str, str]:
    return {code: country_name(code, lang) for code in _countries()}


def canonical_country(text: str) -> str:
    """An ISO code or a country's name in English or Arabic → its ISO code; raises ``UserError``."""
    folded = _fold(text)
    if text.strip().upper() in _countries():
        return text.strip().upper()
    for lang in LOCALES:
        for code, name in _country_names(lang).items():
            if _fold(name) == folded:
                return code
    raise UserError(ERR_COUNTRY, country=text.strip()[:64])


def suggest_countries(current: str, lang: str, limit: int = 25) -> list[tuple[str, str]]:
    """(code, "name · الاسم") for the autocomplete: names in both languages matching ``current``."""
    folded = _fold(current)
    out: list[tuple[str, str]] = []
    for code in sorted(_countries(), key=lambda c: country_name(c, lang)):
        label = f"{country_name(code, 'en')} · {country_name(code, 'ar')} ({code})"
        if not folded or folded in _fold(label):
            out.append((code, label[:100]))
        if len(out) >= limit:
            break
    return out


#: crowd reports this recent make their country matter to the IODA poller
REPORTS_MATTER_FOR = timedelta(hours=24)


async def countries_that_matter(now: datetime, within: timedelta = REPORTS_MATTER_FOR) -> list[str]:
    """The countries whose national connectivity the bot should know (``bot.runtime.ioda``):
    every guild's country (as set, else its time zone's) and the countries of crowd reports
    within ``within`` — the ones with most guilds and reports first."""
    tally: Counter[str] = Counter()
    for country, zone in await GuildSettings.all().values_list("country", "timezone"):
        code = country if country in _countries() else country_of_zone(zone or "UTC")
        if code:
            tally[code] += 1
    reported = await CrowdReport.filter(at__gte=now - within, country__isnull=False).values_list("country", flat=True)
    for value in reported:
        if isinstance(value, str) and value in _countries():
            tally[value] += 1
    return [code for code, _ in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))]
