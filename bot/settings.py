"""Settings from the environment (DESIGN.md's table), validated once at start-up.

Every problem becomes a ``SettingsError`` whose message is one line telling the operator what
to set, so ``python -m bot run`` can print it and exit 2 instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_DATABASE_URL = "sqlite://data/outage-bot.sqlite3"
#: diverse, well-known endpoints on different networks, plus a DNS lookup
DEFAULT_CANARIES = (
    "https://www.google.com/generate_204",
    "https://www.cloudflare.com/cdn-cgi/trace",
    "https://www.microsoft.com/",
    "https://www.amazon.com/",
    "dns://example.com",
)
#: where /healthz and /metrics listen unless HEALTH_HOST says otherwise: the port is
#: unauthenticated, so it is private to the machine until the operator opens it
DEFAULT_HEALTH_HOST = "127.0.0.1"
#: IODA's public API (Georgia Tech): national internet outages, no key
DEFAULT_IODA_URL = "https://api.ioda.inetintel.cc.gatech.edu/v2"
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
#: what the bot's hand-written statements (``bot/db``: ``$n`` parameters through asyncpg,
#: ``ON CONFLICT``, ``RETURNING``) run on: SQLite, and PostgreSQL through asyncpg — not
#: tortoise's psycopg or MySQL clients, which would fail at the first poll
_DB_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


class SettingsError(ValueError):
    """A one-line, operator-facing explanation of a bad or missing setting."""


HUB_LANGUAGES = ("ar", "en", "both")
#: the scope of a hub that carries every service
HUB_ALL = "all"
_SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")
_SERVICE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class FollowHub:
    """One announcement channel that ``delivery:follow`` subscriptions follow (``FOLLOW_HUBS``).

    The bot posts each alert for ``service_id`` (``all``: every service) in ``language`` once
    there and publishes it; every channel that follows the hub gets Discord's copy. ``major``:
    only major outages (the subscription's minimum severity ``major_outage``)."""

    language: str  # ar | en | both
    service_id: str  # "all" or a catalog id (checked against the catalog when it is loaded)
    major: bool
    channel_id: int

    @property
    def key(self) -> str:
        scope = "major" if self.major and self.service_id == HUB_ALL else (
            f"{self.service_id}/major" if self.major else self.service_id)
        return f"{self.language}:{scope}"

    @property
    def min_severity(self) -> str:
        return "major_outage" if self.major else "degraded"


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: str | None = None
    discord_api_base: str = DEFAULT_API_BASE
    database_url: str = DEFAULT_DATABASE_URL
    services_file: Path | None = None  # None: the bundled catalog
    poll_interval: float = 60.0
    #: seconds between polls of the probes (http, tcp, dns) of services someone subscribed to
    probe_interval: float = 20.0
    allow_private_targets: bool = False
    health_port: int | None = None
    health_host: str = DEFAULT_HEALTH_HOST
    canary_targets: tuple[str, ...] = field(default=DEFAULT_CANARIES)
    log_format: str = "text"  # text | json
    ioda_url: str | None = DEFAULT_IODA_URL  # None: national connectivity context off
    ioda_interval: float = 600.0
    #: how many status pages typed by users (custom services) one guild may subscribe to
    custom_sources_per_guild: int = 25
    follow_hubs: tuple[FollowHub, ...] = ()
    #: Redis shared by several ``run`` processes (Discord's global limit); None: one process
    redis_url: str | None = None
    #: gateway shards in all (None: Discord's recommendation, every shard in this process)
    shard_count: int | None = None
    #: the shards this process connects (None: all of them; empty: none, poller and sender only)
    shard_ids: tuple[int, ...] | None = None
    #: seconds the elected poller holds its lease; another process takes over within two
    leader_lease: float = 15.0

    @property
    def shared_database(self) -> bool:
        """PostgreSQL (several processes may share it), not SQLite (one process per file)."""
        return not self.database_url.startswith("sqlite")

    @property
    def connects_gateway(self) -> bool:
        return self.shard_ids is None or bool(self.shard_ids)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read and validate the environment (``os.environ`` by default)."""
        env = os.environ if env is None else env
        token = env.get("DISCORD_TOKEN", "").strip() or None
        api_base = env.get("DISCORD_API_BASE", "").strip() or DEFAULT_API_BASE
        _require_http_url("DISCORD_API_BASE", api_base)
        database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
        _check_database_url(database_url)
        services_file = env.get("SERVICES_FILE", "").strip() or None
        if services_file and not Path(services_file).is_file():
            raise SettingsError(f"SERVICES_FILE={services_file} does not exist or is not a file: point it at a catalog TOML file or unset it to use the bundled one")
        poll_interval = _number("POLL_INTERVAL", env.get("POLL_INTERVAL"), 60.0, minimum=5)
        probe_interval = _number("PROBE_INTERVAL", env.get("PROBE_INTERVAL"), min(20.0, poll_interval), minimum=5)
        if probe_interval > poll_interval:
            raise SettingsError(
                f"PROBE_INTERVAL={probe_interval:g} is longer than POLL_INTERVAL={poll_interval:g}: "
                "subscribed services' probes are polled more often, not less; lower it or unset it"
            )
        allow_private = _flag("ALLOW_PRIVATE_TARGETS", env.get("ALLOW_PRIVATE_TARGETS"))
        health_port = env.get("HEALTH_PORT", "").strip()
        port: int | None = None
        if health_port:
            if not health_port.isdigit() or not 0 < int(health_port) < 65536:
                raise SettingsError(f"HEALTH_PORT={health_port!r} is not a TCP port: set a number from 1 to 65535 or unset it")
            port = int(health_port)
        health_host = _health_host(env.get("HEALTH_HOST", ""))
        canaries_raw = env.get("CANARY_TARGETS")
        canaries = DEFAULT_CANARIES if canaries_raw is None else tuple(t.strip() for t in canaries_raw.split(",") if t.strip())
        for target in canaries:
            _check_canary(target)
        log_format = log_format_of(env)
        ioda_raw = env.get("IODA_URL")
        ioda_url = DEFAULT_IODA_URL if ioda_raw is None else (ioda_raw.strip().rstrip("/") or None)
        if ioda_url:
            _require_http_url("IODA_URL", ioda_url, DEFAULT_IODA_URL + " (or set it empty to turn IODA off)")
        ioda_interval = _number("IODA_INTERVAL", env.get("IODA_INTERVAL"), 600.0, minimum=60)
        per_guild_raw = env.get("CUSTOM_SOURCES_PER_GUILD", "").strip()
        per_guild = 25
        if per_guild_raw:
            if not per_guild_raw.isdigit():
                raise SettingsError(f"CUSTOM_SOURCES_PER_GUILD={per_guild_raw!r} is not a whole number: set 0 (no status pages typed by users) or more")
            per_guild = int(per_guild_raw)
        follow_hubs = parse_follow_hubs(env.get("FOLLOW_HUBS", ""))
        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise SettingsError(f"REDIS_URL={redact_url(redis_url)!r} is not a Redis URL: use redis://host:6379/0")
        shard_count, shard_ids = _shards(env.get("SHARD_COUNT"), env.get("SHARD_IDS"))
        multi = redis_url is not None or shard_ids is not None
        if multi and database_url.startswith("sqlite"):
            raise SettingsError(
                "REDIS_URL and SHARD_IDS are for several `run` processes, which share one PostgreSQL "
                "database: SQLite serves a single process. Set DATABASE_URL=postgres://… or unset them"
            )
        leader_lease = _number("LEADER_LEASE", env.get("LEADER_LEASE"), 15.0, minimum=1)
        return cls(
            discord_token=token,
            discord_api_base=api_base.rstrip("/"),
            database_url=database_url,
            services_file=Path(services_file) if services_file else None,
            poll_interval=poll_interval,
            probe_interval=probe_interval,
            allow_private_targets=allow_private,
            health_port=port,
            health_host=health_host,
            canary_targets=canaries,
            log_format=log_format,
            ioda_url=ioda_url,
            ioda_interval=ioda_interval,
            custom_sources_per_guild=per_guild,
            follow_hubs=follow_hubs,
            redis_url=redis_url,
            shard_count=shard_count,
            shard_ids=shard_ids,
            leader_lease=leader_lease,
        )

    def require_token(self) -> str:
        if not self.discord_token:
            raise SettingsError("DISCORD_TOKEN is not set: set it to your bot's token from the Discord developer portal (python -m bot simulate runs without one)")
        return self.discord_token


def log_format_of(env: Mapping[str, str]) -> str:
    """``LOG_FORMAT`` (text by default, or json); ``SettingsError`` names any other value."""
    log_format = (env.get("LOG_FORMAT", "").strip() or "text").lower()
    if log_format not in ("text", "json"):
        raise SettingsError(f"LOG_FORMAT={log_format!r} is not supported: set text or json")
    return log_format


def _require_http_url(name: str, value: str, example: str = DEFAULT_API_BASE) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={value!r} is not an http(s) URL: set e.g. {example}")


def _check_database_url(url: str) -> None:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _DB_SCHEMES:
        raise SettingsError(
            f"DATABASE_URL={url!r} is not a database the bot runs on: use sqlite://path/file.sqlite3 or postgres://user@host:5432/db"
        )
    if scheme == "sqlite":
        path = url[len("sqlite://"):].split("?", 1)[0]
        if not path:
            raise SettingsError("DATABASE_URL='sqlite://' has no file path: use sqlite://data/outage-bot.sqlite3 or sqlite://:memory:")
        if path != ":memory:":
            parent = Path(path).parent
            existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
            if not existing.is_dir() or not os.access(existing, os.W_OK):
                raise SettingsError(f"DATABASE_URL={url!r}: cannot create or write {path}: pick a writable location")
    else:
        parts = urlsplit(url)
        if not parts.hostname:
            raise SettingsError(f"DATABASE_URL={redact_url(url)!r} has no host: use postgres://user@host:5432/db")


def redact_url(url: str) -> str:
    """``url`` without its password, for messages and logs (the user name stays: it helps)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _number(name: str, raw: str | None, default: float, *, minimum: float) -> float:
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds: set e.g. {int(default)}") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} is too small: set at least {int(minimum)} seconds")
    return value


def _shards(count_raw: str | None, ids_raw: str | None) -> tuple[int | None, tuple[int, ...] | None]:
    """``SHARD_COUNT`` and ``SHARD_IDS`` (``0,1``; ``none`` or empty: no gateway in this process,
    which then polls when elected and sends deliveries)."""
    count_text = (count_raw or "").strip()
    count: int | None = None
    if count_text:
        if not count_text.isdigit() or int(count_text) < 1:
            raise SettingsError(f"SHARD_COUNT={count_raw!r} is not a number of shards: set 1 or more, or unset it")
        count = int(count_text)
    if ids_raw is None:
        return count, None
    ids_text = ids_raw.strip().lower()
    if count is None:
        raise SettingsError("SHARD_IDS needs SHARD_COUNT: set how many shards all processes split between them")
    if ids_text in ("", "none"):
        return count, ()
    ids: list[int] = []
    for part in (p.strip() for p in ids_text.split(",")):
        if not part.isdigit() or int(part) >= count:
            raise SettingsError(f"SHARD_IDS={ids_raw!r}: {part!r} is not a shard of 0 to {count - 1} (SHARD_COUNT={count})")
        if int(part) in ids:
            raise SettingsError(f"SHARD_IDS={ids_raw!r} names shard {part} twice")
        ids.append(int(part))
    return count, tuple(ids)


def _flag(name: str, raw: str | None) -> bool:
    value = (raw or "0").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name}={raw!r} is not a flag: set 1 or 0")


def _health_host(raw: str) -> str:
    """``HEALTH_HOST``: an IP address (``0.0.0.0`` or ``::`` for every interface) or a host
    name of this machine; unset or empty is loopback."""
    value = raw.strip()
    if not value:
        return DEFAULT_HEALTH_HOST
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if _HOSTNAME.match(value) and not value.replace(".", "").isdigit():
        return value.rstrip(".")
    raise SettingsError(
        f"HEALTH_HOST={raw!r} is not an address to listen on: set an IP address such as 127.0.0.1 (the default), 0.0.0.0 for every interface, or a host name (the port goes in HEALTH_PORT)"
    )


def _check_canary(target: str) -> None:
    parts = urlsplit(target if "://" in target else f"tcp://{target}")
    if parts.scheme not in ("http", "https", "dns", "tcp") or not parts.hostname:
        raise SettingsError(f"CANARY_TARGETS has {target!r}: use http(s) URLs, dns://name or host:port, comma-separated")
    if parts.scheme == "tcp":
        try:
            ok = parts.port is not None
        except ValueError:
            ok = False
        if not ok:
            raise SettingsError(f"CANARY_TARGETS has {target!r} without a valid port: use host:port")


def parse_follow_hubs(raw: str) -> tuple[FollowHub, ...]:
    """``FOLLOW_HUBS``: comma-separated ``<language>:<scope>=<channel id>``; language ``ar``,
    ``en`` or ``both``; scope ``all`` (every alert), ``major`` (major outages only), a service id
    (every alert of that service) or ``<service id>/major``. Empty: follow delivery is off."""
    hubs: list[FollowHub] = []
    seen_keys: set[str] = set()
    seen_channels: dict[int, str] = {}
    example = "set e.g. FOLLOW_HUBS=ar:all=<channel id>,en:all=<channel id>,ar:major=<channel id>"
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, sep, channel = item.partition("=")
        language, colon, scope = key.strip().partition(":")
        language, scope, channel = language.strip().lower(), scope.strip().lower(), channel.strip()
        if not sep or not colon or not scope:
            raise SettingsError(f"FOLLOW_HUBS has {item!r}, not <language>:<scope>=<channel id>: {example}")
        if language not in HUB_LANGUAGES:
            raise SettingsError(f"FOLLOW_HUBS has {item!r}: the language must be ar, en or both")
        if not _SNOWFLAKE.match(channel):
            raise SettingsError(f"FOLLOW_HUBS has {item!r}: {channel!r} is not a Discord channel id (copy it with Developer Mode on)")
        service, slash, level = scope.partition("/")
        if scope == "major":
            service, major = HUB_ALL, True
        elif slash:
            if level != "major" or service in (HUB_ALL, ""):
                raise SettingsError(f"FOLLOW_HUBS has {item!r}: a scope is all, major, a service id or <service id>/major")
            major = True
        else:
            major = False
        if not _SERVICE_ID.match(service):
            raise SettingsError(f"FOLLOW_HUBS has {item!r}: {service!r} is not a service id")
        hub = FollowHub(language, service, major, int(channel))
        if hub.key in seen_keys:
            raise SettingsError(f"FOLLOW_HUBS names {hub.key} twice: keep one channel per language and scope")
        if hub.channel_id in seen_channels:
            raise SettingsError(
                f"FOLLOW_HUBS uses channel {hub.channel_id} for {seen_channels[hub.channel_id]} and {hub.key}: each hub needs its own announcement channel"
            )
        seen_keys.add(hub.key)
        seen_channels[hub.channel_id] = hub.key
        hubs.append(hub)
    return tuple(hubs)
