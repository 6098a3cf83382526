"""Encoded queries (``sysparm_query``): parse -> AST -> compile to an SQLite WHERE clause.

Grammar (servicenow-behaviour §2): conditions ``<field><OP><value>`` joined by ``^`` (AND);
``^OR`` binds to the condition just before it; ``^NQ`` starts a new group and a row matches when
any group matches; ``ORDERBY<field>`` / ``ORDERBYDESC<field>`` anywhere, applied left to right;
``^EQ`` (the list filter's end marker) means nothing. A literal caret inside a value is written
``^^`` (inferred from the platform's query builder; clients rarely need it).

Operators: ``= != < <= > >= LIKE NOT LIKE (NOTLIKE) STARTSWITH ENDSWITH IN NOT IN (NOTIN)
ISEMPTY ISNOTEMPTY EMPTYSTRING ANYTHING BETWEEN SAMEAS NSAMEAS GT_FIELD LT_FIELD
GT_OR_EQUALS_FIELD LT_OR_EQUALS_FIELD INSTANCEOF ON NOTON RELATIVEGT RELATIVELT RELATIVEGE
RELATIVELE``, and the aliases ``*`` (contains), ``!*`` (does not contain), ``%`` (ends with).
Date values may be ``javascript:gs.<helper>()`` calls: see :mod:`.query_dates` for the list.
Operators the platform has but the emulator does not evaluate (``DATEPART``, ``MORETHAN``,
``VALCHANGES``, ``DYNAMIC``, ``RLQUERY``...) parse as :class:`Invalid` terms and are ignored.

Semantics chosen where the reference leaves room:

* Invalid terms (unknown field, dot-walk through a non-reference, unparseable text,
  unsupported script) are dropped as if absent and named in ``Compiled.invalid_fields``; the
  caller applies ``glide.invalid_query.returns_no_rows`` (servicenow-behaviour §1.2).
* Case: ``=``, ``!=``, ``IN``, ``<``... compare exactly (case-sensitive), as the Table API
  documentation states (servicenow-behaviour §2, "Case" row, [DOC]); this also keeps SQLite's
  indexes usable. ``LIKE``, ``STARTSWITH``, ``ENDSWITH`` and their negations ignore ASCII case,
  as real (MariaDB-backed) instances do for text search ([INF], same row); a value containing a
  NUL byte is matched byte-exactly instead, because SQLite's LIKE stops at NUL.
* ``!=`` and ``NOT IN`` exclude empty values, except on booleans where ``!=true`` also matches
  empty (servicenow-behaviour §2, "Equality" row). ``field=`` (empty value) means "is empty"
  and ``field!=`` "is not empty" ([INF]).
* A value the field's type cannot hold (``priority=abc``, ``opened_at>yesterday``) matches
  nothing (``!=`` then matches every non-empty value).
* Reference fields compare sys_ids, choice fields stored values (servicenow-behaviour §2);
  ``ORDERBY`` a reference orders by the stored sys_id, not the display value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.dictionary.values import InvalidValue, to_storage
from mock_servicenow.domain.table import query_dates
from mock_servicenow.domain.table.query_dates import UnsupportedScript

# --------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Condition:
    """``<field><operator><value>``; ``field`` may be dot-walked (``caller_id.user_name``)."""

    field: str
    operator: str
    value: str = ""


@dataclass(frozen=True)
class Invalid:
    """A term that does not parse (kept verbatim, ignored by the compiler)."""

    text: str


#: One term of an OR clause.
Term = Condition | Invalid


@dataclass(frozen=True)
class Clause:
    """Terms joined by ``^OR``: true when any of them is."""

    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Group:
    """Clauses joined by ``^``: true when all of them are. Groups are joined by ``^NQ``."""

    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class OrderBy:
    """``ORDERBY<field>`` or ``ORDERBYDESC<field>``."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed encoded query: OR of groups, plus the ordering."""

    groups: tuple[Group, ...] = ()
    order_by: tuple[OrderBy, ...] = ()


@dataclass(frozen=True)
class Compiled:
    """SQL for a query over the root physical table of ``table`` (aliased ``t`` by default).

    ``where`` is ``"1"`` when nothing filters; ``params`` are positional (``?``) in order;
    ``joins`` are ``LEFT JOIN`` clauses for dot-walks, to place after ``FROM <root> AS t``,
    and ``join_params`` their parameters (bound before anything of the ``WHERE``);
    ``order_by`` are ``ORDER BY`` terms; ``invalid_fields`` names what was ignored.
    """

    where: str
    params: list[object]
    joins: list[str]
    order_by: list[str]
    invalid_fields: tuple[str, ...] = ()
    join_params: list[object] = field(default_factory=list)


#: ``(referenced table, join alias) -> (SQL condition on that alias, parameters)`` for the
#: rows a dot-walk may see (the caller's read ACL), or ``None`` when it sees every row.
RowFilter = Callable[[str, str], tuple[str, list[object]] | None]


# -------------------------------------------------------------------------------- operators


@dataclass(frozen=True)
class _Operator:
    takes_value: bool = True


#: Canonical operators and whether a value follows them.
OPERATORS: dict[str, _Operator] = {
    name: _Operator(takes_value=name not in {"ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING"})
    for name in (
        "=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH", "IN",
        "NOT IN", "ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING", "BETWEEN", "SAMEAS",
        "NSAMEAS", "GT_FIELD", "LT_FIELD", "GT_OR_EQUALS_FIELD", "LT_OR_EQUALS_FIELD",
        "INSTANCEOF", "ON", "NOTON", "RELATIVEGT", "RELATIVELT", "RELATIVEGE", "RELATIVELE",
    )
}
#: Other spellings accepted on input (servicenow-behaviour §2 "String" and "Lists" rows).
_ALIASES = {"NOTLIKE": "NOT LIKE", "NOTIN": "NOT IN", "*": "LIKE", "!*": "NOT LIKE",
            "%": "ENDSWITH"}
#: Platform operators the emulator does not evaluate: recognised so that, say, ``INSTANCEOF``
#: is never misread as ``IN`` followed by ``STANCEOF``; their terms are ignored.
_UNSUPPORTED = ("DATEPART", "MORETHAN", "LESSTHAN", "VALCHANGES", "CHANGESFROM", "CHANGESTO",
                "DYNAMIC", "IN_HIERARCHY", "RELATIVEEE", "SINCE", "NOTSAMEAS", "BETWEENFIELD")
_SPELLINGS = sorted([*OPERATORS, *_ALIASES, *_UNSUPPORTED], key=len, reverse=True)
# Longest spelling first, so "<=" beats "<" and "INSTANCEOF" or "IN_HIERARCHY" beat "IN".
_OPERATOR = re.compile("|".join(re.escape(s) for s in _SPELLINGS))
# Column names are lower-case (the platform lower-cases them), so a field ends where the first
# upper-case letter or symbol starts the operator.
_FIELD = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_SEPARATOR = re.compile(r"\^\^|\^")
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE_TYPES = {"glide_date_time", "due_date", "glide_date"}
#: IN lists longer than this are bound as one JSON array, to stay under SQLite's variable limit.
_JSON_IN_THRESHOLD = 200
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_CACHED_TEXT_LENGTH = 4096
_SURROGATE = re.compile("[\ud800-\udfff]")

# ---------------------------------------------------------------------------------- parsing


def parse(text: str) -> Query:
    """Parse an encoded query. Never raises: unparseable terms become :class:`Invalid`."""
    # Queries repeat (clients page through one query); the AST is immutable, so share it.
    if len(text) <= _CACHED_TEXT_LENGTH:
        return _parse_cached(text)
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Query:
    return _parse(text)


def _parse(text: str) -> Query:
    groups: list[list[list[Term]]] = [[]]
    order: list[OrderBy] = []
    for piece in _split(text):
        if piece.startswith("NQ"):
            groups.append([])
            piece = piece[2:]
        is_or = piece.startswith("OR") and not piece.startswith("ORDERBY")
        if is_or:
            piece = piece[2:]
        if piece in ("", "EQ"):
            continue
        if piece.startswith("ORDERBY"):
            ordering = _parse_order(piece)
            if ordering is not None:
                order.append(ordering)
                continue
        term = _parse_term(piece)
        clauses = groups[-1]
        if is_or and clauses:
            clauses[-1].append(term)
        else:
            clauses.append([term])
    return Query(
        groups=tuple(Group(tuple(Clause(tuple(c)) for c in g)) for g in groups if g),
        order_by=tuple(order),
    )


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    buffer: list[str] = []
    position = 0
    for match in _SEPARATOR.finditer(text):
        buffer.append(text[position:match.start()])
        if match.group() == "^^":
            buffer.append("^")
        else:
            pieces.append("".join(buffer))
            buffer = []
        position = match.end()
    buffer.append(text[position:])
    pieces.append("".join(buffer))
    return pieces


def _parse_order(piece: str) -> OrderBy | None:
    descending = piece.startswith("ORDERBYDESC")
    name = piece[len("ORDERBYDESC"):] if descending else piece[len("ORDERBY"):]
    if _FIELD.fullmatch(name) is None:
        return None
    return OrderBy(name, descending)


def _parse_term(piece: str) -> Term:
    name = _FIELD.match(piece)
    if name is None:
        return Invalid(piece)
    operator = _OPERATOR.match(piece, name.end())
    if operator is None:
        return Invalid(piece)
    spelling = operator.group()
    canonical = _ALIASES.get(spelling, spelling)
    if canonical not in OPERATORS:
        return Invalid(piece)
    value = piece[operator.end():]
    if value and not OPERATORS[canonical].takes_value:
        return Invalid(piece)
    return Condition(name.group(), canonical, value)


def format_query(query: Query) -> str:
    """Encoded-query text for ``query``; ``parse(format_query(q)) == q`` for valid queries."""
    groups = []
    for group in query.groups:
        clauses = ["^OR".join(_format_term(t) for t in clause.terms) for clause in group.clauses]
        groups.append("^".join(clauses))
    text = "^NQ".join(groups)
    orders = [f"ORDERBY{'DESC' if o.descending else ''}{o.field}" for o in query.order_by]
    return "^".join(part for part in (text, *orders) if part)


def _format_term(term: Term) -> str:
    if isinstance(term, Invalid):
        return term.text.replace("^", "^^")
    return f"{term.field}{term.operator}{term.value.replace('^', '^^')}"


# -------------------------------------------------------------------------------- compiling


@dataclass(frozen=True)
class _Path:
    # (quoted reference column, quoted referenced root, quoted root key column, referenced
    # table) per step
    hops: tuple[tuple[str, str, str, str], ...]
    target: Field
    column: str  # quoted name of the target column


class _Ignored(Exception):
    """The term cannot be evaluated: drop it and report it."""


class _NoMatch:
    """A comparison value the field cannot hold: the comparison is false."""


_NO_MATCH = _NoMatch()


@lru_cache(maxsize=4096)
def _resolve(dictionary: Dictionary, table: str, path: str) -> _Path | None:
    # Cached per (dictionary, table, path): compile cost does not grow with the schema size.
    hops: list[tuple[str, str, str, str]] = []
    current = table
    names = path.split(".")
    for position, name in enumerate(names):
        fld = dictionary.field(current, name)
        if fld is None or not fld.is_stored:
            return None
        if position == len(names) - 1:
            return _Path(tuple(hops), fld, quote_identifier(fld.name))
        target = fld.reference
        if fld.type != "reference" or target is None or target not in dictionary:
            return None
        hops.append((quote_identifier(fld.name), quote_identifier(dictionary.read_source(target)),
                     quote_identifier(fld.reference_key), target))
        current = target
    return None


@dataclass
class _Compiler:
    dictionary: Dictionary
    table: str
    now: datetime
    user_sys_id: str | None
    alias: str
    row_filter: RowFilter | None = None
    joins: list[str] = field(default_factory=list)
    join_params: list[object] = field(default_factory=list)
    join_aliases: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, None] = field(default_factory=dict)

    def column(self, path: str) -> tuple[str, Field] | None:
        resolved = _resolve(self.dictionary, self.table, path)
        if resolved is None:
            return None
        alias = self.alias
        if resolved.hops:
            names = path.split(".")
            for position, (column, root, key, referenced) in enumerate(resolved.hops):
                prefix = ".".join(names[: position + 1])
                joined = self.join_aliases.get(prefix)
                if joined is None:
                    joined = f"j{len(self.join_aliases) + 1}"
                    self.join_aliases[prefix] = joined
                    on = f"{joined}.{key} = {alias}.{column}"
                    # A row the caller may not read joins as absent: its fields are empty
                    # to conditions and ordering alike (no blind-query oracle).
                    visible = self.row_filter(referenced, joined) if self.row_filter else None
                    if visible is not None:
                        on += f" AND {visible[0]}"
                        self.join_params.extend(visible[1])
                    self.joins.append(f"LEFT JOIN {root} AS {joined} ON {on}")
                alias = joined
        return f"{alias}.{resolved.column}", resolved.target

    def condition(self, term: Term) -> tuple[str, list[object]] | None:
        if isinstance(term, Invalid):
            self.invalid[term.text] = None
            return None
        resolved = self.column(term.field)
        if resolved is None:
            self.invalid[term.field] = None
            return None
        column, fld = resolved
        try:
            return _HANDLERS[term.operator](self, column, fld, term.value)
        except _Ignored:
            self.invalid[_format_term(term)] = None
            return None

    def value(self, fld: Field, text: str) -> object:
        """Storage value to compare ``fld`` with, or ``_NO_MATCH``."""
        if query_dates.is_script(text):
            try:
                result = query_dates.evaluate(text, now=self.now, user_sys_id=self.user_sys_id)
            except UnsupportedScript:
                raise _Ignored() from None
            if result is None:
                return _NO_MATCH
            if isinstance(result, datetime):
                return _format_moment(fld, result)
            text = result
        if fld.type in _DATE_TYPES:
            moment = query_dates.parse_literal(text)
            return _NO_MATCH if moment is None else _format_moment(fld, moment)
        try:
            stored = to_storage(fld, text)
        except (InvalidValue, ValueError, OverflowError):
            # to_storage lets "inf" / "nan" on integer fields escape as Overflow/ValueError.
            return _NO_MATCH
        if isinstance(stored, int) and not _INT64_MIN <= stored <= _INT64_MAX:
            # SQLite cannot bind integers beyond 64 bits; as a REAL it still compares by value.
            return float(stored)
        return stored

    def moment(self, fld: Field, moment: datetime) -> str:
        return _format_moment(fld, moment)


def _format_moment(fld: Field, moment: datetime) -> str:
    # Dates are stored as UTC text, so comparing normalised text compares instants.
    if fld.type == "glide_date":
        return moment.astimezone(UTC).strftime("%Y-%m-%d")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def compile_query(query: Query, *, dictionary: Dictionary, table: str, now: datetime,
                  user_sys_id: str | None = None, alias: str = "t",
                  row_filter: RowFilter | None = None) -> Compiled:
    """SQL for ``query`` on ``table`` (which must exist in ``dictionary``).

    The SQL names only dictionary columns (quoted) of the root physical table under ``alias``
    and of dot-walked tables under ``j1``, ``j2``...; every value is a bound parameter.
    ``now`` (UTC) and ``user_sys_id`` evaluate the ``javascript:`` helpers. ``row_filter``
    restricts each dot-walk's join to the rows the caller may read.
    """
    if _ALIAS.fullmatch(alias) is None:
        raise ValueError(f"not an SQL alias: {alias!r}")
    dictionary.table(table)  # KeyError for an unknown table: the caller checks tables first
    compiler = _Compiler(dictionary, table, now, user_sys_id, alias, row_filter)
    params: list[object] = []
    group_sql: list[str] = []
    for group in query.groups:
        clause_sql: list[str] = []
        for clause in group.clauses:
            term_sql: list[str] = []
            for term in clause.terms:
                compiled = compiler.condition(term)
                if compiled is not None:
                    term_sql.append(compiled[0])
                    params.extend(compiled[1])
            if term_sql:
                clause_sql.append(_balanced(term_sql, "OR"))
        if clause_sql:
            group_sql.append(_balanced(clause_sql, "AND"))
    order_sql: list[str] = []
    for ordering in query.order_by:
        resolved = compiler.column(ordering.field)
        if resolved is None:
            compiler.invalid[ordering.field] = None
            continue
        order_sql.append(f"{resolved[0]} {'DESC' if ordering.descending else 'ASC'}")
    return Compiled(
        where=_balanced(group_sql, "OR") if group_sql else "1",
        params=[_bindable(p) for p in params],
        joins=compiler.joins,
        order_by=order_sql,
        invalid_fields=tuple(compiler.invalid),
        join_params=[_bindable(p) for p in compiler.join_params],
    )


def _bindable(param: object) -> object:
    # A JSON body can carry lone surrogates ("\ud800"), which sqlite3 refuses to bind. No stored
    # text can contain one either, so replacing them changes no match.
    if isinstance(param, str) and not param.isascii():
        return _SURROGATE.sub("\ufffd", param)
    return param


def _balanced(parts: Sequence[str], joiner: str) -> str:
    # A balanced tree keeps SQLite's expression depth (limit 1000) logarithmic in the number of
    # terms: clients send thousands of ^OR'ed sys_ids.
    if len(parts) == 1:
        return parts[0]
    middle = len(parts) // 2
    return f"({_balanced(parts[:middle], joiner)} {joiner} {_balanced(parts[middle:], joiner)})"


# --------------------------------------------------------------------------------- handlers

_Fragment = tuple[str, list[object]]
_Handler = Callable[[_Compiler, str, Field, str], _Fragment]
_FALSE: _Fragment = ("0", [])


def _is_empty(column: str) -> str:
    return f"({column} IS NULL OR {column} = '')"


def _is_not_empty(column: str) -> str:
    return f"({column} IS NOT NULL AND {column} != '')"


def _equals(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
    if value == "":
        return _is_empty(column), []
    stored = c.value(fld, value)
    if stored is _NO_MATCH:
        return _FALSE
    return f"{column} = ?", [stored]


def _not_equals(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
    if value == "":
        return _is_not_empty(column), []
    stored = c.value(fld, value)
    boolean = fld.type == "boolean"
    if stored is _NO_MATCH:
        return ("1", []) if boolean else (f"{column} IS NOT NULL", [])
    if boolean:
        # servicenow-behaviour §2: "for boolean != true also matches empty/NULL".
        return f"({column} IS NULL OR {column} != ?)", [stored]
    return f"{column} != ?", [stored]


def _ordering(symbol: str) -> _Handler:
    def handler(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
        stored = c.value(fld, value) if value != "" else _NO_MATCH
        if stored is _NO_MATCH:
            return _FALSE
        return f"{column} {symbol} ?", [stored]
    return handler


def _like(prefix: str, suffix: str, *, negate: bool) -> _Handler:
    def handler(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
        if "\x00" in value:
            sql, params = _exact_contains(column, value, prefix, suffix)
        else:
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql, params = f"{column} LIKE ? ESCAPE '\\'", [f"{prefix}{escaped}{suffix}"]
        return (f"({column} IS NOT NULL AND NOT {sql})" if negate else sql), params
    return handler


def _exact_contains(column: str, value: str, prefix: str, suffix: str) -> _Fragment:
    # SQLite's LIKE and substr() stop at a NUL byte; instr() and blob slices do not.
    if prefix and suffix:
        return f"instr({column}, ?) > 0", [value]
    if suffix:
        return f"instr({column}, ?) = 1", [value]
    size = len(value.encode("utf-8"))
    return f"substr(CAST({column} AS BLOB), -?) = CAST(? AS BLOB)", [size, value]


def _in_values(c: _Compiler, fld: Field, value: str) -> list[object]:
    items = [value] if query_dates.is_script(value) else value.split(",")
    stored = [c.value(fld, item) for item in items if item != ""]
    return [s for s in stored if s is not _NO_MATCH and s is not None]


def _membership(column: str, values: list[object], *, negate: bool) -> _Fragment:
    keyword = "NOT IN" if negate else "IN"
    plain = all(not (isinstance(v, str) and "\x00" in v) for v in values)
    if len(values) > _JSON_IN_THRESHOLD and plain:
        return f"{column} {keyword} (SELECT value FROM json_each(?))", [json.dumps(values)]
    marks = ", ".join("?" for _ in values)
    return f"{column} {keyword} ({marks})", list(values)


def _in(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
    values = _in_values(c, fld, value)
    if not values:
        return _FALSE
    return _membership(column, values, negate=False)


def _not_in(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
    values = _in_values(c, fld, value)
    boolean = fld.type == "boolean"
    if not values:
        return ("1", []) if boolean else (f"{column} IS NOT NULL", [])
    sql, params = _membership(column, values, negate=True)
    return (f"({column} IS NULL OR {sql})" if boolean else sql), params


def _between(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
    bounds = value.split("@")
    if len(bounds) != 2:
        raise _Ignored()
    low, high = (c.value(fld, b) if b != "" else _NO_MATCH for b in bounds)
    if low is _NO_MATCH or high is _NO_MATCH:
        return _FALSE
    return f"{column} BETWEEN ? AND ?", [low, high]


def _field_compare(symbol: str) -> _Handler:
    def handler(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
        other = c.column(value) if _FIELD.fullmatch(value) else None
        if other is None:
            raise _Ignored()
        return f"{column} {symbol} {other[0]}", []
    return handler


def _instance_of(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
    if fld.type != "sys_class_name":
        raise _Ignored()
    if value not in c.dictionary:
        return _FALSE
    classes: list[object] = list(c.dictionary.descendants(value))
    return _membership(column, classes, negate=False)


def _on(*, negate: bool) -> _Handler:
    def handler(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
        try:
            start, end = query_dates.on_range(value, now=c.now, user_sys_id=c.user_sys_id)
        except UnsupportedScript:
            raise _Ignored() from None
        params: list[object] = [c.moment(fld, start), c.moment(fld, end)]
        if negate:
            return f"({column} < ? OR {column} > ?)", params
        return f"{column} BETWEEN ? AND ?", params
    return handler


def _relative(symbol: str) -> _Handler:
    def handler(c: _Compiler, column: str, fld: Field, value: str) -> _Fragment:
        try:
            moment = query_dates.relative_moment(value, now=c.now)
        except UnsupportedScript:
            raise _Ignored() from None
        return f"{column} {symbol} ?", [c.moment(fld, moment)]
    return handler


_HANDLERS: dict[str, _Handler] = {
    "=": _equals,
    "!=": _not_equals,
    "<": _ordering("<"),
    "<=": _ordering("<="),
    ">": _ordering(">"),
    ">=": _ordering(">="),
    "LIKE": _like("%", "%", negate=False),
    "NOT LIKE": _like("%", "%", negate=True),
    "STARTSWITH": _like("", "%", negate=False),
    "ENDSWITH": _like("%", "", negate=False),
    "IN": _in,
    "NOT IN": _not_in,
    "ISEMPTY": lambda c, column, fld, value: (_is_empty(column), []),
    "ISNOTEMPTY": lambda c, column, fld, value: (_is_not_empty(column), []),
    "EMPTYSTRING": lambda c, column, fld, value: (f"{column} = ''", []),
    "ANYTHING": lambda c, column, fld, value: ("1", []),
    "BETWEEN": _between,
    "SAMEAS": _field_compare("="),
    "NSAMEAS": _field_compare("!="),
    "GT_FIELD": _field_compare(">"),
    "LT_FIELD": _field_compare("<"),
    "GT_OR_EQUALS_FIELD": _field_compare(">="),
    "LT_OR_EQUALS_FIELD": _field_compare("<="),
    "INSTANCEOF": _instance_of,
    "ON": _on(negate=False),
    "NOTON": _on(negate=True),
    "RELATIVEGT": _relative(">"),
    "RELATIVELT": _relative("<"),
    "RELATIVEGE": _relative(">="),
    "RELATIVELE": _relative("<="),
}
