"""The Attachment API's room: files attached to records (``sys_attachment`` and its content in
``sys_attachment_doc``), access through the parent record (``attachments.py``)."""
