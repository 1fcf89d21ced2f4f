"""The bot's own code type-checks: mypy in its default mode over ``bot/`` reports nothing (the
few libraries without type hints are listed in pyproject.toml). CI runs it through this test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_error_in_bot() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "bot", "--cache-dir", str(ROOT / ".mypy_cache")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
