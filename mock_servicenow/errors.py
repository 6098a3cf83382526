"""The emulator's one error hierarchy: ServiceNow failures as data.

Domain code raises these; ``web/errors.py`` is the only place that turns them into the
ServiceNow envelope ``{"error": {"message": m, "detail": d}, "status": "failure"}``
(servicenow-behaviour §3). Nothing here imports Flask.

::

    ServiceNowError                      500
     ├─ InvalidRequest                   400
     │   ├─ InvalidTable                 400  "Invalid table <name>"
     │   │   └─ NotACmdbClass            400  "Invalid table <name>" (CMDB APIs)
     │   ├─ MalformedJSON                400
     │   ├─ RequestedURINotFound         400  "Requested URI does not represent any resource"
     │   ├─ RequestTooLarge              400  "Exception while reading request"
     │   ├─ IdentificationFailed         400  "<IRE error in words>" (CMDB Instance API)
     │   ├─ RequestExecutionFailed       400  "Exception while executing request: <reason>"
     │   ├─ AttachmentTooLarge           400  "Exception while reading request" (attachments)
     │   ├─ MissingParameters            400  "Failed to create the attachment" (attachments)
     │   ├─ AttachmentFileMissing        400  "Failed to create the attachment. File part..."
     │   └─ BadRequestError              400  sn_ws_err.BadRequestError (detail "")
     ├─ NotAuthenticated                 401  "User Not Authenticated"
     ├─ NotAuthorized                    403  "User Not Authorized"
     ├─ InsufficientRights               403  "Insufficient rights to query records"
     ├─ OperationFailed                  403  "Operation Failed"
     ├─ RecordNotFound                   404  "No Record found"
     ├─ NotFoundError                    404  sn_ws_err.NotFoundError (detail "")
     ├─ MethodNotAllowed                 405
     ├─ NotAcceptable                    406
     ├─ UnsupportedMediaType             415  "Invalid content-type. ..."
     └─ RateLimited                      429  "Rate limit exceeded" (+ headers)
"""

from __future__ import annotations

from collections.abc import Mapping


class ServiceNowError(Exception):
    """Base of every failure the emulator reports the ServiceNow way.

    Subclasses set ``status``, ``message`` and ``detail`` as class attributes; the constructor
    may override ``message`` and ``detail`` (moto's ``ServiceException`` style).
    """

    status: int = 500
    message: str = "Internal error"
    detail: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if detail is not None:
            self.detail = detail
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message if self.detail is None else f"{self.message}: {self.detail}")


class InvalidRequest(ServiceNowError):
    """400 for a request the platform cannot use (servicenow-behaviour §1.5, §3)."""

    status = 400
    message = "Invalid request"


class InvalidTable(InvalidRequest):
    """400 ``Invalid table <name>`` with ``detail: null`` (servicenow-behaviour §1.5)."""

    def __init__(self, table: str) -> None:
        super().__init__(message=f"Invalid table {table}")
        self.detail = None


class NotACmdbClass(InvalidTable):
    """400 ``Invalid table <name>`` from the CMDB APIs for a table outside the CMDB hierarchy.

    Inferred: the CMDB Instance API documents 400 for "a bad request" without its text, and a
    live POST to a class that does not exist was answered 400 (a third-party client's notes,
    docs/platform-apis.md); the message is the platform's for an unknown table (§1.5).
    """

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.detail = f"{table} is not a CMDB class (a table extending cmdb)"


class MalformedJSON(InvalidRequest):
    """400 for a body that is not JSON (servicenow-behaviour §1.1, §3)."""

    message = "Exception while reading request"
    detail = "The payload is not valid JSON."


class RequestedURINotFound(InvalidRequest):
    """400 ``Requested URI does not represent any resource`` (servicenow-behaviour §1.5)."""

    message = "Requested URI does not represent any resource"


class RequestTooLarge(InvalidRequest):
    """400 for bodies over 10 MiB, with the captured KB0747638 text (servicenow-behaviour §1.1)."""

    message = "Exception while reading request"

    def __init__(self, content_length: int, maximum: int) -> None:
        super().__init__(
            f"Rejected large REST payload with content-length = {content_length} bytes. "
            f"Max allowed: {maximum} bytes."
        )


class IdentificationFailed(InvalidRequest):
    """400 for a payload the CMDB identification and reconciliation engine (IRE) refuses.

    ``error`` and ``text`` are the engine's documented error name and message
    (https://www.servicenow.com/docs/r/australia/servicenow-platform/
    configuration-management-database-cmdb/id-engine-error-messages.html), e.g.
    ``INVALID_INPUT_DATA`` / ``In payload invalid data source [x] exist. ...``. The envelope
    (message: the name in words, detail: ``NAME: text``) is the one a third-party client's tests
    pin for the CMDB Instance API (docs/platform-apis.md); the API's page prints none.
    """

    def __init__(self, error: str, text: str) -> None:
        super().__init__(f"{error}: {text}", message=error.replace("_", " ").capitalize())
        self.error = error


class RequestExecutionFailed(InvalidRequest):
    """``Exception while executing request: <reason>``: an exception inside a REST API's code.

    Text as the CMDB Instance API page prints it (a dependent CI posted without its target);
    that page answers these with 500. The emulator never answers 500 for bad input (house
    rule), so the status is 400 and docs/platform-apis.md says so.
    """

    def __init__(self, reason: str) -> None:
        message = f"Exception while executing request: {reason}"
        super().__init__(f"{message} Check logs for error trace or enable glide.rest.debug "
                         "property to verify REST request processing", message=message)
class AttachmentTooLarge(InvalidRequest):
    """400 for a file over ``com.glide.attachment.max_size`` megabytes.

    Inferred (docs/platform-apis.md, "Attachment API"): the Attachment API "respects any system
    limitations on uploaded files, such as maximum file size" (c_AttachmentAPI.md) without
    publishing the answer; this is the REST layer's captured read failure (KB0747638,
    servicenow-behaviour §1.1) with the platform's own message for that property (its
    attachment widgets' ``Attached files must be smaller than {0} - please try again``).
    """

    message = "Exception while reading request"

    def __init__(self, maximum_mb: int) -> None:
        super().__init__(f"Attached files must be smaller than {maximum_mb}MB - please try again")


class MissingParameters(InvalidRequest):
    """400 when ``table_name``, ``table_sys_id`` or ``file_name`` is missing from an upload:
    "one or more mandatory parameters were missing from the request" (c_AttachmentAPI.md,
    POST /now/attachment/file status codes); the wording of the detail is inferred."""

    message = "Failed to create the attachment"

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"Missing mandatory parameter(s): {', '.join(names)}")


class AttachmentFileMissing(InvalidRequest):
    """400 for a multipart upload without a file part (c_AttachmentAPI.md, POST
    /now/attachment/upload: the file must be the final part of the message)."""

    message = "Failed to create the attachment. File part might be missing in the request."


class BadRequestError(InvalidRequest):
    """400 thrown by a scripted REST resource as ``sn_ws_err.BadRequestError(message)``: the
    message as thrown, ``detail`` empty (servicenow-behaviour §3: setMessage/setDetail default
    ``""``). The platform's own scripted APIs (the Service Catalog API, ``/api/sn_sc``) answer
    their documented 400s this way (KB0717979 shows the ``order_now`` resource's script)."""

    detail = ""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class NotAuthenticated(ServiceNowError):
    """401 ``User Not Authenticated`` / ``Required to provide Auth information`` (§1.5)."""

    status = 401
    message = "User Not Authenticated"
    detail = "Required to provide Auth information"


class NotAuthorized(ServiceNowError):
    """403 ``User Not Authorized`` (API-level ACL, elevated role; servicenow-behaviour §1.5)."""

    status = 403
    message = "User Not Authorized"


class InsufficientRights(ServiceNowError):
    """403 ``Insufficient rights to query records`` (servicenow-behaviour §1.2, §3)."""

    status = 403
    message = "Insufficient rights to query records"


class OperationFailed(ServiceNowError):
    """403 ``Operation Failed``: ACL write denials, business-rule aborts, data policies (§1.5)."""

    status = 403
    message = "Operation Failed"


class RecordNotFound(ServiceNowError):
    """404 ``No Record found`` for a missing or ACL-hidden record (servicenow-behaviour §1.5)."""

    status = 404
    message = "No Record found"
    detail = "Record doesn't exist or ACL restricts the record retrieval"


class NotFoundError(ServiceNowError):
    """404 thrown by a scripted REST resource as ``sn_ws_err.NotFoundError(message)``, detail
    ``""`` (servicenow-behaviour §3; KB0717979: ``order_now`` answers ``Invalid Request`` when
    the cart fails to place the order)."""

    status = 404
    message = "Not Found"
    detail = ""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class MethodNotAllowed(ServiceNowError):
    """405 for a method the resource does not support (servicenow-behaviour §1.5 code table)."""

    status = 405
    message = "Method not Supported"


class NotAcceptable(ServiceNowError):
    """406 for an ``Accept`` header the API cannot produce (servicenow-behaviour §1.5)."""

    status = 406
    message = "Requested response format is not supported"


class UnsupportedMediaType(ServiceNowError):
    """415 with the text seen from real instances (servicenow-behaviour §1.1)."""

    status = 415
    message = (
        "Invalid content-type. Supported request media types for this service are: "
        "[application/json, application/xml, text/xml]"
    )


class RateLimited(ServiceNowError):
    """429 ``Rate limit exceeded`` with ``Retry-After`` and ``X-RateLimit-*`` (§1.5)."""

    status = 429
    message = "Rate limit exceeded"
