"""``python -m bot check``: the /isitdown answer in a terminal, probing live once."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.cli import check as check_module
from bot.catalog import Catalog, load_catalog, parse_catalog
from bot.cli.check import EXIT_OK, EXIT_USAGE, add_arguments, check
from bot.net.client import HttpClient
from tests.loopback import respond, serve

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 5, 12, 51, tzinfo=timezone.utc)
SUMMARY = (ROOT / "tests" / "fixtures" / "statuspage" / "github_major_outage.json").read_bytes()


def octo(url: str) -> Catalog:
    return parse_catalog({"services": [{
        "id": "octo", "name": "Octo", "name_ar": "أوكتو", "aliases": ["اوكتو"],
        "sources": [{"kind": "statuspage", "url": url}, {"kind": "http", "url": url}],
    }]})


async def run(query: str, catalog: Catalog, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    async with HttpClient(allow_private=bool(kwargs.get("allow_private"))) as fetcher:
        code = await check(query, catalog, fetcher, now=NOW, out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


async def test_a_service_is_checked_through_its_sources_and_printed() -> None:
    async with serve({"/api/v2/summary.json": respond(SUMMARY), "/": respond("ok")}) as server:
        code, out, err = await run("octo", octo(server.url("/")))
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[0] == "# Octo is down"
    assert "## Official status page" in lines and "## Our checks" in lines
    assert "Responds normally (HTTP 200" in out
    assert server.hits["/api/v2/summary.json"] == 1 and server.hits["/"] == 1


async def test_an_arabic_query_is_answered_in_arabic_unless_told_otherwise() -> None:
    async with serve({"/api/v2/summary.json": respond(SUMMARY), "/": respond("ok")}) as server:
        catalog = octo(server.url("/"))
        _, arabic, _ = await run("اوكتو", catalog)
        _, english, _ = await run("اوكتو", catalog, lang="en")
        _, riyadh, _ = await run("octo", catalog, lang="ar", tz="Asia/Riyadh")
    assert arabic.startswith("# ") and "أوكتو" in arabic.splitlines()[0]
    assert english.splitlines()[0] == "# Octo is down"
    assert "أوكتو" in riyadh and "3:51" in riyadh  # 12:51 UTC in Riyadh


async def test_an_unknown_service_is_one_line_and_exit_2() -> None:
    code, out, err = await run("myspace", load_catalog())
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "myspace" in err


async def test_a_private_url_is_refused_unless_allowed() -> None:
    async with serve({"/": respond("hello")}) as server:
        code, out, err = await run(server.url("/"), load_catalog())
        assert code == EXIT_USAGE and "private or local address" in err and server.hits["/"] == 0
        code, out, err = await run(server.url("/"), load_catalog(), allow_private=True)
    assert code == EXIT_OK and "is up" in out.splitlines()[0] and "HTTP 200" in out


def test_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["github", "--lang", "ar", "--tz", "asia/riyadh"])
    assert (args.target, args.lang, args.tz) == ("github", "ar", "Asia/Riyadh")
    with pytest.raises(SystemExit):
        parser.parse_args(["github", "--lang", "fr"])
    with pytest.raises(SystemExit):
        parser.parse_args(["github", "--tz", "Mars/Olympus"])


def test_the_cli_entry_point_exits_2_for_an_unknown_service() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SERVICES_FILE", "ALLOW_PRIVATE_TARGETS")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "no-such-service"], capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: We don't know a service called no-such-service. Pick one from the suggestions, or type a web address."
    ]


def test_main_reads_the_catalog_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    catalog = tmp_path / "services.toml"
    catalog.write_text('[[services]]\nid = "octo"\nname = "Octo"\nname_ar = "أوكتو"\n', encoding="utf-8")
    monkeypatch.setenv("SERVICES_FILE", str(catalog))
    code = check_module.main(argparse.Namespace(target="github", lang=None, tz="UTC"))
    assert code == EXIT_USAGE  # github is not in that catalog


def probe_only(url: str) -> Catalog:
    return parse_catalog({"services": [{
        "id": "probed", "name": "Probed", "name_ar": "مفحوص", "sources": [{"kind": "http", "url": url}],
    }]})


async def test_when_our_own_network_is_down_a_failing_probe_is_not_called_an_outage() -> None:
    """No network on this machine must not read as 'every service is down'."""
    async with serve({"/": respond("gone", status=503)}) as server:
        catalog = probe_only(server.url("/"))
        refused = ("tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3")
        _, blind, _ = await run("probed", catalog, allow_private=True, canaries=refused)
        healthy = (f"tcp://{server.host}:{server.port}",) * 3
        _, seeing, _ = await run("probed", catalog, allow_private=True, canaries=healthy)
    assert seeing.splitlines()[0] == "# Probed is down"
    assert blind.splitlines()[0] == "# Can't tell whether Probed is down"


async def test_a_status_page_url_is_read_in_its_own_format_and_named_by_the_page() -> None:
    cloudamqp = (ROOT / "tests" / "fixtures" / "statuspage" / "cloudamqp_maintenance.json").read_bytes()
    routes = {"/status": respond("<html>status</html>"), "/status/api/v2/summary.json": respond(cloudamqp)}
    async with serve(routes) as server:
        code, out, err = await run(server.url("/status"), load_catalog(), allow_private=True)
    assert (code, err) == (EXIT_OK, "")
    assert out.splitlines()[0].startswith("# CloudAMQP") and "## Official status page" in out.splitlines()
    assert server.hits["/status/api/v2/summary.json"] == 1
