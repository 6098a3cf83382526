"""A small, faithful fake of the ServiceNow surfaces the connector uses, for MockTransport.

Behaviour follows /work/shared/reference/servicenow-behaviour.md: token endpoint (§4.1: form
body, client credentials in the body, every failure 401 server_error/access_denied, refresh
echoes the refresh token), revocation without auth (§4.3), Bearer-protected APIs with the
``User Not Authenticated`` envelope (§1.5), Table API lists with ``X-Total-Count`` and string
values (§1.3, §1.4), POST 201 + Location (§1.1), incident priority from impact x urgency
(§7.2), default states (§7.3, §7.4), the aggregate API (§9.1), the release probe (§8) and the
app's scripted API (fixed by the lead).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

BASE = "https://dev12345.service-now.com"
CLIENT_ID = "f3a1c0de5eed4b7a9c1d2e3f40516273"
CLIENT_SECRET = "s3cr3t-client-secret-value"
USER = "m365_integration"
PASSWORD = "integration-password"
GLIDE_WAR = "glide-washingtondc-12-20-2023__patch9-11-20-2024_11-26-2024_1946.zip"

_OAUTH_FAILURE = {"error_description": "access_denied", "error": "server_error"}
_NOT_AUTHENTICATED = {"error": {"message": "User Not Authenticated",
                                "detail": "Required to provide Auth information"},
                      "status": "failure"}
_PRIORITY = {("1", "1"): "1", ("1", "2"): "2", ("1", "3"): "3", ("2", "1"): "2",
             ("2", "2"): "3", ("2", "3"): "4", ("3", "1"): "3", ("3", "2"): "4",
             ("3", "3"): "5"}


@dataclass
class Fault:
    """Answer the next ``times`` matching requests with ``status`` or raise ``error``."""

    method: str
    path: str
    times: int = 1
    status: int | None = None
    error: type[Exception] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Process the request first, then lose the answer (a response lost on the way back).
    after_processing: bool = False


def _envelope(status: int, message: str, detail: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "detail": detail},
                                        "status": "failure"})


class FakeInstance:
    """Callable for ``httpx.MockTransport``; state is plain attributes tests can inspect."""

    def __init__(self, *, glide_war: str | None = GLIDE_WAR, app_installed: bool = True,
                 expires_in: int = 1799, now: float = 1_795_000_000.0) -> None:
        self.glide_war = glide_war
        self.app_installed = app_installed
        self.expires_in = expires_in
        self.now = now
        self.access: dict[str, float] = {}
        self.refresh: set[str] = set()
        self.codes: dict[str, str] = {}
        self.tables: dict[str, dict[str, dict[str, str]]] = {"change_request": {},
                                                            "incident": {}}
        self.counters = {"change_request": 30000, "incident": 10000}
        self.connection: dict[str, str] | None = None
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []
        self._serial = 0

    # helpers for tests -----------------------------------------------------------------
    def clock(self) -> float:
        """The instance's clock, shared with the connector in tests."""
        return self.now

    def _stamp(self) -> str:
        import datetime as dt
        return dt.datetime.fromtimestamp(self.now, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def set_state(self, table: str, sys_id: str, state: str) -> None:
        """Change a ticket's state the way an agent would on the instance."""
        row = self.tables[table][sys_id]
        row["state"] = state
        row["sys_updated_on"] = self._stamp()
        row["sys_mod_count"] = str(int(row["sys_mod_count"]) + 1)

    def issue_code(self, user: str = USER) -> str:
        """An authorization code, as the consent page's Allow would create."""
        self._serial += 1
        code = f"code{self._serial:04d}"
        self.codes[code] = user
        return code

    def expire_access_tokens(self) -> None:
        """Make every access token expire on the instance (401 on next use)."""
        for token in self.access:
            self.access[token] = self.now - 1

    def _token(self) -> httpx.Response:
        self._serial += 1
        seed = f"{self._serial}".encode()
        access = hashlib.sha256(b"a" + seed).hexdigest()
        refresh = hashlib.sha256(b"r" + seed).hexdigest()
        self.access[access] = self.now + self.expires_in + 1
        self.refresh.add(refresh)
        return httpx.Response(200, json={"access_token": access, "refresh_token": refresh,
                                         "scope": "useraccount", "token_type": "Bearer",
                                         "expires_in": self.expires_in})

    # dispatch --------------------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and \
                    request.url.path == fault.path:
                fault.times -= 1
                if fault.after_processing:
                    self._route(request)
                if fault.error is not None:
                    raise fault.error("injected", request=request)
                return httpx.Response(fault.status or 503, headers=fault.headers,
                                      json={"error": {"message": "injected", "detail": None},
                                            "status": "failure"})
        return self._route(request)

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth_token.do" and request.method == "POST":
            return self._token_endpoint(request)
        if path == "/oauth_revoke_token.do":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            token = form.get("token") or request.url.params.get("token", "")
            self.access.pop(token, None)
            self.refresh.discard(token)
            return httpx.Response(200)
        if path == "/oauth_auth.do" and request.method == "GET":
            # A consent page on which the integration user is signed in and clicks Allow
            # (servicenow-behaviour §4.2): 302 to the redirect URI with a code and the state.
            params = request.url.params
            target = httpx.URL(params["redirect_uri"]).copy_merge_params(
                {"code": self.issue_code(), "state": params.get("state", "")})
            return httpx.Response(302, headers={"Location": str(target)})
        if not path.startswith("/api/"):
            return httpx.Response(404, text="<html>not found</html>")
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or self.access.get(token, 0) <= self.now:
            return httpx.Response(401, json=_NOT_AUTHENTICATED,
                                  headers={"WWW-Authenticate": 'BASIC realm="Service-now"'})
        if path == "/api/x_mioms_m365ticket/v1/connection" and self.app_installed:
            return self._connection(request)
        if path.startswith("/api/now/stats/"):
            return self._stats(request, path.rsplit("/", 1)[1])
        if path.startswith("/api/now/table/"):
            return self._table(request, path.removeprefix("/api/now/table/"))
        return _envelope(400, "Requested URI does not represent any resource")

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            return httpx.Response(401, json=_OAUTH_FAILURE)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return httpx.Response(401, json=_OAUTH_FAILURE)
        grant = form.get("grant_type")
        if grant == "password" and form.get("username") == USER and \
                form.get("password") == PASSWORD:
            return self._token()
        if grant == "authorization_code" and self.codes.pop(form.get("code", ""), None):
            return self._token()
        if grant == "refresh_token" and form.get("refresh_token") in self.refresh:
            response = self._token()
            body = response.json()
            self.refresh.discard(body["refresh_token"])
            body["refresh_token"] = form["refresh_token"]  # §4.1: the refresh token is reused
            return httpx.Response(200, json=body)
        return httpx.Response(401, json=_OAUTH_FAILURE)

    def _connection(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if self.connection is None:
                return httpx.Response(200, json={"result": {
                    "status": "not_connected", "connected_by": "", "connected_at": "",
                    "tenant_id": "", "client_id": ""}})
            return httpx.Response(200, json={"result": self.connection})
        if request.method == "POST":
            body = json.loads(request.content or b"{}")
            self.connection = {"status": "connected", "connected_by": USER,
                               "connected_at": self._stamp(),
                               "tenant_id": str(body.get("tenant_id", "")),
                               "client_id": str(body.get("client_id", ""))}
            return httpx.Response(201, json={"result": self.connection})
        if request.method == "DELETE":
            self.connection = None
            return httpx.Response(204)
        return _envelope(405, "Method not Supported")

    def _matches(self, row: dict[str, str], term: str) -> bool:
        for op in ("STARTSWITH", ">=", "="):
            if op in term:
                name, value = term.split(op, 1)
                if name not in row:
                    return True  # unknown fields are ignored (§1.2)
                if op == "STARTSWITH":
                    return row[name].startswith(value)
                if op == ">=":
                    return row[name] >= value
                return row[name] == value
        return True

    def _query(self, table: str, query: str) -> list[dict[str, str]]:
        rows = list(self.tables[table].values())
        order: list[str] = []
        for term in filter(None, query.split("^")):
            if term.startswith("ORDERBY"):
                order.append(term.removeprefix("ORDERBY"))
            else:
                rows = [r for r in rows if self._matches(r, term)]
        for name in reversed(order):
            rows.sort(key=lambda r: r.get(name, ""))
        return rows

    def _table(self, request: httpx.Request, table: str) -> httpx.Response:
        params = request.url.params
        if table == "sys_properties":
            rows = [{"value": self.glide_war}] if self.glide_war and \
                params.get("sysparm_query") == "name=glide.war" else []
            return httpx.Response(200, json={"result": rows},
                                  headers={"X-Total-Count": str(len(rows))})
        if table not in self.tables:
            return _envelope(400, f"Invalid table {table}")
        if request.method == "POST":
            return self._insert(table, json.loads(request.content))
        rows = self._query(table, params.get("sysparm_query", ""))
        limit = int(params.get("sysparm_limit", "10000"))
        offset = int(params.get("sysparm_offset", "0"))
        page = rows[offset:offset + limit]
        fields = [f for f in params.get("sysparm_fields", "").split(",") if f]
        if fields:
            page = [{f: r[f] for f in fields if f in r} for r in page]
        return httpx.Response(200, json={"result": page},
                              headers={"X-Total-Count": str(len(rows))})

    def _insert(self, table: str, body: dict[str, Any]) -> httpx.Response:
        # A caller-chosen sys_id is used; a taken one is the database's unique-key refusal
        # (the emulator's and the platform's behaviour, issue 15).
        sys_id = str(body.get("sys_id") or "")
        if any(sys_id in rows for rows in self.tables.values()):
            return _envelope(403, "Operation Failed",
                             "Unique Key violation detected by database")
        self.counters[table] += 1
        prefix = "CHG" if table == "change_request" else "INC"
        sys_id = sys_id or hashlib.md5(f"{table}{self.counters[table]}".encode()).hexdigest()
        row = {str(k): str(v) for k, v in body.items()}
        row.update(sys_id=sys_id, number=f"{prefix}{self.counters[table]:07d}",
                   sys_created_on=self._stamp(), sys_updated_on=self._stamp(),
                   sys_mod_count="0")
        if table == "incident":
            row.setdefault("impact", "3")
            row.setdefault("urgency", "3")
            row["priority"] = _PRIORITY[(row["impact"], row["urgency"])]
            row.setdefault("state", "1")
        else:
            row.setdefault("state", "-5")
            row.setdefault("priority", "4")
        self.tables[table][sys_id] = row
        return httpx.Response(201, json={"result": row},
                              headers={"Location": f"{BASE}/api/now/table/{table}/{sys_id}"})

    def _stats(self, request: httpx.Request, table: str) -> httpx.Response:
        if table not in self.tables:
            return _envelope(400, f"Invalid table {table}")
        params = request.url.params
        rows = self._query(table, params.get("sysparm_query", ""))
        group = params.get("sysparm_group_by", "")
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.get(group, "")] = counts.get(row.get(group, ""), 0) + 1
        return httpx.Response(200, json={"result": [
            {"stats": {"count": str(n)}, "groupby_fields": [{"value": v, "field": group}]}
            for v, n in counts.items()]})


def transport(instance: FakeInstance,
              hook: Callable[[httpx.Request], None] | None = None) -> httpx.MockTransport:
    """A MockTransport serving ``instance``."""
    def handler(request: httpx.Request) -> httpx.Response:
        if hook is not None:
            hook(request)
        return instance(request)
    return httpx.MockTransport(handler)


def wsgi_app(instance: FakeInstance):  # type: ignore[no-untyped-def]
    """``instance`` as a WSGI application, to serve it on a real socket."""
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = environ.get("QUERY_STRING", "")
        url = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}" + (f"?{query}" if query
                                                                        else "")
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        response = instance(httpx.Request(environ["REQUEST_METHOD"], url, headers=headers,
                                          content=body))
        response.read()
        start_response(f"{response.status_code} {response.reason_phrase}",
                       [(k, v) for k, v in response.headers.items()
                        if k.lower() not in ("content-length", "transfer-encoding")])
        return [response.content]
    return app
