"""The pure core (parsing, detection, rendering, i18n) must not import discord, tortoise or
aiohttp: that is what keeps it fast to test and free of I/O. Each module is imported in a
fresh interpreter and the forbidden packages must not appear in ``sys.modules``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("discord", "tortoise", "aiohttp")


def pure_modules() -> list[str]:
    names = ["bot.status", "bot.i18n", "bot.sources.base", "bot.catalog"]
    names += [f"bot.detect.{p.stem}" for p in sorted((ROOT / "bot" / "detect").glob("*.py")) if p.stem != "__init__"]
    for path in sorted((ROOT / "bot" / "sources").glob("*.py")):
        if path.stem not in ("__init__", "base"):
            names.append(f"bot.sources.{path.stem}")
    for stem in ("render", "text"):
        if (ROOT / "bot" / "notify" / f"{stem}.py").exists():
            names.append(f"bot.notify.{stem}")
    return names


@pytest.mark.parametrize("module", pure_modules())
def test_pure_module_imports_no_io_framework(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r})); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


def test_the_layering_test_would_catch_a_violation() -> None:
    code = "import sys, bot.sources.base, aiohttp; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "True"
