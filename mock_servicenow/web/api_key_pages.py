"""The REST API Key form (``/api_key.do``): an admin creates a key and sees its token once.

https://www.servicenow.com/docs/r/xanadu/platform-security/authentication/configure-api-key.html:
System Web Services > API Access Policies > REST API Key > New, fields Name, Description,
Active, User, Expiry; the platform generates the Token. On a real instance the form shows the
token again when the record is reopened; the emulator stores only its hash, so the page that
answers the New shows it once, with a warning, and the record's form afterwards never does
(docs/identity.md). Admins only; the form posts the session's ``sysparm_ck`` (CSRF). It
replaces the generic form of ``api_key`` (``record_pages.py``): the list's links and its New
button (``sys_id=-1``) land here.
"""

from __future__ import annotations

from flask import Blueprint, g, request
from werkzeug.wrappers import Response as BaseResponse

from mock_servicenow.domain.identity import api_keys
from mock_servicenow.domain.table import records
from mock_servicenow.errors import InvalidRequest, RecordNotFound
from mock_servicenow.web import session as browser
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.pages import instance_page, message

bp = Blueprint("api_key_pages", __name__, template_folder="templates")

FIELDS = ("name", "description", "user", "active", "expires")


@bp.route("/api_key.do", methods=["GET", "POST"])
def api_key_form() -> BaseResponse:
    """New (GET without ``sys_id``, POST) or one key (``?sys_id=``; the token masked)."""
    user = browser.page_user()
    if user is None:
        return browser.login_redirect()
    if not user.is_admin:
        return message("Access denied",
                       "Security constraints prevent access to the requested page", 403)
    ctx = get_ctx(user)
    g.principal = user  # the journal names the page's user
    if request.method == "POST":
        if not browser.csrf_ok():
            return message("REST API Key", "Invalid security token: please reload the page "
                           "and try again.", 403)
        form = request.form
        try:
            created = api_keys.create_key(
                ctx, name=form.get("name", ""), user_name=form.get("user", ""),
                description=form.get("description", ""), expires=form.get("expires", ""),
                active=form.get("active") == "true")
        except InvalidRequest as refused:
            return instance_page("api_key.html", user, 400, record=None,
                                 error=refused.message, form=form)
        return instance_page("api_key.html", user, record=created, created=True)
    sys_id = request.args.get("sys_id")
    if sys_id is None or sys_id == "-1":  # a new record (the list's New button: sys_id=-1)
        return instance_page("api_key.html", user, record=None, form={"active": "true"})
    try:
        record = records.get_record(ctx, "api_key", sys_id, records.ReadOptions(
            display_value="all"))
    except RecordNotFound:
        return message("REST API Key", "Record not found", 404)
    return instance_page("api_key.html", user, record=record, created=False)
