"""authlib's Flask authorization server, adapted to ServiceNow (servicenow-behaviour §4).

The only module that knows authlib's server exists (house style §3.3). Grant subclasses hold
storage hooks and the platform's quirks, each with its source:

* client secrets in the body or by Basic for every grant (F6);
* every failure is ``401 {"error_description":"access_denied","error":"server_error"}``,
  never an RFC error code (§4.1);
* refresh keeps and echoes the refresh token, nothing is revoked on refresh (§4.1);
* client_credentials only from Washington DC, with the property, as the entity's user (§4.1);
* a repeated password grant returns the current access token (§4.1, in the domain);
* the JWT bearer grant for OAuth JWT API endpoints (``oauth_jwt``): client secret in the body
  or by Basic, omitted by public clients; no refresh token (create-jwt-endpoint, issue 18).

Built per app with a lazy context provider (F4): nothing here holds a connection.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7523 import JWTBearerGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Response, request

from mock_servicenow.domain.identity import jwt_bearer, oauth_tokens, users
from mock_servicenow.domain.identity.oauth_entities import DEFAULT_SCOPE, Client, Token
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import NotAuthenticated

#: The captured failure body, in its captured key order (servicenow-behaviour §4.1).
FAILURE_BODY = {"error_description": "access_denied", "error": "server_error"}
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]


class _NoIssuedTokens(logging.Filter):
    """authlib logs every token it issues at DEBUG (``"Issue token %r to %r"``, the access and
    refresh tokens in clear): keep the record, drop the token (ARCHITECTURE §5: no secret in
    any log line, even with DEBUG logging on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(("Issue token", "Grant token")) and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = ("<token redacted>", *args[1:])
        return True


# Logger filters apply only where a record is created, so each grant module's logger.
for _name in ("rfc6749.grants.authorization_code", "rfc6749.grants.implicit",
              "rfc6749.grants.refresh_token",
              "rfc6749.grants.resource_owner_password_credentials",
              "rfc6749.grants.client_credentials", "rfc7523.jwt_bearer"):
    logging.getLogger(f"authlib.oauth2.{_name}").addFilter(_NoIssuedTokens())


def token_failure() -> Response:
    """The 401 every token-endpoint failure answers (servicenow-behaviour §4.1)."""
    return _json(401, FAILURE_BODY)


def _json(status: int, payload: Any) -> Response:
    response = Response(json.dumps(payload, separators=(",", ":")), status=status,
                        content_type=JSON_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


class ServiceNowAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """The instance's OAuth server; ``context`` gives the current request's :class:`Context`."""

    def __init__(self, context: Callable[[], Context]) -> None:
        super().__init__(query_client=lambda client_id: oauth_tokens.find_client(
            context(), client_id), save_token=lambda token, request: None)
        self.context = context
        # Tokens are issued and stored by the domain in one step; save_token has nothing left.
        self.register_token_generator("default", self._generate)
        self.register_grant(PasswordGrant)
        self.register_grant(RefreshGrant)
        self.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(JwtBearerGrant)

    def _generate(self, grant_type: str, client: Client, user: Principal | None = None,
                  scope: str | None = None, expires_in: int | None = None,
                  include_refresh_token: bool = True) -> dict[str, Any]:
        user_sys_id = user.sys_id if user is not None else client.user_sys_id
        return oauth_tokens.issue(self.context(), client, user_sys_id, scope,
                                  grant_type=grant_type, include_refresh=include_refresh_token)

    def handle_response(self, status_code: int, payload: Any,
                        headers: list[tuple[str, str]]) -> Response:
        """JSON bodies with the platform's content type; redirects as authlib builds them."""
        if isinstance(payload, dict):
            response = _json(status_code, payload)
            for name, value in headers:
                if name.lower() not in {"content-type", "cache-control", "pragma"}:
                    response.headers[name] = value
            return response
        return Response(payload, status=status_code, headers=headers)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        """Token errors -> the captured 401; authorize errors with a checked redirect -> 302."""
        redirect_uri = getattr(error, "redirect_uri", None)
        if redirect_uri and getattr(request, "payload", None) is not None \
                and request.payload.response_type:
            return super().handle_error_response(request, error)  # type: ignore[no-any-return]
        return token_failure()

    def token_response(self) -> Response:
        """``POST /oauth_token.do``: one transaction per exchange (house style §4)."""
        if not _basic_header_usable(request.headers.get("Authorization")):
            # authlib's own parsing lets malformed Basic headers escape as exceptions; the
            # platform answers them like any other failure (§4.1).
            return token_failure()
        with self.context().db.atomic():
            return self.create_token_response()  # type: ignore[no-any-return]


def _basic_header_usable(header: str | None) -> bool:
    """False for a ``Basic`` header that is not base64 of UTF-8 ``id:secret``."""
    if header is None or not header[:5].lower() == "basic":
        return True
    parts = header.split(None, 1)
    if len(parts) != 2:
        return False
    try:
        decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded


def _ctx(grant: Any) -> Context:
    return grant.server.context()  # type: ignore[no-any-return]


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):  # type: ignore[misc]
    """Resource owner password: active, not locked out; web-service-only users too (§4.1, §6)."""

    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    def authenticate_user(self, username: str, password: str) -> Principal | None:
        try:
            return users.authenticate_password(_ctx(self), username, password, via="oauth")
        except NotAuthenticated:
            return None


class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Refresh: a new access token, the same refresh token until it expires (§4.1)."""

    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = False

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        return oauth_tokens.find_token(_ctx(self), refresh_token, oauth_tokens.REFRESH)

    def authenticate_user(self, refresh_token: Token) -> Principal | None:
        return oauth_tokens.user_of(_ctx(self), refresh_token.user_sys_id, via="oauth")

    def issue_token(self, user: Principal, refresh_token: Token) -> dict[str, Any]:
        return oauth_tokens.refresh_access(_ctx(self), self.request.client, refresh_token,
                                           self.request.form["refresh_token"],
                                           self.request.payload.scope)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """The platform keeps the refresh token valid after use (§4.1)."""


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """Authorization code with optional PKCE (servicenow-behaviour §4.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload.data
        oauth_tokens.save_code(
            _ctx(self), code, client=request.client, user_sys_id=request.user.sys_id,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.scope or DEFAULT_SCOPE,
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> Any:
        return oauth_tokens.find_code(_ctx(self), code, client)

    def delete_authorization_code(self, authorization_code: Any) -> None:
        oauth_tokens.use_code(_ctx(self), authorization_code)

    def authenticate_user(self, authorization_code: Any) -> Principal | None:
        return oauth_tokens.user_of(_ctx(self), authorization_code.user_sys_id, via="oauth")


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """Washington DC+, property-gated, runs as the OAuth Application User (§4.1)."""

    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        if not oauth_tokens.client_credentials_allowed(_ctx(self), self.request.client):
            raise UnauthorizedClientError()
        if oauth_tokens.user_of(_ctx(self), self.request.client.user_sys_id,
                                via="oauth") is None:
            raise UnauthorizedClientError()


class JwtBearerGrant(JWTBearerGrant):  # type: ignore[misc]
    """``urn:ietf:params:oauth:grant-type:jwt-bearer`` for OAuth JWT API endpoints.

    The client authenticates as for the other grants (``client_id``/``client_secret`` in the
    body or by Basic, as PySNC's ``ServiceNowJWTAuth`` sends them); a public client may omit
    both, and its endpoint is the one the assertion's audience names (create-jwt-endpoint).
    The assertion's checks live in the domain (``domain/identity/jwt_bearer.py``); every
    failure is the captured 401 (§4.1).
    """

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic", "none"]

    def validate_token_request(self) -> None:
        assertion = self.request.form.get("assertion")
        if not assertion:
            raise InvalidRequestError()
        ctx = _ctx(self)
        if self.request.payload.client_id or self.request.headers.get("Authorization"):
            client = self.authenticate_token_endpoint_client()
        else:
            public = jwt_bearer.public_entity_for(ctx, assertion)
            if public is None:
                raise InvalidClientError()
            client = oauth_tokens.client_of(ctx, public)
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError()
        entity = jwt_bearer.find_entity(ctx, client.client_id)
        if entity is None:
            raise UnauthorizedClientError()
        try:
            user = jwt_bearer.exchange(ctx, entity, assertion)
        except jwt_bearer.JwtRefused:
            raise InvalidGrantError() from None
        self.request.client = client
        self.request.user = user
        self.validate_requested_scope()
