"""Files attached to records: upload, list, metadata, content, delete, and the cascade when a
record is deleted (the Attachment API, ``/api/now/attachment``).

Sources: the Attachment API reference
(https://www.servicenow.com/docs/r/api-reference/rest-apis/c_AttachmentAPI.html, markdown
``api-reference/rest-apis/c_AttachmentAPI.md``) and servicenow-behaviour §9.2:

* a ``sys_attachment`` row holds the metadata; the answer has the keys a real instance sends,
  in its order (a captured ``POST /api/now/attachment/file`` answer: ``size_bytes``,
  ``file_name``, ... ``state`` ``pending``, ``chunk_size_bytes`` ``700000``, ``hash`` = the
  SHA-256 of the content in hex) plus ``download_link``; ``state`` becomes ``available`` once
  stored;
* the content is the gzip stream of the file (``compressed`` ``true``, ``size_compressed`` =
  its length) in ``sys_attachment_doc`` rows, base64 text per ``chunk_size_bytes`` piece,
  ``position`` from 0, ``length`` = the text's length: what public scripts that copy or
  export attachments read and write ("Administering attachments": metadata in
  ``sys_attachment``, data in ``sys_attachment_doc`` chunks);
* access follows the record: "the user ... must have any roles required to read and write
  records on the target table" (Attachment API role requirements): who cannot read the record
  gets 404 for it and does not see its attachments; who cannot write it cannot attach or
  delete (403);
* ``com.glide.attachment.max_size`` (megabytes, default and fallback 1024: docs
  ``sc-max-allowed-attachment-size``) bounds a file; over it, :class:`AttachmentTooLarge`;
* deleting a record deletes its attachments: ``business_rules.remove_attachments``, run
  after every delete.

Inferred where the documentation is silent (docs/platform-apis.md says so): an empty file is
a valid attachment of 0 bytes; a ``hash`` query parameter (the Ansible ``servicenow.itsm``
collection sends the SHA-256 it computed) is not trusted: ``hash`` is always the platform's
own digest of what it received, so a client comparing digests sees a mismatch.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from mock_servicenow.dictionary.values import to_wire
from mock_servicenow.domain.platform.context import SYSTEM, Context
from mock_servicenow.domain.table import acl, business_rules, records
from mock_servicenow.errors import AttachmentTooLarge, RecordNotFound
from mock_servicenow.store import attachment_store, rows, table_queries
from mock_servicenow.store.db import write_transaction

TABLE = "sys_attachment"
#: ``com.glide.attachment.max_size``: megabytes; default and fallback 1024.
MAX_SIZE_PROPERTY = "com.glide.attachment.max_size"
DEFAULT_MAX_SIZE_MB = 1024
#: The captured ``chunk_size_bytes``: each content row holds this many bytes of gzip stream.
CHUNK_SIZE_BYTES = 700_000
#: ``sysparm_limit`` default of ``GET /now/attachment`` (c_AttachmentAPI.md).
DEFAULT_LIMIT = 1000
#: Keys of an attachment's metadata, in the order a real instance sends them (captured POST
#: answer, dev130168, 2022); ``download_link`` is computed, ``sys_tags`` always empty.
METADATA_KEYS = (
    "size_bytes", "file_name", "sys_mod_count", "average_image_color", "image_width",
    "sys_updated_on", "sys_tags", "table_name", "sys_id", "image_height", "sys_updated_by",
    "download_link", "content_type", "sys_created_on", "size_compressed", "compressed", "state",
    "table_sys_id", "chunk_size_bytes", "hash", "sys_created_by",
)
_READ_SIZE = 64 * 1024
_SPOOL_IN_MEMORY = 8 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """What an upload names: the record (``table_name``, ``table_sys_id``), the file's name
    and its content type."""

    table_name: str
    table_sys_id: str
    file_name: str
    content_type: str


@dataclass
class _Content:
    """A file read from the request: its gzip stream spooled, its sizes and digest."""

    gzip: IO[bytes]
    size: int
    size_compressed: int
    sha256: str


# -- limits ---------------------------------------------------------------------------------

def max_size_mb(ctx: Context) -> int:
    """``com.glide.attachment.max_size`` in megabytes (1024 when unset or not an integer)."""
    return table_queries.int_property(ctx.db, MAX_SIZE_PROPERTY, DEFAULT_MAX_SIZE_MB)


def max_size_bytes(ctx: Context) -> int:
    """The largest file the instance accepts, in bytes (1024 x 1024 x the property)."""
    return max_size_mb(ctx) * 1024 * 1024


def require_size(ctx: Context, length: int | None) -> None:
    """:class:`AttachmentTooLarge` when a declared body length is over the limit, before any
    of it is read."""
    if length is not None and length > max_size_bytes(ctx):
        raise AttachmentTooLarge(max_size_mb(ctx))


# -- access ---------------------------------------------------------------------------------

def _parent(ctx: Context, table: str, sys_id: str) -> dict[str, Any]:
    """The record an attachment belongs to: 404 when the table or the record is unknown, or
    the user cannot read it (c_AttachmentAPI.md, POST /now/attachment/file: 404)."""
    if not table or table not in ctx.dictionary or not sys_id:
        raise RecordNotFound()
    row = rows.get(ctx.db, ctx.dictionary, table, sys_id)
    if row is None:
        raise RecordNotFound()
    acl.require_read_row(ctx, table, row)
    return row


def _can_read_parent(ctx: Context, table: str, sys_id: str,
                     known: dict[tuple[str, str], bool]) -> bool:
    key = (table, sys_id)
    if key not in known:
        if table in ctx.dictionary and acl.can_read_table(ctx, table):
            # Every row of the table is readable: only its existence is left to check.
            known[key] = rows.get(ctx.db, ctx.dictionary, table, sys_id) is not None
        else:
            try:
                _parent(ctx, table, sys_id)
                known[key] = True
            except RecordNotFound:
                known[key] = False
    return known[key]


def _readable_attachment(ctx: Context, sys_id: str) -> dict[str, Any]:
    """The stored ``sys_attachment`` row: 404 when missing or its record is hidden (§9.2)."""
    row = rows.get(ctx.db, ctx.dictionary, TABLE, sys_id)
    if row is None:
        raise RecordNotFound()
    _parent(ctx, str(row.get("table_name") or ""), str(row.get("table_sys_id") or ""))
    return row


# -- metadata -------------------------------------------------------------------------------

def _metadata(ctx: Context, wire: Mapping[str, Any]) -> dict[str, str]:
    """The answer's metadata object from a record's raw wire values (METADATA_KEYS)."""
    sys_id = str(wire.get("sys_id") or "")
    computed = {"sys_tags": "", "download_link": download_link(ctx, sys_id)}
    return {key: computed[key] if key in computed else str(wire.get(key, "") or "")
            for key in METADATA_KEYS}


def _wire(ctx: Context, row: Mapping[str, Any]) -> dict[str, str]:
    fields = ctx.dictionary.fields(TABLE)
    return {name: to_wire(fields[name], value) for name, value in row.items() if name in fields}


def download_link(ctx: Context, sys_id: str) -> str:
    """``<instance>/api/now/attachment/<sys_id>/file`` (captured answers; also ``Location``)."""
    return f"{ctx.base_url}/api/now/attachment/{sys_id}/file"


def get_metadata(ctx: Context, sys_id: str) -> dict[str, str]:
    """``GET /now/attachment/{sys_id}``: 404 when missing or not readable (§9.2)."""
    return _metadata(ctx, _wire(ctx, _readable_attachment(ctx, sys_id)))


def list_metadata(ctx: Context, query: records.ListQuery) -> records.Page:
    """``GET /now/attachment``: ``sysparm_query`` on ``sys_attachment`` with limit and offset.

    Attachments of records the user cannot read are left out of the page after the limit, and
    the total still counts them, as Table API listings do (servicenow-behaviour §1.2, §10.10).
    """
    system = dataclasses.replace(ctx, user=SYSTEM)
    page = records.list_records(system, TABLE, query)
    known: dict[tuple[str, str], bool] = {}
    shown = [_metadata(ctx, record) for record in page.records
             if ctx.user.is_admin or _can_read_parent(
                 ctx, str(record.get("table_name") or ""), str(record.get("table_sys_id") or ""),
                 known)]
    return dataclasses.replace(page, records=shown)


# -- upload ---------------------------------------------------------------------------------

def _read(ctx: Context, stream: IO[bytes]) -> _Content:
    """Read the file from ``stream``: hash it, gzip it into a spool (memory, then disk), stop
    with :class:`AttachmentTooLarge` past the limit. Runs before the write lock is taken."""
    limit = max_size_bytes(ctx)
    digest = hashlib.sha256()
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream (RFC 1952)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    size = 0
    try:
        while True:
            piece = stream.read(_READ_SIZE)
            if not piece:
                break
            size += len(piece)
            if size > limit:
                raise AttachmentTooLarge(max_size_mb(ctx))
            digest.update(piece)
            spool.write(compressor.compress(piece))
        spool.write(compressor.flush())
    except BaseException:
        spool.close()
        raise
    compressed = spool.tell()
    spool.seek(0)
    return _Content(gzip=spool, size=size, size_compressed=compressed,
                    sha256=digest.hexdigest())


def _chunks(ctx: Context, attachment_sys_id: str, content: _Content) -> Iterator[dict[str, object]]:
    now, user = ctx.now_glide(), ctx.user.user_name
    position = 0
    # A gzip stream is never empty (20 bytes for an empty file): at least one row.
    while piece := content.gzip.read(CHUNK_SIZE_BYTES):
        data = base64.b64encode(piece).decode("ascii")
        yield {"sys_id": ctx.platform.ids.sys_id(), "sys_attachment": attachment_sys_id,
               "position": position, "length": len(data), "data": data,
               "sys_created_on": now, "sys_created_by": user, "sys_updated_on": now,
               "sys_updated_by": user, "sys_mod_count": 0}
        position += 1


def attach(ctx: Context, target: Target, stream: IO[bytes]) -> dict[str, str]:
    """Store a file as an attachment of ``target``'s record; answers its metadata (201 +
    ``Location``: c_AttachmentAPI.md, POST /now/attachment/file and /upload).

    404 when the record is unknown or unreadable, 403 ``Operation Failed`` when the user cannot
    write it, :class:`AttachmentTooLarge` past ``com.glide.attachment.max_size``. The
    attachment and its content are committed before this returns.
    """
    parent = _parent(ctx, target.table_name, target.table_sys_id)
    acl.require_write(ctx, target.table_name, "write", parent)
    content = _read(ctx, stream)
    try:
        with write_transaction(ctx.db):
            if rows.get(ctx.db, ctx.dictionary, target.table_name, target.table_sys_id) is None:
                raise RecordNotFound()  # deleted while the file was being read
            row: dict[str, Any] = {
                "sys_id": ctx.platform.ids.sys_id(),
                "file_name": target.file_name,
                "content_type": target.content_type,
                "table_name": target.table_name,
                "table_sys_id": target.table_sys_id,
                "size_bytes": content.size,
                "size_compressed": content.size_compressed,
                "compressed": 1,
                "hash": content.sha256,
                "state": "pending",
                "chunk_size_bytes": str(CHUNK_SIZE_BYTES),
            }
            business_rules.before_insert(ctx, TABLE, row)
            rows.insert(ctx.db, ctx.dictionary, TABLE, row)
            answer = _metadata(ctx, _wire(ctx, row))
            attachment_store.insert_chunks(ctx.db, _chunks(ctx, str(row["sys_id"]), content))
            # Stored: what the platform's asynchronous processing marks once the content is in.
            rows.update(ctx.db, ctx.dictionary, TABLE, str(row["sys_id"]), {"state": "available"})
    finally:
        content.gzip.close()
    return answer


# -- content --------------------------------------------------------------------------------

def open_content(ctx: Context, sys_id: str) -> tuple[dict[str, str], Iterator[bytes]]:
    """``GET /now/attachment/{sys_id}/file``: the metadata and the file's bytes, decompressed
    piece by piece as they are read (404 as :func:`get_metadata`)."""
    row = _readable_attachment(ctx, sys_id)
    metadata = _metadata(ctx, _wire(ctx, row))
    compressed = str(metadata["compressed"]) == "true"
    return metadata, _decoded(ctx, sys_id, compressed)


def _decoded(ctx: Context, sys_id: str, compressed: bool) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(47) if compressed else None  # 47: gzip or zlib header
    for data in attachment_store.chunk_data(ctx.db, sys_id):
        piece = base64.b64decode(data)
        if decompressor is None:
            yield piece
            continue
        out = decompressor.decompress(piece)
        if out:
            yield out
    if decompressor is not None:
        tail = decompressor.flush()
        if tail:
            yield tail


# -- delete ---------------------------------------------------------------------------------

def delete(ctx: Context, sys_id: str) -> None:
    """``DELETE /now/attachment/{sys_id}``: 204; 404 when missing or its record is unreadable,
    403 when the user cannot write the record (c_AttachmentAPI.md)."""
    with write_transaction(ctx.db):
        row = _readable_attachment(ctx, sys_id)
        table = str(row.get("table_name") or "")
        parent = rows.get(ctx.db, ctx.dictionary, table, str(row.get("table_sys_id") or ""))
        acl.require_write(ctx, table, "write", parent)
        attachment_store.delete_attachments(ctx.db, [sys_id])

