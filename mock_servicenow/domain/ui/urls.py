"""Page URLs as the platform spells them (navigate-using-url, platform documentation):
``<table>_list.do`` for a list, ``<table>.do?sys_id=<sys_id>`` for a form, ``sys_id=-1`` for a
new record; ``sysparm_query`` filters a list and presets a new record's values.

https://www.servicenow.com/docs/r/platform-user-interface/navigate-using-url.html
"""

from __future__ import annotations

from urllib.parse import urlencode

#: The sys_id of a record that does not exist yet (a new record's form).
NEW_RECORD = "-1"
#: Rows per page of a list when the user has not chosen (configure-use-list-functions: 20).
DEFAULT_ROWS = 20
#: The choices of the list's "rows per page" menu.
ROW_CHOICES = (10, 15, 20, 50, 100)


def list_url(table: str, query: str = "", *, first_row: int = 1, rows: int = DEFAULT_ROWS,
             view: str = "") -> str:
    """``/<table>_list.do`` with only the parameters that differ from the defaults."""
    params: list[tuple[str, str]] = []
    if query:
        params.append(("sysparm_query", query))
    if first_row > 1:
        params.append(("sysparm_first_row", str(first_row)))
    if rows != DEFAULT_ROWS:
        params.append(("sysparm_force_row_count", str(rows)))
    if view:
        params.append(("sysparm_view", view))
    return f"/{table}_list.do" + (f"?{urlencode(params)}" if params else "")


def form_url(table: str, sys_id: str, *, query: str = "", view: str = "") -> str:
    """``/<table>.do?sys_id=<sys_id>`` (``-1``: a new record, ``query`` presets its values)."""
    params = [("sys_id", sys_id)]
    if query:
        params.append(("sysparm_query", query))
    if view:
        params.append(("sysparm_view", view))
    return f"/{table}.do?{urlencode(params)}"


def reference_url(table: str, key: str, value: str) -> str:
    """The form of the record a reference names: by sys_id, or by the column the reference
    stores when it is not the sys_id (``sys_dictionary.name`` names a ``sys_db_object`` by
    ``name``)."""
    if key == "sys_id":
        return form_url(table, value)
    return f"/{table}.do?{urlencode([('sysparm_query', f'{key}={value}')])}"
