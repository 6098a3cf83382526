"""Inbound authentication beside Basic and the OAuth grants (issue 18): REST API keys, API
access policies and their authentication profiles, the OAuth JWT bearer grant's records, and
client certificates mapped to users.

Table and field names as the platform names them:

* API keys (plugin ``com.glide.tokenbased_auth``, Washington DC+): ``api_key`` ("REST API
  Key": name, description, active, user, auth scope, token, expiry),
  ``sys_token_auth_parameter`` (the ``x-sn-apikey`` header or query parameter, an optional
  prefix), ``inbound_auth_profile`` with its extensions ``http_key_auth`` (API key profiles)
  and ``std_http_auth`` (standard profiles: Basic Auth, ID Token, Certificate based Auth,
  OAuth), ``sys_api_access_policy`` ("REST API Access Policies") and
  ``sys_auth_profile_mapping`` (which profiles a policy accepts). Sources:
  https://www.servicenow.com/docs/r/xanadu/platform-security/authentication/configure-api-key.html,
  https://www.servicenow.com/docs/r/platform-security/authentication/create-an-authentication-profile.html,
  https://www.servicenow.com/docs/r/platform-security/authentication/api-access-policy-prioritization.html;
  field names of ``sys_api_access_policy``, ``http_key_auth``, ``sys_token_auth_parameter``
  and ``sys_auth_profile_mapping`` as public setup scripts written against real instances
  use them (``api``, ``api_path``, ``apply_all_tables``, ``auth_parameter``,
  ``parameter_name``/``type=auth_header``, ``api_access_policy``/``inbound_auth_profile``).
* JWT bearer: ``oauth_jwt`` ("OAuth JWT API endpoint for external clients", extends
  ``oauth_entity``), ``jwt_verifier_map`` (kid, shared key, ``sys_certificate``),
  ``oauth_jwt_claims`` (custom claim validations) and ``sys_certificate`` (X.509
  certificates, PEM). Source:
  https://www.servicenow.com/docs/r/platform-security/authentication/create-jwt-endpoint.html.
* Client certificates (plugin ``com.glide.auth.mutual``): ``sys_user_certificate`` ("User
  Client Certificates", the User to Certificate Mapping). Source:
  https://www.servicenow.com/docs/r/platform-security/certificate-based-authentication/map-user-pem-certificate.html.

Where a choice value is not documented (the profile types other than ``basic_auth``, the
query-parameter type of an auth parameter) the emulator's value is named in docs/identity.md.
Secrets are ``password2`` fields (never returned by the Table API); an API key's token is
stored only as its SHA-256 (``token_hash``).
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, Table, choices

F = Field

_SCOPE = F("sys_scope", "reference", "Application", reference="sys_scope", default="global")

SYS_TOKEN_AUTH_PARAMETER = Table(
    "sys_token_auth_parameter",
    "Token Auth Parameters",
    fields=(
        F("name", "string", "Name", display=True, max_length=100),
        F("parameter_name", "string", "Parameter Name", indexed=True, max_length=100),
        F("type", "choice", "Type", default="auth_header", choices=choices(
            ("auth_header", "Auth Header"), ("query_param", "Query Parameter"),
        )),
        F("prefix", "string", "Prefix", max_length=40),
        _SCOPE,
    ),
)

INBOUND_AUTH_PROFILE = Table(
    "inbound_auth_profile",
    "Inbound Authentication Profiles",
    extensible=True,
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("description", "string", "Description", max_length=1000),
        F("active", "boolean", "Active", default="true"),
        F("auth_processor", "boolean", "Auth processor", default="false"),
        _SCOPE,
    ),
)

STD_HTTP_AUTH = Table(
    "std_http_auth",
    "Standard HTTP Authentication Profiles",
    super_class="inbound_auth_profile",
    fields=(
        F("type", "choice", "Type", default="basic_auth", choices=choices(
            ("basic_auth", "Basic Auth"), ("id_token", "ID Token"),
            ("mutual_auth", "Certificate based Auth"), ("oauth", "OAuth"),
        )),
        F("oauth_entity", "reference", "OAuth Entity", reference="oauth_entity"),
    ),
)

HTTP_KEY_AUTH = Table(
    "http_key_auth",
    "API Key Authentication Profiles",
    super_class="inbound_auth_profile",
    fields=(
        F("auth_parameter", "reference", "Auth Parameter", reference="sys_token_auth_parameter"),
    ),
)

SYS_API_ACCESS_POLICY = Table(
    "sys_api_access_policy",
    "REST API Access Policies",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, mandatory=True, max_length=100),
        F("active", "boolean", "Active", default="true"),
        F("api", "string", "REST API", max_length=100),
        F("api_path", "string", "REST API PATH", max_length=255),
        F("http_method", "choice", "HTTP Method", choices=choices(
            ("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"),
            ("DELETE", "DELETE"),
        )),
        F("version", "string", "Version", max_length=40),
        F("api_resource", "string", "Resource", max_length=255),
        F("apply_global", "boolean", "Global", default="false"),
        F("apply_all", "boolean",
          "Apply policy to all methods, versions, and resources in this API", default="false"),
        F("apply_all_methods", "boolean", "Apply to all methods", default="false"),
        F("apply_all_resources", "boolean", "Apply to all resources", default="false"),
        F("apply_all_versions", "boolean", "Apply to all versions", default="false"),
        F("apply_all_tables", "boolean", "Apply to all tables", default="false"),
        F("api_tablename", "glide_list", "Tables", max_length=4000),
        F("all_authn_scheme_authenticate_header", "boolean", "Advertise all auth schemes",
          default="false"),
        _SCOPE,
    ),
)

SYS_AUTH_PROFILE_MAPPING = Table(
    "sys_auth_profile_mapping",
    "Authentication Profile Mappings",
    fields=(
        F("api_access_policy", "reference", "API Access Policy",
          reference="sys_api_access_policy", indexed=True),
        F("inbound_auth_profile", "reference", "Inbound Authentication Profile",
          reference="inbound_auth_profile"),
        _SCOPE,
    ),
)

API_KEY = Table(
    "api_key",
    "REST API Key",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("description", "string", "Description", max_length=1000),
        F("active", "boolean", "Active", default="true"),
        F("user", "reference", "User", reference="sys_user"),
        F("auth_scope", "string", "Auth Scope", max_length=255),
        # Generated on insert, shown once (in the creating response), stored only hashed.
        F("token", "password2", "Token", read_only=True, max_length=255),
        F("token_hash", "string", "Token hash", indexed=True, unique=True, read_only=True,
          max_length=64),
        F("expires", "glide_date_time", "Expiry"),
        _SCOPE,
    ),
)

SYS_CERTIFICATE = Table(
    "sys_certificate",
    "X.509 Certificates",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("active", "boolean", "Active", default="true"),
        F("format", "choice", "Format", default="pem", choices=choices(
            ("pem", "PEM"), ("der", "DER"),
        )),
        F("type", "choice", "Type", default="trust_store", choices=choices(
            ("trust_store", "Trust Store Cert"), ("jks", "Java Key Store"),
            ("client_cert", "Client Cert"),
        )),
        F("pem_certificate", "string", "PEM Certificate", max_length=8000),
        F("short_description", "string", "Short description", max_length=160),
        F("expires", "glide_date_time", "Expires", read_only=True),
        _SCOPE,
    ),
)

OAUTH_JWT = Table(
    "oauth_jwt",
    "OAuth JWT API endpoint for external clients",
    super_class="oauth_entity",
    fields=(
        # Unlike a plain registry entry, a client id sent on insert is kept (public setup
        # scripts set their own); a blank one is generated.
        F("client_id", "string", "Client ID", indexed=True, unique=True, max_length=255),
        F("user_field", "choice", "User Field", default="email", choices=choices(
            ("user_name", "User ID"), ("email", "Email"), ("sys_id", "Sys ID"),
        )),
        F("enable_jti_verification", "boolean", "Enable JTI Verification", default="true"),
        F("jti_claim", "string", "JTI Claim", default="jti", max_length=100),
        F("clock_skew", "integer", "Clock Skew", default="300"),
        F("sub_claim", "choice", "Subject Claim", default="sys_id", choices=choices(
            ("user_name", "User ID"), ("email", "Email"), ("sys_id", "Sys ID"),
        )),
        F("jwks_url", "url", "JWKS URL", max_length=1024),
        F("jwks_cache_lifespan", "integer", "JWKS Cache Lifespan", default="720"),
        F("inbound_grant_type", "string", "Inbound Grant Type", default="jwt", max_length=40),
        F("enforce_token_restrictions", "boolean", "Enforce Token Restrictions",
          default="false"),
    ),
)

JWT_VERIFIER_MAP = Table(
    "jwt_verifier_map",
    "JWT Verifier Maps",
    fields=(
        F("name", "string", "Name", display=True, max_length=100),
        F("oauth_jwt", "reference", "OAuth JWT", reference="oauth_jwt", indexed=True),
        F("kid", "string", "Kid", max_length=255),
        F("shared_key", "password2", "Shared Key", max_length=1024),
        F("sys_certificate", "reference", "Sys certificate", reference="sys_certificate"),
        _SCOPE,
    ),
)

OAUTH_JWT_CLAIMS = Table(
    "oauth_jwt_claims",
    "OAuth JWT Claim Validations",
    fields=(
        F("oauth_jwt", "reference", "My external client", reference="oauth_jwt", indexed=True),
        F("claim_name", "string", "Claim Name", display=True, max_length=100),
        F("claim_value", "string", "Claim Value", max_length=1000),
        F("claim_value_type", "choice", "Claim Value Type", default="string", choices=choices(
            ("string", "String"), ("number", "Number"), ("boolean", "Boolean"),
        )),
        F("active", "boolean", "Active", default="true"),
        _SCOPE,
    ),
)

SYS_USER_CERTIFICATE = Table(
    "sys_user_certificate",
    "User Client Certificates",
    fields=(
        F("name", "string", "Name", display=True, max_length=100),
        F("user", "reference", "User", reference="sys_user", indexed=True),
        F("active", "boolean", "Active", default="true"),
        F("format", "choice", "Format", default="pem", choices=choices(("pem", "PEM"),)),
        F("type", "choice", "Type", default="client_cert", read_only=True,
          choices=choices(("client_cert", "Client cert"),)),
        F("pem_certificate", "string", "PEM Certificate", max_length=8000),
        F("short_description", "string", "Short description", max_length=160),
        # Extracted from the certificate on insert and update (read-only, as on the form).
        F("fingerprint", "string", "SHA-256 fingerprint", indexed=True, read_only=True,
          max_length=64),
        F("subject", "string", "Subject", read_only=True, max_length=1000),
        F("issuer", "string", "Issuer", read_only=True, max_length=1000),
        F("valid_from", "glide_date_time", "Valid from", read_only=True),
        F("expires", "glide_date_time", "Expires", read_only=True),
        _SCOPE,
    ),
)

AUTH_PROFILE_TABLES = (
    SYS_TOKEN_AUTH_PARAMETER, INBOUND_AUTH_PROFILE, STD_HTTP_AUTH, HTTP_KEY_AUTH,
    SYS_API_ACCESS_POLICY, SYS_AUTH_PROFILE_MAPPING, API_KEY, SYS_CERTIFICATE, OAUTH_JWT,
    JWT_VERIFIER_MAP, OAUTH_JWT_CLAIMS, SYS_USER_CERTIFICATE,
)
