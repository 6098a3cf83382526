"""The bench's baseline: a bare Flask app answering one record-sized JSON body.

It is served exactly like the emulator (``mock_servicenow.server.serve_gunicorn``: gunicorn,
gthread, the same worker and thread counts) and called in-process the same way, so the
emulator's figures can be read as ratios to "Flask + gunicorn doing nothing".

Run as a script to serve it: ``python baseline.py --port 0 --workers 2`` prints ``ready: URL``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flask import Flask

from mock_servicenow.dictionary import default_dictionary


def incident_record() -> dict[str, str]:
    """A record shaped like a Table API incident: every stored field, as strings."""
    dictionary = default_dictionary()
    record: dict[str, str] = {}
    for index, (name, fld) in enumerate(sorted(dictionary.fields("incident").items())):
        if not fld.is_stored:
            continue
        record[name] = f"value-{index:03d}-" + "x" * 12 if fld.type != "boolean" else "true"
    record["sys_id"] = "9d385017c611228701d22104cc95c371"
    record["number"] = "INC0010001"
    return record


def create_baseline_app() -> Flask:
    """One route, ``GET /api/now/table/incident/<sys_id>``, answering ``{"result": record}``."""
    app = Flask("baseline")
    record = incident_record()

    @app.get("/api/now/table/incident/<sys_id>")
    def get_incident(sys_id: str) -> dict[str, Any]:
        return {"result": {**record, "sys_id": sys_id}}

    return app


def main(argv: list[str]) -> int:
    """Serve the baseline with the emulator's gunicorn settings; prints ``ready: URL``."""
    from mock_servicenow.server import serve_gunicorn

    parser = argparse.ArgumentParser(prog="baseline")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    app = create_baseline_app()
    serve_gunicorn(lambda: app, "127.0.0.1", args.port, args.workers, None,
                   lambda url: print(f"ready: {url}", flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
