"""bot/notify/text.py: outside text made safe, and trimming to Discord's limits."""

from __future__ import annotations

from bot.i18n import FSI, PDI
from bot.notify.text import ELLIPSIS, ZWSP, clean, clean_line, escape_markdown, neutralize_mentions, trim, unlink_markdown, utf16_len


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
