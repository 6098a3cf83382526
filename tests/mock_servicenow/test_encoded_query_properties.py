"""Properties of the encoded-query engine, checked with hypothesis.

* Any input string parses, formats and compiles without raising, and the SQL runs on a real
  migrated database (bad queries get the platform's answer, never a 500: servicenow-behaviour
  §1.2 "invalid parts are ignored").
* Parsed valid queries survive ``parse(format_query(q)) == q``.
* Any value text is data: it is matched literally, never read as SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlite_utils
from hypothesis import assume, given
from hypothesis import strategies as st

from mock_servicenow.domain.table.encoded_query import (
    OPERATORS,
    Clause,
    Condition,
    Group,
    Invalid,
    Query,
    compile_query,
    format_query,
    parse,
)
from mock_servicenow.domain.table.query_dates import is_script
from mock_servicenow.store import rows
from tests.mock_servicenow.test_encoded_query import DICTIONARY, build_database, run

NOW = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)

FIELDS = [
    *DICTIONARY.fields("incident"), "caller_id.user_name", "caller_id.department.name",
    "assignment_group.name", "short_description.name", "bogus", "caller_id.bogus", "",
    "Priority", "parent.parent.number",
]
SPELLINGS = [*OPERATORS, "NOTLIKE", "NOTIN", "*", "!*", "%", "DATEPART", "INSTANCEOF", "~"]
SEPARATORS = ["^", "^OR", "^NQ", "^ORDERBY", "^ORDERBYDESC", "^^", "^EQ", "^NQOR", ""]
VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from([
        "1", "2,3", "true", "false", "", "2026-11-25", "2026-11-25 12:00:00", "1@3",
        "@hour@ago@1", "@month@ahead@2", "Today@javascript:gs.daysAgoStart(0)@javascript:"
        "gs.daysAgoEnd(0)", "javascript:gs.getUserID()", "javascript:gs.daysAgo(3)",
        "javascript:gs.dateGenerate('2026-01-01','end')", "javascript:gs.nope()",
        "javascript:gs.daysAgo(", "description", "caller_id.name", "incident", "%_\\",
    ]),
)


@st.composite
def query_texts(draw: st.DrawFn) -> str:
    """Strings shaped like encoded queries, mixing valid and broken terms."""
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        parts.append(draw(st.sampled_from(SEPARATORS)) if parts else "")
        parts.append(draw(st.sampled_from(FIELDS)))
        parts.append(draw(st.sampled_from(SPELLINGS)))
        parts.append(draw(VALUES))
    return "".join(parts)


# Lone surrogates included: a JSON body (Batch API) can carry them into sysparm_query.
EVERY_CHARACTER = st.characters(exclude_categories=())
ANY_TEXT = st.one_of(st.text(), st.text(alphabet=EVERY_CHARACTER), query_texts())


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite_utils.Database]:
    database = build_database()
    yield database
    database.close()


def _valid_part(query: Query) -> Query:
    """``query`` without its Invalid terms (and the clauses and groups they leave empty)."""
    groups = []
    for group in query.groups:
        clauses = [Clause(tuple(t for t in c.terms if not isinstance(t, Invalid)))
                   for c in group.clauses]
        kept = tuple(c for c in clauses if c.terms)
        if kept:
            groups.append(Group(kept))
    return Query(tuple(groups), query.order_by)


@given(ANY_TEXT)
def test_parse_format_and_compile_never_raise(text: str) -> None:
    query = parse(text)
    format_query(query)
    for table in ("incident", "task", "sys_user"):
        compiled = compile_query(query, dictionary=DICTIONARY, table=table, now=NOW,
                                 user_sys_id="u" * 32)
        assert compiled.where
        assert compiled.where.count("?") + sum(j.count("?") for j in compiled.joins) == len(
            compiled.params)


@given(ANY_TEXT)
def test_compiled_sql_always_runs(db: sqlite_utils.Database, text: str) -> None:
    compiled = compile_query(parse(text), dictionary=DICTIONARY, table="incident", now=NOW,
                             user_sys_id="u" * 32)
    found = run(db, compiled)
    assert set(found) <= {f"INC001000{i}" for i in range(1, 5)}


@given(ANY_TEXT)
def test_parsed_valid_queries_round_trip(text: str) -> None:
    query = _valid_part(parse(text))
    assert parse(format_query(query)) == query


@given(st.text(min_size=1))
def test_any_value_is_data(db: sqlite_utils.Database, value: str) -> None:
    assume(not is_script(value))
    text = "short_description=" + value.replace("^", "^^")
    assert parse(text).groups[0].clauses[0].terms == (
        Condition("short_description", "=", value),)
    with db.conn:
        db.execute("SAVEPOINT value_is_data")
        try:
            rows.insert(db, DICTIONARY, "incident",
                        {"sys_id": "p1", "number": "INC0099999", "short_description": value})
            compiled = compile_query(parse(text), dictionary=DICTIONARY, table="incident",
                                     now=NOW)
            assert run(db, compiled) == ["INC0099999"]
            for operator in ("LIKE", "STARTSWITH", "ENDSWITH"):
                like = compile_query(parse(f"short_description{operator}" + value.replace(
                    "^", "^^")), dictionary=DICTIONARY, table="incident", now=NOW)
                assert "INC0099999" in run(db, like), operator
            assert db.execute("SELECT count(*) FROM task").fetchone()[0] == 6
        finally:
            db.execute("ROLLBACK TO value_is_data")
            db.execute("RELEASE value_is_data")
