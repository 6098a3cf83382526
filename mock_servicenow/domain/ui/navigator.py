"""The application navigator: application menus and modules, from data, for one user.

The menus are data (``mock_servicenow/ui/navigator.yaml`` plus each installed application's
own file): on a real instance they are ``sys_app_application`` and ``sys_app_module`` records,
and a module opens a list (``<table>_list.do`` with an optional filter and view), a new
record's form (``<table>.do?sys_id=-1``) or any other page (platform documentation,
https://www.servicenow.com/docs/r/platform-user-interface/navigate-using-url.html).

A module appears only when it leads somewhere that works for this user: its table is served
(``ctx.dictionary``, so tables added to the dictionary light up their modules by themselves)
and the table's ACLs let the user list it or create in it; ``roles`` narrow a module further
and a menu's ``scope`` shows it only while that application is installed. A menu without a
visible module is not shown, as on the platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.scopes.access_policy import load_scope
from mock_servicenow.domain.table import acl
from mock_servicenow.domain.ui.urls import NEW_RECORD, form_url, list_url

#: The platform's menus (applications add theirs: ``mock_servicenow.apps.navigator_files``).
NAVIGATOR_FILE = Path(__file__).resolve().parents[2] / "ui" / "navigator.yaml"

_MODULE_KEYS = {"title", "table", "query", "view", "new", "link", "roles", "separator"}
_APPLICATION_KEYS = {"title", "modules", "scope", "roles"}


class NavigatorError(ValueError):
    """A navigator file that cannot be used (named with the file and the entry)."""


@dataclass(frozen=True)
class Module:
    """One ``sys_app_module``: a list, a new record, a link, or a separator heading."""

    title: str
    table: str | None = None
    query: str = ""
    view: str = ""
    new: bool = False
    link: str | None = None
    roles: tuple[str, ...] = ()
    separator: bool = False


@dataclass(frozen=True)
class Application:
    """One ``sys_app_application``: a titled menu of modules."""

    title: str
    modules: tuple[Module, ...]
    scope: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """A module as the navigator shows it: its title and URL (``None`` for a separator)."""

    title: str
    url: str | None


@dataclass(frozen=True)
class Menu:
    """An application menu as the navigator shows it."""

    title: str
    entries: tuple[Entry, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NavigatorError(f"{where}: roles must be a list of role names")
    return tuple(value)


def _module(raw: Any, where: str) -> Module:
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str):
        raise NavigatorError(f"{where}: a module needs a title")
    unknown = set(raw) - _MODULE_KEYS
    if unknown:
        raise NavigatorError(f"{where}: unknown keys {sorted(unknown)}")
    where = f"{where} ({raw['title']})"
    targets = [k for k in ("table", "link", "separator") if raw.get(k)]
    if len(targets) != 1:
        raise NavigatorError(f"{where}: give exactly one of table, link, separator")
    link = raw.get("link")
    if link is not None and (not isinstance(link, str) or not link.startswith("/")
                             or link.startswith("//")):
        raise NavigatorError(f"{where}: a link is a same-site path starting with /")
    return Module(title=raw["title"], table=raw.get("table"), query=str(raw.get("query") or ""),
                  view=str(raw.get("view") or ""), new=bool(raw.get("new")), link=link,
                  roles=_strings(raw.get("roles"), where),
                  separator=bool(raw.get("separator")))


def parse_file(path: Path) -> tuple[Application, ...]:
    """The applications of one navigator file; :class:`NavigatorError` when malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise NavigatorError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("applications"), list):
        raise NavigatorError(f"{path.name}: expected a mapping with an applications list")
    found = []
    for index, raw in enumerate(data["applications"]):
        where = f"{path.name} application {index + 1}"
        if not isinstance(raw, dict) or not isinstance(raw.get("title"), str):
            raise NavigatorError(f"{where}: an application needs a title")
        unknown = set(raw) - _APPLICATION_KEYS
        if unknown:
            raise NavigatorError(f"{where}: unknown keys {sorted(unknown)}")
        modules = raw.get("modules")
        if not isinstance(modules, list):
            raise NavigatorError(f"{where}: modules must be a list")
        found.append(Application(
            title=raw["title"],
            modules=tuple(_module(m, f"{where} module {i + 1}") for i, m in enumerate(modules)),
            scope=raw.get("scope"), roles=_strings(raw.get("roles"), where)))
    return tuple(found)


@lru_cache(maxsize=8)
def applications(sources: tuple[Path, ...]) -> tuple[Application, ...]:
    """Every application of ``sources``, in file order (read once per process)."""
    return tuple(app for path in sources for app in parse_file(path))


def _has_any_role(ctx: Context, roles: Sequence[str]) -> bool:
    return not roles or any(ctx.user.has_role(role) for role in roles)


def module_url(module: Module) -> str | None:
    """Where a module leads (``None`` for a separator)."""
    if module.link is not None:
        return module.link
    if module.table is None:
        return None
    if module.new:
        return form_url(module.table, NEW_RECORD, query=module.query, view=module.view)
    return list_url(module.table, module.query, view=module.view)


def is_visible(ctx: Context, module: Module) -> bool:
    """True when ``module`` leads to a page that works for the acting user."""
    if module.separator or not _has_any_role(ctx, module.roles):
        return False
    if module.table is None:
        return True
    if module.table not in ctx.dictionary:
        return False
    if module.new:
        return acl.can_write(ctx, module.table, "create")
    return acl.can_list(ctx, module.table)


def _entries(ctx: Context, modules: Iterable[Module]) -> tuple[Entry, ...]:
    shown: list[Entry] = []
    pending: Entry | None = None  # a separator is shown only above a visible module
    for module in modules:
        if module.separator:
            pending = Entry(module.title, None)
        elif is_visible(ctx, module):
            if pending is not None:
                shown.append(pending)
                pending = None
            shown.append(Entry(module.title, module_url(module)))
    return tuple(shown)


def navigator(ctx: Context, sources: tuple[Path, ...]) -> tuple[Menu, ...]:
    """The menus the acting user sees: visible modules only, empty menus left out."""
    installed: Mapping[str, bool] = {}
    menus = []
    for app in applications(sources):
        if not _has_any_role(ctx, app.roles):
            continue
        if app.scope is not None:
            if app.scope not in installed:
                installed = {**installed, app.scope: load_scope(ctx, app.scope) is not None}
            if not installed[app.scope]:
                continue
        entries = _entries(ctx, app.modules)
        if any(entry.url is not None for entry in entries):
            menus.append(Menu(app.title, entries))
    return tuple(menus)
