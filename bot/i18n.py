"""Translations bound to one explicit locale, time zone and digit style (pure: babel only).

There is no global "current locale": one fan-out renders the same incident for many channels,
so every caller asks for its own ``Translator``::

    t = translations("ar", tz="Asia/Riyadh", digits="arab")
    t.ngettext("{n} report", "{n} reports", 1240)    # '⁨١٬٢٤٠⁩ بلاغًا'
    t.duration(timedelta(hours=3, minutes=12))        # '⁨٣⁩ ساعات و⁨١٢⁩ دقيقة'

Catalogs are read straight from ``locales/<lang>/LC_MESSAGES/bot.po`` with babel's
``read_po`` when first needed: there is no compile step to forget and no ``.mo`` file to keep
in sync. The plural rule is the one written in the catalog's own ``Plural-Forms`` header
(evaluated with the standard library's ``gettext.c2py``), never babel's built-in table, whose
Arabic forms 4 and 5 are ordered unlike CLDR and GNU gettext (python-babel issue 816).

Formatting rules:

* ``{name}`` placeholders (``str.format`` style, named only). ``int``/``float`` values are
  formatted by babel for the locale; everything else is inserted with ``str()``.
* Digits: ``digits="arab"`` gives Eastern Arabic digits (٠١٢٣٤٥٦٧٨٩) and separators in Arabic
  output — babel's ``numbering_system`` only changes the separators, so digits are mapped
  here. English output always uses Western digits (an Arabic-script convention only).
* Direction — why: Discord's markup sets no ``dir``, so every paragraph of a message or embed
  is laid out left-to-right, while a reader may also meet our text in a right-to-left or a
  first-strong (``dir=auto``) layout. The rule that makes an Arabic line read the same in all
  three lives here and only here:

  1. every interpolated value holding Latin letters or Western digits is wrapped in
     first-strong isolates (U+2068 … U+2069) — in English output, values holding Arabic
     letters are; Eastern Arabic numbers (``٦٣٪``, ``١٬٢٤٠``) are already right-to-left-friendly
     and stay bare, so ``٪`` sits where Arabic readers expect it;
  2. Latin written literally in an Arabic translation (``HTTP``, ``DNS``, ``Asia/Riyadh``) is
     isolated the same way when the catalog is loaded, so translators write plain text;
  3. every finished Arabic line starts and ends with a RIGHT-TO-LEFT MARK (``orient``,
     applied by ``RenderedMessage`` and the command-reply path): in a left-to-right paragraph
     the marks make the whole line one right-to-left run, in a first-strong paragraph the
     first mark makes it right-to-left, and where a client drops the isolates the marks
     still hold a line of Arabic words and numbers in order.

  Values that are themselves this translator's output (``Text``: results of
  ``gettext``/``ngettext``/``duration``/``list``) are already correct and are not wrapped
  again; numbers and times are.
"""

from __future__ import annotations

import gettext as _stdlib_gettext
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime as _datetime
from datetime import timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers
from babel.messages.pofile import read_po

LOCALES = ("ar", "en")
DIGITS = ("latn", "arab")
Digits = Literal["latn", "arab"]

def _find_locales_dir() -> Path:
    """The catalogs: ``locales/`` next to the ``bot`` package in a checkout or editable
    install, else ``<prefix>/share/outage-bot/locales`` where a wheel install puts them."""
    import sys

    beside = Path(__file__).resolve().parent.parent / "locales"
    installed = Path(sys.prefix) / "share" / "outage-bot" / "locales"
    return beside if beside.is_dir() or not installed.is_dir() else installed


LOCALES_DIR = _find_locales_dir()
DOMAIN = "bot"

FSI = "\u2068"  # FIRST STRONG ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE
RLM = "\u200f"  # RIGHT-TO-LEFT MARK
_ARAB_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "GMT", "Etc/GMT", "Etc/Zulu", "Zulu", "Universal"})

#: bilingual strings (slash-command and option descriptions, choice names) may not exceed this
BILINGUAL_MAX = 100
BILINGUAL_SEPARATOR = " · "


# --- markers for pybabel extract --------------------------------------------------------------


def N_(msgid: str) -> str:
    """Mark a string for extraction without translating it now (translate later with
    ``t.gettext(value)``)."""
    return msgid


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction; translate later with ``t.ngettext(*pair, n)``."""
    return (singular, plural)


# --- direction ---------------------------------------------------------------------------------


class Text(str):
    """Text already produced by a ``Translator``: its inner values are isolated already, so it
    is interpolated as is (numbers and times, plain ``str``, are isolated)."""

    __slots__ = ()


def isolate(text: str) -> str:
    """Wrap ``text`` in U+2068 … U+2069 (once: text already wholly isolated is returned)."""
    if _is_wrapped(text):
        return text
    return f"{FSI}{text}{PDI}"


def _is_wrapped(text: str) -> bool:
    if len(text) < 2 or text[0] != FSI or text[-1] != PDI:
        return False
    depth = 0
    for i, ch in enumerate(text):
        if ch in "\u2066\u2067\u2068":
            depth += 1
        elif ch == PDI:
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def strip_bidi_controls(text: str) -> str:
    """Remove bidi embedding/isolate/mark characters (Discord strips them from command and
    choice names; outside text must not be able to unbalance our isolates)."""
    return text.translate(_BIDI_CONTROLS)


def has_ltr_or_digits(text: str) -> bool:
    """True when ``text`` holds Latin (or other left-to-right) letters or Western digits: such
    a value needs isolating inside Arabic text. Eastern Arabic digits (bidi class AN) read
    right inside Arabic without help."""
    return any(unicodedata.bidirectional(ch) in ("L", "EN") for ch in text)


def orient(text: str, rtl: bool) -> str:
    """``text`` with every non-blank line held right-to-left when ``rtl``: a RIGHT-TO-LEFT MARK
    at both ends (idempotent). Left-to-right text is returned unchanged.

    Why both ends: in a left-to-right paragraph (Discord's) a line that starts with a number or
    ends with a full stop would otherwise put them on the wrong side; the marks make every
    neutral and number between them part of one right-to-left run."""
    if not rtl:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        core = line.strip(RLM)
        if core.strip():
            lines[i] = f"{RLM}{core}{RLM}"
    return "\n".join(lines)


#: a literal Latin token inside an Arabic translation: words of letters or Western digits, with
#: the punctuation that belongs to tokens such as ``Asia/Riyadh`` or ``TLS-1.3`` (not ending in
#: it), several words kept together (``Send Messages``) so they read left to right as one
_LATIN_WORD = r"[A-Za-z0-9](?:[A-Za-z0-9/_.:@+\-]*[A-Za-z0-9])?"
_LATIN_TOKEN = re.compile(rf"{_LATIN_WORD}(?: {_LATIN_WORD})*")
_PLACEHOLDER = re.compile(r"(\{[^{}]*\})")


def isolate_literal_latin(template: str) -> str:
    """An RTL translation with each literal Latin token isolated, placeholders untouched (the
    values that fill them are isolated by the translator)."""
    parts = _PLACEHOLDER.split(template)
    for i in range(0, len(parts), 2):  # even parts are text between placeholders
        parts[i] = _LATIN_TOKEN.sub(lambda m: isolate(m.group(0)), parts[i])
    return "".join(parts)


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDCF\uFDF0-\uFDFF\uFE70-\uFEFC]")


def in_arabic_script(text: str) -> bool:
    """True when ``text`` holds a character of the Arabic script's blocks and presentation
    forms (letters, and its own digits and punctuation — not the byte-order mark U+FEFF nor the
    noncharacters U+FDD0–FDEF): a query typed in Arabic gets an Arabic answer, a catalog's
    ``name_ar`` must be written in it."""
    return bool(_ARABIC_SCRIPT.search(text))


# --- catalogs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageCatalog:
    """One loaded ``.po`` file: translations (fuzzy and empty entries left out) and the plural
    function evaluated from its own header."""

    lang: str
    nplurals: int
    plural_expr: str
    plural: Callable[[int], int]
    singular: Mapping[str, str]
    plurals: Mapping[str, tuple[str, ...]]


def parse_plural_forms(header_expr: str) -> Callable[[int], int]:
    """The C expression of a ``Plural-Forms`` header as a Python function (GNU semantics)."""
    return _stdlib_gettext.c2py(header_expr)


@lru_cache(maxsize=None)
def load_messages(lang: str, locales_dir: Path = LOCALES_DIR) -> MessageCatalog:
    """Read ``locales_dir/<lang>/LC_MESSAGES/bot.po`` (cached per process)."""
    path = Path(locales_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=lang, domain=DOMAIN)
    # ``plural_expr`` comes from the file's header when it has one (which ours always do).
    expr = po.plural_expr
    plural = parse_plural_forms(expr)
    # Latin typed literally into a right-to-left translation is isolated once, here
    prepare = isolate_literal_latin if is_rtl(lang) else str
    singular: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, (list, tuple)):
            forms = tuple(message.string or ())
            if len(forms) == po.num_plurals and all(forms):
                plurals[message.id[0]] = tuple(map(prepare, forms))
        elif isinstance(message.string, str) and message.string:
            singular[message.id] = prepare(message.string)
    return MessageCatalog(lang, po.num_plurals, expr, plural, singular, plurals)


# --- the translator ----------------------------------------------------------------------------


class _NamedOnlyFormatter(string.Formatter):
    """``str.format`` restricted to named fields whose values were prepared beforehand."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int):
            raise ValueError("positional placeholders are not allowed in messages; use {name}")
        return kwargs[key]


_FORMATTER = _NamedOnlyFormatter()


class Translator:
    """Everything locale-dependent for one (locale, time zone, digit style)."""

    def __init__(self, lang: str, tz: str = "UTC", digits: Digits = "latn", *, locales_dir: Path = LOCALES_DIR):
        if lang not in LOCALES:
            raise ValueError(f"unsupported locale {lang!r}; known: {', '.join(LOCALES)}")
        if digits not in DIGITS:
            raise ValueError(f"digits must be one of {DIGITS}, not {digits!r}")
        self.lang = lang
        self.tz_name = tz
        self.tz = ZoneInfo(tz)
        self.digits: Digits = digits
        self.locale = Locale.parse(lang)
        self.catalog = load_messages(lang, Path(locales_dir))
        self.rtl = is_rtl(lang)
        self._arab_digits = self.rtl and digits == "arab"
        self._numbering = "arab" if self._arab_digits else "latn"

    def __repr__(self) -> str:
        return f"Translator({self.lang!r}, tz={self.tz_name!r}, digits={self.digits!r})"

    # messages

    def gettext(self, msgid: str, **kw: Any) -> Text:
        """The translation of ``msgid`` with ``{name}`` placeholders filled from ``kw``."""
        template = self.catalog.singular.get(msgid, msgid)
        return self._format(template, kw)

    def ngettext(self, singular: str, plural: str, n: int, **kw: Any) -> Text:
        """The plural form for ``n``; ``{n}`` in the message is ``n`` formatted for the locale."""
        forms = self.catalog.plurals.get(singular)
        if forms is not None:
            index = self.catalog.plural(n)
            template = forms[index if 0 <= index < len(forms) else -1]
        else:
            template = singular if n == 1 else plural
        kw.setdefault("n", n)
        return self._format(template, kw)

    def message(self, msgid: str | tuple[str, str], **kw: Any) -> Text:
        """``gettext`` for a msgid, ``ngettext`` for a ``Nn_`` pair (its count in ``kw["n"]``):
        for messages carried around as values, such as a ``UserError``'s."""
        if isinstance(msgid, tuple):
            n = kw.pop("n")
            return self.ngettext(msgid[0], msgid[1], n, **kw)
        return self.gettext(msgid, **kw)

    def _format(self, template: str, kw: Mapping[str, Any]) -> Text:
        if not kw:
            return Text(template)
        return Text(_FORMATTER.vformat(template, (), {k: self._value(v) for k, v in kw.items()}))

    def _value(self, value: Any) -> str:
        if isinstance(value, Text):
            return value
        if isinstance(value, bool):
            value = str(value)
        elif isinstance(value, (int, float)):
            value = self.number(value)
        else:
            value = str(value)
        return self.bidi(value)

    def orient(self, text: str) -> str:
        """``text`` laid out for this locale's direction, line by line (see ``orient``): the
        last step before any text of ours leaves the rendering layer."""
        return orient(text, self.rtl)

    def bidi(self, value: str) -> str:
        """``value`` isolated when its direction can disturb this locale's text."""
        if self.rtl and has_ltr_or_digits(value):
            return isolate(value)
        if not self.rtl and _has_rtl(value):
            return isolate(value)
        return value

    # numbers

    def name_digits(self, name: str) -> str:
        """A name written in Arabic script with the guild's digits («مايكروسوفت 365» →
        «مايكروسوفت ٣٦٥» where the guild reads ٠١٢٣); a Latin name keeps its own."""
        if self._arab_digits and _has_rtl(name):
            return name.translate(_ARAB_DIGITS)
        return name

    def _digits(self, text: str) -> str:
        if self._arab_digits:
            return text.translate(_ARAB_DIGITS).replace("%", "٪")
        return text

    def number(self, n: int | float) -> str:
        """``n`` with the locale's separators and the guild's digits (at most 1 decimal)."""
        if isinstance(n, float) and not n.is_integer():
            text = babel_numbers.format_decimal(n, format="#,##0.#", locale=self.locale, numbering_system=self._numbering)
        else:
            text = babel_numbers.format_decimal(int(n), locale=self.locale, numbering_system=self._numbering)
        return self._digits(text)

    def percent(self, x: float) -> str:
        """``0.63`` → ``63%`` / ``٦٣٪``."""
        return self._digits(babel_numbers.format_percent(x, locale=self.locale, numbering_system=self._numbering))

    # dates and times

    def _local(self, dt: _datetime) -> _datetime:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)  # naive datetimes in this project are UTC
        return dt.astimezone(self.tz)

    def time(self, dt: _datetime) -> str:
        """Short local time: ``3:51 PM`` / ``٣:٥١ م``."""
        return self._digits(babel_dates.format_time(self._local(dt), "short", locale=self.locale))

    def date(self, dt: _datetime) -> str:
        """Short local date without the year: ``Mar 5`` / ``٥ مارس``."""
        return self._digits(babel_dates.format_skeleton("MMMd", self._local(dt), locale=self.locale))

    def datetime(self, dt: _datetime) -> str:
        """Local date and time: ``Mar 5, 3:51 PM`` / ``٥ مارس، ٣:٥١ م``."""
        local = self._local(dt)
        pattern = self.locale.datetime_formats["medium"]
        return pattern.replace("{1}", self.date(local)).replace("{0}", self.time(local))

    def when(self, dt: _datetime, now: _datetime) -> str:
        """The time alone when ``dt`` is on the same local day as ``now``, else date and time."""
        return self.time(dt) if self._local(dt).date() == self._local(now).date() else self.datetime(dt)

    def zone(self) -> Text:
        """The time zone as readers know it: ``Saudi Arabia Time`` / ``توقيت مصر`` / ``UTC``."""
        if self.tz_name in UTC_NAMES:
            return self.gettext("UTC")
        return Text(babel_dates.get_timezone_location(self.tz, locale=self.locale))

    def duration(self, delta: timedelta) -> Text:
        """A duration with sensible granularity: minutes under an hour, hours and minutes under a
        day, days and hours beyond (``3 hours 12 minutes`` / ``٣ ساعات و١٢ دقيقة``)."""
        seconds = max(0.0, delta.total_seconds())
        if seconds < 60:
            return self.gettext("less than a minute")
        minutes = int(seconds // 60 + (1 if seconds % 60 >= 30 else 0))
        if minutes < 60:
            return self._minutes(minutes)
        if minutes < 24 * 60:
            hours, rest = divmod(minutes, 60)
            return self._pair(self._hours(hours), self._minutes(rest) if rest else None)
        hours_total = minutes // 60
        days, hours = divmod(hours_total, 24)
        return self._pair(self._days(days), self._hours(hours) if hours else None)

    def span(self, start: _datetime, end: _datetime) -> Text:
        """How long from ``start`` to ``end`` as the clock times shown beside it read: both are
        cut to the minute first (as ``time`` shows them), so "from 8:05 to 8:08" always says
        3 minutes, never a rounded 4."""
        def minute(dt: _datetime) -> _datetime:
            return self._local(dt).replace(second=0, microsecond=0)

        return self.duration(minute(end) - minute(start))

    def _pair(self, larger: Text, smaller: Text | None) -> Text:
        if smaller is None:
            return larger
        # NOTE: two parts of a duration, e.g. "3 hours 12 minutes"; Arabic joins them with و
        return self.gettext("{larger} {smaller}", larger=larger, smaller=smaller)

    def _minutes(self, n: int) -> Text:
        return self.ngettext("{n} minute", "{n} minutes", n)

    def _hours(self, n: int) -> Text:
        return self.ngettext("{n} hour", "{n} hours", n)

    def _days(self, n: int) -> Text:
        return self.ngettext("{n} day", "{n} days", n)

    # lists

    def list(self, items: Iterable[str], *, more: bool = False) -> Text:
        """``GitHub, Discord and X`` / ``GitHub وDiscord وX`` (items isolated as needed).
        ``more``: the list goes on past these (the caller adds "…"), so it takes no "and"
        before its last item where the language drops it (CLDR's ``standard-narrow``:
        "United States, Germany, India…"; Arabic keeps its و, as its press writes such lists)."""
        values = [self._value(item) for item in items]
        if not values:
            return Text("")
        # (CLDR has "standard-narrow" for every locale; babel's type hints leave it out)
        style: Any = "standard-narrow" if more else "standard"
        return Text(babel_lists.format_list(values, style=style, locale=self.locale))


@lru_cache(maxsize=None)
def is_rtl(lang: str) -> bool:
    """Whether ``lang`` is written right to left (babel's ``character_order``)."""
    return Locale.parse(lang).character_order == "right-to-left"


@lru_cache(maxsize=256)
def translations(lang: str, tz: str = "UTC", digits: Digits = "latn", *, locales_dir: Path = LOCALES_DIR) -> Translator:
    """The ``Translator`` for ``lang`` in time zone ``tz`` with ``digits`` (cached: cheap to ask
    for once per channel in a fan-out)."""
    return Translator(lang, tz, digits, locales_dir=locales_dir)


# --- bilingual strings for Discord's command UI -------------------------------------------------


def bilingual(msgid: str, *, locales_dir: Path = LOCALES_DIR) -> str:
    """``"English · العربية"`` for a slash-command/option description or a choice name.

    Discord offers no Arabic client locale, so Arabic cannot travel through
    ``name_localizations``; both languages go into one string. No isolates (Discord strips
    them from command and choice names), at most 100 characters — raises ``ValueError``
    otherwise, at import time of the command module and in the catalog tests.
    """
    english = load_messages("en", Path(locales_dir)).singular.get(msgid, msgid)
    arabic = load_messages("ar", Path(locales_dir)).singular.get(msgid)
    parts = [strip_bidi_controls(english)]
    if arabic:
        parts.append(strip_bidi_controls(arabic))
    text = BILINGUAL_SEPARATOR.join(parts)
    if len(text) > BILINGUAL_MAX:
        raise ValueError(f"bilingual text is {len(text)} characters (max {BILINGUAL_MAX}): {text!r}")
    return text
