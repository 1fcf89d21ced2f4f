"""``python -m bot inspect KIND FILE|URL``: one observation as JSON.

For debugging a source and for checking a parser against a payload someone saved: a file is
handed to the kind's pure ``parse`` (fetched at "now", or ``--at``); a URL is polled once
through the kind's real ``poll`` and the bot's HTTP client (``bot.net.HttpClient``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from bot.sources.base import Fetcher, PollContext, SourceKind, SourceSpec

FetcherFactory = Callable[[], AbstractAsyncContextManager[Fetcher]]


class InspectError(Exception):
    """A problem worth one clear line to the user (unknown kind, unreadable file …)."""


def _kind(name: str) -> "type[SourceKind]":
    import bot.sources  # noqa: F401 - loads every bundled kind
    from bot.sources.base import registry

    kinds = registry()
    if name not in kinds:
        raise InspectError(f"unknown source kind {name!r}; known: {', '.join(sorted(kinds))}")
    return kinds[name]


def _is_url(target: str) -> bool:
    parts = urlsplit(target)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _default_factory() -> AbstractAsyncContextManager[Fetcher]:
    from bot.net.client import HttpClient  # lazy: keeps file inspection free of aiohttp

    return HttpClient()


async def inspect(
    kind: str,
    target: str,
    *,
    fetcher_factory: FetcherFactory | None = None,
    options: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The observation of ``kind`` for ``target`` (a file path or an http(s) URL) as a dict.

    Raises ``InspectError`` for an unknown kind, a kind without a parser given a file, or an
    unreadable file; payload problems are not errors here, they are the observation's.
    """
    cls = _kind(kind)
    opts = dict(options or {})
    problems = cls.validate_options(opts)
    if problems:
        raise InspectError("; ".join(problems))
    at = now or datetime.now(timezone.utc)
    if _is_url(target):
        spec = SourceSpec(kind=kind, url=target, options=opts)
        async with (fetcher_factory or _default_factory)() as fetcher:
            observation = await cls.poll(
                PollContext(service_id="inspect", spec=spec, fetcher=fetcher, now=at)
            )
        return observation.to_dict()
    parse = getattr(sys.modules[cls.__module__], "parse", None)
    if not callable(parse):
        raise InspectError(f"kind {kind!r} has no payload parser; give it a URL instead of a file")
    path = Path(target)
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise InspectError(f"cannot read {target}: {exc.strerror or exc}") from None
    observation = parse(payload, service_id="inspect", fetched_at=at, url=None, **opts)
    return observation.to_dict()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``inspect`` sub-command."""
    parser.add_argument("kind", help="source kind: statuspage, statusio, slack, feed, gcloud, http …")
    parser.add_argument("target", help="a saved payload file or an http(s) URL to poll once")
    parser.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help='a kind option, value as JSON when it parses (e.g. -o active_hours=24 -o \'components=["API"]\')',
    )
    parser.add_argument("--at", help="ISO 8601 time the payload was fetched (default: now, UTC)")


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InspectError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.strip()] = raw
    return options


def main(args: argparse.Namespace) -> int:
    """Run ``inspect`` from parsed CLI arguments; print JSON; 0 on success, 2 on bad input."""
    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        except ValueError as exc:
            print(f"inspect: bad --at {args.at!r}: {exc}", file=sys.stderr)
            return 2
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
    try:
        result = asyncio.run(inspect(args.kind, args.target, options=_options(args.option), now=at))
    except InspectError as exc:
        print(f"inspect: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover - convenience: python -m bot.cli.inspect
    _parser = argparse.ArgumentParser(prog="python -m bot.cli.inspect")
    add_arguments(_parser)
    raise SystemExit(main(_parser.parse_args()))
