"""REST API access policies: which authentication methods an inbound REST call may use.

Sources:

* https://www.servicenow.com/docs/r/platform-security/authentication/inbound-authentication-profile.html
  (a policy restricts an API to the authentication types of its profiles);
* https://www.servicenow.com/docs/r/platform-security/authentication/api-access-policy-prioritization.html
  (which policy applies when several match: a specific policy always beats a global one, then
  method + resource + version, method + resource, resource + version, resource, method +
  version, method, version, global not for all methods, global for all methods);
* https://www.servicenow.com/docs/r/xanadu/platform-security/authentication/configure-api-key.html
  ("Token Based Auth isn't allowed in the Global REST API Policy": an API key is accepted only
  where a policy for that API maps an API key profile);
* public setup scripts written against real instances (ClosedSSPM's API key setup): once an
  active policy maps profiles, only the mapped methods are accepted on the APIs it covers, so
  Basic auth must be mapped too or it is locked out; for the Table API a policy covers the
  tables of ``api_tablename`` unless ``apply_all_tables``;
* https://www.servicenow.com/docs/r/platform-security/authentication/create-an-authentication-profile.html
  (profile types; the ``WWW-Authenticate`` of a refusal names the most recently mapped
  profile's scheme, ``BEARER`` or ``BASIC``).

Where the documents are silent the emulator chooses, and docs/identity.md says so: a policy
whose profiles are all inactive or unmapped restricts nothing but API keys; an unversioned
call (``/api/now/table/...``) matches only policies for all versions or without a version;
interactive sessions (a browser's cookie) are not subject to access policies, which are for
non-interactive calls (https://www.servicenow.com/docs/r/platform-security/authentication/api-access-policy.html).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.errors import NotAuthenticated
from mock_servicenow.store import auth_tables

#: The header (and query parameter) that carries an API key, as the platform's default auth
#: parameters name it (configure-api-key).
API_KEY_PARAMETER = "x-sn-apikey"

#: ``std_http_auth.type`` of each way a request authenticated (``Principal.via``).
PROFILE_TYPES: Mapping[str, str] = {
    "basic": "basic_auth", "bearer": "oauth", "cert": "mutual_auth",
}

#: How an API key was sent: ``sys_token_auth_parameter.type``.
SENT_IN_HEADER, SENT_IN_QUERY = "auth_header", "query_param"

_VERSION = re.compile(r"^v\d+$")

BASIC_CHALLENGE = 'BASIC realm="Service-now"'
BEARER_CHALLENGE = 'BEARER realm="Service-now"'


@dataclass(frozen=True)
class RestCall:
    """What an access policy looks at in an inbound REST call.

    :param api: the REST API's name (``Table API``; for scripted REST APIs the namespace), as
        ``sys_rate_limit_rules.rest_resource`` names it.
    :param api_path: the API's path without ``/api/`` and version (``now/table``).
    :param resource: the path after ``/api`` without the version (``/now/table/incident``).
    """

    api: str
    api_path: str
    method: str
    version: str | None
    resource: str
    table: str | None = None


def describe_call(path: str, method: str, api: str) -> RestCall:
    """The :class:`RestCall` of ``method path`` (``/api/<namespace>/[vN/]<api>/...``)."""
    parts = [p for p in path.split("/") if p][1:]  # without "api"
    version = None
    if len(parts) > 1 and _VERSION.match(parts[1]):
        version = parts.pop(1)
    api_path = "/".join(parts[:2])
    table = parts[2] if len(parts) > 2 and api_path in ("now/table", "now/stats") else None
    return RestCall(api=api, api_path=api_path, method=method.upper(), version=version,
                    resource="/" + "/".join(parts), table=table)


@lru_cache(maxsize=1024)
def _resource_pattern(template: str) -> re.Pattern[str]:
    """``/now/table/{tableName}`` -> a pattern where each ``{...}`` is one path segment."""
    pieces = re.split(r"\{[^/}]*\}", template.rstrip("/"))
    return re.compile("^" + "[^/]+".join(re.escape(p) for p in pieces) + "/?$")


def _flag(row: Mapping[str, Any], name: str) -> bool:
    return bool(row.get(name))


def _covers_api(policy: Mapping[str, Any], call: RestCall) -> bool:
    api = str(policy.get("api") or "").strip()
    path = str(policy.get("api_path") or "").strip().strip("/")
    if not api and not path:
        return False
    if api and api != call.api and api != call.api_path:
        return False
    if path and path != call.api_path:
        return False
    if call.api_path == "now/table" and call.table is not None \
            and not _flag(policy, "apply_all_tables"):
        tables = {t.strip() for t in str(policy.get("api_tablename") or "").split(",")}
        return call.table in tables
    return True


def priority(policy: Mapping[str, Any], call: RestCall) -> int | None:
    """The policy's rank for ``call`` (1 is the strongest), ``None`` when it does not apply
    (api-access-policy-prioritization)."""
    if _flag(policy, "apply_global"):
        return 9 if _flag(policy, "apply_all_methods") or _flag(policy, "apply_all") else 8
    if not _covers_api(policy, call):
        return None
    every = _flag(policy, "apply_all")
    all_methods = every or _flag(policy, "apply_all_methods")
    all_resources = every or _flag(policy, "apply_all_resources")
    all_versions = every or _flag(policy, "apply_all_versions")
    if not all_methods and str(policy.get("http_method") or "").upper() != call.method:
        return None
    resource = str(policy.get("api_resource") or "").strip()
    if not all_resources and not (resource and _resource_pattern(resource).match(call.resource)):
        return None
    version = str(policy.get("version") or "").strip()
    if not all_versions and version and version != call.version:
        return None
    method, res, ver = not all_methods, not all_resources, not all_versions and bool(version)
    ranks = {(True, True, True): 1, (True, True, False): 2, (False, True, True): 3,
             (False, True, False): 4, (True, False, True): 5, (True, False, False): 6,
             (False, False, True): 7, (False, False, False): 7}
    return ranks[(method, res, ver)]


def applicable(policies: Iterable[tuple[dict[str, Any], tuple[dict[str, Any], ...]]],
               call: RestCall) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]] | None:
    """The policy that governs ``call`` (and its mapped profiles), or ``None``."""
    best: tuple[int, tuple[dict[str, Any], tuple[dict[str, Any], ...]]] | None = None
    for entry in policies:
        rank = priority(entry[0], call)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, entry)
    return None if best is None else best[1]


def _refused(profiles: tuple[dict[str, Any], ...]) -> NotAuthenticated:
    """The 401 envelope; ``WWW-Authenticate`` names the most recently mapped standard
    profile's scheme (create-an-authentication-profile), ``BASIC`` otherwise."""
    challenge = BASIC_CHALLENGE
    for profile in reversed(profiles):
        if profile.get("sys_class_name") == "std_http_auth" and profile.get("active"):
            challenge = BEARER_CHALLENGE if profile.get("type") in ("oauth", "id_token") \
                else BASIC_CHALLENGE
            break
    return NotAuthenticated(headers={"WWW-Authenticate": challenge})


def require(ctx: Context, path: str, method: str, api: str, via: str) -> None:
    """Refuse (401 envelope) a call authenticated by ``via`` (``basic``, ``bearer``, ``cert``)
    that the governing access policy does not allow. Without active policies (the default
    instance) this is one remembered lookup: the call is not even described."""
    policies = auth_tables.access_policies(ctx.db)
    if not policies:
        return
    found = applicable(policies, describe_call(path, method, api))
    if found is None:
        return
    wanted = PROFILE_TYPES.get(via)
    active = [p for p in found[1] if p.get("active")]
    if not active or any(p.get("sys_class_name") == "std_http_auth" and p.get("type") == wanted
                         for p in active):
        return
    raise _refused(found[1])


def api_key_allowed(ctx: Context, call: RestCall, sent_as: str, value: str) -> str | None:
    """The token part of an API key ``value`` sent ``sent_as`` when the governing access policy
    (not a global one) maps an active API key profile for that parameter; ``None`` otherwise.

    A parameter with a ``prefix`` expects ``<prefix><token>`` (configure-api-key: "If you wish
    to add a prefix for the API-Key ... specify the Prefix field").
    """
    found = applicable(auth_tables.access_policies(ctx.db), call)
    if found is None or _flag(found[0], "apply_global"):
        return None
    for profile in found[1]:
        if profile.get("sys_class_name") != "http_key_auth" or not profile.get("active"):
            continue
        if str(profile.get("parameter_name") or "").lower() != API_KEY_PARAMETER:
            continue
        if (profile.get("parameter_type") or SENT_IN_HEADER) != sent_as:
            continue
        prefix = str(profile.get("prefix") or "")
        if value.startswith(prefix):
            return value[len(prefix):].strip()
    return None
