"""Fault injection on the control plane (issue 8 item 5; domain/platform/faults.py, web/faults.py).

The Table API lives on another branch, so the control plane's own endpoints are the targets:
``/_emulator/info`` for failures, ``POST /_emulator/clock`` (a committed write) for
"commit then drop the connection".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

RATE_LIMIT_BODY = {
    "error": {"message": "Rate limit exceeded",
              "detail": "Rate limit of 100 requests per hour for Table API exceeded"},
    "status": "failure",
}


def _add(client: httpx.Client, **rule: object) -> dict[str, object]:
    response = client.post("/_emulator/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("status", "message"), [
    (500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"),
])
def test_status_answers_with_the_platform_envelope(snow_client: httpx.Client, status: int,
                                                   message: str) -> None:
    _add(snow_client, method="GET", path="/_emulator/info", action="status", status=status)
    response = snow_client.get("/_emulator/info")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == "failure"
    assert body["error"]["message"] == message
    assert isinstance(body["error"]["detail"], str)


def test_status_with_known_platform_errors_and_overrides(snow_client: httpx.Client) -> None:
    _add(snow_client, path="/_emulator/info", action="status", status=401, times=1)
    unauthenticated = snow_client.get("/_emulator/info")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == {"message": "User Not Authenticated",
                                               "detail": "Required to provide Auth information"}
    assert unauthenticated.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'
    _add(snow_client, path="/_emulator/info", action="status", status=418,
         message="Teapot", detail="short and stout", times=1)
    custom = snow_client.get("/_emulator/info")
    assert custom.status_code == 418
    assert custom.json()["error"] == {"message": "Teapot", "detail": "short and stout"}
    assert snow_client.get("/_emulator/info").status_code == 200


def test_times_limits_how_many_requests_a_rule_affects(snow_client: httpx.Client) -> None:
    _add(snow_client, path="/_emulator/info", action="status", status=503, times=2)
    statuses = [snow_client.get("/_emulator/info").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert snow_client.get("/_emulator/faults").json() == {"faults": []}


def test_method_and_glob_path_matching(snow_client: httpx.Client) -> None:
    _add(snow_client, method="POST", path="/_emulator/clo*", action="status", status=503)
    assert snow_client.get("/_emulator/clock").status_code == 200  # GET is not POST
    assert snow_client.post("/_emulator/clock", json={"action": "reset"}).status_code == 503
    assert snow_client.get("/_emulator/info").status_code == 200  # path does not match
    _add(snow_client, method="*", path="/_emulator/info", action="status", status=500)
    assert snow_client.get("/_emulator/info").status_code == 500
    assert snow_client.get("/_emulator/info/").status_code != 500  # exact unless globbed


def test_rate_limit_sends_the_documented_429(snow_client: httpx.Client) -> None:
    snow_client.post("/_emulator/clock", json={"action": "freeze", "at": "2026-03-01 12:00:00"})
    rule = _add(snow_client, path="/_emulator/info", action="rate_limit", retry_after=5,
                times=1)
    response = snow_client.get("/_emulator/info")
    assert response.status_code == 429
    assert response.json() == RATE_LIMIT_BODY
    frozen = int(datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp())
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-RateLimit-Reset"] == str(frozen + 5)
    assert len(response.headers["X-RateLimit-Rule"]) == 32
    assert "X-RateLimit-Remaining" not in response.headers  # not documented (§1.5)
    assert rule["times"] == 1
    assert snow_client.get("/_emulator/info").status_code == 200


def test_rate_limit_limit_is_configurable(snow_client: httpx.Client) -> None:
    _add(snow_client, path="/_emulator/info", action="rate_limit", limit=5000, times=1)
    response = snow_client.get("/_emulator/info")
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert response.headers["Retry-After"] == "3600"
    assert response.json()["error"]["detail"] == \
        "Rate limit of 5000 requests per hour for Table API exceeded"


def test_latency_delays_then_answers(snow_client: httpx.Client) -> None:
    # A lower bound only (sleep never returns early): not a speed assertion.
    _add(snow_client, path="/_emulator/info", action="latency", seconds=0.3, times=1)
    started = time.monotonic()
    response = snow_client.get("/_emulator/info")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert snow_client.get("/_emulator/faults").json()["faults"] == []


def test_latency_combines_with_a_failure(snow_client: httpx.Client) -> None:
    _add(snow_client, path="/_emulator/info", action="latency", seconds=0.1, times=1)
    _add(snow_client, path="/_emulator/info", action="status", status=503, times=1)
    started = time.monotonic()
    assert snow_client.get("/_emulator/info").status_code == 503
    assert time.monotonic() - started >= 0.1


def test_drop_after_commit_in_process(snow_client: httpx.Client) -> None:
    _add(snow_client, method="POST", path="/_emulator/clock", action="drop_after_commit",
         times=1)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        snow_client.post("/_emulator/clock", json={"action": "freeze",
                                                   "at": "2027-07-07 07:07:07"})
    assert isinstance(caught.value, httpx.TransportError)
    assert caught.value.request.url.path == "/_emulator/clock"
    # the write committed although the client never saw an answer
    assert snow_client.get("/_emulator/clock").json()["now"] == "2027-07-07 07:07:07"
    assert snow_client.post("/_emulator/clock", json={"action": "reset"}).status_code == 200


@pytest.mark.slow
def test_drop_after_commit_over_a_real_socket(snow_server: str) -> None:
    with httpx.Client(base_url=snow_server) as client:
        _add(client, method="POST", path="/_emulator/clock", action="drop_after_commit",
             times=1)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/_emulator/clock", json={"action": "freeze",
                                                  "at": "2028-08-08 08:08:08"})
        assert client.get("/_emulator/clock").json()["now"] == "2028-08-08 08:08:08"
        assert client.get("/_emulator/info").status_code == 200


def test_rules_are_listed_removed_and_cleared(snow_client: httpx.Client) -> None:
    first = _add(snow_client, path="/_emulator/info", action="status", status=503)
    second = _add(snow_client, method="post", path="/api/now/table/incident*",
                  action="latency", seconds=2)
    listed = snow_client.get("/_emulator/faults").json()["faults"]
    assert [r["id"] for r in listed] == [first["id"], second["id"]]
    assert listed[1]["method"] == "POST" and listed[1]["seconds"] == 2.0
    assert listed[1]["times"] is None
    assert snow_client.delete(f"/_emulator/faults/{first['id']}").json() == {"removed": 1}
    missing = snow_client.delete(f"/_emulator/faults/{first['id']}")
    assert missing.status_code == 404 and missing.json()["status"] == "failure"
    assert snow_client.delete("/_emulator/faults").json() == {"removed": 1}
    assert snow_client.get("/_emulator/faults").json() == {"faults": []}


def test_reset_clears_the_rules(snow_client: httpx.Client) -> None:
    _add(snow_client, path="/_emulator/info", action="status", status=503)
    assert snow_client.post("/_emulator/reset").status_code == 200
    assert snow_client.get("/_emulator/faults").json() == {"faults": []}
    assert snow_client.get("/_emulator/info").status_code == 200


def test_rules_belong_to_their_instance(snow_client: httpx.Client) -> None:
    snow_client.post("/_emulator/instances", json={"name": "other"})
    _add(snow_client, path="/_emulator/info", action="status", status=503)
    assert snow_client.get("http://other.localhost/_emulator/info").status_code == 200
    assert snow_client.get("/_emulator/info").status_code == 503


@pytest.mark.parametrize("rule", [
    {},
    {"path": "/x"},
    {"path": "/x", "action": "explode"},
    {"path": "x", "action": "status", "status": 503},
    {"path": "/x", "action": "status"},
    {"path": "/x", "action": "status", "status": 200},
    {"path": "/x", "action": "status", "status": "503"},
    {"path": "/x", "action": "latency"},
    {"path": "/x", "action": "latency", "seconds": -1},
    {"path": "/x", "action": "latency", "seconds": 10_000},
    {"path": "/x", "action": "latency", "seconds": True},
    {"path": "/x", "action": "rate_limit", "retry_after": "soon"},
    {"path": "/x", "action": "status", "status": 503, "times": 0},
    {"path": "/x", "action": "status", "status": 503, "method": "BREW"},
    {"path": "/x", "action": "status", "status": 503, "colour": "red"},
    {"path": "/_emulator/faults", "action": "status", "status": 503},
    {"path": "/_emulator/reset", "action": "status", "status": 503},
])
def test_bad_rules_are_refused_with_an_envelope(snow_client: httpx.Client,
                                                rule: dict[str, object]) -> None:
    response = snow_client.post("/_emulator/faults", json=rule)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "failure"
    assert body["error"]["message"] == "Invalid fault rule"
    assert body["error"]["detail"]


def test_malformed_body_gets_the_envelope(snow_client: httpx.Client) -> None:
    response = snow_client.post("/_emulator/faults", content=b"{oops",
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["status"] == "failure"
    assert snow_client.delete("/_emulator/faults/not-a-number").status_code == 400


def test_a_glob_over_everything_still_leaves_faults_and_reset_reachable(
        snow_client: httpx.Client) -> None:
    _add(snow_client, path="/*", action="status", status=503)
    assert snow_client.get("/_emulator/info").status_code == 503
    assert snow_client.get("/_emulator/faults").status_code == 200
    assert snow_client.post("/_emulator/reset").status_code == 200
    assert snow_client.get("/_emulator/info").status_code == 200


def test_answers_follow_the_contract(snow_client: httpx.Client) -> None:
    """``contracts/control-plane-infra.openapi.yaml`` describes what the endpoints send."""
    from pathlib import Path

    import jsonschema
    import yaml

    contract = yaml.safe_load((Path(__file__).resolve().parents[2] / "contracts"
                               / "control-plane-infra.openapi.yaml").read_text())
    schemas = contract["components"]["schemas"]

    def check(value: object, schema: dict[str, object]) -> None:
        # these component schemas hold no $ref: validate against them directly
        jsonschema.Draft202012Validator(schema).validate(value)

    rule = _add(snow_client, method="get", path="/x*", action="rate_limit", retry_after=1)
    check(rule, schemas["FaultRule"])
    check(snow_client.get("/_emulator/faults").json()["faults"][0], schemas["FaultRule"])
    bad = snow_client.post("/_emulator/faults", json={"path": "/x", "action": "nope"})
    check(bad.json(), schemas["Error"])
    created = snow_client.post("/_emulator/instances", json={"name": "contract"}).json()
    created.pop("elapsed_ms")
    check(created, schemas["Instance"])
    for entry in snow_client.get("/_emulator/instances").json()["instances"]:
        check(entry, schemas["Instance"])
