"""The shipped catalog validates; each kind of mistake is reported with file, service and field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.catalog import BUNDLED_CATALOG, CatalogError, load_catalog, normalize, parse_catalog
from bot.sources import base as sources_base
from bot.sources.base import SourceRole

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


def _is_official(kind: str) -> bool:
    import bot.sources  # noqa: F401  (registers every bundled kind)

    return sources_base.registry()[kind].role is SourceRole.OFFICIAL


def test_shipped_catalog_validates_with_200_services_each_with_arabic_name() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 200
    for service in catalog:
        assert service.name_ar and any("\u0600" <= ch <= "\u06ff" for ch in service.name_ar)
        assert service.display_name("ar") == (service.name if service.latin_in_arabic else service.name_ar)
        assert service.sources, f"{service.id} has no source"
        # a probe everywhere something public can be probed; only an official source may stand alone
        has_probe = any(spec.kind == "http" for spec in service.sources)
        assert has_probe or any(_is_official(s.kind) for s in service.sources), f"{service.id} has no probe and no official source"


_KEY_RE = re.compile(r'^\s*(kind|url)\s*=\s*"([^"]*)"')


def _source_tables(text: str) -> list[tuple[list[str], str, str]]:
    """Every ``[[services.sources]]`` table of a catalog's text: (the comment lines right above it,
    its kind, its url), read from the text because TOML parsers drop comments."""
    lines = text.splitlines()
    tables: list[tuple[list[str], str, str]] = []
    for index, line in enumerate(lines):
        if line.strip() != "[[services.sources]]":
            continue
        comments: list[str] = []
        above = index - 1
        while above >= 0 and lines[above].strip().startswith("#"):
            comments.insert(0, lines[above].strip().lstrip("#").strip())
            above -= 1
        keys: dict[str, str] = {}
        for body in lines[index + 1 :]:
            if not body.strip() or body.strip().startswith("["):
                break
            if match := _KEY_RE.match(body):
                keys[match[1]] = match[2]
        tables.append((comments, keys.get("kind", ""), keys.get("url", "")))
    return tables


#: a provenance comment names a repository file at a commit, a page (URL) or the provider's documentation
_PROVENANCE = re.compile(r"commit [0-9a-f]{7,}|https?://|\bdocument", re.IGNORECASE)


def _official_without_provenance(text: str) -> list[str]:
    """URLs of official sources whose comment block names no list, repository or page."""
    return [url for comments, kind, url in _source_tables(text)
            if _is_official(kind) and not _PROVENANCE.search(" ".join(comments))]  # fmt: skip


def test_every_official_source_in_the_shipped_catalog_says_where_it_comes_from() -> None:
    text = BUNDLED_CATALOG.read_text(encoding="utf-8")
    tables = _source_tables(text)
    assert [(k, u) for _, k, u in tables] == [(s.kind, s.url) for service in load_catalog() for s in service.sources]
    assert sum(_is_official(kind) for _, kind, _ in tables) >= 80
    assert _official_without_provenance(text) == []


def test_the_provenance_check_catches_an_uncommented_official_source() -> None:
    assert _official_without_provenance(GOOD) == ["https://www.githubstatus.com"]  # probes need no provenance
    vague = GOOD.replace('  [[services.sources]]\n  kind = "statuspage"', '  # the status page\n  [[services.sources]]\n  kind = "statuspage"')
    assert _official_without_provenance(vague) == ["https://www.githubstatus.com"]
    cited = GOOD.replace('  [[services.sources]]\n  kind = "statuspage"',
                         '  # Statuspage (documented at https://www.githubstatus.com/api)\n  [[services.sources]]\n  kind = "statuspage"')
    assert _official_without_provenance(cited) == []


#: a ``depends_on`` line (a top-level key of a service table); the schema's example is a comment
_DEPENDS_ON = re.compile(r"^\s*depends_on\s*=")
_URL = re.compile(r"https?://\S+")


def _depends_on_without_source(text: str) -> list[int]:
    """Line numbers of ``depends_on`` lines whose comment block directly above cites no URL.

    A link groups one service's outage under a provider's, so it must rest on a public page
    (a case study, the service's own post-mortem…) that a reader can open and check.
    """
    lines = text.splitlines()
    missing = []
    for number, line in enumerate(lines, start=1):
        if not _DEPENDS_ON.match(line):
            continue
        block: list[str] = []
        for above in reversed(lines[: number - 1]):
            if not above.lstrip().startswith("#"):
                break
            block.append(above)
        if not _URL.search(" ".join(block)):
            missing.append(number)
    return missing


def test_every_depends_on_link_in_the_shipped_catalog_cites_a_public_source() -> None:
    text = BUNDLED_CATALOG.read_text(encoding="utf-8")
    linked = [service for service in load_catalog() if service.depends_on]
    assert len([line for line in text.splitlines() if _DEPENDS_ON.match(line)]) == len(linked) >= 30
    assert _depends_on_without_source(text) == []


def test_the_depends_on_source_check_catches_a_link_without_a_cited_page() -> None:
    def with_link(comment: str) -> str:
        return GOOD.replace('aliases = ["ديسكورد"]', f'aliases = ["ديسكورد"]\n{comment}depends_on = ["github"]')

    def line_of_link(text: str) -> int:
        return text.splitlines().index('depends_on = ["github"]') + 1

    for text in (
        with_link(""),  # no comment at all
        with_link("# Discord runs on GitHub (we think)\n"),  # a comment, but no page to check
        with_link("# Discord's case study https://example.org/discord\n\n"),  # cited, but not directly above
    ):
        assert _depends_on_without_source(text) == [line_of_link(text)]
    cited = with_link("# GitHub's case study\n# https://example.org/case-studies/discord says so\n")
    assert _depends_on_without_source(cited) == []


def test_no_two_shipped_services_share_an_id_name_or_alias() -> None:
    owner: dict[str, str] = {}
    clashes: list[str] = []
    for service in load_catalog():
        keys = {normalize(k) for k in (service.id, service.name, service.name_ar, *service.aliases)}
        for key in keys:
            if key in owner:
                clashes.append(f"{key!r}: {owner[key]} and {service.id}")
            owner[key] = service.id
    assert clashes == []


def test_latin_in_arabic_shows_the_latin_name_in_arabic_and_keeps_the_arabic_spelling_for_lookups(tmp_path: Path) -> None:
    text = GOOD.replace('name_ar = "ديسكورد"', 'name_ar = "ديسكورد"\nlatin_in_arabic = true')
    catalog = load_catalog(write(tmp_path, text))
    discord, github = catalog.get("discord"), catalog.get("github")
    assert discord is not None and github is not None
    # name_ar is what every Arabic message is built from (ServiceNames takes it as it is)
    assert (discord.display_name("ar"), discord.name_ar) == ("Discord", "ديسكورد")
    assert (github.display_name("ar"), github.name_ar, github.latin_in_arabic) == ("جيت هب", "جيت هب", False)
    assert catalog.resolve("ديسكورد") is discord
    assert [(m.service.id, m.label) for m in catalog.search("ديس")] == [("discord", "ديسكورد")]
    assert "latin_in_arabic: must be true or false" in " ".join(
        problems_of(tmp_path, GOOD.replace('name_ar = "ديسكورد"', 'name_ar = "ديسكورد"\nlatin_in_arabic = "yes"'))
    )
    shipped = load_catalog()
    flagged = {s.id for s in shipped if s.latin_in_arabic}
    assert flagged >= {"osn-plus", "uae-pass"}
    for service_id in flagged:
        service = shipped.get(service_id)
        assert service is not None and service.display_name("ar") == service.name
        assert shipped.resolve(service.name_ar) is service


def test_a_latin_name_in_an_arabic_alert_is_isolated() -> None:
    from bot.i18n import FSI, PDI, translations
    from bot.notify.render import ServiceNames, render_alert
    from tests.notify import samples

    service = load_catalog().get("osn-plus")
    assert service is not None
    names = ServiceNames.of(service)
    message = render_alert(samples.ALERT, names, t=translations("ar"), now=samples.OPENED_AT)
    assert f"{FSI}OSN+{PDI}" in message.title
    assert "أو إس إن" not in message.title


def test_the_services_the_arabic_press_names_resolve_by_their_arabic_names() -> None:
    catalog = load_catalog()
    for query, service_id in [("واتساب", "whatsapp"), ("إنستغرام", "instagram"), ("فيسبوك", "facebook"), ("تيك توك", "tiktok"),
                              ("سناب شات", "snapchat"), ("يوتيوب", "youtube"), ("نتفليكس", "netflix"), ("شاهد", "shahid"),
                              ("أنغامي", "anghami"), ("بلايستيشن", "playstation"), ("آي مسج", "imessage"), ("ديب سيك", "deepseek"),
                              ("أبشر", "absher"), ("مصرف الراجحي", "al-rajhi-bank"), ("آسياسيل", "asiacell"), ("اتصالات المغرب", "maroc-telecom"),
                              ("فوري", "fawry"), ("زين كاش", "zain-cash"), ("ببجي", "pubg-mobile"), ("خرائط جوجل", "google-maps")]:
        service = catalog.resolve(query)
        assert service is not None and service.id == service_id, query


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
        (lambda t: t.replace('aliases = ["ديسكورد"]', 'aliases = ["ديسكورد"]\ndepends_on = ["github"]'), "service 'discord': depends_on: 'github' is not marked provider = true"),
        (lambda t: t.replace('aliases = ["ديسكورد"]', 'aliases = ["ديسكورد"]\ndepends_on = ["cloudflare"]'), "service 'discord': depends_on: 'cloudflare' is not in the catalog"),
        (lambda t: t.replace('aliases = ["ديسكورد"]', 'aliases = ["ديسكورد"]\nprovider = true\ndepends_on = ["discord"]'), "service 'discord': depends_on: a service cannot depend on itself"),
        (lambda t: t.replace('aliases = ["ديسكورد"]', 'aliases = ["ديسكورد"]\nprovider = "yes"'), "service 'discord': provider: must be true or false"),
    ],
)
def test_each_mistake_names_file_service_and_field(tmp_path: Path, edit, expected: str) -> None:
    problems = problems_of(tmp_path, edit(GOOD))
    path = str(tmp_path / "services.toml")
    assert any(p.startswith(path) and expected in p for p in problems), problems


def test_a_service_may_name_the_providers_it_runs_on(tmp_path: Path) -> None:
    text = GOOD.replace('aliases = ["gh", "جيتهب"]', 'aliases = ["gh", "جيتهب"]\nprovider = true').replace(
        'aliases = ["ديسكورد"]', 'aliases = ["ديسكورد"]\ndepends_on = ["github"]'
    )
    catalog = load_catalog(write(tmp_path, text))
    assert catalog.get("github").provider and catalog.get("discord").depends_on == ("github",)  # type: ignore[union-attr]
    assert not catalog.get("discord").provider and catalog.get("github").depends_on == ()  # type: ignore[union-attr]


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
