"""Source kinds: one module per kind, each registering itself under its ``kind`` name
(``@register``). Importing this package imports every module here that does not start with an
underscore, so adding a kind is adding one module.

* An **official page** kind (statuspage, statusio, slack, gcloud, feed, apple, xbox, psn, instatus,
  betterstack, statuspal, cachet) subclasses
  ``_toolkit.OfficialKind`` and is only its format-specific mapping: the format's words →
  ``Status``, its incidents, maintenances and components, built with the toolkit's defensive
  field access and ``page_observation``; see ``bot/sources/_toolkit/__init__.py`` for a
  skeleton. A **probe** kind (tcp, dns) subclasses ``_toolkit.probe.ProbeKind``; http is its
  own (status, body text, redirects).
* A **context** module (``ioda``: national internet connectivity per country) parses a
  source that is about no one service; it registers no kind and is polled by ``bot.runtime``.
* Parsing is pure (time is passed in, no I/O); only ``poll`` talks to ``ctx.fetcher``.
* Real captured payloads go under ``tests/fixtures/<kind>/`` with their provenance
  (repository, path, commit or page and date) in ``tests/fixtures/SOURCES.md``; tests in
  ``tests/sources/test_<kind>.py``.
"""

from __future__ import annotations

import importlib
import pkgutil

from bot.sources.base import SourceKind, get_kind, register, registry  # noqa: F401


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_all()
