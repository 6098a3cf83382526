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
                base = module.split(".")[: -node.level or None]
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
    assert _violations("connector", {"connector": ("mock_servicenow", "flask", "werkzeug")}) == []
    assert _violations("mock_servicenow", {"mock_servicenow": ("connector",)}) == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The rule above can fail: a domain module importing flask is reported."""
    sample = tmp_path / "bad.py"
    sample.write_text("from flask import g\nimport mock_servicenow.web.context\n")
    assert _imports(sample, "mock_servicenow.domain.bad") >= {"flask",
                                                              "mock_servicenow.web.context"}
