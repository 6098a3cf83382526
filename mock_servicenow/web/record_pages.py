"""The instance's pages for a logged-in person: ``/``, the navigator, lists and forms.

* ``/`` goes to the navigator, or to the login page first;
* ``/navpage.do`` is the navigator's home; ``/nav_to.do?uri=<page>`` opens a page (every page
  here has the navigator beside it, so it is a redirect);
* ``/<table>_list.do`` and ``/<table>.do`` are the list and the form of every table the
  dictionary serves (``domain/ui/lists.py``, ``domain/ui/forms.py``; platform documentation,
  https://www.servicenow.com/docs/r/platform-user-interface/navigate-using-url.html). A name
  that is a table is its form (``sys_ui_list.do``); ``<table>_list`` its list.

Forms post back the session's ``sysparm_ck`` (CSRF, servicenow-behaviour §6) and the
platform's action names (``sysverb_update``, ``sysverb_insert``, ``sysverb_delete``,
``sysverb_update_and_stay``). A refused save (ACL, business rule, data policy) shows the
form again with what the person typed and the platform's message at the top.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, g, redirect, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Response as BaseResponse

from mock_servicenow.domain.platform.context import Principal
from mock_servicenow.domain.ui import forms, lists
from mock_servicenow.domain.ui.urls import DEFAULT_ROWS, form_url, list_url
from mock_servicenow.errors import ServiceNowError
from mock_servicenow.web import session as browser
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.pages import instance_page, message

bp = Blueprint("record_pages", __name__, template_folder="templates")

#: ``sys_action`` values of the form buttons -> the operation.
ACTIONS = {"sysverb_update": "update", "sysverb_update_and_stay": "update",
           "sysverb_insert": "insert", "sysverb_insert_and_stay": "insert",
           "sysverb_delete": "delete"}
CSRF_MESSAGE = "Invalid security token: please reload the page and try again."


def _person() -> Principal | None:
    """The logged-in user, also named in the journal (as for API calls)."""
    user = browser.page_user()
    if user is not None:
        get_ctx(user)
        g.principal = user
    return user


@bp.get("/")
def home() -> BaseResponse:
    """The instance's address: the navigator once logged in, else the login page."""
    return redirect("/navpage.do" if browser.page_user() is not None else "/login.do")


@bp.get("/navpage.do")
def navpage() -> BaseResponse:
    """The navigator's home page (names the user and exposes ``g_ck`` to scripts)."""
    user = _person()
    if user is None:
        return browser.login_redirect()
    return instance_page("navpage.html", user)


@bp.get("/nav_to.do")
def nav_to() -> BaseResponse:
    """``nav_to.do?uri=<page>``: the page, with the navigator (a same-site page only).

    The platform's own examples leave the page's query unencoded
    (``nav_to.do?uri=incident.do?sys_id=-1&sysparm_query=priority=1``): parameters after
    ``uri`` belong to the page, and a page name without its leading ``/`` is one of ours.
    """
    uri = request.args.get("uri", "").strip()
    if not uri or "://" in uri:
        return redirect("/navpage.do")
    if not uri.startswith("/"):
        uri = "/" + uri
    extra = [(k, v) for k, v in request.args.items(multi=True) if k != "uri"]
    if extra:
        uri += ("&" if "?" in uri else "?") + urlencode(extra)
    return redirect(browser.safe_goto(uri))


def _int(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, "").strip())
    except ValueError:
        return default


def _goto(table: str) -> str:
    """Where a form's Update, Insert or Delete returns: the page the person came from (a
    same-site page), else the table's list."""
    given = request.values.get("sysparm_goto_url")
    if given:
        return browser.safe_goto(given, list_url(table))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.endswith(".do") \
            and referrer.path != request.path:
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        return browser.safe_goto(target, list_url(table))
    return list_url(table)


def _list(user: Principal, table: str) -> BaseResponse:
    ctx = get_ctx()
    view = request.args.get("sysparm_view", "")
    rows = _int("sysparm_force_row_count", DEFAULT_ROWS)
    if "sysparm_search" in request.args:
        query = lists.search_query(ctx, table, request.args.get("sysparm_query", ""),
                                   request.args.get("sysparm_search", "")[:200],
                                   request.args.get("sysparm_search_field") or None)
        return redirect(list_url(table, query, rows=rows, view=view))
    listing = lists.list_page(ctx, table, lists.ListRequest(
        query=request.args.get("sysparm_query", ""),
        first_row=_int("sysparm_first_row", 1), rows=rows, view=view,
        order=request.args.get("sysparm_order", ""),
        order_direction=request.args.get("sysparm_order_direction", "")))
    return instance_page("list.html", user, listing=listing)


def _form(user: Principal, table: str) -> BaseResponse:
    ctx = get_ctx()
    if request.method == "POST":
        if not browser.csrf_ok():
            return message("Invalid security token", CSRF_MESSAGE, 403,
                           link_url=request.full_path, link_text="Reload the form")
        action_name = request.form.get("sys_action", "")
        action = ACTIONS.get(action_name)
        sys_id = request.form.get("sys_id") or request.args.get("sys_id", "")
        if action is None:
            return message("Invalid request", f"Unknown form action {action_name!r}.", 400)
        posted = request.form.to_dict(flat=False)
        goto = _goto(table)
        try:
            saved = forms.submit(ctx, table, sys_id, action, posted)
        except ServiceNowError as error:
            form = forms.form_page(ctx, table, sys_id, submitted=posted,
                                   errors=[error.detail or error.message,
                                           forms.INVALID[action]])
            return instance_page("form.html", user, form=form, goto=goto)
        if saved is not None and action_name.endswith("_and_stay"):
            return redirect(form_url(table, saved), 303)
        return redirect(goto, 303)
    form = forms.form_page(ctx, table, request.args.get("sys_id", ""),
                           query=request.args.get("sysparm_query", ""))
    return instance_page("form.html", user, form=form, goto=_goto(table))


#: The paths ``/<name>.do`` matches (werkzeug's default converter: no slash in ``name``).
_GENERIC_PAGE = re.compile(r"/[^/]+\.do")
_OWN_PAGES = "mock_servicenow.own_pages"


def own_page_methods(path: str) -> list[str]:
    """The methods of the page with a route of its own at ``path`` (``/logout.do``,
    ``/oauth_token.do``...), ``[]`` when only ``/<name>.do`` serves it.

    Such a page owns its path: ``/<name>.do`` answers none of the methods it does not take
    (they are its 405, logged in or not), so a 405's ``Allow`` names the page's methods only
    (RFC 9110 §15.5.6; OPTIONS is a 405 everywhere, servicenow-behaviour §1.1). The paths are
    collected once per application, on first use.
    """
    if not _GENERIC_PAGE.fullmatch(path):
        return []
    owned: dict[str, list[str]] | None = current_app.extensions.get(_OWN_PAGES)
    if owned is None:
        collected: dict[str, set[str]] = {}
        for rule in current_app.url_map.iter_rules():
            if not rule.arguments and _GENERIC_PAGE.fullmatch(rule.rule):
                collected.setdefault(rule.rule, set()).update(rule.methods or ())
        owned = {page: sorted(methods) for page, methods in collected.items()}
        current_app.extensions[_OWN_PAGES] = owned
    return owned.get(path, [])


@bp.route("/<name>.do", methods=["GET", "POST"])
def record_page(name: str) -> BaseResponse:
    """The form of table ``name``, or the list of table ``name`` minus ``_list``; for a path
    another page owns (POST /logout.do, GET /oauth_token.do), that page's 405."""
    owner = own_page_methods(request.path)
    if owner:
        raise MethodNotAllowed(valid_methods=owner)
    user = _person()
    if user is None:
        return browser.login_redirect()
    dictionary = get_ctx().dictionary
    if name in dictionary:
        return _form(user, name)
    if name.endswith("_list") and name[:-5] in dictionary:
        if request.method == "POST":
            raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
        return _list(user, name[:-5])
    raise NotFound()


@bp.errorhandler(ServiceNowError)
def page_error(error: ServiceNowError) -> Response:
    """Pages answer HTML, not the REST envelope; the text is the domain error's own."""
    user = browser.page_user()
    if user is None:
        return message(error.message, error.detail or error.message, error.status)
    return instance_page("record_message.html", user, error.status, title=error.message,
                         text=error.detail or error.message)
