"""Microsoft Secure Score improvement actions: Graph ``secureScoreControlProfile`` JSON.

Accepted input (m365-ticketing.md §2.1, §2.2): one profile object, a list of profiles, or a
Graph page ``{"value": [...], "@odata.nextLink": ...}``; several files are read in order as
the pages of one listing (the ``@odata.nextLink`` of one file continues in the next one).

Real exports differ from the documentation (§2.2, sample data S18), so parsing tolerates:
casing noise (``low``/``Low``, ``Defense In Depth``), ``Medium`` for ``Moderate``, ``Unknown``
and ``null``; HTML in ``remediation``/``remediationImpact``; numbers sent as strings
(``"5"``, ``"20.0"``); undocumented keys; nulls anywhere but ``id``; ``Device`` for ``Devices``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import InvalidInput

#: The five recommendation categories of the integration (m365-ticketing.md §3.3 item 7).
CATEGORIES: tuple[str, ...] = ("devices", "data", "apps", "identity", "infrastructure")

_CATEGORY_ALIASES = {
    "device": "devices", "devices": "devices", "data": "data", "app": "apps", "apps": "apps",
    "identity": "identity", "account": "identity",  # beta's older name (§2.2)
    "infrastructure": "infrastructure",
}

_LEVELS = {"low": "low", "moderate": "moderate", "medium": "moderate", "high": "high",
           "none": "none", "unknown": "unknown"}


def normalize_category(value: object) -> str | None:
    """``Device``/``Devices``/``APPS``/... to one of :data:`CATEGORIES`; ``None`` if unknown."""
    if not isinstance(value, str):
        return None
    return _CATEGORY_ALIASES.get(value.strip().lower())


def normalize_level(value: object) -> str:
    """``implementationCost``/``userImpact`` in any casing to low/moderate/high/none/unknown."""
    if not isinstance(value, str):
        return "unknown"
    return _LEVELS.get(value.strip().lower(), "unknown")


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4",
                         "table", "section"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: object) -> str:
    """Plain text from a Graph text field that may hold HTML (tags dropped, entities decoded).

    The result contains no ``<`` or ``>`` at all: what is left of broken markup is dropped
    too, so no HTML can reach a ticket.
    """
    if value is None:
        return ""
    text = str(value)
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    out = html.unescape("".join(parser.parts))
    out = out.replace("<", "").replace(">", "").replace("\r", "")
    lines = [re.sub(r"[ \t\f\v\u00a0]+", " ", line).strip() for line in out.split("\n")]
    collapsed = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", collapsed).strip()


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class ImprovementAction:
    """One Secure Score improvement action, normalized."""

    id: str
    title: str
    category: str | None
    tenant_id: str
    action_type: str = ""
    action_url: str = ""
    remediation: str = ""
    remediation_impact: str = ""
    service: str = ""
    tier: str = ""
    implementation_cost: str = "unknown"
    user_impact: str = "unknown"
    max_score: float | None = None
    rank: int | None = None
    threats: tuple[str, ...] = ()
    deprecated: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (``actions --json``)."""
        return {
            "id": self.id, "title": self.title, "category": self.category,
            "service": self.service, "tier": self.tier, "maxScore": self.max_score,
            "rank": self.rank, "implementationCost": self.implementation_cost,
            "userImpact": self.user_impact, "actionUrl": self.action_url,
            "deprecated": self.deprecated,
        }


def _lower_keys(profile: Mapping[str, Any]) -> dict[str, Any]:
    # Real exports mostly keep Graph's camelCase, but key casing is not something to fail on.
    return {str(key).lower(): value for key, value in profile.items()}


def parse_profile(profile: object) -> ImprovementAction:
    """Normalize one ``secureScoreControlProfile`` object; ``InvalidInput`` without an id."""
    if not isinstance(profile, Mapping):
        raise InvalidInput("a Secure Score control profile must be a JSON object")
    data = _lower_keys(profile)
    control_id = _text(data.get("id"))
    if not control_id:
        raise InvalidInput("a Secure Score control profile has no id")
    threats_raw = data.get("threats")
    threats = tuple(_text(t) for t in threats_raw if _text(t)) \
        if isinstance(threats_raw, list) else ()
    rank = _number(data.get("rank"))
    deprecated = data.get("deprecated")
    if isinstance(deprecated, str):
        deprecated = deprecated.strip().lower() == "true"
    known = {"id", "title", "controlcategory", "azuretenantid", "actiontype", "actionurl",
             "remediation", "remediationimpact", "service", "tier", "implementationcost",
             "userimpact", "maxscore", "rank", "threats", "deprecated"}
    return ImprovementAction(
        id=control_id,
        title=html_to_text(data.get("title")) or control_id,
        category=normalize_category(data.get("controlcategory")),
        tenant_id=_text(data.get("azuretenantid")),
        action_type=_text(data.get("actiontype")),
        action_url=_text(data.get("actionurl")),
        remediation=html_to_text(data.get("remediation")),
        remediation_impact=html_to_text(data.get("remediationimpact")),
        service=_text(data.get("service")),
        tier=" ".join(w.capitalize() if w.lower() != "in" else "in"
                      for w in _text(data.get("tier")).split()),
        implementation_cost=normalize_level(data.get("implementationcost")),
        user_impact=normalize_level(data.get("userimpact")),
        max_score=_number(data.get("maxscore")),
        rank=int(rank) if rank is not None else None,
        threats=threats,
        deprecated=bool(deprecated),
        extra={k: v for k, v in profile.items() if str(k).lower() not in known},
    )


@dataclass(frozen=True)
class ActionSet:
    """Actions read from one or more Graph exports."""

    actions: tuple[ImprovementAction, ...]
    #: True when the last page still had an ``@odata.nextLink`` (more pages not supplied).
    incomplete: bool = False

    def get(self, action_id: str) -> ImprovementAction:
        """The action with this id (case-insensitive); ``InvalidInput`` when absent."""
        wanted = action_id.strip().lower()
        for action in self.actions:
            if action.id.lower() == wanted:
                return action
        raise InvalidInput(f"no improvement action with id {action_id!r}")


def parse_document(document: object) -> tuple[list[ImprovementAction], bool]:
    """Actions of one JSON document, and whether it announces a next page."""
    if isinstance(document, list):
        return [parse_profile(item) for item in document], False
    if isinstance(document, Mapping):
        keys = {str(k).lower(): k for k in document}
        if "value" in keys and isinstance(document[keys["value"]], list):
            next_link = document.get(keys.get("@odata.nextlink", "@odata.nextLink"))
            return [parse_profile(item) for item in document[keys["value"]]], bool(next_link)
        return [parse_profile(document)], False
    raise InvalidInput("Secure Score input must be a profile, a list of profiles or a Graph page")


def parse_documents(documents: Iterable[object]) -> ActionSet:
    """Merge the pages of a listing; a later duplicate id replaces the earlier one."""
    by_id: dict[str, ImprovementAction] = {}
    more = False
    for document in documents:
        actions, more = parse_document(document)
        for action in actions:
            by_id.pop(action.id.lower(), None)
            by_id[action.id.lower()] = action
    return ActionSet(actions=tuple(by_id.values()), incomplete=more)


def load_actions(paths: Sequence[Path | str] = ()) -> ActionSet:
    """Actions from Graph export files, or the built-in sample set when no path is given."""
    documents: list[object] = []
    if not paths:
        sample = resources.files("connector").joinpath("samples/secure_score_controls.json")
        documents.append(json.loads(sample.read_text(encoding="utf-8")))
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            documents.append(json.loads(text))
        except ValueError as exc:
            raise InvalidInput(f"{path} is not valid JSON: {exc}") from exc
    return parse_documents(documents)
