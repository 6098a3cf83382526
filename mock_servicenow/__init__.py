"""A faithful local ServiceNow instance: ``create_app(Settings(...))`` gives the Flask app."""

from mock_servicenow.settings import Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """Build the emulator's Flask app (see :func:`mock_servicenow.app.create_app`)."""
    from mock_servicenow.app import create_app as _create_app

    return _create_app(settings or Settings())
