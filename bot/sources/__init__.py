"""Source kinds. Importing this package imports every bundled kind module so that each one
registers itself; adding a kind is adding one module here (listed in ``_KIND_MODULES``)."""

from __future__ import annotations

import importlib
import pkgutil

from bot.sources.base import SourceKind, get_kind, register, registry  # noqa: F401


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_all()
