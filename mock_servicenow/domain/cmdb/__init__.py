"""The CMDB Instance API and the CMDB Meta API (issue 14): configuration items of a CMDB class
with their relations, identified on insert the way the platform's identification and
reconciliation engine does, and a class's metadata.

* :mod:`.classes`: which tables are CMDB classes, the API's role requirement, and the class
  metadata held as data (identification rules, icons; ``mock_servicenow/data/cmdb``);
* :mod:`.identification`: the request envelope (``attributes``, ``source``) and the engine's
  identification of a CI;
* :mod:`.relations`: ``cmdb_rel_ci`` rows typed by ``cmdb_rel_type``, read and written;
* :mod:`.instance`: the API's use cases; :mod:`.meta`: ``GET /api/now/cmdb/meta/{className}``.

Records are read and written through :mod:`mock_servicenow.domain.table.records`, so the
Table API's ACLs, business rules and dictionary hold here too.
"""
