"""The CMDB Instance API (``/api/now[/v1]/cmdb/instance/{className}``) and the CMDB Meta API
(``/api/now[/v1]/cmdb/meta/{className}``).

Views parse, call one function of :mod:`mock_servicenow.domain.cmdb` and render. Sources:
the CMDB Instance API page (https://github.com/ServiceNow/ServiceNowDocs/blob/australia/
markdown/api-reference/rest-apis/cmdb-instance-api.md) and the CMDB Meta API page
(cmdb-meta-api.md), for paths, parameters, shapes and the ``{"result": ...}`` envelope.

Statuses the pages leave open, from the servicenow.itsm collection, whose HTTP client accepts
only 201 for a POST and 204 for a DELETE and whose configuration_item_relations integration
test adds and deletes relations through this API on a real instance
(https://github.com/ansible-collections/servicenow.itsm, plugins/module_utils/client.py,
tests/integration/targets/configuration_item_relations): POST answers 201, DELETE of a
relation 204 without a body ("SNow does not returned any response following a succesfull
DELETE op", plugins/module_utils/cmdb_relation.py). The same collection's generic client notes
that listings of this API carry no ``X-Total-Count`` (plugins/module_utils/snow.py): none is
sent, nor a ``Link``.

Bodies are JSON (``application/json``; the pages also list XML, which the emulator answers
415 as its Table API does, servicenow-behaviour §1.1); a body that is not a JSON object, or
whose escapes spell a lone UTF-16 surrogate (no character any column could store), is 400
``Exception while reading request`` (§3).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from mock_servicenow.domain.cmdb import instance, meta
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.web import bodies
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.responses import json_response

bp = Blueprint("cmdb_api", __name__)


def _context(version: str | None) -> Context:
    authenticate()
    ctx = get_ctx()
    ctx.api_version = version
    return ctx


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, "").strip())
    except ValueError:
        return default


def list_view(class_name: str, version: str | None = None) -> Response:
    """``GET /cmdb/instance/{className}``: ``[{"sys_id", "name"}]``."""
    ctx = _context(version)
    found = instance.list_cis(ctx, class_name, query=request.args.get("sysparm_query", ""),
                              limit=_int_arg("sysparm_limit", instance.DEFAULT_LIMIT),
                              offset=_int_arg("sysparm_offset", 0))
    return json_response({"result": found})


def create_view(class_name: str, version: str | None = None) -> Response:
    """``POST /cmdb/instance/{className}``: 201 with the CI."""
    ctx = _context(version)
    body = bodies.json_object(text_only=True)
    return json_response({"result": instance.create_ci(ctx, class_name, body)}, 201)


def get_view(class_name: str, sys_id: str, version: str | None = None) -> Response:
    """``GET /cmdb/instance/{className}/{sys_id}``: attributes and relations."""
    ctx = _context(version)
    return json_response({"result": instance.get_ci(ctx, class_name, sys_id)})


def update_view(class_name: str, sys_id: str, version: str | None = None) -> Response:
    """``PUT``/``PATCH /cmdb/instance/{className}/{sys_id}``: 200 with the CI."""
    ctx = _context(version)
    body = bodies.json_object(text_only=True)
    return json_response({"result": instance.update_ci(ctx, class_name, sys_id, body)})


def add_relation_view(class_name: str, sys_id: str, version: str | None = None) -> Response:
    """``POST /cmdb/instance/{className}/{sys_id}/relation``: 201 with the CI."""
    ctx = _context(version)
    body = bodies.json_object(text_only=True)
    return json_response({"result": instance.add_relations(ctx, class_name, sys_id, body)}, 201)


def delete_relation_view(class_name: str, sys_id: str, rel_sys_id: str,
                         version: str | None = None) -> Response:
    """``DELETE /cmdb/instance/{className}/{sys_id}/relation/{rel_sys_id}``: 204."""
    ctx = _context(version)
    instance.delete_relation(ctx, class_name, sys_id, rel_sys_id)
    return Response(status=204)


def meta_view(class_name: str, version: str | None = None) -> Response:
    """``GET /cmdb/meta/{className}``."""
    ctx = _context(version)
    return json_response({"result": meta.class_meta(ctx, class_name)})


for _prefix, _suffix in (("/api/now", ""), ("/api/now/<any(v1):version>", "_versioned")):
    _instance = f"{_prefix}/cmdb/instance/<class_name>"
    bp.add_url_rule(_instance, f"list{_suffix}", list_view, methods=["GET"])
    bp.add_url_rule(_instance, f"create{_suffix}", create_view, methods=["POST"])
    bp.add_url_rule(f"{_instance}/<sys_id>", f"get{_suffix}", get_view, methods=["GET"])
    bp.add_url_rule(f"{_instance}/<sys_id>", f"update{_suffix}", update_view,
                    methods=["PUT", "PATCH"])
    bp.add_url_rule(f"{_instance}/<sys_id>/relation", f"add_relation{_suffix}",
                    add_relation_view, methods=["POST"])
    bp.add_url_rule(f"{_instance}/<sys_id>/relation/<rel_sys_id>",
                    f"delete_relation{_suffix}", delete_relation_view, methods=["DELETE"])
    bp.add_url_rule(f"{_prefix}/cmdb/meta/<class_name>", f"meta{_suffix}", meta_view,
                    methods=["GET"])
