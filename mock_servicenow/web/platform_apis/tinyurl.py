"""TinyURL: ``POST /api/now/tinyurl`` with ``{"url": <long url>}`` answers ``{"result": <short
url>}`` (``domain/tinyurl/tiny_urls.py`` has the sources); ``sysparm_tiny=<id>`` on a Table
API GET runs the stored request (``web/table_api.py``)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mock_servicenow.domain.tinyurl import tiny_urls
from mock_servicenow.errors import InvalidRequest, UnsupportedMediaType
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.bodies import parse_json
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.responses import json_response

bp = Blueprint("tinyurl_api", __name__)

_JSON_TYPES = ("application/json", "text/json")


def _url() -> str:
    """The ``url`` of the JSON body: 415 for other media, 400 for bad JSON or no ``url``."""
    if request.mimetype and request.mimetype not in _JSON_TYPES:
        raise UnsupportedMediaType()
    payload = parse_json(request.get_data(cache=True) or b"null")
    url = payload.get("url") if isinstance(payload, dict) else None
    if not isinstance(url, str) or not url.strip():
        # Inferred: the platform publishes no answer for a body without a url.
        raise InvalidRequest("The request body has no url", message="Invalid request")
    return url.strip()


@bp.post("/api/now/tinyurl")
def create_view() -> Response:
    """``POST /api/now/tinyurl``: 200 ``{"result": <short url>}`` for any logged-in user."""
    authenticate()
    url = _url()
    return json_response({"result": tiny_urls.shorten(get_ctx(), url)})
