"""ServiceNowClient: the instance's REST surfaces over an injected, authenticated httpx client.

Every failure leaves as a :mod:`connector.errors` exception; callers never see httpx.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from . import network
from .errors import (
    BadRequest,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceNowAPIError,
    TransportError,
)
from .retry import rate_limit_wait

APP_SCOPE = "x_mioms_m365ticket"
APP_API = f"/api/{APP_SCOPE}/v1"

_OAUTH_ENTITY_HINT = (
    "the instance's Application Registries table (oauth_entity) is customized: set it back to "
    "'Accessible from: All application scopes' with 'Can read' checked, then rerun the "
    "installation checklist")


#: The REST-level denial: the table's "Allow access to this table via web services" is off
#: (servicenow-behaviour §1.5, §5 ``ws_access``), or the API's REST_Endpoint ACL refuses.
API_ACL_DETAIL = "Failed API level ACL Validation"


def hint_for(status: int, message: str, detail: str | None, *, table: str | None = None,
             retry_after: float | None = None) -> str | None:
    """The troubleshooting hint matching an instance answer (ARCHITECTURE §4), if any.

    ``table`` is the Table API table the request named, ``retry_after`` the seconds a 429
    asked to wait (from ``Retry-After``, else ``X-RateLimit-Reset``)."""
    text = f"{message} {detail or ''}"
    if "cross-scope access policy" in text and "oauth_entity" in text:
        return _OAUTH_ENTITY_HINT
    if "cross scope access privilege" in text or "cross-scope access policy" in text:
        return "a cross-scope access setting on the instance blocks the app; restore defaults"
    if status == 401:
        return ("the instance no longer accepts the connection's tokens: run "
                "`snow-connector connect` again as the integration user")
    if status == 403 and API_ACL_DETAIL in text:
        target = f"the {table} table" if table else "the table"
        return (f"web service access to {target} is turned off on the instance: as an admin, "
                f"tick 'Allow access to this table via web services' on {target}'s "
                "definition (sys_db_object), then retry")
    if status == 403 and "ACL" in text:
        return "the integration user lacks a role (itil) or an ACL denies the operation"
    if status == 429:
        if retry_after is None:
            return ("the instance is rate limiting this user and did not say for how long; "
                    "retry later")
        return f"the instance is rate limiting this user: retry in {wait_words(retry_after)}"
    return None


def wait_words(seconds: float) -> str:
    """``3599`` -> ``60 min``, ``95`` -> ``1 min 35 s``, ``7`` -> ``7 s``."""
    total = max(0, int(round(seconds)))
    if total >= 3600 and total % 3600 == 0:
        return f"{total // 3600} h"
    minutes, rest = divmod(total, 60)
    if minutes >= 10 or (minutes and not rest):
        return f"{minutes + (1 if rest >= 30 else 0)} min"
    if minutes:
        return f"{minutes} min {rest} s"
    return f"{rest} s"


def _table_of(response: httpx.Response) -> str | None:
    try:
        path = response.request.url.path
    except RuntimeError:
        return None
    parts = path.split("/")
    # /api/now[/v1|/v2]/table/<table>[/<sys_id>]
    if "table" in parts:
        index = parts.index("table")
        if index + 1 < len(parts) and parts[:2] == ["", "api"]:
            return parts[index + 1] or None
    return None


_ERRORS: dict[int, type[ServiceNowAPIError]] = {
    400: BadRequest, 401: NotAuthenticated, 403: PermissionDenied, 404: NotFound,
}


def error_from_response(response: httpx.Response) -> ServiceNowAPIError:
    """The typed error for an error answer, parsed from ServiceNow's envelope (§3)."""
    message = response.reason_phrase or "error"
    detail: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            message = str(error.get("message") or message)
            raw_detail = error.get("detail")
            detail = None if raw_detail in (None, "") else str(raw_detail)
        elif isinstance(error, str):
            # OAuth endpoints: {"error":"server_error","error_description":"access_denied"}
            message = str(body.get("error_description") or error)
    elif body is None and response.content:
        detail = "the instance answered with a non-JSON page"
    status = response.status_code
    if status == 429:
        wait = rate_limit_wait(response)
        return RateLimited(status, message, detail, retry_after=wait,
                           hint=hint_for(status, message, detail, retry_after=wait))
    hint = hint_for(status, message, detail, table=_table_of(response))
    cls = _ERRORS.get(status, ServiceNowAPIError)
    return cls(status, message, detail, hint=hint)


@dataclass(frozen=True)
class Page:
    """One page of a Table API list."""

    rows: list[dict[str, Any]]
    total: int | None


def value_of(field: object) -> str:
    """Raw value of a field as returned by the Table API (reference objects -> their value)."""
    if isinstance(field, Mapping):
        return str(field.get("value", ""))
    return "" if field is None else str(field)


class ServiceNowClient:
    """Table API, Aggregate API, release probe and the app's scripted API."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                json: Any = None) -> httpx.Response:
        """Send; raise the typed error for any 4xx/5xx; wrap transport failures."""
        headers = {"Accept": "application/json"}
        try:
            response = self.http.request(method, path, params=params, json=json,
                                         headers=headers)
        except httpx.TransportError as exc:
            raise TransportError(network.describe(exc)) from exc
        page = network.instance_page(response)
        if page is not None:
            raise page
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ServiceNowAPIError(response.status_code, "unexpected non-JSON answer",
                                     "the instance did not answer with the API's JSON") from None

    def _result(self, response: httpx.Response) -> Any:
        body = self._json(response)
        if not isinstance(body, Mapping) or "result" not in body:
            raise ServiceNowAPIError(response.status_code, "unexpected answer",
                                     "no 'result' in the response body")
        return body["result"]

    # Table API (servicenow-behaviour §1)
    def list_records(self, table: str, *, query: str = "", fields: str = "",
                     limit: int = 100, offset: int = 0) -> Page:
        """One page of ``GET /api/now/table/{table}``."""
        params = {"sysparm_limit": str(limit), "sysparm_offset": str(offset)}
        if query:
            params["sysparm_query"] = query
        if fields:
            params["sysparm_fields"] = fields
        response = self.request("GET", f"/api/now/table/{table}", params=params)
        rows = self._result(response)
        if not isinstance(rows, list):
            raise ServiceNowAPIError(response.status_code, "unexpected answer",
                                     "a list of records was expected")
        total_header = response.headers.get("X-Total-Count")
        total = int(total_header) if total_header and total_header.isdigit() else None
        return Page(rows=[row for row in rows if isinstance(row, dict)], total=total)

    def iter_records(self, table: str, *, query: str, fields: str = "",
                     page_size: int = 100) -> Iterator[tuple[dict[str, Any], int | None]]:
        """Every matching row, page by page (``sysparm_limit``/``sysparm_offset``, §1.3).

        Yields ``(row, total)``. Stops on a short page, or when ``X-Total-Count`` is reached
        (Ansible's rule, m365-ticketing.md §4.3). The query must carry an ``ORDERBY``:
        without one pages are not stable (§1.3).
        """
        offset = 0
        while True:
            page = self.list_records(table, query=query, fields=fields, limit=page_size,
                                     offset=offset)
            for row in page.rows:
                yield row, page.total
            offset += page_size
            if len(page.rows) < page_size or (page.total is not None and offset >= page.total):
                return

    def create_record(self, table: str, fields: Mapping[str, str]) -> dict[str, Any]:
        """``POST /api/now/table/{table}``: the created record (201, §1.1)."""
        result = self._result(self.request("POST", f"/api/now/table/{table}", json=dict(fields)))
        if not isinstance(result, dict):
            raise ServiceNowAPIError(201, "unexpected answer", "a record was expected")
        return result

    def find_one(self, table: str, query: str, fields: str = "") -> dict[str, Any] | None:
        """The first row matching ``query``, or ``None``."""
        page = self.list_records(table, query=query, fields=fields, limit=1)
        return page.rows[0] if page.rows else None

    # Aggregate API (§9.1)
    def count_by(self, table: str, group_by: str, query: str = "") -> dict[str, int]:
        """``GET /api/now/stats/{table}?sysparm_count=true&sysparm_group_by=...``."""
        params = {"sysparm_count": "true", "sysparm_group_by": group_by}
        if query:
            params["sysparm_query"] = query
        result = self._result(self.request("GET", f"/api/now/stats/{table}", params=params))
        groups = result if isinstance(result, list) else [result]
        counts: dict[str, int] = {}
        for group in groups:
            if not isinstance(group, Mapping):
                continue
            stats = group.get("stats") or {}
            try:
                count = int(str(stats.get("count", "0")))
            except ValueError:
                count = 0
            value = ""
            for item in group.get("groupby_fields") or []:
                if isinstance(item, Mapping) and item.get("field") == group_by:
                    value = str(item.get("value", ""))
            counts[value] = counts.get(value, 0) + count
        return counts

    # Instance metadata (§8)
    def glide_war(self) -> str | None:
        """The ``glide.war`` property value, or ``None`` when the row is not readable."""
        row = self.find_one("sys_properties", "name=glide.war", fields="value")
        return value_of(row.get("value")) if row else None

    def app_installed(self) -> bool:
        """Whether the app answers its scripted API.

        The integration user may not read ``sys_scope`` (an admin table), but every user the
        app serves can call its API; an instance without the app answers its unknown-path
        error, ``Requested URI does not represent any resource`` (servicenow-behaviour §1.5).
        """
        try:
            self.request("GET", f"{APP_API}/connection")
        except ServiceNowAPIError as exc:
            if exc.message == "Requested URI does not represent any resource" or \
                    exc.status == 404:
                return False
            raise
        return True

    # The app's scripted API (fixed by the lead)
    def get_connection(self) -> dict[str, Any]:
        """``GET /connection``: the app's view of the connection."""
        result = self._result(self.request("GET", f"{APP_API}/connection"))
        return dict(result) if isinstance(result, Mapping) else {}

    def create_connection(self, tenant_id: str, client_id: str) -> dict[str, Any]:
        """``POST /connection`` (the provisioning "Authorize" step)."""
        result = self._result(self.request("POST", f"{APP_API}/connection",
                                           json={"tenant_id": tenant_id,
                                                 "client_id": client_id}))
        return dict(result) if isinstance(result, Mapping) else {}

    def delete_connection(self) -> None:
        """``DELETE /connection`` (204); a missing record (404) is treated as done."""
        try:
            self.request("DELETE", f"{APP_API}/connection")
        except NotFound:
            pass
