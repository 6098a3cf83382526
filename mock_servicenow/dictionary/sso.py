"""Multi-provider SSO configuration: identity providers as data (servicenow-behaviour §6).

The platform keeps identity providers in ``sso_properties`` (with ``saml2_update1_properties``
and ``oidc_identity_provider`` for protocol details). The emulator speaks OpenID Connect with
its identity-provider stand-in, so one table carries what the instance needs to validate an
ID token for real: issuer, client id (the audience), the provider's public signing key, and
how the token's user maps to ``sys_user`` (by email or user name).
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, Table, choices

F = Field

SSO_PROPERTIES = Table(
    "sso_properties",
    "Identity Providers",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("active", "boolean", "Active", default="true"),
        F("default", "boolean", "Default", default="false"),
        F("type", "choice", "Type", default="oidc", choices=choices(
            ("oidc", "OpenID Connect"), ("saml2", "SAML2"),
        )),
        F("issuer", "string", "Issuer", max_length=1024),
        F("client_id", "string", "Client ID", max_length=255),
        F("auth_url", "url", "Authorization URL", max_length=1024),
        F("signing_key", "string", "Identity provider signing key (PEM)", max_length=4000),
        F("user_claim", "string", "User claim", default="email", max_length=100),
        F("user_field", "choice", "User field", default="email", choices=choices(
            ("email", "Email"), ("user_name", "User ID"),
        )),
    ),
)

SSO_TABLES = (SSO_PROPERTIES,)
