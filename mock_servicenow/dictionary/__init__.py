"""ServiceNow tables as data; :func:`default_dictionary` is the instance's out-of-box schema.

The tables come from JSON files (``dictionary/data/README.md``): the SDK's definitions,
our additions, and each scoped app's ``tables.json``. :mod:`loader` reads them,
:mod:`model` resolves inheritance.
"""

from __future__ import annotations

from functools import lru_cache

from mock_servicenow.dictionary.loader import load_tables
from mock_servicenow.dictionary.model import (
    FIELD_TYPES,
    Choice,
    Dictionary,
    DictionaryError,
    Field,
    Table,
    TableAcl,
    choices,
)

__all__ = [
    "FIELD_TYPES",
    "Choice",
    "Dictionary",
    "DictionaryError",
    "Field",
    "Table",
    "TableAcl",
    "choices",
    "default_dictionary",
]


@lru_cache(maxsize=1)
def default_dictionary() -> Dictionary:
    """The out-of-box schema of every emulated instance (read once per process)."""
    return Dictionary(load_tables())
