"""Import sets: staging rows, transform maps, and the Import Set API's use cases.

* :mod:`.transform`: one staging row through one transform map (field maps, coalescing,
  reference and choice values, empty values), the way the platform's transform engine does it.
* :mod:`.loading`: the Import Set API (``/api/now/import``): the import set a row joins, the
  staging row, the synchronous transform and its answer, ``insertMultiple`` (asynchronous by
  default) and reading a row's result back.

Sources: the Import Set API reference
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ImportSetAPI.md),
servicenow-behaviour §9.3, and the import set pages cited in each docstring.
"""
