"""SQL of the Attachment API: the content rows of ``sys_attachment_doc`` and the cascade that
removes a record's attachments.

An attachment's content is the gzip stream of the file, cut into pieces and stored as base64
text in ``sys_attachment_doc`` rows (``sys_attachment``, ``position``, ``length``, ``data``),
as the platform stores it (``domain/attachment/attachments.py``). These helpers never commit:
the domain function that calls them owns the transaction (house style §6).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlite_utils

#: Content rows fetched per query while streaming a download.
_BATCH = 8


def insert_chunks(db: sqlite_utils.Database, rows: Iterable[dict[str, object]]) -> None:
    """Insert ``sys_attachment_doc`` rows (complete rows, one prepared statement)."""
    names: list[str] | None = None
    batch: list[list[object]] = []
    for row in rows:
        if names is None:
            names = list(row)
        batch.append([row[n] for n in names])
    if not names:
        return
    columns = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    db.conn.executemany(f"INSERT INTO sys_attachment_doc ({columns}) VALUES ({marks})", batch)


def chunk_data(db: sqlite_utils.Database, attachment_sys_id: str) -> Iterator[str]:
    """The ``data`` of an attachment's content rows in ``position`` order, a few rows per
    query (a large file is never read whole)."""
    position = -1
    while True:
        found = db.execute(
            "SELECT position, data FROM sys_attachment_doc WHERE sys_attachment = ? "
            "AND position > ? ORDER BY position LIMIT ?",
            [attachment_sys_id, position, _BATCH]).fetchall()
        if not found:
            return
        for _, data in found:
            yield str(data or "")
        position = int(found[-1][0])


def delete_content(db: sqlite_utils.Database, attachment_sys_ids: Iterable[str]) -> None:
    """Delete the content rows of these attachments."""
    ids = list(attachment_sys_ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        db.execute(f"DELETE FROM sys_attachment_doc WHERE sys_attachment IN "
                   f"({', '.join('?' for _ in part)})", part)


def attachment_ids_of(db: sqlite_utils.Database, table_sys_id: str) -> list[str]:
    """The sys_ids of every attachment of the record ``table_sys_id`` (an indexed lookup)."""
    return [str(r[0]) for r in db.execute(
        "SELECT sys_id FROM sys_attachment WHERE table_sys_id = ?", [table_sys_id]).fetchall()]


def delete_attachments(db: sqlite_utils.Database, attachment_sys_ids: Iterable[str]) -> None:
    """Delete these ``sys_attachment`` rows and their content rows."""
    ids = list(attachment_sys_ids)
    delete_content(db, ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        db.execute(f"DELETE FROM sys_attachment WHERE sys_id IN "
                   f"({', '.join('?' for _ in part)})", part)
