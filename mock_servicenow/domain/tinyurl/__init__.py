"""TinyURL's room: long URLs stored in ``sys_tiny_url`` and run again by ``sysparm_tiny``
(``tiny_urls.py``)."""
