"""ServiceNow tables described as data; :func:`default_dictionary` is the instance's schema.

Applications contribute tables and fields through their own ``tables`` module (see
``mock_servicenow/apps``); add them to :data:`CONTRIBUTIONS` below.
"""

from __future__ import annotations

from functools import lru_cache

from mock_servicenow.apps.x_mioms_m365ticket import tables as m365ticket_tables
from mock_servicenow.dictionary.auth_profiles import AUTH_PROFILE_TABLES
from mock_servicenow.dictionary.model import (
    FIELD_TYPES,
    Choice,
    Dictionary,
    DictionaryError,
    Field,
    FieldExtension,
    Table,
    choices,
)
from mock_servicenow.dictionary.oauth import OAUTH_TABLES
from mock_servicenow.dictionary.platform import PLATFORM_TABLES
from mock_servicenow.dictionary.scoping import SCOPING_TABLES
from mock_servicenow.dictionary.sso import SSO_TABLES
from mock_servicenow.dictionary.task import TASK_TABLES

__all__ = [
    "FIELD_TYPES",
    "Choice",
    "Dictionary",
    "DictionaryError",
    "Field",
    "FieldExtension",
    "Table",
    "choices",
    "default_dictionary",
]

TABLES: tuple[Table, ...] = (PLATFORM_TABLES + SCOPING_TABLES + TASK_TABLES + OAUTH_TABLES
                             + SSO_TABLES + AUTH_PROFILE_TABLES + m365ticket_tables.TABLES)
EXTENSIONS: tuple[FieldExtension, ...] = m365ticket_tables.EXTENSIONS


@lru_cache(maxsize=1)
def default_dictionary() -> Dictionary:
    """The schema of every emulated instance (built once per process)."""
    return Dictionary(TABLES, EXTENSIONS)
