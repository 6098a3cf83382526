"""Default list and form views: which fields a list shows and how a form groups them.

Data (``mock_servicenow/ui/views.yaml``), as ``sys_ui_list`` and ``sys_ui_section`` are
records on a real instance. A table without its own view uses its nearest ancestor's
(``change_task`` -> ``task``); a table without any gets the display field, the first useful
fields and "Updated" (configure-use-list-functions, platform documentation:
https://www.servicenow.com/docs/r/platform-user-interface/configure-use-list-functions.html).
Names a table does not have are skipped, so views can name fields of tables that some data
sets lack. Everything here reads ``ctx.dictionary``: new tables get views by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.dictionary.model import SYSTEM_FIELD_NAMES

VIEWS_FILE = Path(__file__).resolve().parents[2] / "ui" / "views.yaml"

#: Fields a generated list view never picks (long texts, secrets, journals, lists).
_UNLISTED_TYPES = frozenset({"password", "password2", "journal", "journal_input",
                             "journal_list", "glide_list", "html", "user_roles"})
#: How many fields a generated list view shows besides the display field and "Updated".
_GENERATED_COLUMNS = 6
#: Strings longer than this are texts (multi-line on a form, never a generated column).
LONG_TEXT = 255


class ViewError(ValueError):
    """The views file cannot be used."""


@dataclass(frozen=True)
class Section:
    """A titled group of fields on a form (the first, untitled, is the form's top)."""

    title: str
    fields: tuple[str, ...]
    collapsed: bool = False


@dataclass(frozen=True)
class Views:
    """The parsed views file."""

    lists: dict[str, tuple[str, ...]]
    forms: dict[str, tuple[Section, ...]]


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ViewError(f"{where}: expected a list of field names")
    return tuple(value)


@lru_cache(maxsize=2)
def load(path: Path = VIEWS_FILE) -> Views:
    """The views file, read once per process."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ViewError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise ViewError(f"{path.name}: expected lists: and forms:")
    lists = {table: _names(columns, f"lists.{table}")
             for table, columns in (data.get("lists") or {}).items()}
    forms: dict[str, tuple[Section, ...]] = {}
    for table, sections in (data.get("forms") or {}).items():
        if not isinstance(sections, list):
            raise ViewError(f"forms.{table}: expected a list of sections")
        parsed = []
        for index, section in enumerate(sections):
            if not isinstance(section, dict) or set(section) - {"title", "fields"}:
                raise ViewError(f"forms.{table} section {index + 1}: title and fields only")
            parsed.append(Section(str(section.get("title") or ""),
                                  _names(section.get("fields"), f"forms.{table}")))
        forms[table] = tuple(parsed)
    return Views(lists, forms)


def is_listable(fld: Field) -> bool:
    """True for fields a generated list view may show."""
    return (fld.is_stored and fld.type not in _UNLISTED_TYPES
            and not (fld.type in ("string", "translated_text") and fld.max_length > LONG_TEXT))


def list_columns(dictionary: Dictionary, table: str, views: Views | None = None) -> list[str]:
    """The columns of ``table``'s default list view."""
    views = views or load()
    fields = dictionary.fields(table)
    for name in dictionary.ancestry(table):
        named = views.lists.get(name)
        if named is not None:
            present = [c for c in named if c in fields and fields[c].type not in
                       ("password", "password2")]
            if present:
                return present
    display = dictionary.display_field(table)
    columns = [display] if display else []
    for name, fld in fields.items():
        if len(columns) >= _GENERATED_COLUMNS + (1 if display else 0):
            break
        if name in SYSTEM_FIELD_NAMES or name in columns or name == "sys_class_name":
            continue
        if is_listable(fld):
            columns.append(name)
    return [*columns, "sys_updated_on"]


def form_sections(dictionary: Dictionary, table: str,
                  views: Views | None = None) -> tuple[Section, ...]:
    """The sections of ``table``'s form: the view's, then every other field in "Other
    fields" (collapsed when the view named some), then the system fields (read-only)."""
    views = views or load()
    fields = dictionary.fields(table)
    named: tuple[Section, ...] = ()
    for name in dictionary.ancestry(table):
        if name in views.forms:
            named = views.forms[name]
            break
    sections: list[Section] = []
    used: set[str] = set(SYSTEM_FIELD_NAMES)
    for section in named:
        present = tuple(f for f in section.fields if f in fields and f not in used)
        used.update(present)
        if present:
            sections.append(Section(section.title, present))
    display = dictionary.display_field(table)
    rest = [name for name in fields if name not in used and name != "sys_class_name"]
    if display is not None and display in rest and not sections:
        rest.remove(display)
        rest.insert(0, display)
    if rest:
        sections.append(Section("Other fields" if sections else "", tuple(rest),
                                collapsed=bool(sections)))
    system = [name for name in fields if name in SYSTEM_FIELD_NAMES or name == "sys_class_name"]
    sections.append(Section("System fields", tuple(system), collapsed=True))
    return tuple(sections)
