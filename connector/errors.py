"""The connector's error hierarchy: callers never need httpx or authlib to handle failures.

::

    ConnectorError                      every failure the library reports
     ├─ InvalidInput                    bad arguments: required field missing, past due date,
     │                                  unknown action id, unreadable Graph JSON
     ├─ NotConnected                    no stored connection: run ``connect``
     ├─ NotProvisioned                  connected, but ``authorize`` (provisioning) not done
     ├─ UnsupportedInstance             release older than Kingston, or the app not installed
     ├─ InstanceUnavailable             the whole instance answers a page instead of the API:
     │                                  hibernating (a sleeping developer instance), upgrading
     ├─ AuthenticationError             the token endpoint refused a grant (wrong client
     │   │                              credentials, user, password, code, or state mismatch)
     │   └─ ReauthorizationRequired     the refresh token no longer works: connect again
     ├─ ServiceNowAPIError              the instance's error envelope (status, message, detail)
     │   ├─ BadRequest        (400)
     │   ├─ NotAuthenticated  (401)
     │   ├─ PermissionDenied  (403)
     │   ├─ NotFound          (404)
     │   └─ RateLimited       (429, ``retry_after``)
     └─ TransportError                  the instance could not be reached or the answer was lost

Every wrapper keeps the original exception as ``__cause__`` (``raise ... from exc``). No
message ever contains a client secret, password or token. :func:`describe` is the one line
both the CLI (after ``snow-connector:``) and the ui pages show for an error.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error the connector raises; ``str()`` is a one-line reason."""

    #: A hint telling the admin what to do about it (troubleshooting catalogue), or ``None``.
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class InvalidInput(ConnectorError):
    """An argument is missing or wrong (share fields, action id, Graph JSON, state names)."""


class NotConnected(ConnectorError):
    """No connection is stored under the connector home."""

    hint = "run `snow-connector connect` first"


class NotProvisioned(ConnectorError):
    """Connected, but the provisioning step (``authorize``) has not been done.

    The "installation complete but no cards and can't share" case of the Microsoft
    troubleshooting page (ms-docs-servicenow-tickets.fr.md, last section).
    """

    hint = "run `snow-connector authorize` to provision the connection, then retry"


class UnsupportedInstance(ConnectorError):
    """The instance cannot host the integration (release before Kingston, app missing)."""


class InstanceUnavailable(ConnectorError):
    """The instance answers every request with a page instead of the API: a hibernating
    developer instance (HTTP 200, ``Instance Hibernating page``, servicenow-behaviour §1.1),
    or one being upgraded or restarted (503)."""


class AuthenticationError(ConnectorError):
    """The instance's token endpoint refused the grant.

    ServiceNow answers every token failure with the same 401
    ``{"error_description":"access_denied","error":"server_error"}`` (servicenow-behaviour
    §4.1), so the reason cannot be more specific than the grant that was tried.
    """


class ReauthorizationRequired(AuthenticationError):
    """The stored refresh token was refused: the connection must be authorized again."""

    hint = ("reauthorization required: run `snow-connector connect` again, signed in as the "
            "integration user")


class ServiceNowAPIError(ConnectorError):
    """The instance answered with its error envelope (servicenow-behaviour §3)."""

    def __init__(self, status: int, message: str, detail: str | None = None, *,
                 hint: str | None = None) -> None:
        text = f"ServiceNow answered {status}: {message}"
        if detail:
            text += f" ({detail})"
        super().__init__(text, hint=hint)
        self.status = status
        self.message = message
        self.detail = detail


class BadRequest(ServiceNowAPIError):
    """400: invalid table, unknown resource, bad parameters."""


class NotAuthenticated(ServiceNowAPIError):
    """401 ``User Not Authenticated`` even after one token refresh."""


class PermissionDenied(ServiceNowAPIError):
    """403: ACL, business rule, data policy or cross-scope access policy denial."""


class NotFound(ServiceNowAPIError):
    """404 ``No Record found``."""


class RateLimited(ServiceNowAPIError):
    """429 ``Rate limit exceeded``, still limited after the bounded retries."""

    def __init__(self, status: int, message: str, detail: str | None = None, *,
                 retry_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(status, message, detail, hint=hint)
        self.retry_after = retry_after


class TransportError(ConnectorError):
    """The request could not be sent, or its answer was lost (timeouts, resets, DNS)."""


def describe(error: ConnectorError) -> str:
    """The error as one line, hint included: ``<reason> (hint: <hint>)``.

    The CLI prints it after ``snow-connector:``; the ui pages show it as is, so an error reads
    the same in a terminal and in a browser.
    """
    reason = " ".join(str(error).split())
    return f"{reason} (hint: {error.hint})" if error.hint else reason
