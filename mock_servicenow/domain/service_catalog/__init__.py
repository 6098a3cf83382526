"""The Service Catalog API's semantics (``/api/sn_sc/servicecatalog``, issue 14).

What the platform's ``sn_sc`` scripted REST API does, as its reference page documents it
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ServiceCatalogAPI.md),
with the ``CartJS`` server API it runs on
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/server-api-reference/c_CartJSScoped.md):

* :mod:`.catalog`: browsing catalogs, categories and items, an item with its variables;
* :mod:`.cart`: the user's cart, ``order_now``, ``add_to_cart``, checkout and submit;
* :mod:`.pricing`: prices, recurring frequencies and their wire text (``$1,499.00``).

The API reads and writes catalog records the way the platform's Java cart does, as
GlideRecord without ACLs but in the caller's name (:func:`.access.as_platform`): who may see an
item is the API's own check (active item and catalog), not the table ACLs. Every record goes
through ``domain/table/records.py``, so numbering (``REQ``, ``RITM``), defaults and business
rules are the Table API's.
"""
