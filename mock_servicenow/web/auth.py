"""Who is calling: API authentication (servicenow-behaviour §1.5, §4.1, §6).

:func:`authenticate` tries each registered authenticator in order (``Emulator.authenticators``:
Basic, Bearer, the ``x-sn-apikey`` API key, a client certificate, the session cookie). The
first that recognises its credentials decides: a wrong password is a 401, not a fall-through.
A client certificate that no mapping names is not a credential: the request falls through to
the other methods. No credentials at all is the 401 envelope with
``WWW-Authenticate: BASIC realm="Service-now"``. A REST call authenticated by Basic, a Bearer
token or a certificate must also be allowed by the API's access policy
(``domain/identity/api_access.py``); an API key is allowed only by one (issue 18).

Every authenticator returns at once when its credential is absent (a header or environ
lookup): a request pays only for the method it uses.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from flask import g, request

from mock_servicenow.domain.identity import api_access, users
from mock_servicenow.domain.platform import rate_limits
from mock_servicenow.domain.platform.context import Principal
from mock_servicenow.errors import NotAuthenticated
from mock_servicenow.web.context import current_instance, get_ctx

#: An authenticator returns a Principal, ``None`` when the request carries none of its
#: credentials, or raises NotAuthenticated when they are present but wrong.
Authenticator = Callable[[], Principal | None]

WWW_AUTHENTICATE = {"WWW-Authenticate": 'BASIC realm="Service-now"'}


def not_authenticated() -> NotAuthenticated:
    """The 401 envelope with the realm header (servicenow-behaviour §1.5)."""
    return NotAuthenticated(headers=WWW_AUTHENTICATE)


def basic() -> Principal | None:
    """HTTP Basic: ``Authorization: Basic base64(user:password)``."""
    header = request.headers.get("Authorization", "")
    if not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        user_name, _, password = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise not_authenticated() from None
    try:
        return users.authenticate_password(get_ctx(), user_name, password, via="basic")
    except NotAuthenticated:
        raise not_authenticated() from None


def _authenticators() -> list[Authenticator]:
    from mock_servicenow.web.context import emulator

    return emulator().authenticators


def authenticate() -> Principal:
    """The calling user, or raise the 401 envelope. Cached for the request."""
    if "principal" in g:
        return g.principal  # type: ignore[no-any-return]
    current_instance()
    for authenticator in _authenticators():
        principal = authenticator()
        if principal is not None:
            ctx = get_ctx(principal)
            api_name = rest_api_name(request.path)
            if api_name is not None and principal.via in api_access.PROFILE_TYPES:
                api_access.require(ctx, request.path, request.method, api_name,
                                   principal.via)
            g.principal = principal
            if api_name is not None:
                rate_limits.enforce(ctx, principal, api_name)
            return principal
    raise not_authenticated()


def rest_call(api_name: str) -> api_access.RestCall:
    """This request as an access policy sees it."""
    return api_access.describe_call(request.path, request.method, api_name)


#: REST API names as ``sys_rate_limit_rules.rest_resource`` names them (§1.5), by path prefix.
_API_NAMES = (
    ("/api/now/table/", "Table API"),
    ("/api/now/v1/table/", "Table API"),
    ("/api/now/v2/table/", "Table API"),
    ("/api/now/stats/", "Aggregate API"),
    ("/api/now/v1/stats/", "Aggregate API"),
    ("/api/now/v1/batch", "Batch API"),
    ("/api/now/attachment", "Attachment API"),
    ("/api/now/cmdb/instance/", "CMDB Instance API"),
    ("/api/now/v1/cmdb/instance/", "CMDB Instance API"),
    ("/api/now/cmdb/meta/", "CMDB Meta API"),
    ("/api/now/v1/cmdb/meta/", "CMDB Meta API"),
    ("/api/now/v1/attachment", "Attachment API"),
    ("/api/now/import/", "Import Set API"),
    ("/api/now/v1/import/", "Import Set API"),
)


def rest_api_name(path: str) -> str | None:
    """The REST API a path belongs to (scripted REST APIs: ``/api/<namespace>/...``)."""
    for prefix, name in _API_NAMES:
        if path.startswith(prefix):
            return name
    if path.startswith("/api/"):
        parts = path.split("/")
        return parts[2] if len(parts) > 2 else None
    return None
def bearer() -> Principal | None:
    """OAuth access tokens: ``Authorization: Bearer <token>`` or ``?access_token=<token>``.

    An expired, revoked or unknown token is the 401 envelope (servicenow-behaviour §4.1).
    """
    from mock_servicenow.domain.identity import oauth_tokens

    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        value = header[7:].strip()
    elif "access_token" in request.args:
        value = request.args.get("access_token", "")
    else:
        return None
    try:
        return oauth_tokens.bearer_principal(get_ctx(), value)
    except NotAuthenticated:
        raise not_authenticated() from None


def session_cookie() -> Principal | None:
    """A browser session (``glide_session_store``) plus ``X-UserToken: <g_ck>``.

    A cookie without the matching user token gets the 401 envelope (servicenow-behaviour §6).
    """
    from mock_servicenow.web import session as browser

    if not browser.has_session_user():
        return None
    user = browser.page_user()
    if user is None or not browser.user_token_matches(request.headers.get("X-UserToken")):
        raise not_authenticated()
    return user


def api_key() -> Principal | None:
    """A REST API key: ``x-sn-apikey: <token>`` or ``?x-sn-apikey=<token>`` (Washington DC+).

    Accepted only on an API whose access policy maps an API key profile for the way it was
    sent; a wrong, inactive or expired key is the 401 envelope (``domain/identity/api_keys``).
    """
    from mock_servicenow.domain.identity import api_keys

    value = request.headers.get(api_access.API_KEY_PARAMETER)
    sent_as = api_access.SENT_IN_HEADER
    if value is None:
        # The query string was parsed already (bearer() looked for access_token).
        value = request.args.get(api_access.API_KEY_PARAMETER)
        if value is None:
            return None
        sent_as = api_access.SENT_IN_QUERY
    api_name = rest_api_name(request.path)
    if api_name is None:
        raise not_authenticated()
    try:
        return api_keys.authenticate(get_ctx(), value, sent_as, rest_call(api_name))
    except NotAuthenticated:
        raise not_authenticated() from None


#: Where the TLS server puts the client certificate it verified (PEM): werkzeug's name, the
#: one Apache and nginx use too (``server.py`` sets it under gunicorn).
CLIENT_CERT_ENVIRON = "SSL_CLIENT_CERT"


def client_certificate() -> Principal | None:
    """A client certificate the TLS server verified (``serve --tls --client-ca``), mapped to
    a user by ``sys_user_certificate``; an unmapped one falls through (``None``)."""
    pem = request.environ.get(CLIENT_CERT_ENVIRON)
    if not pem:
        return None
    from mock_servicenow.domain.identity import client_certs

    try:
        return client_certs.principal_for(get_ctx(), str(pem))
    except NotAuthenticated:
        raise not_authenticated() from None
