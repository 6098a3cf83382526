"""The Change Management API's room (``/api/sn_chg_rest/change``, issue 14).

``api`` holds the use cases, ``fields`` how request fields are applied (``ChangeCommon
.setValues``), ``wire`` how records are answered (``ChangeCommon.toJS``). Records go through
the Table API's functions (``domain/table/records.py``).
"""
