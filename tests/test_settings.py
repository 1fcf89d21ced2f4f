"""Settings come from the environment exactly as DESIGN.md's table says, validated at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_CANARIES, Settings, SettingsError, redact_url


def test_defaults_match_the_design_table() -> None:
    s = Settings.from_env({})
    assert s.discord_token is None
    assert s.discord_api_base == "https://discord.com/api/v10"
    assert s.database_url == "sqlite://data/outage-bot.sqlite3"
    assert s.services_file is None
    assert s.poll_interval == 60.0
    assert s.allow_private_targets is False
    assert s.health_port is None
    assert s.health_host == "127.0.0.1"
    assert s.canary_targets == DEFAULT_CANARIES
    assert any(t.startswith("dns://") for t in s.canary_targets)


def test_every_variable_is_read(tmp_path: Path) -> None:
    catalog = tmp_path / "c.toml"
    catalog.write_text("")
    s = Settings.from_env(
        {
            "DISCORD_TOKEN": " abc ",
            "DISCORD_API_BASE": "http://127.0.0.1:8080/api/v10/",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
            "SERVICES_FILE": str(catalog),
            "POLL_INTERVAL": "30",
            "ALLOW_PRIVATE_TARGETS": "1",
            "HEALTH_PORT": "8081",
            "HEALTH_HOST": "10.0.0.7",
            "CANARY_TARGETS": "https://a.example/, dns://b.example, c.example:443",
            "LOG_FORMAT": "json",
        }
    )
    assert s.require_token() == "abc"
    assert s.discord_api_base == "http://127.0.0.1:8080/api/v10"
    assert s.database_url.startswith("postgres://")
    assert s.services_file == catalog
    assert s.poll_interval == 30.0
    assert s.allow_private_targets is True
    assert s.health_port == 8081
    assert s.health_host == "10.0.0.7"
    assert s.canary_targets == ("https://a.example/", "dns://b.example", "c.example:443")
    assert s.log_format == "json"


def test_empty_canary_list_turns_the_self_check_off() -> None:
    assert Settings.from_env({"CANARY_TARGETS": ""}).canary_targets == ()


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"DATABASE_URL": "mongodb://x"}, "DATABASE_URL"),
        # tortoise has clients for these, but the bot's own statements speak SQLite's and asyncpg's SQL
        ({"DATABASE_URL": "mysql://root@127.0.0.1:3306/test"}, "DATABASE_URL"),
        ({"DATABASE_URL": "psycopg://postgres@127.0.0.1:5432/test"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite://"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres:///db"}, "DATABASE_URL"),
        ({"SERVICES_FILE": "/definitely/not/here.toml"}, "SERVICES_FILE"),
        ({"POLL_INTERVAL": "soon"}, "POLL_INTERVAL"),
        ({"POLL_INTERVAL": "1"}, "POLL_INTERVAL"),
        ({"ALLOW_PRIVATE_TARGETS": "maybe"}, "ALLOW_PRIVATE_TARGETS"),
        ({"HEALTH_PORT": "99999"}, "HEALTH_PORT"),
        ({"HEALTH_HOST": "127.0.0.1:8081"}, "HEALTH_HOST"),
        ({"HEALTH_HOST": "every interface"}, "HEALTH_HOST"),
        ({"HEALTH_HOST": "999.1.1.1"}, "HEALTH_HOST"),
        ({"HEALTH_HOST": "http://0.0.0.0"}, "HEALTH_HOST"),
        ({"DISCORD_API_BASE": "discord.com"}, "DISCORD_API_BASE"),
        ({"CANARY_TARGETS": "ftp://x"}, "CANARY_TARGETS"),
        ({"CANARY_TARGETS": "host-without-port"}, "CANARY_TARGETS"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
)
def test_bad_values_give_one_line_naming_the_variable(env: dict[str, str], mentions: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    message = str(info.value)
    assert message.startswith(mentions) or mentions in message
    assert "\n" not in message


def test_missing_token_says_what_to_set() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN is not set"):
        Settings.from_env({}).require_token()


def test_password_is_not_echoed_back() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"DATABASE_URL": "postgres://user:hunter2@/db"})
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://bot:hunter2@db.internal:5432/outages", "postgres://bot:***@db.internal:5432/outages"),
        ("redis://:s3cr%40t@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("postgres://bot@db.internal/outages", "postgres://bot@db.internal/outages"),
        ("sqlite://db.sqlite3", "sqlite://db.sqlite3"),
    ],
)
def test_a_url_shown_in_a_message_keeps_everything_but_its_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("raw", "host"),
    [("", "127.0.0.1"), ("  ", "127.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("::", "::"), ("[::1]", "::1"),
     ("::1", "::1"), ("health.internal", "health.internal"), ("localhost.", "localhost")],
)
def test_health_host_takes_an_address_or_a_host_name(raw: str, host: str) -> None:
    """Loopback unless the operator chooses; an address or a host name, never a URL or a port."""
    assert Settings.from_env({"HEALTH_HOST": raw}).health_host == host


def test_ioda_is_on_by_default_and_off_when_empty():
    from bot.settings import DEFAULT_IODA_URL, Settings, SettingsError

    assert Settings.from_env({}).ioda_url == DEFAULT_IODA_URL
    assert Settings.from_env({"IODA_URL": ""}).ioda_url is None
    assert Settings.from_env({"IODA_URL": "http://127.0.0.1:9/v2/"}).ioda_url == "http://127.0.0.1:9/v2"
    assert Settings.from_env({"IODA_INTERVAL": "300"}).ioda_interval == 300.0
    for bad in ({"IODA_URL": "ftp://x"}, {"IODA_INTERVAL": "5"}):
        try:
            Settings.from_env(bad)
        except SettingsError as exc:
            assert "IODA" in str(exc)
        else:
            raise AssertionError(f"{bad} accepted")


def test_custom_sources_per_guild_defaults_to_25_and_is_read() -> None:
    assert Settings.from_env({}).custom_sources_per_guild == 25
    assert Settings.from_env({"CUSTOM_SOURCES_PER_GUILD": "3"}).custom_sources_per_guild == 3
    assert Settings.from_env({"CUSTOM_SOURCES_PER_GUILD": "0"}).custom_sources_per_guild == 0
    for bad in ("-1", "many", "2.5"):
        with pytest.raises(SettingsError, match="CUSTOM_SOURCES_PER_GUILD"):
            Settings.from_env({"CUSTOM_SOURCES_PER_GUILD": bad})
# ------------------------------------------------------------------ FOLLOW_HUBS


def test_follow_hubs_are_off_by_default_and_read_per_language_and_scope() -> None:
    assert Settings.from_env({}).follow_hubs == ()
    s = Settings.from_env({"FOLLOW_HUBS": " ar:all=111111111111111111, en:MAJOR=222222222222222222,"
                                          "both:github=333333333333333333,ar:github/major=444444444444444444 "})
    got = [(h.language, h.service_id, h.major, h.channel_id, h.key, h.min_severity) for h in s.follow_hubs]
    assert got == [
        ("ar", "all", False, 111111111111111111, "ar:all", "degraded"),
        ("en", "all", True, 222222222222222222, "en:major", "major_outage"),
        ("both", "github", False, 333333333333333333, "both:github", "degraded"),
        ("ar", "github", True, 444444444444444444, "ar:github/major", "major_outage"),
    ]


@pytest.mark.parametrize(
    ("raw", "mentions"),
    [
        ("ar:all", "not <language>:<scope>=<channel id>"),
        ("all=111111111111111111", "not <language>:<scope>=<channel id>"),
        ("fr:all=111111111111111111", "ar, en or both"),
        ("ar:all=#alerts", "not a Discord channel id"),
        ("ar:all/major=111111111111111111", "<service id>/major"),
        ("ar:github/minor=111111111111111111", "<service id>/major"),
        ("ar:Git Hub=111111111111111111", "not a service id"),
        ("ar:all=111111111111111111,ar:all=222222222222222222", "names ar:all twice"),
        ("ar:all=111111111111111111,en:all=111111111111111111", "its own announcement channel"),
    ],
)
def test_bad_follow_hubs_give_one_line_naming_the_variable(raw: str, mentions: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"FOLLOW_HUBS": raw})
    message = str(err.value)
    assert message.startswith("FOLLOW_HUBS") and "\n" not in message
    assert mentions in message


PG = "postgres://postgres@127.0.0.1:5432/test"


def test_one_process_is_the_default_and_several_are_read_from_the_shard_variables() -> None:
    alone = Settings.from_env({})
    assert (alone.redis_url, alone.shard_count, alone.shard_ids, alone.leader_lease) == (None, None, None, 15.0)
    assert alone.connects_gateway and not alone.shared_database
    two = Settings.from_env({"DATABASE_URL": PG, "REDIS_URL": "redis://127.0.0.1:6379/0", "SHARD_COUNT": "4",
                             "SHARD_IDS": " 2, 0 ", "LEADER_LEASE": "6"})
    assert (two.redis_url, two.shard_count, two.shard_ids, two.leader_lease) == ("redis://127.0.0.1:6379/0", 4, (2, 0), 6.0)
    assert two.connects_gateway and two.shared_database
    for none in ("none", "", " NONE "):
        rest_only = Settings.from_env({"DATABASE_URL": PG, "SHARD_COUNT": "2", "SHARD_IDS": none})
        assert rest_only.shard_ids == () and not rest_only.connects_gateway
    # SHARD_COUNT alone keeps every shard in this one process, on SQLite too
    assert Settings.from_env({"SHARD_COUNT": "3"}).shard_ids is None


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT"),
        ({"DATABASE_URL": PG, "SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"DATABASE_URL": PG, "SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS"),
        ({"DATABASE_URL": PG, "SHARD_COUNT": "2", "SHARD_IDS": "0,0"}, "twice"),
        ({"DATABASE_URL": PG, "SHARD_COUNT": "2", "SHARD_IDS": "-1"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0"}, "SQLite serves a single process"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "SQLite serves a single process"),
        ({"DATABASE_URL": PG, "REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"LEADER_LEASE": "0.5"}, "LEADER_LEASE"),
    ],
)
def test_bad_multi_process_settings_give_one_line(env: dict[str, str], mentions: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert mentions in str(info.value) and "\n" not in str(info.value)


def test_a_redis_password_is_not_echoed_back() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"DATABASE_URL": PG, "REDIS_URL": "http://:hunter2@cache:6379"})
    assert "hunter2" not in str(info.value)
