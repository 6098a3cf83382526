"""The REST APIs beside the Table API (issue 14), one module each, registered by discovery.

Each module of this package defines ``bp``, a Flask blueprint: the Attachment API, TinyURL,
the Import Set API, the CMDB Instance API, the Service Catalog API and the Change Management
API. They are thin web layers over their domain rooms (``domain/<api>/``), which write records
through the same functions as the Table API (``domain/table/records.py``), so ACLs, business
rules and numbering hold the same way everywhere (ARCHITECTURE §5). Adding an API is adding a
module here: nothing else registers it.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """The ``bp`` of every module of this package, in module-name order."""
    found: list[Blueprint] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        blueprint = getattr(loaded, "bp", None)
        if isinstance(blueprint, Blueprint):
            found.append(blueprint)
    return found
