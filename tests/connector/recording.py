"""A recording transport that validates every exchange against OpenAPI documents.

``RecordingTransport(inner, contracts)`` forwards each request to ``inner``, records the
``(request, response)`` pair and, when contracts are given, checks it with
:func:`validate_exchange`: the path and method must be documented, declared query parameters
must match their schemas (required ones present), a request body must match the documented
media type and schema (JSON, or form bodies as objects of strings), and the response status
must be documented (or ``default``) with a JSON body matching its schema. Problems are
collected in ``transport.problems`` (tests assert it is empty), so one run reports them all.

Used by the connector's unit tests on a tiny contract of their own, and meant for the
integration tests against ``contracts/*.openapi.yaml`` once those land (issue 8).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jsonschema
import yaml


def load_contract(path: Path | str) -> dict[str, Any]:
    """An OpenAPI document from YAML or JSON."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "paths" not in data:
        raise ValueError(f"{path} is not an OpenAPI document")
    return data


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/{}]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p)
                      for p in parts)
    return re.compile(f"^{pattern}$")


def _schema(document: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    # Local "$ref": "#/components/..." resolve against the root of the schema handed to
    # jsonschema, so carry the document's components along.
    return {**schema, "components": document.get("components", {})}


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node and str(node["$ref"]).startswith("#/"):
        target: Any = document
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part]
        node = target
    return node


def _errors(document: Mapping[str, Any], schema: Mapping[str, Any], value: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(_schema(document, schema))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(value)]


def _find_operation(document: Mapping[str, Any], request: httpx.Request
                    ) -> tuple[str, Mapping[str, Any], Mapping[str, Any]] | None:
    path = request.url.path
    candidates = []
    for template, item in document.get("paths", {}).items():
        if _template_regex(template).match(path):
            candidates.append((template.count("{"), template, item))
    for _, template, item in sorted(candidates, key=lambda c: c[0]):  # literal paths first
        operation = item.get(request.method.lower())
        if operation is not None:
            return template, item, operation
    return None


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _pick_content(content: Mapping[str, Any], media: str) -> Mapping[str, Any] | None:
    if media in content:
        return content[media]
    for key, value in content.items():
        if key.endswith("/*") and media.startswith(key[:-1]) or key == "*/*":
            return value
    return None


def validate_exchange(document: Mapping[str, Any], request: httpx.Request,
                      response: httpx.Response | None) -> list[str]:
    """Every way ``request`` (and ``response``) departs from ``document``; ``[]`` if none."""
    where = f"{request.method} {request.url.path}"
    found = _find_operation(document, request)
    if found is None:
        return [f"{where}: not documented"]
    _template, item, operation = found
    problems: list[str] = []
    params = [_resolve(document, p) for p in
              [*item.get("parameters", []), *operation.get("parameters", [])]]
    query = request.url.params
    for param in params:
        if param.get("in") != "query":
            continue
        name = param["name"]
        if name not in query:
            if param.get("required"):
                problems.append(f"{where}: missing required query parameter {name}")
            continue
        schema = param.get("schema")
        if schema is not None:
            value: Any = query[name]
            if schema.get("type") in ("integer", "number"):
                try:
                    value = int(value) if schema["type"] == "integer" else float(value)
                except ValueError:
                    problems.append(f"{where}: query {name}={value!r} is not a {schema['type']}")
                    continue
            elif schema.get("type") == "boolean":
                value = {"true": True, "false": False}.get(value, value)
            problems += [f"{where}: query {name}: {e}" for e in _errors(document, schema, value)]
    body_spec = _resolve(document, operation.get("requestBody"))
    if request.content:
        if not body_spec:
            problems.append(f"{where}: sends a body the contract does not declare")
        else:
            media = _media(request.headers.get("content-type", ""))
            content = _pick_content(body_spec.get("content", {}), media)
            if content is None:
                problems.append(f"{where}: request media type {media!r} not in the contract")
            elif "schema" in content:
                if media == "application/json":
                    try:
                        body: Any = json.loads(request.content)
                    except ValueError:
                        body = None
                        problems.append(f"{where}: request body is not JSON")
                else:
                    body = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
                problems += [f"{where}: request body {e}"
                             for e in _errors(document, content["schema"], body)]
    elif body_spec and body_spec.get("required"):
        problems.append(f"{where}: the contract requires a request body")
    if response is not None:
        responses = operation.get("responses", {})
        spec = _resolve(document, responses.get(str(response.status_code),
                                                responses.get("default")))
        if spec is None:
            problems.append(f"{where}: response status {response.status_code} not documented")
        else:
            content = spec.get("content") or {}
            media = _media(response.headers.get("content-type", ""))
            chosen = _pick_content(content, media) if content else None
            if content and response.content and chosen is None:
                problems.append(f"{where}: response media type {media!r} not documented")
            elif chosen and "schema" in chosen and media == "application/json":
                try:
                    payload = json.loads(response.content)
                except ValueError:
                    problems.append(f"{where}: response body is not JSON")
                else:
                    problems += [f"{where}: response {response.status_code} {e}"
                                 for e in _errors(document, chosen["schema"], payload)]
    return problems


@dataclass
class Exchange:
    """One recorded request and its response (``None`` when the transport raised)."""

    request: httpx.Request
    response: httpx.Response | None


class RecordingTransport(httpx.BaseTransport):
    """Forward to ``inner``; record and validate every exchange against ``contracts``."""

    def __init__(self, inner: httpx.BaseTransport,
                 contracts: Iterable[Mapping[str, Any]] = ()) -> None:
        self.inner = inner
        self.contracts = list(contracts)
        self.exchanges: list[Exchange] = []
        self.problems: list[str] = []

    def _validate(self, request: httpx.Request, response: httpx.Response | None) -> None:
        if not self.contracts:
            return
        results = [validate_exchange(c, request, response) for c in self.contracts]
        # A request is fine when one contract documents it without problems.
        if any(not r for r in results):
            return
        documented = [r for r in results if not any(p.endswith("not documented") for p in r)]
        self.problems += documented[0] if documented else results[0]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, record, validate."""
        request.read()
        try:
            response = self.inner.handle_request(request)
        except Exception:
            self.exchanges.append(Exchange(request, None))
            self._validate(request, None)
            raise
        response.read()
        self.exchanges.append(Exchange(request, response))
        self._validate(request, response)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()
