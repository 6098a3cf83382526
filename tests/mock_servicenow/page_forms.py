"""Submitting the instance's HTML forms the way a browser does, for in-process page tests.

:func:`browser_form` reads a page's first ``<form method="post">`` (inputs, selects,
textareas; unchecked checkboxes left out, as a browser leaves them out) and
:func:`submit` posts it with some fields changed and one button pressed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from werkzeug.datastructures import MultiDict

#: ``(name, value)`` pairs in document order (a name may repeat: hidden + checkbox).
Pairs = list[tuple[str, str]]


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.done = False
        self.action = ""
        self.pairs: Pairs = []
        self.checkboxes: set[str] = set()
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done and not self.inside:
            if a.get("method", "get").lower() == "post" and (
                    self.form_id is None or a.get("id") == self.form_id):
                self.inside = True
                self.action = a.get("action", "")
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button"):
                return
            if kind == "checkbox":
                self.checkboxes.add(name)
                if "checked" in a:
                    self.pairs.append((name, a.get("value", "on")))
                return
            self.pairs.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._first_option
            self.pairs.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None


def browser_form(html: str, form_id: str | None = None) -> tuple[str, Pairs, set[str]]:
    """``(action, pairs, checkbox names)`` of the page's first post form (or ``form_id``)."""
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.done, "no post form on the page"
    return reader.action, reader.pairs, reader.checkboxes


def submit(client: Any, html: str, changes: dict[str, str | bool] | None = None, *,
           button: str = "sysverb_update", form_id: str | None = None) -> Any:
    """Post the page's form as a browser would after the person changed ``changes``
    (``True``/``False`` tick or untick a checkbox) and pressed ``button``."""
    action, pairs, checkboxes = browser_form(html, form_id)
    changes = dict(changes or {})
    posted: Pairs = []
    for name, value in pairs:
        if name in changes and name in checkboxes and value == "true":
            continue  # re-added below when still ticked
        if name in changes and name not in checkboxes:
            value = str(changes[name])
        posted.append((name, value))
    for name, value in changes.items():
        if name in checkboxes and value is True:
            posted.append((name, "true"))
    posted.append(("sys_action", button))
    return client.post(action, data=MultiDict(posted))


def ck(html: str) -> str:
    """The page's ``sysparm_ck``."""
    found = re.search(r'name="sysparm_ck" value="([0-9a-f]+)"', html)
    assert found, "no sysparm_ck on the page"
    return found.group(1)
