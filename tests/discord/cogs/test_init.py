"""What the command cogs share: the service autocomplete and the bilingual UI words."""

from __future__ import annotations

import pytest

from bot.catalog import Catalog, load_catalog
import importlib.util

from bot.discord.cogs import ALL_SERVICES, EXTENSIONS, extensions, service_choices, ui
from bot.i18n import BILINGUAL_MAX, bilingual
from bot.notify.render import COMMAND_DESCRIPTIONS


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_an_empty_query_suggests_25_services(catalog: Catalog) -> None:
    choices = service_choices(catalog, "")
    assert len(choices) == 25
    assert len({c.value for c in choices}) == 25
    assert all(1 <= len(c.name) <= 100 and 1 <= len(c.value) <= 100 for c in choices)


def test_an_arabic_query_gets_arabic_labels_and_values(catalog: Catalog) -> None:
    choices = service_choices(catalog, "انست")
    assert choices and all(arabic(c.value) and arabic(c.name) for c in choices)
    assert any(catalog.resolve(c.value).id == "instagram" for c in choices)  # type: ignore[union-attr]
    # an alias is shown with the service's name in the same script
    alias = next(c for c in service_choices(catalog, "واتس اب"))
    assert alias.value == "واتس اب" and alias.name == "واتس اب (واتساب)"


def test_a_latin_alias_shows_the_service_name(catalog: Catalog) -> None:
    [first, *_] = service_choices(catalog, "gh")
    assert (first.name, first.value) == ("gh (GitHub)", "gh")
    assert catalog.resolve(first.value).id == "github"  # type: ignore[union-attr]


def test_all_is_offered_where_asked(catalog: Catalog) -> None:
    with_all = service_choices(catalog, "", with_all=True)
    assert len(with_all) == 25 and with_all[0].value == "all" and with_all[0].name == bilingual(ALL_SERVICES)
    assert service_choices(catalog, "al", with_all=True)[0].value == "all"
    assert service_choices(catalog, "الك", with_all=True)[0].value == "الكل"
    assert all(c.value != "all" for c in service_choices(catalog, "", with_all=False))
    assert all(c.value != "all" for c in service_choices(catalog, "git", with_all=True))


def test_ui_is_bilingual_and_short() -> None:
    text = ui(COMMAND_DESCRIPTIONS, "subscribe")
    english, arabic_part = text.split(" · ")
    assert english == COMMAND_DESCRIPTIONS["subscribe"] and arabic(arabic_part) and len(text) <= BILINGUAL_MAX


def test_extensions_lists_the_core_cogs_and_the_reports_cog() -> None:
    found = extensions()
    assert found == list(EXTENSIONS)
    assert {"bot.discord.cogs.status", "bot.discord.cogs.subscriptions", "bot.discord.cogs.settings", "bot.discord.cogs.reports"} <= set(found)
    assert all(importlib.util.find_spec(name) is not None for name in found)


def test_a_typed_status_page_is_suggested_only_to_the_servers_that_follow_it() -> None:
    from bot.catalog import Service
    from bot.sources.base import SourceSpec

    catalog = load_catalog()
    page = Service("u-status-acme-example-1a2b3c", "Acme Cloud", "Acme Cloud", ("https://status.acme.example",),
                   "https://status.acme.example", (SourceSpec("statuspage", "https://status.acme.example", guarded=True),))  # fmt: skip
    catalog.add(page)
    assert "Acme Cloud" not in {c.value for c in service_choices(catalog, "acme")}
    assert "Acme Cloud" in {c.value for c in service_choices(catalog, "acme", own_pages={page.id})}
    assert len(service_choices(catalog, "")) == 25  # the filter never shortens the list below 25
    catalog.remove(page.id)
    assert catalog.get(page.id) is None and catalog.resolve("Acme Cloud") is None
