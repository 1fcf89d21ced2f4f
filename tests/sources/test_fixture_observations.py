"""Every official kind's reading of every captured payload, pinned: the observation each parser
makes of each fixture (with and without a name filter) must stay exactly what
``tests/golden/observations.json`` holds. Refactors of the toolkit or a kind that change any
reading fail here; ``UPDATE_GOLDEN=1`` rewrites the file (read its diff before committing)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from bot.sources import registry

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
GOLDEN = ROOT / "golden" / "observations.json"
KINDS = ("statuspage", "statusio", "slack", "feed", "gcloud", "apple", "instatus")
FILTERS = ({}, {"components": ["Git Operations", "API Requests"]}, {"services": ["Messaging", "Почта iCloud"]}, {"products": ["Compute Engine"]})
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def readings() -> dict[str, object]:
    out: dict[str, object] = {}
    for kind in KINDS:
        parse = registry()[kind].parse  # type: ignore[attr-defined]
        for path in sorted(FIXTURES.rglob("*")):
            if not path.is_file() or path.suffix not in (".json", ".xml", ".rss", ".atom"):
                continue
            for options in FILTERS:
                obs = parse(path.read_bytes(), service_id="s", fetched_at=NOW, url="https://example.com", **options)
                out[f"{kind}|{path.relative_to(FIXTURES)}|{sorted(options)}"] = obs.to_dict()
    return out


def test_every_kind_reads_every_fixture_as_pinned() -> None:
    got = json.loads(json.dumps(readings(), sort_keys=True, default=str))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(pinned) >= 400
    changed = sorted(k for k in pinned.keys() | got.keys() if pinned.get(k) != got.get(k))
    assert not changed, f"{len(changed)} readings changed, e.g. {changed[:5]}"
