"""The catalogs in locales/: complete, not fuzzy, placeholders intact, Arabic header in GNU/CLDR
order, the template in sync with the code, and every Arabic message isolating what it
interpolates."""

from __future__ import annotations

import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import BILINGUAL_MAX, FSI, PDI, LOCALES, bilingual, has_ltr_or_digits, isolate, load_messages, translations

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
POT = LOCALES_DIR / "bot.pot"

#: the one extraction command (README "Translating"); the sync test runs exactly this
EXTRACT_ARGS = [
    "extract",
    "-F", "babel.cfg",
    "-k", "N_", "-k", "Nn_:1,2", "-k", "bilingual", "-k", "locale_str",
    "-c", "NOTE:",
    "--no-location", "--no-wrap", "--sort-output",
    "--project", "outage-bot", "--copyright-holder", "outage-bot-contributors",
]  # fmt: skip

GNU_ARABIC = "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)"


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def exact_forms(plural, nplurals: int) -> set[int]:
    """Plural forms that one number alone selects (Arabic 0, 1, 2; English 1): their text may
    spell the number out instead of using {n}."""
    hits: dict[int, int] = {}
    for n in range(0, 1000):
        hits[plural(n)] = hits.get(plural(n), 0) + 1
    return {form for form in range(nplurals) if hits.get(form) == 1}


TEMPLATE_IDS = [key(m) for m in messages(read(POT))]


def test_template_is_not_empty() -> None:
    assert len(TEMPLATE_IDS) > 50


@pytest.mark.parametrize("lang", LOCALES)
def test_every_message_is_translated_not_fuzzy_and_keeps_placeholders(lang: str) -> None:
    catalog = read(LOCALES_DIR / lang / "LC_MESSAGES" / "bot.po", lang)
    loaded = load_messages(lang)
    exact = exact_forms(loaded.plural, loaded.nplurals)
    by_key = {key(m): m for m in messages(catalog)}
    problems: list[str] = []
    for msgid in TEMPLATE_IDS:
        message = by_key.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if isinstance(message.id, (list, tuple)):
            forms = list(message.string or ())
            if len(forms) != loaded.nplurals:
                problems.append(f"{len(forms)} plural forms instead of {loaded.nplurals}: {msgid!r}")
            wanted = placeholders(message.id[0]) | placeholders(message.id[1])
            for i, form in enumerate(forms):
                if not form:
                    problems.append(f"empty msgstr[{i}]: {msgid!r}")
                    continue
                have = placeholders(form)
                required = wanted - {"n"} if i in exact else wanted
                if not required <= have or not have <= wanted:
                    problems.append(f"msgstr[{i}] placeholders {sorted(have)} ≠ {sorted(wanted)}: {msgid!r}")
        else:
            if not message.string:
                problems.append(f"untranslated: {msgid!r}")
            elif placeholders(message.string) != placeholders(message.id):
                problems.append(f"placeholders {sorted(placeholders(message.string))} ≠ {sorted(placeholders(message.id))}: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_arabic_plural_header_is_the_gnu_one() -> None:
    catalog = read(LOCALES_DIR / "ar" / "LC_MESSAGES" / "bot.po", "ar")
    assert catalog.num_plurals == 6
    assert catalog.plural_expr.replace(" ", "") == GNU_ARABIC.replace(" ", "")
    loaded = load_messages("ar")
    assert [loaded.plural(n) for n in (0, 1, 2, 3, 10, 11, 99, 100, 101, 102)] == [0, 1, 2, 3, 3, 4, 4, 5, 5, 5]


def test_template_is_in_sync_with_the_code(tmp_path: Path) -> None:
    """Re-extract into a temp dir with the documented command and compare msgids."""
    out = tmp_path / "bot.pot"
    from babel.messages.frontend import CommandLineInterface

    args = [str(ROOT / a) if a == "babel.cfg" else a for a in EXTRACT_ARGS]
    CommandLineInterface().run(["pybabel", "-q", *args, "-o", str(out), str(ROOT / "bot")])
    fresh = {key(m) for m in messages(read(out))}
    assert fresh, "extraction found nothing: check babel.cfg"
    stored = set(TEMPLATE_IDS)
    assert fresh - stored == set(), "strings in the code but not in locales/bot.pot: run the extract/update workflow"
    assert stored - fresh == set(), "strings in locales/bot.pot no longer in the code: re-extract"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt not installed")
@pytest.mark.parametrize("lang", LOCALES)
def test_gnu_msgfmt_accepts_the_catalogs(lang: str) -> None:
    """GNU tools agree with our header (nplurals, forms per entry)."""
    po = LOCALES_DIR / lang / "LC_MESSAGES" / "bot.po"
    result = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- direction: every Arabic message ------------------------------------------------------------

LATIN_SAMPLE = "Acme 42"


@pytest.mark.parametrize("digits", ["latn", "arab"])
def test_every_arabic_message_isolates_each_interpolated_value(digits: str) -> None:
    t = translations("ar", digits=digits)
    problems: list[str] = []
    for message in messages(read(POT)):
        if isinstance(message.id, (list, tuple)):
            names = (placeholders(message.id[0]) | placeholders(message.id[1])) - {"n"}
            for n in (0, 1, 2, 3, 11, 100, 1240):
                out = t.ngettext(message.id[0], message.id[1], n, **{k: LATIN_SAMPLE for k in names})
                expected = [isolate(LATIN_SAMPLE)] * bool(names)
                form = load_messages("ar").plurals[message.id[0]][load_messages("ar").plural(n)]
                if "{n}" in form and has_ltr_or_digits(t.number(n)):  # Eastern Arabic digits stay bare
                    expected.append(isolate(t.number(n)))
                problems += [f"{message.id[0]!r} n={n}: {e!r} not isolated in {out!r}" for e in expected if e not in out]
        else:
            names = placeholders(message.id)
            if not names:
                continue
            out = t.gettext(message.id, **{k: LATIN_SAMPLE for k in names})
            count = out.count(isolate(LATIN_SAMPLE))
            if count < 1:
                problems.append(f"{message.id!r}: value not isolated in {out!r}")
            if out.count(FSI) != out.count(PDI):
                problems.append(f"{message.id!r}: unbalanced isolates in {out!r}")
    assert not problems, "\n".join(problems)


def test_command_ui_words_fit_discord_as_bilingual_strings() -> None:
    """Every command/option description and choice name: both languages, ≤ 100, no isolates
    (``bilingual`` raises when too long)."""
    from bot.notify.render import CHOICE_NAMES, COMMAND_DESCRIPTIONS, OPTION_DESCRIPTIONS

    msgids = [*COMMAND_DESCRIPTIONS.values(), *OPTION_DESCRIPTIONS.values()]
    msgids += [name for choices in CHOICE_NAMES.values() for name in choices.values()]
    assert len(msgids) > 25
    for msgid in msgids:
        text = bilingual(msgid)
        english, arabic = text.split(" · ")
        assert len(text) <= BILINGUAL_MAX and FSI not in text and PDI not in text
        assert english == msgid and arabic and arabic != english
    assert bilingual(COMMAND_DESCRIPTIONS["isitdown"]) == "Check whether a service is down · تحقّق مما إذا كانت خدمة ما متعطّلة"


def test_no_compiled_catalogs_to_go_stale() -> None:
    """Catalogs are read from .po directly; a stray .mo would be a second truth."""
    assert not list(LOCALES_DIR.rglob("*.mo"))


if __name__ == "__main__":  # pragma: no cover - handy for translators
    sys.exit(pytest.main([__file__, "-q"]))
