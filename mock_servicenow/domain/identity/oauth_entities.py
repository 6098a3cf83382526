"""OAuth models for authlib: clients, issued tokens and authorization codes as dataclasses.

authlib's server needs objects implementing its mixins (house style F3); these are built from
``oauth_entity`` / ``oauth_credential`` rows by :mod:`mock_servicenow.domain.identity.oauth_tokens`.
Time checks use the instance clock (``now``), never ``time.time()``, so the control plane's
``/_emulator/clock`` drives expiry (servicenow-behaviour §4.3 lifespans).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from mock_servicenow.domain.identity.passwords import PasswordVerifier

#: Scope of every OAuth entity unless the request names one (servicenow-behaviour §4.3).
DEFAULT_SCOPE = "useraccount"

#: Grants a ``type=client`` entity may use; client_credentials is further gated by release and
#: property (servicenow-behaviour §4.1).
GRANT_TYPES = frozenset({"password", "refresh_token", "authorization_code", "client_credentials"})
#: The grant of an OAuth JWT API endpoint for external clients (``oauth_jwt``, issue 18).
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """An active ``oauth_entity`` of type ``client`` (servicenow-behaviour §4.3)."""

    sys_id: str
    client_id: str
    name: str
    stored_secret: str | None = field(repr=False)
    redirect_uris: tuple[str, ...] = ()
    logo_url: str = ""
    user_sys_id: str | None = None
    access_token_lifespan: int = 1800
    refresh_token_lifespan: int = 8_640_000
    public: bool = False
    verifier: PasswordVerifier | None = field(default=None, repr=False)
    #: An ``oauth_jwt`` record: it also takes the JWT bearer grant (create-jwt-endpoint).
    jwt: bool = False

    def get_client_id(self) -> str:
        """The entity's ``client_id``."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """The first configured redirect URL (servicenow-behaviour §4.2)."""
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scope, or ``useraccount`` (never empty: house style F3)."""
        return scope.strip() if scope and scope.strip() else DEFAULT_SCOPE

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """The request's redirect_uri must be one of the entity's ``redirect_url`` values."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time compare; a stored PBKDF2 hash is verified as a password would be."""
        stored = self.stored_secret
        if not stored or not client_secret:
            return False
        if stored.startswith("pbkdf2_sha256$") and self.verifier is not None:
            return self.verifier.verify(stored, client_secret)
        return hmac.compare_digest(stored.encode("utf-8"), client_secret.encode("utf-8"))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Secrets in the body or by Basic; ``none`` only for public (PKCE) clients."""
        if method == "none":
            return self.public
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        """Only the authorization-code flow has an authorize page (servicenow-behaviour §4.2)."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Refresh tokens for private clients only (servicenow-behaviour §4.2)."""
        if grant_type == "refresh_token" and self.public:
            return False
        if grant_type == JWT_BEARER:
            return self.jwt
        return grant_type in GRANT_TYPES


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    """One ``oauth_credential`` row (an access or a refresh token)."""

    sys_id: str
    kind: str
    client_sys_id: str
    user_sys_id: str | None
    scope: str
    expires_at: datetime
    revoked: bool
    now: Callable[[], datetime] = field(repr=False, compare=False)
    parent: str | None = None

    def check_client(self, client: Client) -> bool:
        """The token belongs to this entity."""
        return self.client_sys_id == client.sys_id

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope

    def get_expires_in(self) -> int:
        """Seconds left by the instance clock (0 when expired)."""
        return max(0, int((self.expires_at - self.now()).total_seconds()))

    def is_expired(self) -> bool:
        """Expired by the instance clock."""
        return self.now() >= self.expires_at

    def is_revoked(self) -> bool:
        """Revoked through ``/oauth_revoke_token.do`` (servicenow-behaviour §4.3)."""
        return self.revoked

    def get_user(self) -> str | None:
        """The user's sys_id."""
        return self.user_sys_id

    def get_client(self) -> str:
        """The entity's sys_id."""
        return self.client_sys_id


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """A pending authorization code (``_oauth_authorization_code``), single use."""

    code_hash: str
    client_id: str
    user_sys_id: str
    redirect_uri: str
    scope: str
    expires_at: datetime
    now: Callable[[], datetime] = field(repr=False, compare=False)
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    def get_redirect_uri(self) -> str:
        """The redirect_uri the code was issued for (must be repeated at exchange)."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope

    def get_nonce(self) -> None:
        """No OpenID Connect on the instance's own authorize endpoint."""
        return None

    def get_auth_time(self) -> None:
        """No OpenID Connect on the instance's own authorize endpoint."""
        return None

    def get_code_challenge(self) -> str | None:
        """PKCE challenge (RFC 7636), when the request sent one."""
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        """PKCE method (``S256`` or ``plain``)."""
        return self.code_challenge_method

    def is_expired(self) -> bool:
        """Expired by the instance clock."""
        return self.now() >= self.expires_at
