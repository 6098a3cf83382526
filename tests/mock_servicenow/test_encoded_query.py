"""Encoded queries: grammar, operators, dot-walking and dates (servicenow-behaviour §2, §1.2).

Every case compiles a query and runs it against a real SQLite database built by the project's
migrations, so what is asserted is which rows match, not only the SQL text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlite_utils

from mock_servicenow.dictionary import default_dictionary
from mock_servicenow.domain.table.encoded_query import (
    Clause,
    Compiled,
    Condition,
    Group,
    Invalid,
    OrderBy,
    Query,
    compile_query,
    format_query,
    parse,
)
from mock_servicenow.domain.table.query_dates import SUPPORTED_HELPERS
from mock_servicenow.store import rows
from mock_servicenow.store.migrations import apply_migrations

NOW = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
DICTIONARY = default_dictionary()
ABEL, BETH, ZED = "62826bf03710200044e0bfc8bcbe5df1", "u" * 32, "z" * 32
NETWORK, DATABASE = "287ebd7da9fe198100f92cc8d1d2154e", "g" * 32


def build_database() -> sqlite_utils.Database:
    """A migrated in-memory instance database with a handful of known rows."""
    db = sqlite_utils.Database(memory=True)
    apply_migrations(db, DICTIONARY)
    add = lambda table, **values: rows.insert(db, DICTIONARY, table, values)  # noqa: E731
    add("cmn_department", sys_id="d-it", name="IT")
    add("cmn_department", sys_id="d-sales", name="Sales")
    add("sys_user", sys_id=ABEL, user_name="abel.tuter", name="Abel Tuter", department="d-sales")
    add("sys_user", sys_id=BETH, user_name="beth.anglin", name="Beth Anglin", department="d-it")
    add("sys_user", sys_id=ZED, user_name="zed.nodept", name="Zed")
    add("sys_user_group", sys_id=NETWORK, name="Network")
    add("sys_user_group", sys_id=DATABASE, name="Database")
    add("incident", sys_id="i1", number="INC0010001", state=1, priority=1, active=1,
        caller_id=ABEL, assignment_group=NETWORK, short_description="Email server down",
        description="mail", sys_created_on="2026-11-26 09:00:00")
    add("incident", sys_id="i2", number="INC0010002", state=2, priority=3, active=1,
        caller_id=BETH, assignment_group=DATABASE, short_description="VPN 100% broken_now",
        sys_created_on="2026-11-25 12:00:00")
    add("incident", sys_id="i3", number="INC0010003", state=2, priority=2, active=None,
        short_description="printer jam", description="printer jam",
        sys_created_on="2026-11-20 08:00:00")
    add("incident", sys_id="i4", number="INC0010004", state=7, priority=5, active=0,
        caller_id=ZED, short_description="Closed EMAIL issue",
        sys_created_on="2026-10-01 00:00:00")
    add("change_request", sys_id="c1", number="CHG0030001", state=-5, priority=4, active=1,
        short_description="Email migration", sys_created_on="2026-11-26 10:00:00")
    return db


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite_utils.Database]:
    database = build_database()
    yield database
    database.close()


def run(db: sqlite_utils.Database, compiled: Compiled, table: str = "incident") -> list[str]:
    """Numbers of ``table``'s rows matching ``compiled``, in the compiled order."""
    classes = DICTIONARY.descendants(table)
    marks = ", ".join("?" for _ in classes)
    sql = (
        f'SELECT t."number" FROM "{DICTIONARY.root(table)}" AS t {" ".join(compiled.joins)} '
        f'WHERE ({compiled.where}) AND t."sys_class_name" IN ({marks})'
    )
    if compiled.order_by:
        sql += " ORDER BY " + ", ".join(compiled.order_by)
    return [row[0] for row in db.execute(sql, [*compiled.params, *classes]).fetchall()]


def matches(db: sqlite_utils.Database, text: str, table: str = "incident",
            user: str | None = None) -> list[str]:
    compiled = compile_query(parse(text), dictionary=DICTIONARY, table=table, now=NOW,
                             user_sys_id=user)
    return run(db, compiled, table)


def numbers(*ids: int) -> set[str]:
    return {f"INC001000{i}" for i in ids}


# ------------------------------------------------------------------ operators, row by row, §2

OPERATOR_CASES = [
    # §2 "Equality / inequality"; values compare as stored integers.
    ("state=2", (2, 3)),
    ("state!=2", (1, 4)),
    ("active=true", (1, 2)),
    ("active=false", (4,)),
    # §2: "for boolean != true also matches empty/NULL".
    ("active!=true", (3, 4)),
    ("active!=false", (1, 2, 3)),
    # §2 "Compare": numbers numerically.
    ("priority<3", (1, 3)),
    ("priority<=3", (1, 2, 3)),
    ("priority>3", (4,)),
    ("priority>=3", (2, 4)),
    # §2 "String": LIKE contains (case-insensitive, see module docstring), aliases *, !*, %.
    ("short_descriptionLIKEemail", (1, 4)),
    ("short_description*email", (1, 4)),
    ("short_descriptionNOT LIKEemail", (2, 3)),
    ("short_descriptionNOTLIKEemail", (2, 3)),
    ("short_description!*email", (2, 3)),
    ("short_descriptionSTARTSWITHemail", (1,)),
    ("short_descriptionENDSWITHissue", (4,)),
    ("short_description%issue", (4,)),
    # LIKE values are data: % and _ are escaped.
    ("short_descriptionLIKE100%", (2,)),
    ("short_descriptionLIKEn_n", (2,)),
    ("short_descriptionLIKEr_j", ()),
    ("short_descriptionLIKE%", (2,)),
    # §2 "Lists".
    ("priorityIN1,3", (1, 2)),
    ("stateNOT IN1,2", (4,)),
    ("stateNOTIN1,2", (4,)),
    ("numberININC0010001,INC0010004", (1, 4)),
    # §2 "Empty".
    ("caller_idISEMPTY", (3,)),
    ("caller_idISNOTEMPTY", (1, 2, 4)),
    ("short_descriptionEMPTYSTRING", ()),
    ("caller_idANYTHING", (1, 2, 3, 4)),
    # §2 "Range".
    ("priorityBETWEEN2@3", (2, 3)),
    # §2 "Field vs field".
    ("short_descriptionSAMEASdescription", (3,)),
    ("short_descriptionNSAMEASdescription", (1,)),
    ("priorityGT_FIELDstate", (2,)),
    ("priorityLT_OR_EQUALS_FIELDstate", (1, 3, 4)),
    # §2 "Reference values" compare sys_ids; "Dot-walking".
    (f"caller_id={ABEL}", (1,)),
    ("caller_id=Abel Tuter", ()),
    ("caller_id.user_name=abel.tuter", (1,)),
    ("caller_id.department.name=IT", (2,)),
    ("assignment_group.nameLIKEnetwork", (1,)),
    ("caller_id.name=Zed^ORassignment_group.name=Database", (2, 4)),
    # Empty value means empty / not empty.
    ("caller_id=", (3,)),
    ("caller_id!=", (1, 2, 4)),
    # A value the field cannot hold matches nothing (!= then matches every non-empty value).
    ("priority=high", ()),
    ("priority!=high", (1, 2, 3, 4)),
    ("priority<high", ()),
    ("priority<INF", ()),
    ("priority=nan", ()),
    ("priority<99999999999999999999999", (1, 2, 3, 4)),
    ("priorityIN1,99999999999999999999999", (1,)),
]


@pytest.mark.parametrize(("query", "expected"), OPERATOR_CASES)
def test_operator_matches_the_documented_rows(db: sqlite_utils.Database, query: str,
                                              expected: tuple[int, ...]) -> None:
    assert set(matches(db, query)) == numbers(*expected)


# ------------------------------------------------------- house-style verified cases, §2 grammar


def test_or_binds_to_the_previous_condition(db: sqlite_utils.Database) -> None:
    assert set(matches(db, "state=2^ORpriority=1")) == numbers(1, 2, 3)
    # (active AND (state=7 OR priority=1)): ^OR does not reach across ^.
    assert set(matches(db, "active=true^state=7^ORpriority=1")) == numbers(1)


def test_startswith_in_and_order_by_desc(db: sqlite_utils.Database) -> None:
    found = matches(db, "numberSTARTSWITHINC001000^priorityIN1,3^ORDERBYDESCpriority")
    assert found == ["INC0010002", "INC0010001"]


def test_new_query_ors_whole_groups(db: sqlite_utils.Database) -> None:
    assert set(matches(db, "state=2^NQpriority=2")) == numbers(2, 3)
    assert set(matches(db, "state=2^priority=3^NQpriority=1")) == numbers(1, 2)


def test_unknown_field_in_query_is_ignored(db: sqlite_utils.Database) -> None:
    compiled = compile_query(parse("bogus=1^state=7"), dictionary=DICTIONARY, table="incident",
                             now=NOW)
    assert compiled.invalid_fields == ("bogus",)
    assert run(db, compiled) == ["INC0010004"]


def test_pysnc_query_with_unknown_field_and_order(db: sqlite_utils.Database) -> None:
    compiled = compile_query(parse("active=true^test=what^ORDERBYsys_id"),
                             dictionary=DICTIONARY, table="incident", now=NOW)
    assert compiled.invalid_fields == ("test",)
    assert run(db, compiled) == ["INC0010001", "INC0010002"]


def test_or_group_of_only_ignored_terms_is_dropped(db: sqlite_utils.Database) -> None:
    compiled = compile_query(parse("state=7^bogus=1^ORnope=2"), dictionary=DICTIONARY,
                             table="incident", now=NOW)
    assert compiled.where == 't."state" = ?'
    assert compiled.invalid_fields == ("bogus", "nope")
    # An ignored term inside an OR group leaves the rest of the group.
    assert set(matches(db, "state=7^ORbogus=1")) == numbers(4)


def test_query_of_only_invalid_terms_matches_everything(db: sqlite_utils.Database) -> None:
    # servicenow-behaviour §1.2: 2 300 bogus conditions plus one real one still filter by it.
    bogus = "^".join(f"AAAA{i}=BBBB" for i in range(2300))
    compiled = compile_query(parse(bogus), dictionary=DICTIONARY, table="incident", now=NOW)
    assert compiled.where == "1" and len(compiled.invalid_fields) == 2300
    assert set(matches(db, bogus + "^number=INC0010003")) == numbers(3)


def test_invalid_terms_and_fields_are_named() -> None:
    text = ("short_description.name=x^caller_id.bogus=y^DATEPART=1^gibberish^"
            "sys_created_on>javascript:gs.eval('x')^ORDERBYnothing")
    compiled = compile_query(parse(text), dictionary=DICTIONARY, table="incident", now=NOW)
    assert compiled.where == "1"
    assert compiled.invalid_fields == (
        "short_description.name", "caller_id.bogus", "DATEPART=1", "gibberish",
        "sys_created_on>javascript:gs.eval('x')", "nothing",
    )


def test_journal_fields_are_not_queryable_columns() -> None:
    compiled = compile_query(parse("work_notesLIKEx"), dictionary=DICTIONARY, table="incident",
                             now=NOW)
    assert compiled.invalid_fields == ("work_notes",)


def test_order_by_several_fields_left_to_right(db: sqlite_utils.Database) -> None:
    assert matches(db, "ORDERBYstate^ORDERBYDESCpriority") == [
        "INC0010001", "INC0010002", "INC0010003", "INC0010004"]
    assert matches(db, "ORDERBYDESCstate^ORDERBYpriority") == [
        "INC0010004", "INC0010003", "INC0010002", "INC0010001"]


def test_order_by_dot_walked_field(db: sqlite_utils.Database) -> None:
    # Rows without a caller sort first, as NULLs do on the platform's database.
    assert matches(db, "ORDERBYcaller_id.user_name") == [
        "INC0010003", "INC0010001", "INC0010002", "INC0010004"]


def test_dot_walks_share_one_join_per_path() -> None:
    compiled = compile_query(
        parse("caller_id.name=a^ORcaller_id.user_name=b^caller_id.department.name=IT"
              "^ORDERBYcaller_id.name"),
        dictionary=DICTIONARY, table="incident", now=NOW, alias="inc")
    assert compiled.joins == [
        'LEFT JOIN "sys_user" AS j1 ON j1."sys_id" = inc."caller_id"',
        'LEFT JOIN "cmn_department" AS j2 ON j2."sys_id" = j1."department"',
    ]
    assert compiled.order_by == ['j1."name" ASC']


def test_instanceof_selects_a_class_and_its_children(db: sqlite_utils.Database) -> None:
    assert set(matches(db, "sys_class_nameINSTANCEOFincident", table="task")) == numbers(
        1, 2, 3, 4)
    assert matches(db, "sys_class_nameINSTANCEOFchange_request", table="task") == ["CHG0030001"]
    assert matches(db, "sys_class_nameINSTANCEOFnot_a_table", table="task") == []


def test_equals_is_case_sensitive_and_like_is_not(db: sqlite_utils.Database) -> None:
    assert matches(db, "short_description=printer jam") == ["INC0010003"]
    assert matches(db, "short_description=PRINTER JAM") == []
    assert matches(db, "short_descriptionLIKEPRINTER") == ["INC0010003"]


# ---------------------------------------------------------------------------- dates, §2 "Dates"

DATE_CASES = [
    ("sys_created_onONToday@javascript:gs.daysAgoStart(0)@javascript:gs.daysAgoEnd(0)", (1,)),
    ("sys_created_onNOTONToday@javascript:gs.daysAgoStart(0)@javascript:gs.daysAgoEnd(0)",
     (2, 3, 4)),
    ("sys_created_onON2026-11-20@javascript:gs.dateGenerate('2026-11-20','start')"
     "@javascript:gs.dateGenerate('2026-11-20','end')", (3,)),
    ("sys_created_onONLast 7 days@javascript:gs.beginningOfLast7Days()"
     "@javascript:gs.endOfLast7Days()", (1, 2, 3)),
    ("sys_created_on>=javascript:gs.beginningOfLast7Days()", (1, 2, 3)),
    ("sys_created_on>=javascript:gs.beginningOfLast30Days()", (1, 2, 3)),
    ("sys_created_on>=javascript:gs.beginningOfToday()", (1,)),
    ("sys_created_on<=javascript:gs.endOfToday()", (1, 2, 3, 4)),
    ("sys_created_on>=javascript:gs.beginningOfYesterday()", (1, 2)),
    ("sys_created_on>=javascript:gs.daysAgoStart(1)", (1, 2)),
    ("sys_created_on<javascript:gs.daysAgoEnd(6)", (3, 4)),
    ("sys_created_on>=javascript:gs.daysAgo(1)", (1,)),
    ("sys_created_on>javascript:gs.hoursAgo(7)", (1,)),
    ("sys_created_on>javascript:gs.minutesAgo(361)", (1,)),
    ("sys_created_on>javascript:gs.minutesAgo(359)", ()),
    ("sys_created_on>=javascript:gs.beginningOfThisMonth()", (1, 2, 3)),
    ("sys_created_on<=javascript:gs.nowDateTime()", (1, 2, 3, 4)),
    ("sys_created_onBETWEENjavascript:gs.dateGenerate('2026-11-20','00:00:00')"
     "@javascript:gs.dateGenerate('2026-11-25','23:59:59')", (2, 3)),
    ('sys_created_onBETWEENjavascript:gs.dateGenerate("2026-11-20","08:00:00")'
     '@javascript:gs.dateGenerate("2026-11-25","12:00:00")', (2, 3)),
    # pysnow's one-argument form; BETWEEN is inclusive at both ends.
    ('sys_created_onBETWEENjavascript:gs.dateGenerate("2026-11-20 08:00:01")'
     '@javascript:gs.dateGenerate("2026-11-25 12:00:00")', (2,)),
    ("sys_created_onBETWEEN2026-11-20 00:00:00@2026-11-25 23:59:59", (2, 3)),
    ("sys_created_on>2026-11-25", (1, 2)),
    ("sys_created_on>2026-11-25T12:00:00Z", (1,)),
    ("sys_created_on>last tuesday", ()),
    ("sys_created_onRELATIVEGT@hour@ago@12", (1,)),
    ("sys_created_onRELATIVELT@day@ago@2", (3, 4)),
    ("sys_created_onRELATIVELT@dayofweek@ago@2", (3, 4)),
    ("sys_created_onRELATIVEGT@week@ago@1", (1, 2, 3)),
    ("sys_created_onRELATIVEGT@month@ago@1", (1, 2, 3)),
    ("sys_created_onRELATIVELT@year@ago@1", ()),
    ("sys_created_onRELATIVELT@minute@ahead@5", (1, 2, 3, 4)),
    ("sys_created_onRELATIVEGE@hour@ago@6", (1,)),
]


@pytest.mark.parametrize(("query", "expected"), DATE_CASES)
def test_date_helpers_evaluate_against_now(db: sqlite_utils.Database, query: str,
                                           expected: tuple[int, ...]) -> None:
    assert set(matches(db, query)) == numbers(*expected)


def test_date_helpers_follow_the_given_now() -> None:
    later = datetime(2026, 12, 1, 0, 30, 0, tzinfo=UTC)
    compiled = compile_query(parse("sys_created_on>=javascript:gs.beginningOfLastMonth()"
                                   "^sys_created_on<=javascript:gs.endOfLastMonth()"),
                             dictionary=DICTIONARY, table="incident", now=later)
    assert compiled.params == ["2026-11-01 00:00:00", "2026-11-30 23:59:59"]


def test_get_user_id_is_the_calling_user(db: sqlite_utils.Database) -> None:
    assert matches(db, "caller_id=javascript:gs.getUserID()", user=BETH) == ["INC0010002"]
    assert matches(db, "caller_id=javascript:gs.getUserID()", user=None) == []


@pytest.mark.parametrize("query", [
    "sys_created_on>javascript:gs.daysAgo('x')",
    "sys_created_on>javascript:new GlideDateTime()",
    "sys_created_on>javascript:gs.daysAgo(1,2)",
    "sys_created_on>javascript:gs.daysAgo(999999999)",
    "caller_idINjavascript:getMyGroups()",
    "sys_created_onONToday@javascript:gs.daysAgoStart(0)",
    "sys_created_onRELATIVEGT@fortnight@ago@1",
    "sys_created_onRELATIVEGT@hour@before@1",
    "sys_created_onRELATIVEGT@hour@ago@-1",
    "sys_created_onBETWEEN1@2@3",
])
def test_unsupported_script_or_malformed_date_term_is_ignored(query: str) -> None:
    compiled = compile_query(parse(query), dictionary=DICTIONARY, table="incident", now=NOW)
    assert compiled.where == "1"
    assert compiled.invalid_fields == (query,)


def test_supported_helpers_are_named_in_the_module_docstring() -> None:
    from mock_servicenow.domain.table import query_dates

    assert query_dates.__doc__ is not None
    for helper in SUPPORTED_HELPERS:
        assert f"{helper}(" in query_dates.__doc__


# ------------------------------------------------------------------------------ parsing, §2


@pytest.mark.parametrize(("text", "condition"), [
    ("descriptionISEMPTY", Condition("description", "ISEMPTY")),
    ("short_descriptionLIKEa=b", Condition("short_description", "LIKE", "a=b")),
    ("short_description=aLIKEb", Condition("short_description", "=", "aLIKEb")),
    ("stateNOT IN1,2", Condition("state", "NOT IN", "1,2")),
    ("stateIN1,2", Condition("state", "IN", "1,2")),
    ("priority<=2", Condition("priority", "<=", "2")),
    ("priority<2", Condition("priority", "<", "2")),
    ("short_description!=x", Condition("short_description", "!=", "x")),
    ("short_description!*x", Condition("short_description", "NOT LIKE", "x")),
    ("short_description%x", Condition("short_description", "ENDSWITH", "x")),
    ("u_inINa", Condition("u_in", "IN", "a")),
    ("u_likeLIKEa", Condition("u_like", "LIKE", "a")),
    ("caller_idISNOTEMPTY", Condition("caller_id", "ISNOTEMPTY")),
    ("sys_class_nameINSTANCEOFtask", Condition("sys_class_name", "INSTANCEOF", "task")),
    ("short_descriptionSTARTSWITH", Condition("short_description", "STARTSWITH", "")),
])
def test_operator_matching_picks_the_longest_operator(text: str, condition: Condition) -> None:
    assert parse(text) == Query((Group((Clause((condition,)),)),))


@pytest.mark.parametrize("text", [
    "=x", "Priority=1", "priority", "priority~1", "caller_id.=x", "descriptionISEMPTYx",
    "123TEXTQUERY321=email", "stateDATEPART=1", "RLQUERYincident.problem_id,>=1",
])
def test_unparseable_terms_are_kept_as_invalid(text: str) -> None:
    assert parse(text) == Query((Group((Clause((Invalid(text),)),)),))


def test_parse_builds_groups_clauses_and_order() -> None:
    query = parse("a=1^ORb=2^c=3^NQd=4^ORDERBYe^ORDERBYDESCf^EQ")
    assert query == Query(
        groups=(
            Group((Clause((Condition("a", "=", "1"), Condition("b", "=", "2"))),
                   Clause((Condition("c", "=", "3"),)))),
            Group((Clause((Condition("d", "=", "4"),)),)),
        ),
        order_by=(OrderBy("e"), OrderBy("f", descending=True)),
    )
    assert format_query(query) == "a=1^ORb=2^c=3^NQd=4^ORDERBYe^ORDERBYDESCf"


def test_order_by_a_field_starting_with_desc_is_ascending() -> None:
    assert parse("ORDERBYdescription").order_by == (OrderBy("description"),)


def test_empty_terms_and_groups_vanish() -> None:
    assert parse("") == Query()
    assert parse("^^") == Query((Group((Clause((Invalid("^"),)),)),))
    assert parse("^a=1^^NQ^NQ^") == Query((Group((Clause((Condition("a", "=", "1^NQ"),)),)),))
    assert parse("NQORa=1^NQ") == Query((Group((Clause((Condition("a", "=", "1"),)),)),))


def test_doubled_caret_is_a_literal_caret_in_a_value() -> None:
    query = parse("short_description=a^^b^state=1")
    assert query.groups[0].clauses[0].terms == (Condition("short_description", "=", "a^b"),)
    assert parse(format_query(query)) == query


# -------------------------------------------------------------------- SQL shape and indexes


def test_sql_names_columns_and_binds_values() -> None:
    compiled = compile_query(parse("priority=1^active=true^number=INC0010001"),
                             dictionary=DICTIONARY, table="incident", now=NOW)
    assert compiled.where == '(t."priority" = ? AND (t."active" = ? AND t."number" = ?))'
    assert compiled.params == [1, 1, "INC0010001"]
    assert compiled.joins == [] and compiled.order_by == [] and compiled.invalid_fields == ()


def test_empty_query_is_true() -> None:
    compiled = compile_query(parse(""), dictionary=DICTIONARY, table="incident", now=NOW)
    assert compiled == Compiled(where="1", params=[], joins=[], order_by=[], invalid_fields=())


@pytest.mark.parametrize(("query", "index"), [
    ("priority=1", "idx_task_priority (priority=?)"),
    ("number=INC0010001", "idx_task_number (number=?)"),
    ("caller_id=abc", "idx_task_caller_id (caller_id=?)"),
    ("sys_updated_on>=2026-01-01 00:00:00", "idx_task_sys_updated_on (sys_updated_on>?)"),
    ("stateIN1,2", "idx_task_state (state=?)"),
])
def test_compiled_conditions_let_sqlite_use_indexes(db: sqlite_utils.Database, query: str,
                                                    index: str) -> None:
    compiled = compile_query(parse(query), dictionary=DICTIONARY, table="incident", now=NOW)
    plan = db.execute(
        f'EXPLAIN QUERY PLAN SELECT t.* FROM "task" AS t WHERE {compiled.where}',
        compiled.params).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert f"USING INDEX {index}" in details, details


def test_long_or_chains_stay_within_sqlite_limits(db: sqlite_utils.Database) -> None:
    # SQLite's expression depth limit is 1000; clients OR thousands of sys_ids together.
    chain = "^OR".join(f"sys_id=x{i}" for i in range(5000)) + "^ORsys_id=i2"
    assert matches(db, chain) == ["INC0010002"]
    ands = "^".join("active=true" for _ in range(3000))
    assert set(matches(db, ands)) == numbers(1, 2)


def test_long_in_lists_are_bound_as_one_parameter(db: sqlite_utils.Database) -> None:
    ids = ",".join([*(f"x{i}" for i in range(40000)), "i1", "i4"])
    compiled = compile_query(parse(f"sys_idIN{ids}"), dictionary=DICTIONARY, table="incident",
                             now=NOW)
    assert len(compiled.params) == 1
    assert set(run(db, compiled)) == numbers(1, 4)
    assert set(matches(db, f"sys_idNOT IN{ids}")) == numbers(2, 3)


def test_alias_must_be_an_identifier() -> None:
    with pytest.raises(ValueError):
        compile_query(parse("a=1"), dictionary=DICTIONARY, table="incident", now=NOW,
                      alias="t; DROP TABLE task")


# ------------------------------------------------------------------ values are always data

HOSTILE = [
    "x' OR 1=1 --",
    '"; DROP TABLE task; --',
    "back\\slash\\",
    "50% off_sale",
    "ünïcødé ✓ 中文",
    "nul\x00byte",
    "a=b^^c",
    "javascript-ish: gs.getUserID()",
    "' OR ''='",
    "?",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_matched_literally(db: sqlite_utils.Database, value: str) -> None:
    with db.conn:  # rolled back below: the module database stays as built
        db.execute("SAVEPOINT hostile")
        try:
            rows.insert(db, DICTIONARY, "incident",
                        {"sys_id": "h1", "number": "INC0099999", "short_description": value})
            escaped = value.replace("^", "^^")
            assert matches(db, f"short_description={escaped}") == ["INC0099999"]
            assert matches(db, f"short_descriptionLIKE{escaped}") == ["INC0099999"]
            assert matches(db, f"short_descriptionSTARTSWITH{escaped}") == ["INC0099999"]
            assert matches(db, f"short_descriptionENDSWITH{escaped}") == ["INC0099999"]
            assert matches(db, f"short_descriptionIN{escaped}") == (
                [] if "," in value else ["INC0099999"])
            assert "INC0099999" not in matches(db, f"short_descriptionNOT LIKE{escaped}")
            assert db.execute("SELECT count(*) FROM task").fetchone()[0] == 6
        finally:
            db.execute("ROLLBACK TO hostile")
            db.execute("RELEASE hostile")


def test_nul_byte_value_does_not_match_its_prefix(db: sqlite_utils.Database) -> None:
    # SQLite's LIKE would stop at the NUL and match "nul" alone.
    assert matches(db, "short_descriptionLIKEprinter\x00zzz") == []
    assert matches(db, "short_descriptionSTARTSWITHprinter\x00") == []
    assert matches(db, "short_descriptionENDSWITH\x00jam") == []


def test_lone_surrogates_from_json_bodies_still_bind(db: sqlite_utils.Database) -> None:
    # json.loads('"\\ud800"') gives a lone surrogate, which sqlite3 cannot encode.
    everything = ["INC0010001", "INC0010002", "INC0010003", "INC0010004"]
    expected = {"=": [], "LIKE": [], "STARTSWITH": [], "ENDSWITH": [], "IN": [],
                "!=": everything, "<": everything}
    for operator, found in expected.items():
        assert sorted(matches(db, f"short_description{operator}printer\ud800")) == found
