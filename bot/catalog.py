"""Load and validate the services catalog (TOML), and find a service by what users type.

Validation collects every problem before failing, each naming the file, the service id and the
field, so an operator fixes the whole file in one go.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.i18n import in_arabic_script
from bot.sources import base as sources_base
from bot.sources.base import SourceSpec

BUNDLED_CATALOG = Path(__file__).parent / "data" / "services.toml"
ALL = "all"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SERVICE_KEYS = {"id", "name", "name_ar", "latin_in_arabic", "aliases", "homepage", "sources", "provider", "depends_on"}


class CatalogError(ValueError):
    """The catalog cannot be used; ``problems`` lists every ``file: service: field: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: str
    name_ar: str
    aliases: tuple[str, ...] = ()
    homepage: str | None = None
    sources: tuple[SourceSpec, ...] = ()
    #: the Arabic press writes this service's Latin name («منصة OSN+»): Arabic messages show
    #: ``name`` (``display_name``; the rendering layer isolates Latin text in Arabic lines) and
    #: ``name_ar`` stays the Arabic spelling people type, so lookups in Arabic script find it
    latin_in_arabic: bool = False
    #: an infrastructure provider (Cloudflare, AWS…): other services' outages may come from its
    provider: bool = False
    #: the providers this service documents that it runs on (``bot.detect.upstream``)
    depends_on: tuple[str, ...] = ()

    @property
    def status_url(self) -> str | None:
        """The official page users can open: the first official source's URL."""
        for spec in self.sources:
            kind = sources_base.registry().get(spec.kind)
            if kind is not None and kind.role is sources_base.SourceRole.OFFICIAL:
                return spec.url
        return None

    def source_key(self, index: int) -> str:
        """The name of the service's ``index``-th source wherever its readings are kept (the
        scheduler's slots, ``source_state`` rows, the monitor's caches, a live ``/isitdown``)."""
        return f"{self.id}:{index}"

    def display_name(self, language: str) -> str:
        """The name messages show in ``language``."""
        if language == "ar" and not self.latin_in_arabic:
            return self.name_ar
        return self.name


#: Arabic spelling variants folded together when matching names
_FOLD = str.maketrans({ord("أ"): "ا", ord("إ"): "ا", ord("آ"): "ا", ord("ٱ"): "ا", ord("ى"): "ي", ord("ة"): "ه"})


def normalize(text: str) -> str:
    """Fold what users type so lookups ignore case, width, Arabic diacritics, tatweel and the
    usual spelling variants (أ/إ/آ → ا, ى → ي, ة → ه)."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn" and ch != "\u0640")
    text = text.translate(_FOLD)
    return re.sub(r"\s+", " ", text)


@dataclass(frozen=True, slots=True)
class Match:
    """An autocomplete suggestion: what to show and what to send back as the value."""

    service: Service
    label: str  # the name or alias that matched, as written in the catalog


@dataclass
class Catalog:
    services: list[Service]
    path: Path | None = None
    _by_key: dict[str, Service] = field(default_factory=dict, repr=False)
    _by_id: dict[str, Service] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {service.id: service for service in self.services}
        for service in self.services:
            for key in (service.id, service.name, service.name_ar, *service.aliases):
                self._by_key.setdefault(normalize(key), service)

    def __len__(self) -> int:
        return len(self.services)

    def __iter__(self):
        return iter(self.services)

    def get(self, service_id: str) -> Service | None:
        return self._by_id.get(service_id)

    def add(self, service: Service) -> None:
        """Add a service at run time (a status page typed by a user): after the bundled ones,
        whose names and aliases keep precedence. Replaces a service with the same id."""
        if service.id in self._by_id:
            self.remove(service.id)
        self.services.append(service)
        self._by_id[service.id] = service
        for key in (service.id, service.name, service.name_ar, *service.aliases):
            self._by_key.setdefault(normalize(key), service)

    def remove(self, service_id: str) -> Service | None:
        """Forget a service added at run time (no subscription uses it any more)."""
        service = self._by_id.pop(service_id, None)
        if service is None:
            return None
        self.services = [s for s in self.services if s.id != service_id]
        self._by_key = {k: v for k, v in self._by_key.items() if v.id != service_id}
        for other in self.services:  # a name the removed service shadowed goes back to its owner
            for key in (other.id, other.name, other.name_ar, *other.aliases):
                self._by_key.setdefault(normalize(key), other)
        return service

    def resolve(self, query: str) -> Service | None:
        """The service whose id, name or alias (either script) is ``query``, or None."""
        return self._by_key.get(normalize(query))

    def search(self, query: str, limit: int = 25) -> list[Match]:
        """Autocomplete: names and aliases starting with ``query`` first, then containing it;
        the matched label is kept so an Arabic query gets Arabic suggestions."""
        q = normalize(query)
        prefix: list[Match] = []
        inner: list[Match] = []
        seen: set[tuple[str, str]] = set()
        for service in self.services:
            labels = (service.name, service.name_ar, *service.aliases) if q else (service.name,)
            for label in labels:
                key = normalize(label)
                if (service.id, label) in seen:
                    continue
                if key.startswith(q):
                    prefix.append(Match(service, label))
                elif q in key:
                    inner.append(Match(service, label))
                else:
                    continue
                seen.add((service.id, label))
        # one suggestion per service, preferring prefix matches, then the catalog order
        out: list[Match] = []
        used: set[str] = set()
        for match in prefix + inner:
            if match.service.id not in used:
                out.append(match)
                used.add(match.service.id)
            if len(out) >= limit:
                break
        return out


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate ``path`` (the bundled catalog by default). Raises CatalogError."""
    path = Path(path) if path else BUNDLED_CATALOG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([f"{path}: cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_catalog(raw, source=str(path), path=path)


def parse_catalog(raw: dict[str, Any], *, source: str = "<catalog>", path: Path | None = None) -> Catalog:
    """Validate an already-decoded catalog document."""
    import bot.sources  # noqa: F401  (registers every bundled kind)

    problems: list[str] = []
    entries = raw.get("services")
    if not isinstance(entries, list) or not entries:
        raise CatalogError([f"{source}: no [[services]] tables"])
    services: list[Service] = []
    seen_ids: set[str] = set()
    owner_of: dict[str, str] = {}  # normalized id/name/alias → service id
    for index, entry in enumerate(entries):
        where = f"{source}: services[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table")
            continue
        sid = entry.get("id")
        if isinstance(sid, str) and _ID_RE.match(sid):
            where = f"{source}: service {sid!r}"
        else:
            problems.append(f"{where}: id: must be a lowercase slug (a-z, 0-9, -), got {sid!r}")
            sid = None
        problems += [f"{where}: {key}: unknown field" for key in entry if key not in _SERVICE_KEYS]
        name = _text(entry, "name", where, problems)
        name_ar = _text(entry, "name_ar", where, problems)
        if name_ar and not in_arabic_script(name_ar):
            problems.append(f"{where}: name_ar: must be written in Arabic script, got {name_ar!r}")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            problems.append(f"{where}: aliases: must be a list of non-empty strings")
            aliases = []
        homepage = entry.get("homepage")
        if homepage is not None and (not isinstance(homepage, str) or not _is_http_url(homepage)):
            problems.append(f"{where}: homepage: must be an absolute http(s) URL, got {homepage!r}")
        latin = entry.get("latin_in_arabic", False)
        if not isinstance(latin, bool):
            problems.append(f"{where}: latin_in_arabic: must be true or false, got {latin!r}")
            latin = False
        specs = _sources(entry.get("sources", []), where, problems)
        provider = entry.get("provider", False)
        if not isinstance(provider, bool):
            problems.append(f"{where}: provider: must be true or false, got {provider!r}")
            provider = False
        depends_on = entry.get("depends_on", [])
        if not isinstance(depends_on, list) or not all(isinstance(d, str) and _ID_RE.match(d) for d in depends_on):
            problems.append(f"{where}: depends_on: must be a list of service ids")
            depends_on = []
        if sid is None or name is None or name_ar is None:
            continue
        if sid == ALL:
            problems.append(f"{where}: id: {ALL!r} is reserved (subscribe to all services)")
        if sid in seen_ids:  # (a set: a scan of the list made 5,000 services cost 1.9 s)
            problems.append(f"{where}: id: duplicate id (another service already uses {sid!r})")
            continue
        for label_field, label in [("id", sid), ("name", name), ("name_ar", name_ar)] + [
            ("aliases", a) for a in aliases
        ]:
            key = normalize(label)
            other = owner_of.get(key)
            if other is not None and other != sid:
                if label_field == "id":
                    problems.append(f"{where}: id: duplicate id (also used by service {other!r})")
                else:
                    problems.append(f"{where}: {label_field}: {label!r} is already claimed by service {other!r}")
            elif other == sid and label_field == "aliases":
                continue  # an alias repeating the service's own name is harmless
            owner_of[key] = sid
        services.append(Service(sid, name, name_ar, tuple(aliases), homepage, tuple(specs), latin, provider, tuple(depends_on)))
        seen_ids.add(sid)
    problems += _upstream_problems(services, source)
    if problems:
        raise CatalogError(problems)
    return Catalog(services, path=path)


def _upstream_problems(services: list[Service], source: str) -> list[str]:
    """``depends_on`` may name only providers of this catalog, never the service itself."""
    providers = {s.id for s in services if s.provider}
    known = {s.id for s in services}
    problems = []
    for service in services:
        for upstream in service.depends_on:
            where = f"{source}: service {service.id!r}: depends_on"
            if upstream == service.id:
                problems.append(f"{where}: a service cannot depend on itself")
            elif upstream not in known:
                problems.append(f"{where}: {upstream!r} is not in the catalog")
            elif upstream not in providers:
                problems.append(f"{where}: {upstream!r} is not marked provider = true")
    return problems


def _text(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> str | None:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key}: required (a non-empty string)")
        return None
    return value.strip()


def _is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _sources(raw: Any, where: str, problems: list[str]) -> list[SourceSpec]:
    if not isinstance(raw, list):
        problems.append(f"{where}: sources: must be a list of [[services.sources]] tables")
        return []
    specs: list[SourceSpec] = []
    kinds = sources_base.registry()
    for index, table in enumerate(raw):
        at = f"{where}: sources[{index}]"
        if not isinstance(table, dict):
            problems.append(f"{at}: must be a table")
            continue
        kind_name = table.get("kind")
        kind = kinds.get(kind_name) if isinstance(kind_name, str) else None
        if kind is None:
            problems.append(f"{at}: kind: unknown source kind {kind_name!r} (known: {', '.join(sorted(kinds))})")
            continue
        url = table.get("url")
        if not isinstance(url, str) or not url:
            problems.append(f"{at}: url: required")
            continue
        url_problem = kind.validate_url(url)
        if url_problem:
            problems.append(f"{at}: url: {url_problem} (got {url!r})")
            continue
        interval = table.get("interval")
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 5):
            problems.append(f"{at}: interval: must be a number of seconds ≥ 5, got {interval!r}")
            continue
        options = {k: v for k, v in table.items() if k not in ("kind", "url", "interval")}
        option_problems = kind.validate_options(options)
        problems += [f"{at}: {p}" for p in option_problems]
        if not option_problems:
            specs.append(SourceSpec(str(kind_name), str(url), float(interval) if interval else None, options))
    return specs
