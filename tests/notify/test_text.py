"""bot/notify/text.py: outside text made safe, and trimming to Discord's limits."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import FSI, PDI, translations
from bot.notify.render.phrases import quote
from bot.notify.text import (
    ELLIPSIS,
    ZWJ,
    ZWNJ,
    ZWSP,
    clean,
    clean_line,
    echo,
    escape_markdown,
    neutralize_mentions,
    trim,
    unlink_markdown,
    utf16_len,
)


def test_mentions_are_neutralised() -> None:
    text = neutralize_mentions("@everyone @here <@123> <@!456> <@&789> <#1011> mail@example.com")
    assert "@everyone" not in text and "@here" not in text
    assert f"@{ZWSP}everyone" in text and f"@{ZWSP}here" in text
    for raw in ("<@123>", "<@!456>", "<@&789>", "<#1011>"):
        assert raw not in text
    assert f"<{ZWSP}@&789>" in text
    assert "mail@example.com" in text


def test_masked_links_are_opened() -> None:
    assert unlink_markdown("see [the docs](https://evil.example/x)") == "see the docs (https://evil.example/x)"
    assert unlink_markdown("[https://a.example](https://a.example)") == "https://a.example"
    assert unlink_markdown("[](https://a.example)") == "https://a.example"


def test_markdown_is_escaped_but_urls_stay_clickable() -> None:
    assert escape_markdown("**bold** _it_ `code` ||spoiler|| ~~s~~") == r"\*\*bold\*\* \_it\_ \`code\` \|\|spoiler\|\| \~\~s\~\~"
    assert escape_markdown("# Heading\n- item\n> quote") == "\\# Heading\n\\- item\n\\> quote"
    assert escape_markdown("see https://a.example/x_y_z now_") == r"see https://a.example/x_y_z now\_"


def test_clean_does_it_all_and_strips_bidi_tricks() -> None:
    text = clean("Hi @everyone,\r\n\r\n\r\n\r\nsee [here](https://x.example) <@&42> \u202eevil\u2069 **now**")
    assert text == f"Hi @{ZWSP}everyone,\n\nsee here (https://x.example) <{ZWSP}@&42\\> evil \\*\\*now\\*\\*"


def test_clean_line_folds_newlines() -> None:
    assert clean_line("Elevated\nerror   rates") == "Elevated error rates"


def test_trim_keeps_short_text() -> None:
    assert trim("short", 10) == "short"


def test_trim_cuts_on_a_word_boundary_with_ellipsis() -> None:
    text = "We are investigating reports of issues loading posts"
    out = trim(text, 30)
    assert out == "We are investigating reports" + ELLIPSIS
    assert utf16_len(out) <= 30


def test_trim_cuts_inside_a_long_word_when_no_space_is_near() -> None:
    out = trim("a " + "x" * 50, 20)
    assert out == "a " + "x" * 17 + ELLIPSIS


def test_trim_never_leaves_a_dangling_escape() -> None:
    out = trim("abcdefgh\\*ijkl", 10)
    assert not out.rstrip(ELLIPSIS).endswith("\\")
    assert utf16_len(out) <= 10


def test_trim_closes_open_isolates() -> None:
    text = f"word {FSI}GitHub is having a very long incident title{PDI} end"
    out = trim(text, 25)
    assert out.count(FSI) == out.count(PDI)
    assert utf16_len(out) <= 25


def test_trim_counts_utf16_like_discord() -> None:
    text = "😀" * 10
    out = trim(text, 9)
    assert utf16_len(out) <= 9
    assert out.endswith(ELLIPSIS)



# --- what a reader sees (issue 14) ------------------------------------------------------------

#: a bare URL as Discord's markdown autolinks it
_READER_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")


def reader_sees(markdown: str) -> str:
    """``markdown`` as a Discord reader sees it, for text whose markup is all escaped: URLs
    verbatim, ``\\x`` shown as ``x`` for any ``x`` but an ASCII letter, digit or space, the
    zero-width space that breaks mentions invisible. Asserts no markup is left live."""
    out: list[str] = []
    i = 0
    line_start = True
    while i < len(markdown):
        ch = markdown[i]
        url = _READER_URL.match(markdown, i)
        if url and not (i and markdown[i - 1].isascii() and (markdown[i - 1].isalnum() or markdown[i - 1] == "_")):
            out.append(url.group())
            i = url.end()
            line_start = False
            continue
        if ch == "\\" and i + 1 < len(markdown) and not re.match(r"[0-9A-Za-z\s]", markdown[i + 1]):
            out.append(markdown[i + 1])
            i += 2
            line_start = False
            continue
        assert ch not in "*_~`|[>\\", f"live markup {ch!r} at {i} in {markdown!r}"
        assert ch != "<" or markdown[i + 1 : i + 2] == ZWSP, f"live angle bracket at {i} in {markdown!r}"
        if line_start:
            assert not re.match(r"[#\-+]([#\s]|$)", markdown[i:]), f"live line markup in {markdown!r}"
            assert not re.match(r"\d+[.)](\s|$)", markdown[i:]), f"live numbered item in {markdown!r}"
        out.append(ch)
        line_start = ch == "\n"
        i += 1
    return "".join(out).replace(ZWSP, "")


def test_a_title_with_every_markdown_character_reads_as_written() -> None:
    """Issue 14, item 1: one escape per character (``\\[EU\\]``), none a reader can see."""
    title = "Degraded performance [EU] for api_v2 * uploads | ~stale~ `cache` > 5% #ops - + \\ <x>"
    cleaned = clean(title)
    assert "\\\\[" not in cleaned and cleaned.count("\\[") == 1 and "\\]" not in cleaned
    assert reader_sees(cleaned) == title


def test_the_official_title_is_cleaned_once_in_an_alert() -> None:
    """The title went through clean_line and again through quote: ``\\\\\\[EU\\\\\\]``, so every
    reader saw ``\\[EU\\]``; a mention showed as ``<@1577…\\>``."""
    from dataclasses import replace

    from bot.notify.render import render_event
    from tests.notify import samples as s

    title = "Degraded performance [EU] for <@1577> and a_b"
    official = replace(s.OFFICIAL_MAJOR, official_title=title)
    event = replace(s.UPDATE, evidence=(official,))
    message = render_event(event, s.X, t=translations("en"), now=s.OPENED_AT)
    value = next(v for n, v in message.fields if n == "Official status page")
    line = value.splitlines()[0]
    assert "\\\\" not in line
    assert reader_sees(line.split(": ", 1)[1]) == "“Degraded performance [EU] for <@1577> and a_b”"


def test_an_address_at_the_start_of_a_line_is_not_a_list() -> None:
    assert clean("127.0.0.1 answers") == "127.0.0.1 answers"
    assert clean("-5% errors\n#general") == "-5% errors\n#general"


def test_a_numbered_update_reads_as_written() -> None:
    """Issue 14, item 2: ``\\1. Restart`` showed the backslash; the escape belongs on the dot."""
    update = "1. Restart your client\n2) Sign in again\n10. Done"
    cleaned = clean(update)
    assert cleaned == "1\\. Restart your client\n2\\) Sign in again\n10\\. Done"
    assert reader_sees(cleaned) == update


def test_invisible_characters_are_dropped_but_joiners_that_spell_stay() -> None:
    """Issue 14, item 5: ZWSP, WJ and BOM hide or join words; ZWNJ/ZWJ are spelling between
    letters of a joining script (Persian, Urdu, Arabic) and inside emoji sequences."""
    assert clean("Re\u200bsolved \u2060now\ufeff") == "Resolved now"
    assert clean(f"ever{ZWJ}yone lo{ZWNJ}gin {ZWNJ}x {ZWJ}") == "everyone login x"
    persian = f"نمی{ZWNJ}توانم وارد شوم"
    assert clean(persian) == persian
    family = f"👨{ZWJ}👩{ZWJ}👧"
    assert clean(family) == family
    assert clean(f"ب{ZWNJ}{ZWNJ}{ZWJ}ت") == f"ب{ZWNJ}ت"
    assert clean(f"@{ZWSP}{ZWSP}everyone") == f"@{ZWSP}everyone"


def test_angle_bracket_markup_is_inert() -> None:
    """Timestamps, custom emoji and command mentions from outside render as typed."""
    for raw in ("<t:1700000000:R>", "<:blob:123>", "</isitdown:42>", "<#1011>"):
        assert reader_sees(clean(raw)) == raw


def test_markup_of_the_source_is_read_not_shown() -> None:
    assert reader_sees(clean("see [the docs](https://x.example/a_b) or <https://y.example/c>")) == (
        "see the docs (https://x.example/a_b) or https://y.example/c"
    )
    assert reader_sees(clean("50\\% \\*not bold\\*")) == "50% *not bold*"


def test_echo_quotes_user_input_safely() -> None:
    typed = "[free nitro](https://evil.example) @everyone **x**\n" + "y" * 200
    out = echo(typed, 80)
    assert utf16_len(out) <= 80 and "\n" not in out
    assert reader_sees(out).startswith("free nitro (https://evil.example) @everyone **x**")
    assert "@everyone" not in out


def test_quote_cleans_once() -> None:
    t = translations("en")
    assert str(quote(t, "[EU] a_b", 200)) == "“\\[EU] a\\_b”"


# hypothesis: idempotent, and what a reader sees is the source minus its markup --------------

_MARKDOWNISH = st.sampled_from(list("*_~`|[]()<>#-+.)\\@:/!&") + ["https://", "http://a.example/", "everyone", "here", "1. ", "\n", " ", "  "])
_LETTERS = st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x6FF)
_INVISIBLES = st.sampled_from(["\u200b", "\u2060", "\ufeff", "\u200c", "\u200d", "\u200e", "\u202e", "\u2066", "\u2069", "\x07", "\t", "\r", "\u00a0", "👨"])
_ANY = st.lists(st.one_of(_MARKDOWNISH, _LETTERS, _INVISIBLES), max_size=40).map("".join)
_VISIBLE = st.lists(st.one_of(_MARKDOWNISH, _LETTERS, st.sampled_from(["\u200b", "\u2060", "\ufeff"])), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANY)
def test_clean_is_idempotent(text: str) -> None:
    once = clean(text)
    assert clean(once) == once
    assert clean_line(clean_line(text)) == clean_line(text)


def source_minus_markup(text: str) -> str:
    """The source as Discord would read it with its markup taken away (an independent
    restatement of the rules): invisible formatters dropped, whitespace tidied, escapes
    read, ``[words](url)`` and ``<url>`` opened, URLs kept as they are."""
    text = re.sub("[\u200b\u2060\ufeff]", "", text)
    lines = [" ".join(line.split(" ")).strip() for line in text.split("\n")]
    lines = [re.sub(" +", " ", line) for line in lines]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    out: list[str] = []
    i = 0
    while i < len(text):
        url = _READER_URL.match(text, i)
        if url and not (i and text[i - 1].isascii() and (text[i - 1].isalnum() or text[i - 1] == "_")):
            out.append(url.group())
            i = url.end()
            continue
        auto = re.match(r"<(https?://[^\s<>]+)>", text[i:])
        if auto:
            out.append(auto.group(1))
            i += auto.end()
            continue
        if text[i] == "\\" and i + 1 < len(text) and not re.match(r"[0-9A-Za-z\s]", text[i + 1]):
            out.append(text[i + 1])
            i += 2
            continue
        link = re.match(r"\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?\s*\)", text[i:])
        if link:
            words = re.sub(r"\\([^0-9A-Za-z\s])", r"\1", link.group(1)).strip()
            href = link.group(2)
            out.append(href if not words or words == href else (words if not href else f"{words} ({href})"))
            i += link.end()
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VISIBLE)
def test_a_reader_sees_the_source_minus_markup(text: str) -> None:
    assert reader_sees(clean(text)) == source_minus_markup(text)
