"""The instance as a person sees it: navigator, list and form pages (issue 16).

Page models built from the data dictionary (``ctx.dictionary``) and the UI data files
(``mock_servicenow/ui/*.yaml``): nothing here is written per table. Lists and forms read and
write through :mod:`mock_servicenow.domain.table.records`, the functions behind the Table
API, so ACLs, business rules, data policies, numbering and error messages are the same.
Nothing of Flask: the web layer (``web/record_pages.py``) parses, calls one function here and
renders the result.
"""
