"""Tiny URLs: ``POST /api/now/tinyurl`` stores a long URL's query; ``sysparm_tiny=<id>`` runs it.

Sources (the platform publishes no REST reference for this endpoint; docs/platform-apis.md,
"TinyURL", lists what each fact rests on):

* "Enable tiny URL support" (https://www.servicenow.com/docs/r/platform-user-interface/
  t_EnableTinyURLSupport.html): the Tiny URL Support plugin is active by default;
  ``glide.use_tiny_urls`` turns it on and off, ``glide.tiny_url_min_length`` (default 1024)
  is the shortest URL turned into a tiny one;
* the platform's own client code posts ``{"url": <long url>}`` to ``/api/now/tinyurl`` and
  opens ``response.result`` (``GlideNavigation.open`` above 2,000 characters, report drill-down
  above 2,000, the Service Portal list above ``glide.tiny_url_min_length``), and reads the id
  back from the result's ``sysparm_tiny`` parameter; any user who can log in may call it;
* ``sys_tiny_url`` rows hold ``tiny_url`` (a GUID), ``data`` (the query string, what follows
  ``?``) and ``data_hash``; an identical query reuses its row; ``<page>?sysparm_tiny=<id>``
  stands for ``<page>?<data>`` (public scripts that create and resolve tiny URLs);
* ``GlideTinyURL.createTinyURL(url)`` passes a URL shorter than ``glide.tiny_url_min_length``
  through unchanged.
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit, urlunsplit

from mock_servicenow.domain.identity.api_access import API_KEY_PARAMETER
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import business_rules
from mock_servicenow.store import rows, table_queries
from mock_servicenow.store.db import write_transaction

TABLE = "sys_tiny_url"
PARAMETER = "sysparm_tiny"
USE_PROPERTY = "glide.use_tiny_urls"
MIN_LENGTH_PROPERTY = "glide.tiny_url_min_length"
DEFAULT_MIN_LENGTH = 1024
#: Query parameters that carry credentials (servicenow-behaviour §4.1; issue 18): never
#: stored, so a table row cannot hand a token or a key to whoever reads it.
CREDENTIALS = frozenset({"access_token", API_KEY_PARAMETER})


def data_hash(text: str) -> str:
    """The 32-bit string hash public scripts store in ``data_hash`` (Java's
    ``String.hashCode``), as a decimal string."""
    value = 0
    for char in text:
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    return str(value - (1 << 32) if value & 0x80000000 else value)


def _enabled(ctx: Context) -> bool:
    value = table_queries.property_value(ctx.db, USE_PROPERTY)
    return (value or "true").strip().lower() != "false"


def _min_length(ctx: Context) -> int:
    return table_queries.int_property(ctx.db, MIN_LENGTH_PROPERTY, DEFAULT_MIN_LENGTH)


def shorten(ctx: Context, url: str) -> str:
    """The short form of ``url``: the same URL with its query replaced by
    ``sysparm_tiny=<id>``; ``url`` itself when tiny URLs are off, when it is shorter than
    ``glide.tiny_url_min_length`` or has no query to store. Credentials in the query
    (``access_token``, ``x-sn-apikey``) are dropped, never stored."""
    parts = urlsplit(url)
    if not parts.query or not _enabled(ctx) or len(url) < _min_length(ctx):
        return url
    query = "&".join(p for p in parts.query.split("&")
                     if p and unquote_plus(p.split("=", 1)[0]) not in CREDENTIALS)
    tiny_id = _store(ctx, query)
    return urlunsplit(parts._replace(query=f"{PARAMETER}={tiny_id}"))


def _store(ctx: Context, query: str) -> str:
    """The ``tiny_url`` of the row holding ``query``, inserted when there is none."""
    digest = data_hash(query)
    with write_transaction(ctx.db):
        for row in rows.find_by(ctx.db, ctx.dictionary, TABLE, data_hash=digest):
            if row.get("data") == query:
                return str(row["tiny_url"])
        tiny_id = ctx.platform.ids.sys_id()
        row = {"sys_id": ctx.platform.ids.sys_id(), "tiny_url": tiny_id, "data": query,
               "data_hash": digest}
        business_rules.before_insert(ctx, TABLE, row)
        rows.insert(ctx.db, ctx.dictionary, TABLE, row)
    return tiny_id


def resolve(ctx: Context, tiny_id: str) -> str | None:
    """The query string stored under ``tiny_id``, or ``None`` for an unknown id."""
    found = rows.find_by(ctx.db, ctx.dictionary, TABLE, tiny_url=tiny_id.strip())
    return str(found[0].get("data") or "") if found else None
