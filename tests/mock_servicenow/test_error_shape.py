"""Every error response of the emulated API has the one ServiceNow envelope (§3).

``{"error": {"message": str, "detail": str | null}, "status": "failure"}``, the status only
in the status line, ``Content-Type: application/json;charset=UTF-8``.
"""

from __future__ import annotations

import httpx
import pytest


def assert_envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == {"error", "status"}
    assert body["status"] == "failure"
    assert set(body["error"]) == {"message", "detail"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["detail"] is None or isinstance(body["error"]["detail"], str)
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        ("GET", "/api/now/no_such_api", {}, 400, "Requested URI does not represent any resource"),
        ("GET", "/api/x_unknown/v1/thing", {}, 400,
         "Requested URI does not represent any resource"),
        ("POST", "/_emulator/clock", {"content": b"{not json",
                                      "headers": {"Content-Type": "application/json"}},
         400, "Exception while reading request"),
        ("POST", "/_emulator/clock", {"content": b"[1, 2]",
                                      "headers": {"Content-Type": "application/json"}},
         400, "Invalid request body"),
        ("POST", "/_emulator/clock", {"json": {"action": "sideways"}}, 400,
         "Invalid clock action"),
        ("GET", "/_emulator/journal?limit=abc", {}, 400, "Invalid request"),
        ("DELETE", "/_emulator/info", {}, 405, "Method not Supported"),
    ],
)
def test_errors_use_the_servicenow_envelope(snow_client: httpx.Client, method: str, path: str,
                                            kwargs: dict[str, object], status: int,
                                            message: str) -> None:
    error = assert_envelope(snow_client.request(method, path, **kwargs), status)  # type: ignore[arg-type]
    assert error["message"] == message


def test_huge_body_is_refused_with_the_captured_text(snow_client: httpx.Client) -> None:
    """servicenow-behaviour §1.1 (KB0747638): 10 MiB cap, exact message and detail."""
    size = 10 * 1024 * 1024 + 1
    response = snow_client.post("/_emulator/clock", content=b"x" * size,
                                headers={"Content-Type": "application/json"})
    error = assert_envelope(response, 400)
    assert error == {
        "message": "Exception while reading request",
        "detail": f"Rejected large REST payload with content-length = {size} bytes. "
                  "Max allowed: 10485760 bytes.",
    }
