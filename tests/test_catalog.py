"""The shipped catalog validates; each kind of mistake is reported with file, service and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.catalog import BUNDLED_CATALOG, CatalogError, load_catalog, normalize, parse_catalog

GOOD = """
[[services]]
id = "github"
name = "GitHub"
name_ar = "جيت هب"
aliases = ["gh", "جيتهب"]
homepage = "https://github.com"

  [[services.sources]]
  kind = "statuspage"
  url = "https://www.githubstatus.com"

  [[services.sources]]
  kind = "http"
  url = "https://github.com/"
  expect_status = "200-399"
  interval = 60

[[services]]
id = "discord"
name = "Discord"
name_ar = "ديسكورد"
aliases = ["ديسكورد"]

  [[services.sources]]
  kind = "http"
  url = "https://discord.com/"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, text))
    return info.value.problems


def test_shipped_catalog_validates_with_40_services_each_with_arabic_name() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 40
    for service in catalog:
        assert service.name_ar and any("\u0600" <= ch <= "\u06ff" for ch in service.name_ar)
        assert service.sources, f"{service.id} has no source"
        assert any(spec.kind == "http" for spec in service.sources), f"{service.id} has no front-door probe"


def test_shipped_catalog_has_the_services_people_ask_about() -> None:
    catalog = load_catalog()
    for query in ["x", "تويتر", "واتساب", "يوتيوب", "instagram", "discord", "github", "cloudflare", "chatgpt", "netflix", "steam", "binance"]:
        assert catalog.resolve(query) is not None, query


def test_good_catalog_loads_and_resolves_aliases_in_both_scripts(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD))
    github = catalog.get("github")
    assert github is not None
    assert github.status_url == "https://www.githubstatus.com"
    assert [s.kind for s in github.sources] == ["statuspage", "http"]
    assert github.sources[1].interval == 60.0
    assert github.sources[1].options == {"expect_status": "200-399"}
    assert catalog.resolve("GH") is github
    assert catalog.resolve("جيتهب") is github
    assert catalog.resolve("  github ") is github
    assert catalog.resolve("gitlab") is None


def test_search_keeps_the_matched_label_so_arabic_stays_arabic(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD))
    matches = catalog.search("جيت")
    assert [(m.service.id, m.label) for m in matches] == [("github", "جيت هب")]
    assert [m.service.id for m in catalog.search("")] == ["github", "discord"]
    assert len(load_catalog().search("", limit=25)) == 25


def test_normalize_folds_arabic_spelling_variants() -> None:
    assert normalize("إكس") == normalize("اكس") == normalize("أكس")
    assert normalize("تيليجرام") != normalize("تيليغرام")
    assert normalize("يوتيوبـ") == normalize("يوتيوب")  # tatweel
    assert normalize("ＧｉｔＨｕｂ") == "github"  # full width


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace('id = "discord"', 'id = "github"'), "service 'github': id: duplicate id (another"),
        (lambda t: t.replace('kind = "statuspage"', 'kind = "carrier-pigeon"'), "service 'github': sources[0]: kind: unknown source kind 'carrier-pigeon'"),
        (lambda t: t.replace('url = "https://discord.com/"', 'url = "ftp://discord.com/"'), "service 'discord': sources[0]: url:"),
        (lambda t: t.replace('aliases = ["ديسكورد"]', 'aliases = ["gh"]'), "service 'discord': aliases: 'gh' is already claimed by service 'github'"),
        (lambda t: t.replace('name_ar = "ديسكورد"\n', ""), "service 'discord': name_ar: required"),
        (lambda t: t.replace('name_ar = "ديسكورد"', 'name_ar = "Discord AR"'), "service 'discord': name_ar: must be written in Arabic script"),
        (lambda t: t.replace('id = "discord"', 'id = "Discord!"'), "services[1]: id: must be a lowercase slug"),
        (lambda t: t.replace("interval = 60", "interval = 1"), "service 'github': sources[1]: interval:"),
        (lambda t: t.replace('expect_status = "200-399"', 'expect_status = "200-399"\ncolour = "red"'), "service 'github': sources[1]: colour: unknown option"),
        (lambda t: t.replace('homepage = "https://github.com"', 'homepage = "github.com"'), "service 'github': homepage:"),
        (lambda t: t.replace('id = "discord"', 'id = "all"'), "service 'all': id: 'all' is reserved"),
    ],
)
def test_each_mistake_names_file_service_and_field(tmp_path: Path, edit, expected: str) -> None:
    problems = problems_of(tmp_path, edit(GOOD))
    path = str(tmp_path / "services.toml")
    assert any(p.startswith(path) and expected in p for p in problems), problems


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('name_ar = "ديسكورد"\n', "").replace('kind = "statuspage"', 'kind = "nope"')
    assert len(problems_of(tmp_path, text)) == 2


def test_unreadable_files_give_one_clear_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "this is = = not toml")[0].startswith(f"{tmp_path / 'services.toml'}: not valid TOML")
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "missing.toml")
    assert "no [[services]] tables" in problems_of(tmp_path, "title = 'x'")[0]


def test_parse_catalog_accepts_a_decoded_document() -> None:
    raw = tomllib.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    assert len(parse_catalog(raw)) == len(raw["services"])
