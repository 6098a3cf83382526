"""A run-wide secret scan (issue 8 item 7): what the emulator writes where secrets must never
appear (log records, journal entries, error bodies) is collected for the whole test run and
checked at the end against every secret the run used.

Secrets are harvested as the run goes, from the traffic itself: passwords and client secrets
in the requests that carry them and succeed (form or JSON fields ``password``,
``user_password``, ``client_secret``, ``refresh_token``, a JWT verifier map's ``shared_key``,
a JWT bearer ``assertion``), every access and refresh token the token endpoint issues, every
REST API key the instance shows once (the Table API's answer to ``POST
/api/now/table/api_key``, the ``/api_key.do`` page) and every ``x-sn-apikey`` a successful
request presents (issue 18). A private key (PEM ``... PRIVATE KEY-----``) is a leak wherever
it appears, harvested or not. Wrong passwords of refused attempts are covered with distinctive
values by ``test_no_secret_anywhere.py``. Values too
short or too ordinary to tell apart from normal text (``admin``, ``integration``: they are
also user names) are left to ``test_no_secret_anywhere.py``, which runs a journey with
distinctive passwords and scans everything, stdout and stderr included.

The connector's pages (``snow-connector ui``, the Flask app named ``connector.ui``) are held
to more: every page they answer, whatever its status, is scanned, and their access log
(logger ``connector.ui.access``) is a log record like any other. The client secret typed into
their connect form is harvested like the instance's.

Nothing is patched in the emulator: Flask's ``request_finished`` signal gives every response
with its request, a logging handler on the root logger sees every record, and
``Journal.record`` is wrapped for the run.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request
from flask.signals import request_finished

from mock_servicenow.web.journal import Journal
from mock_servicenow.web.responses import JSON_CONTENT_TYPE, PLATFORM_HEADERS

#: What every response carries anyway: a "secret" found inside it tells nothing.
_PUBLIC_TEXT = " ".join([JSON_CONTENT_TYPE, *PLATFORM_HEADERS.values()])

SECRET_FIELDS = ("password", "user_password", "client_secret", "refresh_token", "shared_key",
                 "assertion")
#: The Flask app name of the connector's pages (connector/ui/app.py).
UI_APP = "connector.ui"
API_KEY = "x-sn-apikey"
#: The marker of a PEM private key (PKCS#8, traditional RSA/EC, encrypted).
PRIVATE_KEY_MARKER = "PRIVATE KEY-----"
#: One word, an identifier (``admin``, ``Settings``): text is full of them. The contract runs
#: draw such words from the emulator's own source, and one accepted as a password is no secret.
_ORDINARY = re.compile(r"^[A-Za-z_]+$")
_PAGE_TOKEN = re.compile(r'id="api_key_token">([^<]+)<')


def distinctive(value: object) -> bool:
    """Long and unusual enough that finding it in text means it leaked. An IP address is not
    (a fuzzer's accepted ``user_password`` of ``127.0.0.1`` would match every journal
    entry's ``remote_addr``), nor a part of the headers every response carries."""
    if not isinstance(value, str) or len(value) < 8 or _ORDINARY.match(value):
        return False
    if value in _PUBLIC_TEXT:
        # A fuzzer's accepted password of "no-store,no-cache" is the Pragma header.
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return True
    return False


class SecretScan(logging.Handler):
    """Collects secrets and the texts that must not contain them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.secrets: set[str] = set()
        self.texts: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    # -- sources -------------------------------------------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        """Every log record, formatted as a handler would write it (except the test clients'
        own httpx logging of the URLs they were told to fetch)."""
        if record.name.startswith(("httpx", "httpcore")):
            return
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is still scanned raw
            text = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        self._text(f"log {record.name}", text)

    def journal(self, entry: Any) -> None:
        """A journal entry, as ``GET /_emulator/journal`` would show it."""
        shown = dataclasses.asdict(entry) if dataclasses.is_dataclass(entry) else repr(entry)
        self._text("journal", json.dumps(shown, default=str))

    def response(self, sender: Flask, response: Response, **_: Any) -> None:
        """Harvest secrets from the request; keep error bodies for the scan."""
        if response.status_code < 400:
            # Only what worked is a secret: generated junk in a refused request (a fuzzer's
            # "password" of 127.0.0.1) is not, and would match ordinary text.
            self._harvest_request()
        if request.path == "/oauth_token.do" and response.status_code == 200:
            try:
                issued = json.loads(response.get_data())
            except ValueError:
                issued = {}
            for key in ("access_token", "refresh_token"):
                if distinctive(issued.get(key)):
                    self._secret(issued[key])
        self._harvest_api_keys(response)
        if sender.name == UI_APP and not response.direct_passthrough:
            # The ui's pages: every page, whatever its status, and its headers.
            self._text("ui headers", " ".join(f"{k}: {v}" for k, v in response.headers.items()))
            self._text(f"ui page {response.status_code} {request.method} {request.path}",
                       response.get_data(as_text=True))
        elif response.status_code >= 400 and not response.direct_passthrough:
            # Errors: body and headers (WWW-Authenticate and friends).
            self._text("error headers", " ".join(f"{k}: {v}" for k, v in response.headers.items()))
            self._text(f"error {response.status_code} {request.method} {request.path}",
                       response.get_data(as_text=True))
        elif response.status_code >= 300:
            self._text(f"redirect {response.status_code} {request.path}",
                       response.headers.get("Location", ""))

    def _harvest_api_keys(self, response: Response) -> None:
        """Keys shown once when created, and keys presented by successful calls."""
        if response.status_code < 400:
            presented = request.headers.get(API_KEY) or request.args.get(API_KEY)
            if distinctive(presented):
                self._secret(str(presented))
        if request.method != "POST" or response.status_code not in (200, 201) \
                or response.direct_passthrough:
            return
        if request.path.rstrip("/").endswith("/table/api_key"):
            try:
                token = json.loads(response.get_data())["result"]["token"]
            except (ValueError, KeyError, TypeError):
                return
            token = token.get("value") if isinstance(token, dict) else token
            if distinctive(token):
                self._secret(str(token))
        elif request.path == "/api_key.do":
            found = _PAGE_TOKEN.search(response.get_data(as_text=True))
            if found and distinctive(found.group(1)):
                self._secret(found.group(1))

    def _harvest_request(self) -> None:
        values: dict[str, Any] = {}
        try:
            values.update(request.form.to_dict())
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                values.update(body)
        except Exception:  # noqa: BLE001 - a body the app itself refused
            return
        for key in SECRET_FIELDS:
            if distinctive(values.get(key)):
                self._secret(values[key])

    def _secret(self, value: str) -> None:
        with self._lock:
            self.secrets.add(value)

    def _text(self, where: str, text: str) -> None:
        if text:
            with self._lock:
                self.texts.append((where, text))

    # -- verdict -------------------------------------------------------------------------
    def leaks(self) -> list[str]:
        """``where: secret`` (the secret shortened) for every text holding a secret."""
        found = []
        for where, text in self.texts:
            for secret in self.secrets:
                if secret in text:
                    found.append(f"{where}: {secret[:4]}... in {text[:120]!r}")
            if PRIVATE_KEY_MARKER in text:
                found.append(f"{where}: a PEM private key")
        return found


def scanning() -> Iterator[SecretScan]:
    """Install the scan for the duration of the generator (a session fixture's body)."""
    scan = SecretScan()
    root = logging.getLogger()
    root.addHandler(scan)
    original = Journal.record

    def record(self: Journal, entry: Any) -> None:
        scan.journal(entry)
        original(self, entry)

    Journal.record = record  # type: ignore[method-assign]
    request_finished.connect(scan.response)
    try:
        yield scan
    finally:
        request_finished.disconnect(scan.response)
        Journal.record = original  # type: ignore[method-assign]
        root.removeHandler(scan)
