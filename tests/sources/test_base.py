"""The source-kind registry: a kind is usable only when it can actually poll."""

from __future__ import annotations

import pytest

import bot.sources  # noqa: F401  (registers the bundled kinds)
from bot.sources.base import SourceKind, get_kind, register, registry


def test_a_kind_without_poll_is_refused_at_registration() -> None:
    class Half(SourceKind):
        name = "half-built"

    with pytest.raises(TypeError, match="must implement poll"):
        register(Half)
    assert "half-built" not in registry()


def test_every_bundled_kind_polls_and_unknown_kinds_are_named() -> None:
    for name, kind in registry().items():
        assert kind.poll.__func__ is not SourceKind.poll.__func__, name  # type: ignore[attr-defined]
    with pytest.raises(KeyError, match="unknown source kind 'pigeon'"):
        get_kind("pigeon")
