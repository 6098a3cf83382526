"""How pages are served (issue 16): one Server header, one stylesheet and template set,
local assets with cache validators, the control-plane dashboard for loopback callers only."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from flask import Flask

from mock_servicenow.web import assets
from tests.apps.x_mioms_m365ticket.conftest import browser_session

TEMPLATES = Path(assets.__file__).resolve().parent / "templates"


def test_one_server_header_over_a_socket(snow_server: str) -> None:
    """werkzeug's own ``Server: Werkzeug/...`` is replaced, not added to (servicenow-behaviour
    §1.3: ``Server: ServiceNow``)."""
    with httpx.Client(base_url=snow_server) as client:
        for method, path in (("GET", "/api/now/table/incident?sysparm_limit=1"),
                             ("GET", "/api/now/table/nope"), ("GET", "/login.do"),
                             ("GET", "/"), ("GET", "/no_such_page"),
                             ("GET", "/styles/mock_servicenow.css"),
                             ("POST", "/oauth_token.do"), ("GET", "/_emulator/info")):
            response = client.request(method, path, auth=("admin", "admin"))
            assert response.headers.get_list("server") == ["ServiceNow"], (method, path)


def test_every_template_extends_the_one_layout_and_has_no_styles_of_its_own() -> None:
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) > 10
    for path in templates:
        text = path.read_text()
        assert "<style" not in text and "style=" not in text, path.name
        if path.name != "base.html":
            assert re.match(r'\{% extends "(base|instance)\.html" %\}', text), path.name
    base = (TEMPLATES / "base.html").read_text()
    assert "asset('mock_servicenow.css')" in base and "http" not in base


def test_pages_load_only_local_assets(snow_app: Flask) -> None:
    admin = browser_session(snow_app)
    anonymous = snow_app.test_client()
    pages = [anonymous.get("/login.do"), admin.get("/navpage.do"),
             admin.get("/incident_list.do"), admin.get("/incident.do?sys_id=-1"),
             admin.get("/x_mioms_m365ticket_checklist.do"), anonymous.get("/no_such_page"),
             admin.get("/_emulator/", environ_base={"REMOTE_ADDR": "127.0.0.1"})]
    for response in pages:
        html = response.get_data(as_text=True)
        stylesheet = r'<link rel="stylesheet" href="/styles/mock_servicenow\.css\?v=[0-9a-f]{12}">'
        assert re.search(stylesheet, html), response.request.path
        sources = re.findall(r'(?:src|href)="((?:https?:)?//[^"]*)"', html)
        assert sources == [], (response.request.path, sources)


def test_assets_are_versioned_and_validated(snow_app: Flask) -> None:
    client = snow_app.test_client()
    url = assets.url("mock_servicenow.css")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "immutable" in response.headers["Cache-Control"]
    again = client.get("/styles/mock_servicenow.css",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/scripts/dashboard.js").mimetype == "text/javascript"
    for missing in ("/styles/nope.css", "/styles/mock_servicenow.js", "/scripts/..%2Fapp.py",
                    "/styles/..%2F..%2Fsettings.py"):
        answer = client.get(missing)
        assert answer.status_code == 404 and answer.mimetype == "text/html", missing


def test_the_dashboard_is_for_loopback_callers(snow_app: Flask) -> None:
    client = snow_app.test_client()
    page = client.get("/_emulator/", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'src="/scripts/dashboard.js?v=' in html and 'id="scenarios"' in html
    remote = client.get("/_emulator/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403
    assert remote.json["error"]["detail"] == \
        "The emulator control plane only answers loopback callers"
    # The instance's pages link to it only for callers who may open it.
    admin = browser_session(snow_app)
    local = admin.get("/navpage.do", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert 'id="emulator_dashboard" href="/_emulator/"' in local.get_data(as_text=True)
    far = admin.get("/navpage.do", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert "emulator_dashboard" not in far.get_data(as_text=True)


def test_the_dashboard_script_only_calls_the_control_plane_api() -> None:
    script = (assets.STATIC / "dashboard.js").read_text()
    assert 'fetch("/_emulator/" + path' in script
    calls = set(re.findall(r'api\("(GET|POST|DELETE)", "([a-z]+)', script))
    assert {p for _, p in calls} == {"info", "clock", "scenarios", "faults", "instances",
                                     "journal", "reset"}
    assert "innerHTML" not in script  # API text (journal paths) is inserted as text only


def test_one_browser_loading_pages_at_once_never_gets_a_500(snow_server: str) -> None:
    """A browser fetches several pages of one session at the same time (tabs, the navigator's
    links). Each request extends the session: the writes take turns instead of failing with
    "database is locked" (a read inside a deferred transaction before its write did)."""
    with httpx.Client(base_url=snow_server) as client:
        login = client.get("/login.do").text
        token = re.search(r'name="sysparm_ck" value="([0-9a-f]+)"', login)
        assert token is not None
        assert client.post("/login.do", data={"user_name": "admin", "user_password": "admin",
                                              "sysparm_ck": token.group(1)}).status_code == 302
        urls = ["/navpage.do", "/incident.do?sys_id=-1", "/sys_user_list.do"] * 80
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda url: client.get(url).status_code, urls))
    assert statuses == [200] * len(urls)
