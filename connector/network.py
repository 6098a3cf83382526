"""Network failures in words: what happened, not an exception class name (issue 15).

``describe(exc)`` turns an httpx transport error into the one line the CLI prints, e.g.
``connection refused at 127.0.0.1:9999``, ``the server at https://127.0.0.1:8080 speaks http,
not https``, ``no answer from http://127.0.0.1:8080 within 30 s``. It never includes the
request's query string or headers (they can carry tokens).
"""

from __future__ import annotations

import socket
import ssl

import httpx

from .errors import InstanceUnavailable

#: The title of a sleeping developer instance's page (servicenow-behaviour §1.1).
HIBERNATING_MARK = "Instance Hibernating page"
DEVELOPER_SITE = "https://developer.servicenow.com"


def _origin(exc: httpx.TransportError) -> tuple[str, str, int | None, float | None]:
    """``(origin, host, port, read timeout)`` of the failed request, as far as known."""
    try:
        request = exc.request
    except RuntimeError:  # httpx raises when no request is attached
        return "the instance", "the instance", None, None
    url = request.url
    origin = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
    timeouts = request.extensions.get("timeout") or {}
    read = timeouts.get("read") if isinstance(timeouts, dict) else None
    return origin, url.host, url.port, float(read) if read is not None else None


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe(exc: httpx.TransportError) -> str:
    """One line saying what went wrong on the network (no secrets)."""
    origin, host, port, timeout = _origin(exc)
    causes = _causes(exc)
    text = " ".join(str(c) for c in causes).lower()
    within = f" within {timeout:g} s" if timeout is not None else ""
    where = f"{host}:{port}" if port is not None else host
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect to {origin}{within}"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {origin}{within}"
    if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes) or \
            "certificate verify failed" in text:
        return (f"the certificate of {origin} is not trusted (give its CA bundle with "
                "--ca-bundle)")
    if "wrong version number" in text or "record layer failure" in text or \
            "http request" in text and "ssl" in text:
        return f"the server at {origin} speaks http, not https"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or \
            "connection refused" in text:
        return f"connection refused at {where}"
    if any(isinstance(c, socket.gaierror) for c in causes) or \
            "name or service not known" in text or "name resolution" in text:
        return f"cannot find the host {host} (check the instance URL)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return (f"the server at {origin} closed the connection without answering (if it "
                "serves https, use an https:// URL)")
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"the connection to {origin} broke before the answer came"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {origin}"
    return f"the request to {origin} failed ({type(exc).__name__})"


def instance_page(response: httpx.Response) -> InstanceUnavailable | None:
    """The error for an answer that is the whole instance's page rather than the API's:
    hibernating (200 + ``Instance Hibernating page``), or unavailable (503 + HTML, an upgrade
    or a restart); ``None`` for anything else."""
    if "html" not in response.headers.get("content-type", "").lower():
        return None
    text = response.text[:20_000]
    if HIBERNATING_MARK in text:
        return InstanceUnavailable(
            "the instance is hibernating",
            hint=f"wake it up: sign in at {DEVELOPER_SITE} and start the instance, then retry")
    if response.status_code == 503:
        return InstanceUnavailable(
            "the instance is unavailable (HTTP 503): it is being upgraded or restarted",
            hint="retry in a few minutes")
    return None
