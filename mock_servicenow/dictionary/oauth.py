"""OAuth tables: Application Registries (``oauth_entity``) and issued tokens (``oauth_credential``).

Field names from servicenow-behaviour §4.3. Secrets are ``password2`` fields: the Table API
never returns their clear value.
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, Table, choices

F = Field

OAUTH_ENTITY = Table(
    "oauth_entity",
    "Application Registries",
    # Extended by ``oauth_jwt`` (dictionary/auth_profiles.py), as on the platform.
    extensible=True,
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("client_id", "string", "Client ID", indexed=True, unique=True, read_only=True,
          max_length=255),
        F("client_secret", "password2", "Client Secret", max_length=255),
        F("redirect_url", "string", "Redirect URL", max_length=4000),
        F("logo_url", "url", "Logo URL", max_length=1024),
        F("active", "boolean", "Active", default="true"),
        F("access_token_lifespan", "integer", "Access Token Lifespan", default="1800"),
        F("refresh_token_lifespan", "integer", "Refresh Token Lifespan", default="8640000"),
        F("type", "choice", "Type", default="client", choices=choices(
            ("client", "OAuth API endpoint for external clients"),
            ("oauth_provider", "Connect to a third party OAuth Provider"),
            ("oidc_provider", "Configure an OIDC provider to verify ID tokens"),
        )),
        F("public_client", "boolean", "Public Client", default="false"),
        F("user", "reference", "OAuth Application User", reference="sys_user"),
        F("comments", "string", "Comments", max_length=4000),
        F("sys_scope", "reference", "Application", reference="sys_scope", default="global"),
    ),
)

OAUTH_CREDENTIAL = Table(
    "oauth_credential",
    "Manage Tokens",
    fields=(
        F("name", "string", "Name", display=True, max_length=255),
        F("type", "choice", "Token type", choices=choices(
            ("access_token", "Access Token"), ("refresh_token", "Refresh Token"),
        )),
        F("token", "password2", "Token", max_length=255),
        F("token_hash", "string", "Token hash", indexed=True, unique=True, max_length=64,
          read_only=True),
        F("peer", "reference", "Application", reference="oauth_entity", indexed=True),
        F("user", "reference", "User", reference="sys_user", indexed=True),
        F("scope", "string", "Scope", default="useraccount", max_length=255),
        F("expires", "glide_date_time", "Expires"),
        F("parent", "reference", "Refresh token", reference="oauth_credential"),
        F("revoked", "boolean", "Revoked", default="false"),
    ),
)

OAUTH_TABLES = (OAUTH_ENTITY, OAUTH_CREDENTIAL)
