"""The Attachment API: ``/api/now/attachment`` and ``/api/now/v1/attachment``.

Views parse the request, call one function of :mod:`mock_servicenow.domain.attachment.attachments`
and render. What is served, from the Attachment API reference
(https://www.servicenow.com/docs/r/api-reference/rest-apis/c_AttachmentAPI.html) and
servicenow-behaviour §9.2:

* ``POST /file?table_name=&table_sys_id=&file_name=[&encryption_context=]``: the raw body is
  the file, ``Content-Type`` its type (mandatory); 201, ``Location`` = the download link
  (captured), ``{"result": metadata}``; 400 for missing parameters; 404 for an unknown or
  unreadable record;
* ``POST /upload``: ``multipart/form-data`` with ``table_name`` and ``table_sys_id`` (Geneva's
  documentation names it ``record_sys_id``: both are read), the file in the final part with
  its own ``Content-Type``; 400 without a file part;
* ``GET``: metadata of many attachments (``sysparm_query`` on ``sys_attachment``,
  ``sysparm_limit`` default 1000, ``sysparm_offset``; ``X-Total-Count`` and ``Link`` as the
  Table API's, §1.3);
* ``GET /{sys_id}``: metadata; ``GET /{sys_id}/file``: the bytes with the file's content type
  and ``X-Attachment-Metadata`` (the metadata as JSON); ``DELETE /{sys_id}``: 204.

Bodies up to ``com.glide.attachment.max_size`` are read (the views are marked
``own_body_limit``: the app's 10 MiB REST limit, §1.1, is the Table API's).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request, stream_with_context

from mock_servicenow.domain.attachment import attachments
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.errors import AttachmentFileMissing, AttachmentTooLarge, MissingParameters
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.context import get_ctx, own_body_limit
from mock_servicenow.web.responses import PLATFORM_HEADERS, json_response
from mock_servicenow.web.table_api import link_header

bp = Blueprint("attachment_api", __name__)

#: Room for the multipart framing and form fields around a file of the maximum size.
_MULTIPART_OVERHEAD = 1024 * 1024
_DEFAULT_CONTENT_TYPE = "application/octet-stream"


def _context() -> Context:
    authenticate()
    return get_ctx()


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, "").strip())
    except ValueError:
        return default


def _created(metadata: dict[str, str]) -> Response:
    return json_response({"result": metadata}, 201, {"Location": metadata["download_link"]})


# -- upload ---------------------------------------------------------------------------------

@own_body_limit
def upload_file_view() -> Response:
    """``POST /now/attachment/file``: the raw body is the file (c_AttachmentAPI.md)."""
    ctx = _context()
    args = request.args
    content_type = (request.headers.get("Content-Type") or "").strip()
    missing = [name for name in ("table_name", "table_sys_id", "file_name")
               if not args.get(name, "").strip()]
    if not content_type:
        missing.append("Content-Type")
    if missing:
        raise MissingParameters(missing)
    attachments.require_size(ctx, request.content_length)
    # One byte of room: a body without Content-Length (chunked) that runs past the limit is
    # stopped by the domain's count, with the Attachment API's answer, not werkzeug's 413.
    request.max_content_length = attachments.max_size_bytes(ctx) + 1
    target = attachments.Target(table_name=args["table_name"].strip(),
                                table_sys_id=args["table_sys_id"].strip(),
                                file_name=args["file_name"], content_type=content_type)
    return _created(attachments.attach(ctx, target, request.stream))


@own_body_limit
def upload_multipart_view() -> Response:
    """``POST /now/attachment/upload``: ``multipart/form-data``, the file in the last part."""
    ctx = _context()
    limit = attachments.max_size_bytes(ctx)
    length = request.content_length
    if length is not None and length > limit + _MULTIPART_OVERHEAD:
        raise AttachmentTooLarge(attachments.max_size_mb(ctx))
    request.max_content_length = limit + _MULTIPART_OVERHEAD
    form = request.form if request.mimetype == "multipart/form-data" else {}
    parts = list(request.files.values()) if form is request.form else []
    if not parts:
        raise AttachmentFileMissing()
    part = parts[-1]
    table_name = str(form.get("table_name", "")).strip()
    table_sys_id = str(form.get("table_sys_id") or form.get("record_sys_id") or "").strip()
    file_name = part.filename or str(form.get("file_name", ""))
    missing = [name for name, value in (("table_name", table_name),
                                        ("table_sys_id", table_sys_id),
                                        ("file_name", file_name)) if not value]
    if missing:
        raise MissingParameters(missing)
    target = attachments.Target(table_name=table_name, table_sys_id=table_sys_id,
                                file_name=file_name,
                                content_type=part.content_type or _DEFAULT_CONTENT_TYPE)
    return _created(attachments.attach(ctx, target, part.stream))


# -- reads ----------------------------------------------------------------------------------

def list_view() -> Response:
    """``GET /now/attachment``: metadata of the matching attachments (c_AttachmentAPI.md)."""
    ctx = _context()
    query = records.ListQuery(query=request.args.get("sysparm_query", ""),
                              limit=_int_arg("sysparm_limit", attachments.DEFAULT_LIMIT),
                              offset=_int_arg("sysparm_offset", 0))
    page = attachments.list_metadata(ctx, query)
    headers: dict[str, str] = {}
    if page.total is not None:
        headers["X-Total-Count"] = str(page.total)
        link = link_header(f"{ctx.base_url}{request.path}",
                           request.query_string.decode("latin-1"),
                           limit=page.limit, offset=page.offset, total=page.total)
        if link is not None:
            headers["Link"] = link
    return json_response({"result": page.records}, 200, headers)


def get_view(sys_id: str) -> Response:
    """``GET /now/attachment/{sys_id}``: the metadata; 404 when missing or not readable."""
    return json_response({"result": attachments.get_metadata(_context(), sys_id)})


def file_view(sys_id: str) -> Response:
    """``GET /now/attachment/{sys_id}/file``: the file's bytes, streamed, with its content
    type and ``X-Attachment-Metadata`` (c_AttachmentAPI.md)."""
    metadata, content = attachments.open_content(_context(), sys_id)
    response = Response(stream_with_context(content),
                        content_type=metadata["content_type"] or _DEFAULT_CONTENT_TYPE)
    response.headers.extend(PLATFORM_HEADERS)
    response.headers["Content-Length"] = metadata["size_bytes"] or "0"
    # JSON with non-ASCII escaped: header values are Latin-1 (RFC 9110 §5.5).
    response.headers["X-Attachment-Metadata"] = json.dumps(metadata, separators=(",", ":"))
    return response


def delete_view(sys_id: str) -> Response:
    """``DELETE /now/attachment/{sys_id}``: 204 without a body."""
    attachments.delete(_context(), sys_id)
    return Response(status=204)


for _prefix, _suffix in (("/api/now/attachment", ""), ("/api/now/v1/attachment", "_v1")):
    bp.add_url_rule(_prefix, f"list{_suffix}", list_view, methods=["GET"])
    bp.add_url_rule(f"{_prefix}/file", f"upload_file{_suffix}", upload_file_view,
                    methods=["POST"])
    bp.add_url_rule(f"{_prefix}/upload", f"upload{_suffix}", upload_multipart_view,
                    methods=["POST"])
    bp.add_url_rule(f"{_prefix}/<sys_id>", f"get{_suffix}", get_view, methods=["GET"])
    bp.add_url_rule(f"{_prefix}/<sys_id>", f"delete{_suffix}", delete_view, methods=["DELETE"])
    bp.add_url_rule(f"{_prefix}/<sys_id>/file", f"file{_suffix}", file_view, methods=["GET"])
