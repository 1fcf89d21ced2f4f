"""The tree is the architecture, and this test holds it to that.

* **Layers.** Each package of ``bot/`` may import only the layers below it (table ``MAY_IMPORT``,
  read from every ``import`` in every module — at the top, inside functions and under
  ``TYPE_CHECKING`` alike):

  ======================  ==============================================================
  ``core``                ``status``, ``clock``, ``i18n``, ``settings``, ``catalog``, ``sources/``, ``detect/``
  ``notify``              rendering (pure) and the outbox
  ``db``, ``net``         the database; the HTTP client and SSRF guard
  ``ops``                 health, metrics, logs
  ``runtime``             scheduler, monitor: the I/O around the core; never the Discord edge
  ``services``            what commands call; never the running pipeline or the Discord edge
  ``discord``             the Discord edge (and the composition root, ``discord.client``)
  ``cli``, ``simulate``   entry points
  ======================  ==============================================================

* **No cycles** between modules.
* **Pure stays pure**: the core and the renderers, imported in a fresh interpreter, load
  neither discord.py, tortoise nor aiohttp.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
FORBIDDEN = ("discord", "tortoise", "aiohttp")

CORE_MODULES = {"bot.status", "bot.clock", "bot.i18n", "bot.settings", "bot.catalog"}
CORE_PACKAGES = ("bot.sources", "bot.detect")
LOWER = {"core"}
MAY_IMPORT: dict[str, set[str]] = {
    "core": {"core"},
    "notify": {"core", "notify", "db"},
    "db": {"core", "db"},
    "net": {"core", "net"},
    "ops": {"core", "ops", "db"},
    "runtime": {"core", "notify", "db", "net", "ops", "runtime"},
    "services": {"core", "notify", "db", "net", "ops", "services"},
    "discord": {"core", "notify", "db", "net", "ops", "runtime", "services", "discord"},
    "simulate": {"core", "notify", "db", "net", "ops", "runtime", "services", "discord", "simulate"},
    "cli": {"core", "notify", "db", "net", "ops", "runtime", "services", "discord", "simulate", "cli"},
    "root": {"core", "notify", "db", "net", "ops", "runtime", "services", "discord", "simulate", "cli", "root"},
}
#: modules that must load no I/O framework (the pure core and the renderers)
PURE_PACKAGES = ("bot.sources", "bot.detect", "bot.notify.render")
PURE_MODULES = ("bot.status", "bot.clock", "bot.i18n", "bot.settings", "bot.catalog", "bot.notify.text")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in CORE_MODULES or module.startswith(tuple(p + "." for p in CORE_PACKAGES)) or module in CORE_PACKAGES:
        return "core"
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__", "__init__"):
        return "root"
    return parts[1]


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def imports_of(path: Path, module: str) -> set[str]:
    """Every ``bot`` module ``path`` imports (``from bot.x import y`` names ``bot.x.y`` when
    that is a module, else ``bot.x``)."""
    known = all_modules()
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "bot"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "bot":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name != module}


def test_every_package_imports_only_the_layers_below_it() -> None:
    problems = []
    for module, path in all_modules().items():
        layer = layer_of(module)
        for target in imports_of(path, module):
            if target == "bot":
                continue  # the package itself (its version)
            if layer_of(target) not in MAY_IMPORT[layer]:
                problems.append(f"{module} ({layer}) imports {target} ({layer_of(target)})")
    assert not problems, "\n".join(problems)


def test_no_module_import_cycle() -> None:
    modules = all_modules()
    graph = {m: {t for t in imports_of(p, m) if t in modules and t != "bot"} for m, p in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_the_layer_rules_catch_a_violation(tmp_path: Path) -> None:
    """A core module importing the running pipeline, and runtime importing the Discord edge,
    are both refused by the table (the check reads rules, not Python's import system)."""
    assert "runtime" not in MAY_IMPORT[layer_of("bot.detect.fusion")]
    assert "discord" not in MAY_IMPORT[layer_of("bot.runtime.monitor")]
    assert "runtime" not in MAY_IMPORT[layer_of("bot.services.status")]
    assert "notify" not in MAY_IMPORT[layer_of("bot.sources.statuspage")]
    tree_text = "from bot.notify.render import render_event\n"
    path = tmp_path / "probe.py"
    path.write_text(tree_text, encoding="utf-8")
    assert imports_of(path, "bot.detect.probe") == {"bot.notify.render"}


def pure_modules() -> list[str]:
    names = list(PURE_MODULES)
    for module in all_modules():
        if module.startswith(tuple(p + "." for p in PURE_PACKAGES)) or module in PURE_PACKAGES:
            names.append(module)
    return sorted(set(names))


def forbidden_imports(module: str, *, also_on_path: Path | None = None) -> str:
    """The I/O frameworks importing ``module`` pulls in, in a fresh interpreter (comma-joined)."""
    extra = f"sys.path.insert(0, {str(also_on_path)!r}); " if also_on_path is not None else ""
    code = (
        f"import sys, importlib; {extra}importlib.import_module({module!r}); "
        f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r})); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("module", pure_modules())
def test_pure_module_imports_no_io_framework(module: str) -> None:
    bad = forbidden_imports(module)
    assert bad == "", f"{module} pulls in {bad}"


def test_the_purity_check_would_catch_a_violation(tmp_path: Path) -> None:
    """A module that reaches aiohttp through another (as a pure module might by mistake)."""
    (tmp_path / "impure_probe.py").write_text("import bot.sources.base\nimport bot.net.client\n", encoding="utf-8")
    assert "aiohttp" in forbidden_imports("impure_probe", also_on_path=tmp_path).split(",")
