"""``python -m bot`` as an operator meets it: help, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL", "SERVICES_FILE")}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env={**base, **(env or {})}, cwd=cwd, timeout=120
    )


def test_help_lists_the_commands() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("run", "inspect", "db"):
        assert command in out.stdout


def test_run_without_token_exits_2_with_one_clear_line() -> None:
    out = run_cli("run")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert "DISCORD_TOKEN" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"DISCORD_TOKEN": "t", "DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DISCORD_TOKEN": "t", "SERVICES_FILE": "/no/such/catalog.toml"}, "SERVICES_FILE"),
        ({"DISCORD_TOKEN": "t", "FOLLOW_HUBS": "fr:all=111111111111111111"}, "FOLLOW_HUBS has 'fr:all"),
        ({"DISCORD_TOKEN": "t", "FOLLOW_HUBS": "ar:myspace=111111111111111111"}, "FOLLOW_HUBS has ar:myspace: the catalog has no service"),
    ],
)
def test_run_with_bad_settings_exits_2(env: dict[str, str], mentions: str, tmp_path: Path) -> None:
    out = run_cli("run", env={"DATABASE_URL": f"sqlite://{tmp_path}/bot.sqlite3", **env})
    assert out.returncode == 2
    assert mentions in out.stderr and "Traceback" not in out.stderr


def test_run_with_a_broken_catalog_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "services.toml"
    bad.write_text('[[services]]\nid = "x"\nname = "X"\n', encoding="utf-8")
    out = run_cli("run", env={"DISCORD_TOKEN": "t", "SERVICES_FILE": str(bad)})
    assert out.returncode == 2
    assert "service 'x': name_ar: required" in out.stderr


def test_db_upgrade_applies_migrations(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/sub/bot.sqlite3"
    first = run_cli("db", "upgrade", env={"DATABASE_URL": url})
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "sub" / "bot.sqlite3").exists()
    again = run_cli("db", "upgrade", env={"DATABASE_URL": url})
    assert again.returncode == 0 and "up to date" in again.stdout


def test_db_upgrade_refuses_an_in_memory_database_in_one_line() -> None:
    result = run_cli("db", "upgrade", env={"DATABASE_URL": "sqlite://:memory:"})
    assert result.returncode == 2 and "up to date" not in result.stdout
    assert result.stderr.count("\n") == 1 and "nothing to upgrade" in result.stderr


def test_a_missing_subcommand_module_fails_loudly_not_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subcommand whose module is gone is a broken install: ``--help`` must not quietly drop it."""
    import bot.__main__ as entry

    monkeypatch.setitem(entry.SUBCOMMANDS, "ghost", ("bot.cli.ghost", "a command whose module is missing"))
    with pytest.raises(ModuleNotFoundError, match="bot.cli.ghost"):
        entry.build_parser()


def test_simulate_refuses_an_unknown_log_format_in_one_line_as_run_does() -> None:
    out = run_cli("simulate", "x-outage", env={"LOG_FORMAT": "xml"})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == "error: LOG_FORMAT='xml' is not supported: set text or json"
