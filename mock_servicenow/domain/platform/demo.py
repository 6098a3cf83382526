"""A developer instance's demo data, read from ``mock_servicenow/data/demo/*.json``.

The files and their format are described in ``dictionary/data/README.md`` ("Demo data"):
records per table in file-name order, references by sys_id, display value or lookup object,
journal fields as journal entries, and generators for many similar rows (``syslog``). Each
file cites the public pages its records come from; records whose sys_id is published keep it,
the others get one derived from their table and ``_key`` (or display value), so the seed is
deterministic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mock_servicenow.dictionary import Dictionary, DictionaryError, Field
from mock_servicenow.dictionary.loader import read_document
from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.dictionary.values import InvalidValue, to_storage
from mock_servicenow.domain.platform.clock import GLIDE_FORMAT, format_glide
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.store import rows, table_queries

FORMAT = "mock-servicenow-demo/1"
DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
_JOURNALS = frozenset({"journal_input", "journal"})


class DemoDataError(ValueError):
    """A demo data file contradicts the dictionary or itself (seen when the template is
    built, so a broken file fails every test at once, not one request later)."""


def demo_files(directory: Path = DEMO_DIR) -> tuple[Path, ...]:
    """The demo data files in the order they apply."""
    return tuple(sorted(directory.glob("*.json")))


def seed_demo(ctx: Context, stamp: str, files: tuple[Path, ...] | None = None) -> int:
    """Insert every record of the demo files; returns how many. ``stamp`` is the creation
    time of records that name none."""
    loader = _Loader(ctx, stamp)
    count = 0
    for path in files if files is not None else demo_files():
        try:
            document = read_document(path, FORMAT)
        except DictionaryError as exc:
            raise DemoDataError(str(exc)) from None
        for group in document.get("records", ()):
            table = group.get("table")
            if table not in ctx.dictionary:
                raise DemoDataError(f"{path.name}: unknown table {table!r}")
            try:
                if "generate" in group:
                    count += loader.generate(table, group["generate"])
                for row in group.get("rows", ()):
                    loader.add(table, row)
                    count += 1
            except DemoDataError as exc:
                raise DemoDataError(f"{path.name}: {table}: {exc}") from None
    return count


class _Loader:
    def __init__(self, ctx: Context, stamp: str) -> None:
        self.ctx = ctx
        self.stamp = stamp
        self._found: dict[tuple[str, str, str], str] = {}
        self._default_rows: dict[str, list[tuple[str, Any]]] = {}

    @property
    def dictionary(self) -> Dictionary:
        return self.ctx.dictionary

    def add(self, table: str, values: Mapping[str, Any]) -> str:
        """Insert one record; returns its sys_id."""
        fields = self.dictionary.fields(table)
        unknown = [name for name in values if name not in fields and name != "_key"]
        if unknown:
            raise DemoDataError(f"unknown field(s) {', '.join(unknown)}")
        sys_id = str(values.get("sys_id") or stable_sys_id(table, self._key(table, values)))
        row: dict[str, Any] = {"sys_id": sys_id}
        journals: dict[str, str] = {}
        for name, value in values.items():
            fld = fields.get(name)
            if fld is None or name == "sys_id":
                continue
            if fld.type in _JOURNALS:
                journals[name] = str(value)
                continue
            if not fld.is_stored:
                continue
            if fld.type == "reference" and value not in (None, ""):
                value = self._reference(fld, value)
            row[name] = self._stored(fld, value)
        created = str(values.get("sys_created_on") or values.get("opened_at") or self.stamp)
        rows.insert(self.ctx.db, self.dictionary, table,
                    self._complete(table, row, created, str(values.get("sys_created_by")
                                                            or "admin")))
        for element, text in journals.items():
            table_queries.insert_journal(self.ctx.db, {
                "sys_id": stable_sys_id("sys_journal_field", sys_id, element), "name": table,
                "element": element, "element_id": sys_id, "value": text,
                "sys_created_on": created, "sys_created_by": "admin",
                "sys_updated_on": created, "sys_updated_by": "admin", "sys_mod_count": 0})
        return sys_id

    def generate(self, table: str, spec: Mapping[str, Any]) -> int:
        """Rows of a generator (``dictionary/data/README.md``), inserted in one statement."""
        fields = self.dictionary.fields(table)
        lists: dict[str, list[Any]] = spec.get("fields", {})
        unknown = [name for name in lists if name not in fields]
        if unknown or not all(isinstance(v, list) and v for v in lists.values()):
            raise DemoDataError(f"generator: unknown or empty field list(s) {unknown}")
        try:
            start = datetime.strptime(str(spec["start"]), GLIDE_FORMAT)
            count, every = int(spec["count"]), int(spec.get("every_seconds", 60))
        except (KeyError, ValueError) as exc:
            raise DemoDataError(f"generator: {exc}") from None

        # Each listed value is converted once; the defaults of the other fields once.
        stored = {name: [self._stored(fields[name], value) for value in values]
                  for name, values in lists.items()}
        base = self._complete(table, {}, "", "system")
        for name in ("sys_created_on", "sys_updated_on"):
            base.pop(name)

        def generated() -> Iterator[dict[str, Any]]:
            for index in range(count):
                created = format_glide(start + timedelta(seconds=index * every))
                row = dict(base)
                row.update({name: values[index % len(values)] for name, values in stored.items()})
                row["sys_id"] = stable_sys_id(table, "generated", str(index))
                row["sys_created_on"] = row["sys_updated_on"] = created
                yield row

        return rows.insert_many(self.ctx.db, self.dictionary, table, generated())

    def _complete(self, table: str, row: dict[str, Any], created: str,
                  by: str) -> dict[str, Any]:
        """Defaults for the fields not given, then the system fields."""
        for name, value in self._defaults(table):
            row.setdefault(name, value)
        row.setdefault("sys_created_on", created)
        row.setdefault("sys_updated_on", row["sys_created_on"])
        row.setdefault("sys_created_by", by)
        row.setdefault("sys_updated_by", row["sys_created_by"])
        row.setdefault("sys_mod_count", 0)
        return row

    def _defaults(self, table: str) -> list[tuple[str, Any]]:
        """The table's constant defaults as stored, computed once per table."""
        known = self._default_rows.get(table)
        if known is None:
            known = self._default_rows[table] = [
                (name, self._stored(fld, fld.default))
                for name, fld in self.dictionary.fields(table).items()
                if fld.is_stored and fld.default is not None
                and not fld.default.startswith("javascript:")]
        return known

    def _key(self, table: str, values: Mapping[str, Any]) -> str:
        if values.get("_key") is not None:
            return str(values["_key"])
        display = self.dictionary.display_field(table)
        value = values.get(display) if display else None
        if value in (None, ""):
            raise DemoDataError(f"a row without sys_id, _key or {display}: {dict(values)}")
        return str(value)

    def _stored(self, fld: Field, value: Any) -> Any:
        try:
            return to_storage(fld, value)
        except InvalidValue as exc:
            raise DemoDataError(str(exc)) from None

    def _reference(self, fld: Field, value: Any) -> str:
        """A reference given as a sys_id, a display value or a lookup object."""
        target = str(fld.reference)
        if target not in self.dictionary:
            return str(value)
        if isinstance(value, dict):
            return self._lookup(target, fld.reference_key, value)
        text = str(value)
        if fld.reference_key == "sys_id" and _SYS_ID.match(text):
            return text
        display = self.dictionary.display_field(target)
        if display is None:
            raise DemoDataError(f"{fld.name}: {target} has no display field to find {text!r}")
        return self._lookup(target, fld.reference_key, {display: text})

    def _lookup(self, target: str, key: str, equals: Mapping[str, Any]) -> str:
        cache_key = (target, key, json.dumps(equals, sort_keys=True))
        known = self._found.get(cache_key)
        if known is not None:
            return known
        fields = self.dictionary.fields(target)
        try:
            stored = {name: to_storage(fields[name], value) for name, value in equals.items()}
        except (KeyError, InvalidValue) as exc:
            raise DemoDataError(f"lookup in {target}: {exc}") from None
        found = rows.find_by(self.ctx.db, self.dictionary, target, **stored)
        if not found:
            raise DemoDataError(f"no {target} record with {dict(equals)} (defined later?)")
        value = str(found[0][key])
        self._found[cache_key] = value
        return value
