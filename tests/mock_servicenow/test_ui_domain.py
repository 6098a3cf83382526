"""The pages' domain (``domain/ui``): the navigator and the views as data, generic over the
dictionary; breadcrumbs and searches in words; robustness of the list page."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_servicenow import apps
from mock_servicenow.dictionary import Dictionary, Field, Table, default_dictionary
from mock_servicenow.dictionary.loader import load_tables
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.ui import lists, navigator, views
from mock_servicenow.domain.ui.urls import list_url
from tests.apps.x_mioms_m365ticket.conftest import browser_session, system_ctx

SOURCES = (navigator.NAVIGATOR_FILE, *apps.navigator_files())


@pytest.fixture
def ctx(snow_app: Flask) -> Iterator[Context]:
    """A system (admin) context on the demo instance."""
    context = system_ctx(snow_app)
    yield context
    context.db.close()


def _urls(menus: tuple[navigator.Menu, ...]) -> dict[str, str | None]:
    return {f"{m.title} > {e.title}": e.url for m in menus for e in m.entries}


def test_the_navigator_files_are_valid_and_name_the_issues_menus() -> None:
    titles = {app.title for app in navigator.applications(SOURCES)}
    assert {"Incident", "Problem", "Change", "Service Catalog", "Configuration",
            "User Administration", "System OAuth", "System Definition", "System Logs",
            "Microsoft 365 Ticketing Connector"} <= titles
    modules = {(app.title, m.title): m for app in navigator.applications(SOURCES)
               for m in app.modules}
    assert modules[("System Definition", "Dictionary")].table == "sys_dictionary"
    assert modules[("System Definition", "Choice Lists")].table == "sys_choice"
    assert modules[("Configuration", "Base Items")].table == "cmdb_ci"
    assert modules[("Microsoft 365 Ticketing Connector", "Installation Checklist")].link == \
        "/x_mioms_m365ticket_checklist.do"


def test_the_issues_modules_open_served_tables(ctx: Context) -> None:
    shown = _urls(navigator.navigator(ctx, SOURCES))
    assert shown["Incident > All"] == "/incident_list.do"
    assert shown["Problem > All Problem Tasks"] == "/problem_task_list.do"
    assert shown["Change > Open Change Tasks"] == "/change_task_list.do?sysparm_query=active%3Dtrue"
    assert shown["Configuration > Base Items"] == "/cmdb_ci_list.do"
    assert shown["System Definition > Dictionary"] == "/sys_dictionary_list.do"
    assert shown["Service Catalog > Requests"] == "/sc_request_list.do"
    assert shown["Problem > Problem Tasks"] is None  # a separator above shown modules


def test_modules_of_tables_not_served_appear_once_the_dictionary_has_them(
        ctx: Context, tmp_path: Path) -> None:
    menus = tmp_path / "navigator.yaml"
    menus.write_text("applications:\n"
                     "  - title: Widgets\n"
                     "    modules:\n"
                     "      - {title: Incidents, table: incident}\n"
                     "      - {title: Stock, separator: true}\n"
                     "      - {title: Create New, table: u_widget, new: true}\n"
                     "      - {title: All Widgets, table: u_widget}\n")
    sources = (menus,)
    shown = _urls(navigator.navigator(ctx, sources))
    assert shown == {"Widgets > Incidents": "/incident_list.do"}
    # The same instance once its dictionary has u_widget (a custom table): its modules appear.
    grown = Dictionary((*load_tables(), Table(
        "u_widget", "Widget", fields=(Field("u_name", "string", "Name", display=True),
                                      Field("u_count", "integer", "Count")))))
    ctx.use_dictionary(grown)
    shown = _urls(navigator.navigator(ctx, sources))
    assert list(shown.items()) == [
        ("Widgets > Incidents", "/incident_list.do"), ("Widgets > Stock", None),
        ("Widgets > Create New", "/u_widget.do?sys_id=-1"),
        ("Widgets > All Widgets", "/u_widget_list.do")]
    # Its list and form views need no per-table code either.
    assert views.list_columns(grown, "u_widget") == ["u_name", "u_count", "sys_updated_on"]
    assert views.list_columns(grown, "change_task") == views.list_columns(grown, "task")


def test_an_uninstalled_apps_menu_is_hidden(snow_settings: object) -> None:
    from mock_servicenow.app import create_app

    app = create_app(dataclasses.replace(snow_settings, seed="empty"))  # type: ignore[type-var]
    context = system_ctx(app)
    try:
        titles = {menu.title for menu in navigator.navigator(context, SOURCES)}
    finally:
        context.db.close()
        app.extensions["mock_servicenow"].instance.close()
    assert "Microsoft 365 Ticketing Connector" not in titles and "Incident" in titles


@pytest.mark.parametrize("text, error", [
    ("applications: [{title: A, modules: [{title: B, table: x, link: /y}]}]", "exactly one"),
    ("applications: [{title: A, modules: [{title: B, link: 'https://evil'}]}]", "same-site"),
    ("applications: [{title: A, modules: [{title: B, table: x, colour: red}]}]", "unknown keys"),
    ("applications: [{modules: []}]", "needs a title"),
    ("menus: []", "applications list"),
    ("applications: [{title: A, modules: [{title: B, table: x, roles: admin}]}]", "roles"),
])
def test_a_broken_navigator_file_is_named(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "navigator.yaml"
    path.write_text(text)
    with pytest.raises(navigator.NavigatorError, match=error):
        navigator.parse_file(path)


def test_generated_views_for_a_table_without_one() -> None:
    dictionary = default_dictionary()
    columns = views.list_columns(dictionary, "cmn_location")
    assert columns[0] == "name" and columns[-1] == "sys_updated_on"
    sections = views.form_sections(dictionary, "cmn_location")
    assert sections[0].fields[0] == "name" and not sections[0].collapsed
    assert sections[-1].title == "System fields" and sections[-1].collapsed
    assert "sys_id" in sections[-1].fields
    # A view's names a table lacks are skipped; every field is on the form once.
    incident = views.form_sections(dictionary, "incident")
    shown = [name for section in incident for name in section.fields]
    assert sorted(shown) == sorted(dictionary.fields("incident"))


def test_breadcrumbs_in_words_and_each_crumb_a_query(ctx: Context) -> None:
    query = lists.effective_query(lists.ListRequest(
        query="active=true^priorityIN1,2^ORshort_descriptionLIKEmail^NQstate=6"
              "^ORDERBYDESCnumber"))
    crumbs = lists.breadcrumbs(ctx, "incident", query)
    assert [c.text for c in crumbs] == [
        "All", "Active = true",
        "Priority is one of 1 - Critical, 2 - High or Short description contains mail",
        "or State = Resolved"]
    assert crumbs[0].url == list_url("incident", "ORDERBYDESCnumber")
    assert crumbs[1].url == list_url("incident", "active=true^ORDERBYDESCnumber")


def test_search_narrows_every_group_and_escapes_carets(ctx: Context) -> None:
    assert lists.search_query(ctx, "incident", "state=1^NQstate=2", "a^b", "number") == \
        "state=1^numberLIKEa^^b^NQstate=2^numberLIKEa^^b"
    assert lists.search_query(ctx, "incident", "active=true", "  ") == "active=true"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60), first=st.text(max_size=8), rows=st.text(max_size=8),
       order=st.sampled_from(["", "number", "nope", "caller_id"]))
def test_any_list_url_is_a_page(snow_app: Flask, query: str, first: str, rows: str,
                                order: str) -> None:
    """Whatever the URL says, the list is a page (or the API's 403 for a password filter),
    never a 500. The same logged-in browser serves every example (reads only)."""
    if "test_browser" not in snow_app.extensions:
        snow_app.extensions["test_browser"] = browser_session(snow_app)
    client = snow_app.extensions["test_browser"]
    response = client.get("/incident_list.do", query_string={
        "sysparm_query": query, "sysparm_first_row": first, "sysparm_force_row_count": rows,
        "sysparm_order": order})
    assert response.status_code in (200, 403), response.status_code
    assert response.mimetype == "text/html"
