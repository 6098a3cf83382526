"""OAuth 2 against a ServiceNow instance: token grants and an ``httpx.Auth`` that refreshes.

Built on authlib's framework-independent RFC 6749 pieces (request bodies, authorize URL,
callback parsing, the token wrapper) and plain httpx, never
``authlib.integrations.httpx_client`` (house-style decisions).

ServiceNow specifics (servicenow-behaviour §4): ``POST /oauth_token.do`` form-encoded with the
client credentials in the body; every failure is 401
``{"error_description":"access_denied","error":"server_error"}``; a refresh returns the same
refresh token; ``/oauth_revoke_token.do?token=`` needs no authentication.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749 import parameters
from authlib.oauth2.rfc6749.wrappers import OAuth2Token

from . import network
from .errors import AuthenticationError, ReauthorizationRequired, TransportError
from .retry import IDEMPOTENT
from .store import Credentials

TOKEN_PATH = "/oauth_token.do"
AUTHORIZE_PATH = "/oauth_auth.do"
REVOKE_PATH = "/oauth_revoke_token.do"

Clock = Callable[[], float]


def token_request(instance_url: str, grant_type: str, client_id: str, client_secret: str,
                  **params: str) -> httpx.Request:
    """A ``POST /oauth_token.do`` request (client credentials in the body, §4.1)."""
    body = parameters.prepare_token_request(
        grant_type, client_id=client_id, client_secret=client_secret, **params)
    return httpx.Request(
        "POST", instance_url.rstrip("/") + TOKEN_PATH, content=body.encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/json"},
        extensions={IDEMPOTENT: True},
    )


def parse_token_response(response: httpx.Response, grant_type: str, clock: Clock) -> OAuth2Token:
    """The token from a token-endpoint answer, or :class:`AuthenticationError`.

    ``expires_at`` is computed from the injected clock (authlib would use ``time.time``).
    """
    page = network.instance_page(response)
    if page is not None:
        # Not a refusal of the grant: the instance is asleep or down (a refresh token that
        # meets a hibernating instance stays good).
        raise page
    data: Any = None
    if response.status_code == 200:
        try:
            data = response.json()
        except ValueError:
            data = None
    if not isinstance(data, dict) or not data.get("access_token"):
        failure = ReauthorizationRequired if grant_type == "refresh_token" else AuthenticationError
        raise failure(_refusal_text(grant_type, response.status_code))
    params = {key: value for key, value in data.items() if key != "expires_at"}
    expires_in = params.get("expires_in")
    try:
        if expires_in is not None:
            params["expires_at"] = int(clock() + float(expires_in))
    except (TypeError, ValueError):
        params.pop("expires_in", None)
    return OAuth2Token(params)


def _refusal_text(grant_type: str, status: int) -> str:
    reasons = {
        "password": "check the client id, client secret, user name and password",
        "authorization_code": "the code was refused (expired, already used, or another "
                              "redirect URL); check the client id and client secret",
        "refresh_token": "the refresh token is no longer valid",
    }
    return (f"the instance refused the {grant_type.replace('_', ' ')} grant (HTTP {status}): "
            f"{reasons.get(grant_type, 'check the client credentials')}")


@dataclass(frozen=True)
class AuthorizationRequest:
    """An authorize URL and the ``state`` it carries (checked on the callback)."""

    url: str
    state: str
    redirect_uri: str


def authorization_request(instance_url: str, client_id: str, redirect_uri: str,
                          state: str) -> AuthorizationRequest:
    """Build ``GET /oauth_auth.do?response_type=code&client_id&redirect_uri&state`` (§4.2)."""
    url = parameters.prepare_grant_uri(
        instance_url.rstrip("/") + AUTHORIZE_PATH, client_id, "code",
        redirect_uri=redirect_uri, state=state)
    return AuthorizationRequest(url=url, state=state, redirect_uri=redirect_uri)


def code_from_callback(callback_url: str, expected_state: str) -> str:
    """The authorization code of a redirect, after checking ``state``.

    Raises :class:`AuthenticationError` on a state mismatch (a forged or stale redirect), on
    ``error=access_denied`` (the admin clicked Deny), or when no code came back.
    """
    query = httpx.URL(callback_url).params
    if query.get("error"):
        raise AuthenticationError(
            f"authorization was not granted on the instance ({query.get('error')}); "
            "sign in as the integration user and click Allow")
    if query.get("state") != expected_state:
        raise AuthenticationError(
            "the authorization answer carried an unexpected state; start `connect` again")
    try:
        result = parameters.parse_authorization_code_response(callback_url, state=expected_state)
    except Exception as exc:  # authlib's MissingCode/MismatchingState carry no secrets
        raise AuthenticationError("the authorization answer carried no code") from exc
    return str(result["code"])


class InstanceAuth(httpx.Auth):
    """Bearer auth with proactive refresh and one refresh-and-retry on a 401.

    authlib refreshes only proactively (house-style §3.4 F8); a token revoked or expired
    early on the instance gives 401 ``User Not Authenticated`` (§4.1), so this flow refreshes
    once and retries. New tokens are handed to ``on_tokens`` (which persists them atomically)
    before the retried request is sent. A refused refresh calls ``on_refresh_refused`` and
    raises :class:`ReauthorizationRequired`.
    """

    requires_response_body = True

    def __init__(self, credentials: Credentials, *, on_tokens: Callable[[Credentials], None],
                 on_refresh_refused: Callable[[], None], clock: Clock = time.time,
                 leeway: float = 60.0) -> None:
        self.credentials = credentials
        self._on_tokens = on_tokens
        self._on_refresh_refused = on_refresh_refused
        self._clock = clock
        self._leeway = leeway

    def _expiring(self) -> bool:
        expires_at = self.credentials.expires_at
        return expires_at is not None and expires_at - self._leeway <= self._clock()

    def _refresh(self) -> Generator[httpx.Request, httpx.Response, None]:
        creds = self.credentials
        if not creds.refresh_token:
            self._on_refresh_refused()
            raise ReauthorizationRequired("the access token expired and no refresh token is held")
        request = token_request(creds.instance_url, "refresh_token", creds.client_id,
                                creds.client_secret, refresh_token=creds.refresh_token)
        response = yield request
        try:
            token = parse_token_response(response, "refresh_token", self._clock)
        except ReauthorizationRequired:
            self._on_refresh_refused()
            raise
        creds.access_token = str(token["access_token"])
        # ServiceNow echoes the refresh token (§4.1); keep the old one if it ever does not.
        creds.refresh_token = str(token.get("refresh_token") or creds.refresh_token)
        expires_at = token.get("expires_at")
        creds.expires_at = float(expires_at) if expires_at is not None else None
        self._on_tokens(creds)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Refresh if due, send with the bearer; on 401 refresh once and resend."""
        if self._expiring():
            yield from self._refresh()
        request.headers["Authorization"] = f"Bearer {self.credentials.access_token}"
        response = yield request
        if response.status_code == 401:
            yield from self._refresh()
            request.headers["Authorization"] = f"Bearer {self.credentials.access_token}"
            yield request


def send_token_request(http: httpx.Client, request: httpx.Request, grant_type: str,
                       clock: Clock) -> OAuth2Token:
    """Send a token request on ``http`` (no auth) and parse the answer."""
    try:
        response = http.send(request)
    except httpx.TransportError as exc:
        raise TransportError(network.describe(exc)) from exc
    return parse_token_response(response, grant_type, clock)
