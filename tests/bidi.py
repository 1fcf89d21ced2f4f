"""Lay text out with the Unicode Bidirectional Algorithm (UAX #9, python-bidi) the way a client
would, and say whether an Arabic line reads the same in a left-to-right paragraph (Discord's
markup sets no ``dir``), a right-to-left one and a first-strong one.

A line "reads the same" when its visual string — the characters in the order they are drawn,
left to right, with the invisible direction controls removed — is identical in all layouts:
same words, same numbers, same punctuation, each on the same side.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from bidi import get_display

from bot.i18n import strip_bidi_controls
from bot.notify.render import RenderedMessage

ISOLATES = "\u2066\u2067\u2068\u2069"
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^()\s]+)\)")
_ESCAPE = re.compile(r"\\(.)")


def visible(line: str) -> str:
    """What Discord shows of a line of markdown: a masked link's words (not its URL), bold
    without its asterisks, escaped characters without their backslash."""
    line = _MASKED_LINK.sub(r"\1", line)
    line = line.replace("**", "")
    return _ESCAPE.sub(r"\1", line)


def drawn(line: str, base: str) -> str:
    """``line`` as drawn, left to right, in a paragraph of direction ``base`` (``"L"``,
    ``"R"``, or ``None`` for first-strong), direction controls removed."""
    return strip_bidi_controls(get_display(line, base_dir=base) if base else get_display(line))


def misread(line: str) -> str | None:
    """Why ``line`` does not read the same in every layout, or None when it does."""
    line = visible(line)
    ltr, rtl, auto = drawn(line, "L"), drawn(line, "R"), drawn(line, None)
    if ltr == rtl == auto:
        return None
    return f"{line!r}\n    LTR: {ltr!r}\n    RTL: {rtl!r}\n    auto: {auto!r}"


def without_isolates(line: str) -> str:
    """``line`` as a client that drops isolate characters would get it."""
    return line.translate(dict.fromkeys(map(ord, ISOLATES)))


def lines_of(message: RenderedMessage) -> Iterator[tuple[str, str]]:
    """(part, line) for every line a reader sees in an embed."""
    for part, text in (("title", message.title), ("description", message.description), ("footer", message.footer)):
        for line in text.split("\n"):
            yield part, line
    for name, value in message.fields:
        yield "field name", name
        for line in value.split("\n"):
            yield "field value", line


def misreadings(lines: Iterable[str]) -> list[str]:
    """Every non-blank line of ``lines`` that reads differently in some layout."""
    return [why for line in lines if line.strip() and (why := misread(line)) is not None]
