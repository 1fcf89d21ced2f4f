"""Making outside text safe for Discord, and trimming any text to Discord's limits (pure).

Outside text — incident titles and update bodies from status pages and feeds, and whatever a
user typed that a reply echoes — must never ping anyone, hide a link behind other words,
restyle our message, hide or join words with invisible characters, or unbalance the bidi
isolates around it. ``clean`` does all that in one pass; ``trim`` cuts on a word boundary with
"…". Lengths are counted in UTF-16 code units, as Discord counts them.

What a reader sees of ``clean(text)`` is ``text`` minus its markup: characters that Discord
would read as formatting are backslash-escaped exactly once, so ``[EU]``, ``a_b``, ``1. Restart``
read as written. The source's own markup is read the way Discord reads it — a backslash escape
is that text's escape, ``[words](url)`` is opened to ``words (url)``, ``<url>`` to ``url`` — which
is what makes ``clean`` idempotent: ``clean(clean(x)) == clean(x)``, so text cleaned twice by
mistake still reads right (``tests/notify/test_text.py`` checks both properties).

Invisible characters: U+200B, U+2060, U+FEFF (and the other invisible formatters below) are
dropped everywhere. U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER are spelling in
Persian, Urdu, Kurdish and some Arabic (``می‌خواهم``), in Indic scripts, and inside emoji
sequences (👨‍👩‍👧): they are kept, one of them, between two letters of a script that joins or
two emoji, and dropped anywhere else (between Latin letters, beside a space or a mark of
punctuation), where they can only hide or join words. The only invisible character ``clean``
writes is its own ZWSP that breaks a mention; a second ``clean`` drops it and puts it back.
"""

from __future__ import annotations

import re
import unicodedata

from bot.i18n import FSI, PDI, strip_bidi_controls

ZWSP = "\u200b"
ZWNJ = "\u200c"
ZWJ = "\u200d"
ELLIPSIS = "…"

# Discord's limits for one embed (and one message: total across its embeds).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
TOTAL_MAX = 6000

#: invisible formatters that only hide or join words: zero width space, word joiner, BOM,
#: Mongolian vowel separator, invisible math operators, Hangul fillers
INVISIBLE = "\u200b\u2060\ufeff\u180e\u2061\u2062\u2063\u2064\u3164\uffa0"
_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))
_JOINER_RUN = re.compile("[\u200c\u200d]+")
#: scripts in which ZWNJ/ZWJ change how letters join: Arabic (and its supplements), Syriac,
#: N'Ko, the Indic scripts, Sinhala
_JOINING = re.compile("[\u0600-\u06ff\u0700-\u074f\u0750-\u077f\u07c0-\u07ff\u08a0-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufefc]")
_EMOJI = re.compile("[\u2600-\u27bf\ufe0f\U0001f000-\U0001faff]")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_ID_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
#: a bare URL as Discord autolinks it (simple-markdown's rule: its last character is not
#: punctuation that usually ends a sentence), not glued to a word before it
_URL_BODY = r"https?://[^\s<]+[^<.,:;\"')\]\s]"
_URL = re.compile(rf"(?<![0-9A-Za-z_]){_URL_BODY}")
#: one token of outside text read as Discord reads it: a URL (verbatim), ``<url>``, a
#: backslash escape (Discord escapes any character but an ASCII letter, digit or space), or a
#: masked link ``[words](url)``
_MARKUP = re.compile(
    rf"(?P<url>(?<![0-9A-Za-z_]){_URL_BODY})"
    rf"|<(?P<auto>{_URL_BODY}|https?://[^\s<>]+)>"
    r"|\\(?P<esc>[^0-9A-Za-z\s])"
    r"|\[(?P<words>[^\[\]\n]*)\]\(\s*<?(?P<href>[^()\s<>]*)>?\s*\)"
)
#: characters that are markup anywhere in a line: emphasis, code, spoilers, quotes, the opening
#: bracket of a masked link (a lone "]" is nothing without it) and the escape character itself
_MD_CHARS = re.compile(r"([\\*_~`|\[>])")
#: "<" opens mentions, timestamps, custom emoji, command mentions: broken with a zero-width
#: space after it, not a backslash before it — a backslash right after a URL would become
#: part of the URL (Discord's URLs run to the next space or "<") and show
_ANGLE = re.compile("<(?!\u200b)")
#: markup at the start of a line, followed by a space: headings and subtext (# , -# ), bullets
#: (- , + ), numbered items (1. / 1) ): escaped at the character that makes them markup — the
#: dot, not the number. "127.0.0.1" or "-5%" at the start of a line is not markup.
_LINE_START_MARK = re.compile(r"(?m)^([#\-+])(?=[#\s]|$)")
_LINE_START_NUMBER = re.compile(r"(?m)^(\d+)([.)])(?=\s|$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def utf16_len(text: str) -> int:
    """Length as Discord counts it."""
    return len(text.encode("utf-16-le")) // 2


def neutralize_mentions(text: str) -> str:
    """``@everyone``/``@here``/``<@123>``/``<@&123>``/``<#123>`` made inert with a zero-width
    space (``allowed_mentions`` stops the pings too; this stops them from even looking live)."""
    text = _MASS_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _ID_MENTION.sub(lambda m: f"<{ZWSP}{m.group(1)}{m.group(2)}>", text)


def _opened_link(words: str, url: str) -> str:
    words = words.strip()
    if not url:
        return words
    return f"{words} ({url})" if words and words != url else url


def unlink_markdown(text: str) -> str:
    """``[words](url)`` → ``words (url)``: a masked link cannot hide where it goes."""
    return read_markup(text)


def read_markup(text: str) -> str:
    """``text`` read as Discord reads it, minus its markup: escapes resolved, masked links
    and ``<url>`` opened; URLs kept verbatim. One left-to-right pass (linear)."""

    def token(m: re.Match[str]) -> str:
        if m.group("url") is not None:
            return m.group("url")
        if m.group("auto") is not None:
            return m.group("auto")
        if m.group("esc") is not None:
            return m.group("esc")
        words = _MARKUP.sub(lambda w: w.group("esc") if w.group("esc") is not None else w.group(0), m.group("words"))
        return _opened_link(words, m.group("href"))

    return _MARKUP.sub(token, text)


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown outside URLs (which must stay clickable), once."""
    out = []
    last = 0
    for m in _URL.finditer(text):
        out.append(_escape_plain(text[last:m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_escape_plain(text[last:]))
    joined = "".join(out)
    joined = _LINE_START_MARK.sub(r"\\\1", joined)
    return _LINE_START_NUMBER.sub(r"\1\\\2", joined)


#: a scheme that does not start a URL here: escaped escapes could make it one
_NOT_A_URL = re.compile(r"(https?):(?=//)")


def _escape_plain(part: str) -> str:
    part = _MD_CHARS.sub(r"\\\1", part)
    return _ANGLE.sub("<" + ZWSP, _NOT_A_URL.sub(r"\1\\:", part))


def _joins(ch: str) -> bool:
    return bool(_JOINING.match(ch)) and unicodedata.category(ch)[0] in "LM"


def strip_invisible(text: str) -> str:
    """Invisible formatters dropped; ZWNJ/ZWJ kept (one) only where they are spelling:
    between two letters of a joining script, or a ZWJ between two emoji."""
    text = text.translate(_INVISIBLE)

    def joiner(m: re.Match[str]) -> str:
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if before and after and _joins(before) and _joins(after):
            return m.group()[0]
        if ZWJ in m.group() and before and after and _EMOJI.match(before) and _EMOJI.match(after):
            return ZWJ
        return ""

    return _JOINER_RUN.sub(joiner, text)


def plain(text: str) -> str:
    """What a reader should see of outside ``text``: controls, bidi marks and invisible
    characters removed, whitespace tidied, the text's own markup read (``read_markup``)."""
    text = strip_bidi_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub(" ", text.translate(_INVISIBLE))
    text = strip_invisible(text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return read_markup(text)


def clean(text: str) -> str:
    """Outside text made safe, in one pass: ``plain``, then mentions neutralised and
    markdown escaped once. Idempotent."""
    return escape_markdown(neutralize_mentions(plain(text)))


def clean_line(text: str) -> str:
    """``clean`` folded onto one line (for titles)."""
    return clean(" ".join(text.split()))


def echo(text: str, limit: int = 80) -> str:
    """What a user typed, safe to quote back in a reply: cleaned onto one line and trimmed."""
    return trim(clean_line(text), limit)


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
