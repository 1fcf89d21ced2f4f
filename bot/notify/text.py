"""Making outside text safe for Discord, and trimming any text to Discord's limits (pure).

Outside text — incident titles and update bodies from status pages and feeds — must never
ping anyone, hide a link behind other words, restyle our message, or unbalance the bidi
isolates around it. ``clean`` does all that; ``trim`` cuts on a word boundary with "…".
Lengths are counted in UTF-16 code units, as Discord counts them.
"""

from __future__ import annotations

import re

from bot.i18n import FSI, PDI, strip_bidi_controls

ZWSP = "\u200b"
ELLIPSIS = "…"

# Discord's limits for one embed (and one message: total across its embeds).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
TOTAL_MAX = 6000

_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_ID_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_MD_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?\s*\)")
_URL = re.compile(r"(https?://[^\s<>\"]+)")
_MD_CHARS = re.compile(r"([\\*_~`|\[\]>])")
_LINE_START = re.compile(r"(?m)^(\s*)([#\-+]|\d+\.)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def utf16_len(text: str) -> int:
    """Length as Discord counts it."""
    return len(text.encode("utf-16-le")) // 2


def neutralize_mentions(text: str) -> str:
    """``@everyone``/``@here``/``<@123>``/``<@&123>``/``<#123>`` made inert with a zero-width
    space (``allowed_mentions`` stops the pings too; this stops them from even looking live)."""
    text = _MASS_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _ID_MENTION.sub(lambda m: f"<{ZWSP}{m.group(1)}{m.group(2)}>", text)


def unlink_markdown(text: str) -> str:
    """``[words](url)`` → ``words (url)``: a masked link cannot hide where it goes."""

    def plain(m: re.Match[str]) -> str:
        words, url = m.group(1).strip(), m.group(2)
        if not url:
            return words
        return f"{words} ({url})" if words and words != url else url

    return _MD_LINK.sub(plain, text)


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown outside URLs (which must stay clickable)."""
    parts = _URL.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a URL
            out.append(part)
            continue
        part = _MD_CHARS.sub(r"\\\1", part)
        out.append(part)
    joined = "".join(out)
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", joined)


def clean(text: str) -> str:
    """Outside text made safe: controls and bidi marks removed, whitespace tidied, masked links
    opened, markdown escaped, mentions neutralised."""
    text = strip_bidi_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub(" ", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    text = unlink_markdown(text)
    text = neutralize_mentions(text)  # before escaping, which would hide the closing ">"
    return escape_markdown(text)


def clean_line(text: str) -> str:
    """``clean`` folded onto one line (for titles)."""
    return clean(" ".join(text.split()))


def trim(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, on a word boundary when one is near, with
    "…"; never leaves a dangling markdown escape or an unclosed isolate."""
    if utf16_len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    budget = limit - 1
    while True:
        cut = _prefix(text, budget)
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space >= len(cut) * 0.6:
            cut = cut[:space]
        cut = cut.rstrip(" \n\t,;:.·-—–")
        cut = _drop_dangling_escape(cut)
        cut = _drop_half_isolate_marks(cut)
        opened = _open_isolates(cut)
        result = cut + ELLIPSIS + PDI * opened
        if utf16_len(result) <= limit or budget <= 0:
            return result if utf16_len(result) <= limit else ELLIPSIS
        budget -= max(1, utf16_len(result) - limit)


def _prefix(text: str, units: int) -> str:
    """The longest prefix of ``text`` that fits in ``units`` UTF-16 units (no split surrogate)."""
    count = 0
    for i, ch in enumerate(text):
        count += 2 if ord(ch) > 0xFFFF else 1
        if count > units:
            return text[:i]
    return text


def _drop_dangling_escape(text: str) -> str:
    trailing = len(text) - len(text.rstrip("\\"))
    return text[:-1] if trailing % 2 else text


def _drop_half_isolate_marks(text: str) -> str:
    """A cut right after an FSI leaves an empty isolate; drop such trailing FSIs."""
    while text.endswith(FSI):
        text = text[:-1].rstrip()
    return text


def _open_isolates(text: str) -> int:
    depth = 0
    for ch in text:
        if ch in "\u2066\u2067\u2068":
            depth += 1
        elif ch == PDI and depth:
            depth -= 1
    return depth
