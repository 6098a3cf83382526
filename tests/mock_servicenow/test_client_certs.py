"""Mutual TLS: client certificates mapped to users (issue 18).

Real sockets (the point is the TLS handshake): ``serve --tls --client-ca`` asks for a client
certificate; ``requests`` presents one with ``cert=``. A certificate mapped to a user by
``sys_user_certificate`` authenticates REST calls as that user; none, or an unmapped one,
falls back to the other methods or gets the platform's 401.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from flask import Flask

from mock_servicenow import cli
from mock_servicenow.domain.identity.client_certs import INVALID_PEM
from mock_servicenow.server import listen
from mock_servicenow.tls import ClientCertificate, ensure_tls, issue_client_certificate
from tests.mock_servicenow.auth_profile_helpers import (
    TABLE_GET_POLICY,
    create,
    map_profile,
    one,
    user_sys_id,
)
from tests.mock_servicenow.identity_helpers import update_user

NOT_AUTHENTICATED = {"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"},
                     "status": "failure"}


@dataclass
class Mtls:
    """A TLS server asking for client certificates, and certificates to present."""

    url: str
    ca_bundle: str
    tls_dir: Path
    abel: ClientCertificate

    def get(self, path: str, cert: ClientCertificate | None = None,
            **kwargs: Any) -> requests.Response:
        session = requests.Session()
        session.trust_env = False
        pair = (str(cert.certificate), str(cert.private_key)) if cert else None
        return session.get(f"{self.url}{path}", cert=pair, verify=self.ca_bundle, **kwargs)


@pytest.fixture
def mtls(snow_app: Flask, tmp_path: Path) -> Iterator[Mtls]:
    tls_dir = tmp_path / "tls"
    files = ensure_tls(tls_dir, "127.0.0.1")
    abel = issue_client_certificate(tls_dir, "abel.tuter")
    listening = listen(snow_app, "127.0.0.1", 0, files, abel.client_ca)
    listening.start_in_thread()
    try:
        yield Mtls(listening.base_url, str(files.ca_bundle), tls_dir, abel)
    finally:
        listening.shutdown()


def map_certificate(admin: httpx.Client, user_name: str, pem: str, **values: str) -> str:
    return str(create(admin, "sys_user_certificate", {
        "name": f"{user_name} laptop", "user": user_sys_id(admin, user_name),
        "pem_certificate": pem, **values})["sys_id"])


def last_user(mtls: Mtls) -> str | None:
    entries = mtls.get("/_emulator/journal", params={"limit": 2}).json()["entries"]
    return [e for e in entries if e["path"].startswith("/api/")][-1]["user"]


def test_a_mapped_certificate_authenticates_as_its_user(mtls: Mtls,
                                                        snow_admin: httpx.Client) -> None:
    map_certificate(snow_admin, "abel.tuter", mtls.abel.pem)
    answer = mtls.get("/api/now/table/sys_user", mtls.abel, params={"sysparm_limit": 1})
    assert answer.status_code == 200 and len(answer.json()["result"]) == 1
    assert last_user(mtls) == "abel.tuter"
    session = requests.Session()
    session.trust_env = False
    created = session.post(f"{mtls.url}/api/now/table/incident", json={
        "short_description": "raised with a client certificate"},
        cert=(str(mtls.abel.certificate), str(mtls.abel.private_key)), verify=mtls.ca_bundle)
    assert created.status_code == 201
    assert created.json()["result"]["sys_created_by"] == "abel.tuter"


def test_no_certificate_or_an_unmapped_one_falls_back(mtls: Mtls) -> None:
    for cert in (None, mtls.abel):  # abel's certificate is not mapped yet
        answer = mtls.get("/api/now/table/incident", cert)
        assert answer.status_code == 401 and answer.json() == NOT_AUTHENTICATED
        assert answer.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'
        with_basic = mtls.get("/api/now/table/incident?sysparm_limit=1", cert,
                              auth=("admin", "admin"))
        assert with_basic.status_code == 200
        assert last_user(mtls) == "admin"


def test_an_inactive_mapping_is_no_mapping_and_an_inactive_user_is_refused(
        mtls: Mtls, snow_admin: httpx.Client, snow_app: Flask) -> None:
    mapping = map_certificate(snow_admin, "abel.tuter", mtls.abel.pem, active="false")
    assert mtls.get("/api/now/table/incident", mtls.abel).status_code == 401
    snow_admin.patch(f"/api/now/table/sys_user_certificate/{mapping}", json={"active": "true"})
    assert mtls.get("/api/now/table/incident", mtls.abel).status_code == 200
    update_user(snow_app, user_sys_id(snow_admin, "abel.tuter"), locked_out=1)
    locked = mtls.get("/api/now/table/incident", mtls.abel)
    assert locked.status_code == 401 and locked.json() == NOT_AUTHENTICATED
    # Basic still decides for a request that carries it.
    assert mtls.get("/api/now/table/incident?sysparm_limit=1", mtls.abel,
                    auth=("admin", "admin")).status_code == 200


def test_a_certificate_from_another_ca_ends_the_handshake(mtls: Mtls, tmp_path: Path) -> None:
    stranger = issue_client_certificate(tmp_path / "other-ca", "abel.tuter")
    with pytest.raises(requests.exceptions.SSLError):
        mtls.get("/api/now/table/incident", stranger)


def test_access_policies_apply_to_certificates(mtls: Mtls, snow_admin: httpx.Client) -> None:
    map_certificate(snow_admin, "abel.tuter", mtls.abel.pem)
    policy = one(snow_admin, "sys_api_access_policy", f"name={TABLE_GET_POLICY}")["sys_id"]
    basic = one(snow_admin, "std_http_auth", "nameLIKEBasicAuth")["sys_id"]
    certificate = one(snow_admin, "std_http_auth", "type=mutual_auth")["sys_id"]
    snow_admin.patch(f"/api/now/table/sys_api_access_policy/{policy}",
                     json={"active": "true", "apply_all_tables": "true"})
    map_profile(snow_admin, policy, basic)
    assert mtls.get("/api/now/table/incident", mtls.abel).status_code == 401
    map_profile(snow_admin, policy, certificate)
    assert mtls.get("/api/now/table/incident", mtls.abel).status_code == 200


def test_the_mapping_extracts_the_certificate_facts(snow_admin: httpx.Client,
                                                    tmp_path: Path) -> None:
    issued = issue_client_certificate(tmp_path, "abel.tuter")
    sys_id = map_certificate(snow_admin, "abel.tuter", issued.pem)
    stored = snow_admin.get(f"/api/now/table/sys_user_certificate/{sys_id}").json()["result"]
    assert stored["subject"] == "CN=abel.tuter"
    assert stored["issuer"] == "CN=mock-servicenow local client CA"
    assert len(stored["fingerprint"]) == 64 and stored["expires"] > stored["valid_from"]
    assert stored["type"] == "client_cert"
    refused = snow_admin.post("/api/now/table/sys_user_certificate", json={
        "name": "junk", "user": user_sys_id(snow_admin, "abel.tuter"),
        "pem_certificate": "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----"})
    assert refused.status_code == 403
    assert refused.json()["error"] == {"message": "Operation Failed", "detail": INVALID_PEM}


# -- the command line ---------------------------------------------------------------------------

def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def test_tls_client_cert_writes_a_key_and_maps_it(snow_server: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_SERVICENOW_HOME", str(tmp_path / "home"))
    status, out, err = run(["tls", "client-cert", "beth.anglin", "--url", snow_server])
    assert status == 0, err
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert set(lines) == {"client-ca", "certificate", "private-key", "mapped"}
    key = Path(lines["private-key"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in key.read_text() and "PRIVATE KEY" not in out + err
    assert Path(lines["client-ca"]) == tmp_path / "home" / "tls" / "client-ca.pem"
    with httpx.Client(base_url=snow_server, auth=("admin", "admin")) as admin:
        mapping = admin.get("/api/now/table/sys_user_certificate", params={
            "sysparm_query": "user.user_name=beth.anglin"}).json()["result"]
    assert [m["sys_id"] for m in mapping] == [lines["mapped"].split()[-1].rstrip(")")]
    # Without --url: the files and a hint; an unknown user with --url is one line.
    status, out, _ = run(["tls", "client-cert", "abel.tuter", "--out", str(tmp_path / "out")])
    assert status == 0 and "not mapped yet" in out
    assert (tmp_path / "out" / "abel.tuter.pem").exists()
    status, _, err = run(["tls", "client-cert", "no.such.user", "--url", snow_server])
    assert status == 1 and err.strip() == f"mock-servicenow: no user no.such.user on {snow_server}"


@pytest.mark.parametrize(("argv", "message"), [
    (["--client-ca", "ca.pem"], "--client-ca needs --tls"),
    (["--tls", "--client-ca", "missing.pem"], "not a readable PEM CA bundle"),
])
def test_bad_client_ca_flags_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          argv: list[str], message: str) -> None:
    monkeypatch.setenv("MOCK_SERVICENOW_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["serve", "--memory", "--port", "0", *argv])
    assert status == 1 and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_serve_workers_with_a_client_ca(tmp_path: Path) -> None:
    """The whole journey with the commands a person types: issue a certificate, serve
    gunicorn workers over TLS asking for it, map it (over https), call as the user."""
    from tests.mock_servicenow.test_workers import _start, _stop

    env = dict(os.environ, MOCK_SERVICENOW_HOME=str(tmp_path / "home"))

    def client_cert(*extra: str) -> dict[str, str]:
        done = subprocess.run([sys.executable, "-m", "mock_servicenow", "tls", "client-cert",
                               "abel.tuter", *extra], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        return dict(line.split(": ", 1) for line in done.stdout.strip().splitlines()
                    if ": " in line)

    first = client_cert("--out", str(tmp_path / "first"))
    running = _start(tmp_path, "--tls", "--client-ca", first["client-ca"])
    try:
        assert running.banner.get("client-ca") == first["client-ca"]
        mine = client_cert("--url", running.url)  # mapped over https (the home's ca.pem)
        session = requests.Session()
        session.trust_env = False
        answer = session.get(f"{running.url}/api/now/table/sys_user",
                             params={"sysparm_limit": 1},
                             cert=(mine["certificate"], mine["private-key"]),
                             verify=running.banner["ca-bundle"])
        assert answer.status_code == 200
        # The first certificate was never mapped: refused.
        other = session.get(f"{running.url}/api/now/table/sys_user",
                            cert=(first["certificate"], first["private-key"]),
                            verify=running.banner["ca-bundle"])
        assert other.status_code == 401
    finally:
        status, _, err = _stop(running)
    assert status == 0, err
