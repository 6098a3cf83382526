"""The ``x_mioms_m365ticket`` store app, "Microsoft 365 Ticketing Connector".

The ServiceNow half of the Microsoft 365 security center ticketing integration
(m365-ticketing.md §3). Modules:

* ``tables``: its tables and the fields it adds to ``task`` (dictionary data);
* ``install``: the installer (release gate, scope, role, checklist rows) and ``serve``'s banner;
* ``checklist``: the installation checklist steps, run in the app's scope;
* ``connection``: the provisioning handshake with the Microsoft side.

The web layer (scripted REST API and pages) lives in ``mock_servicenow/web/m365ticket_app.py``
because only ``web`` may import Flask helpers (tests/test_layering.py).
"""
