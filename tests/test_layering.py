"""Layers point one way (house style §2): web -> oauth -> domain -> store.

Walks every module's imports with ``ast`` and fails naming the offending ``module -> import``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[tuple[str, Path]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # In a package's __init__, "." is the package itself.
                parts = module.split(".")
                if path.name == "__init__.py":
                    parts.append("__init__")
                base = parts[: -node.level]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def _violations(package: str, rules: dict[str, tuple[str, ...]]) -> list[str]:
    bad = []
    for module, path in _modules(package):
        for prefix, forbidden in rules.items():
            if module == prefix or module.startswith(prefix + "."):
                for name in _imports(path, module):
                    for banned in forbidden:
                        if name == banned or name.startswith(banned + "."):
                            bad.append(f"{module} -> {name}")
    return sorted(set(bad))


def test_emulator_layers_point_down() -> None:
    rules = {
        "mock_servicenow.store": ("mock_servicenow.domain", "mock_servicenow.oauth",
                                  "mock_servicenow.web", "mock_servicenow.apps", "flask"),
        "mock_servicenow.dictionary": ("mock_servicenow.store", "mock_servicenow.domain",
                                       "mock_servicenow.oauth", "mock_servicenow.web", "flask"),
        "mock_servicenow.domain": ("flask", "werkzeug", "authlib.integrations",
                                   "mock_servicenow.web", "mock_servicenow.oauth"),
        "mock_servicenow.oauth": ("mock_servicenow.web",),
        "mock_servicenow.errors": ("mock_servicenow", "flask"),
        "mock_servicenow.settings": ("flask", "mock_servicenow.domain", "mock_servicenow.web"),
    }
    assert _violations("mock_servicenow", rules) == []


def test_only_the_app_factory_imports_web() -> None:
    bad = []
    for module, path in _modules("mock_servicenow"):
        if module.startswith("mock_servicenow.web") or module in {
            "mock_servicenow.app", "mock_servicenow.pytest_plugin", "mock_servicenow.server",
            "mock_servicenow.cli",
        }:
            continue
        bad += [f"{module} -> {n}" for n in _imports(path, module)
                if n.startswith("mock_servicenow.web")]
    assert bad == []


def test_connector_and_emulator_never_import_each_other() -> None:
    assert _violations("connector", {"connector": ("mock_servicenow",)}) == []
    assert _violations("mock_servicenow", {"mock_servicenow": ("connector",)}) == []


#: What the pages may use of the connector: the library the CLI uses, and nothing below it.
UI_MAY_IMPORT = ("connector.api", "connector.errors", "connector.settings",
                 "connector.loopback", "connector.ui")


def test_only_the_ui_is_a_web_app() -> None:
    """The library never imports Flask or werkzeug; the ui (``snow-connector ui``) does, and
    only the CLI's ``ui`` command imports the ui."""
    library = [(m, p) for m, p in _modules("connector")
               if not (m == "connector.ui" or m.startswith("connector.ui."))]
    bad = [f"{m} -> {n}" for m, p in library for n in _imports(p, m)
           if n.split(".")[0] in ("flask", "werkzeug")
           or (m != "connector.cli" and (n == "connector.ui" or n.startswith("connector.ui.")))]
    assert bad == []


def _ui_violations(module: str, names: set[str]) -> list[str]:
    bad = []
    for name in names:
        if name.split(".")[0] == "mock_servicenow":
            bad.append(f"{module} -> {name}")
        elif name.startswith("connector") and not any(
                name == allowed or name.startswith(allowed + ".") for allowed in UI_MAY_IMPORT):
            bad.append(f"{module} -> {name}")
    return sorted(bad)


def test_the_ui_calls_only_the_library_api() -> None:
    """``connector.ui`` reaches the instance through ``connector.api`` only: never the HTTP
    client, the token code, the store or the mapping directly, and never the emulator."""
    bad = []
    for module, path in _modules("connector"):
        if module == "connector.ui" or module.startswith("connector.ui."):
            bad += _ui_violations(module, _imports(path, module))
    assert bad == []
    # The rule can fail.
    assert _ui_violations("connector.ui.x", {"connector.store", "mock_servicenow.app",
                                             "connector.api", "flask"}) == [
        "connector.ui.x -> connector.store", "connector.ui.x -> mock_servicenow.app"]


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The rule above can fail: a domain module importing flask is reported."""
    sample = tmp_path / "bad.py"
    sample.write_text("from flask import g\nimport mock_servicenow.web.context\n")
    assert _imports(sample, "mock_servicenow.domain.bad") >= {"flask",
                                                              "mock_servicenow.web.context"}
