"""The troubleshooting catalogue as data: scenarios that put an instance into a failure state.

A scenario is a YAML file (``mock_servicenow/scenarios/*.yaml``, plus any ``*.yaml`` in the
folders named by ``Settings.scenario_dirs``: adding a scenario is adding a file). It says which
troubleshooting section it reproduces, how to set the instance up (``setup``: a list of
actions), the symptom a person sees, the fix as the steps a person takes (``fix.steps``), the
same fix as actions a test or ``scenario fix`` can apply (``fix.apply``), and the outcome.

Actions are data too. Built in:

* ``update: {table, where: {field: value}, set: {field: value}}``: change matching records;
* ``insert: {table, values: {...}, sys_id?}``: create a record (defaults filled as on insert);
* ``delete: {table, where: {...}}``: delete matching records;
* ``property: {name, value}``: set (or create) a ``sys_properties`` row;
* ``clock: {advance: seconds}`` / ``clock: {freeze: "YYYY-MM-DD HH:MM:SS"}``;
* ``release: {family: NAME}``: the instance reports release ``NAME`` in ``glide.war``
  (``family: running`` restores the release it was started with); release gates that read
  ``glide.war`` follow (servicenow-behaviour §8);
* ``rate_limit_usage: {rule, user, requests}``: the user already made ``requests`` requests
  under the rate limit rule named ``rule`` this hour;
* ``fault: {...}``: a fault rule, as ``POST /_emulator/faults`` takes it (docs/faults.md);
  ``fault: {clear: true}`` removes every fault rule;

and applications register their own (``Action`` callables keyed by name). Values are wire
values (strings as the Table API takes them); ``where`` matches by equality on wire values.
Applying a scenario needs no restart: it is one transaction on the running instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mock_servicenow.dictionary.values import InvalidValue, to_storage
from mock_servicenow.domain.identity.passwords import hash_password, stored_hashed
from mock_servicenow.domain.platform import faults, rate_limits
from mock_servicenow.domain.platform.clock import ControllableClock, parse_glide
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.errors import InvalidRequest, RecordNotFound
from mock_servicenow.releases import UnknownRelease, parse_release
from mock_servicenow.store import rows

#: The package's own catalogue.
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "scenarios"

#: An action: receives the context, its arguments and the clock (to change time).
Action = Callable[[Context, Mapping[str, Any], ControllableClock], None]


class ScenarioError(InvalidRequest):
    """A scenario file or action that cannot be used (400 on the control plane)."""

    message = "Invalid scenario"


class UnknownScenario(RecordNotFound):
    """No scenario has this name (404 on the control plane, one line in the CLI)."""

    message = "No such scenario"

    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown scenario {name!r}; known: {', '.join(sorted(known))}")


@dataclass(frozen=True)
class Scenario:
    """One catalogue entry, as loaded from its file."""

    name: str
    title: str
    troubleshooting: str
    setup: tuple[Mapping[str, Any], ...]
    symptom: Mapping[str, Any]
    fix_steps: tuple[str, ...]
    fix_actions: tuple[Mapping[str, Any], ...]
    outcome: str
    source: str
    reference: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What ``scenario show`` and ``GET /_emulator/scenarios`` tell a person."""
        return {
            "name": self.name,
            "title": self.title,
            "troubleshooting": self.troubleshooting,
            "reference": self.reference,
            "setup": [dict(a) for a in self.setup],
            "symptom": dict(self.symptom),
            "fix": {"steps": list(self.fix_steps), "apply": [dict(a) for a in self.fix_actions]},
            "outcome": self.outcome,
            "source": self.source,
        }


def _require(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ScenarioError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def load_file(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path.name}: cannot read ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: a scenario file is a mapping")
    where = path.name
    name = _require(data, "name", str, where)
    if name != path.stem:
        raise ScenarioError(f"{where}: name {name!r} must match the file name")
    setup = data.get("setup") or []
    fix = data.get("fix") or {}
    if not isinstance(setup, list) or not isinstance(fix, dict):
        raise ScenarioError(f"{where}: 'setup' is a list and 'fix' a mapping")
    for action in [*setup, *(fix.get("apply") or [])]:
        if not isinstance(action, dict) or len(action) != 1:
            raise ScenarioError(f"{where}: each action is a one-key mapping, like "
                                "{update: {...}}")
    return Scenario(
        name=name,
        title=_require(data, "title", str, where),
        troubleshooting=_require(data, "troubleshooting", str, where),
        reference=str(data.get("reference", "")),
        setup=tuple(setup),
        symptom=_require(data, "symptom", dict, where),
        fix_steps=tuple(str(s) for s in fix.get("steps") or ()),
        fix_actions=tuple(fix.get("apply") or ()),
        outcome=_require(data, "outcome", str, where),
        source=str(path),
    )


def catalogue(extra_dirs: Iterable[Path] = ()) -> dict[str, Scenario]:
    """Every scenario by name: the built-in ones, then user folders (later files win)."""
    found: dict[str, Scenario] = {}
    for directory in (BUILTIN_DIR, *extra_dirs):
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                scenario = load_file(path)
                found[scenario.name] = scenario
    return found


def find(name: str, extra_dirs: Iterable[Path] = ()) -> Scenario:
    """The scenario called ``name`` or :class:`UnknownScenario`."""
    scenarios = catalogue(extra_dirs)
    if name not in scenarios:
        raise UnknownScenario(name, scenarios)
    return scenarios[name]


def _storage(ctx: Context, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    fields = ctx.dictionary.fields(table)
    converted: dict[str, Any] = {}
    for key, value in values.items():
        fld = fields.get(key)
        if fld is None or not fld.is_stored:
            raise ScenarioError(f"{table} has no field {key!r}")
        try:
            converted[key] = to_storage(fld, value)
        except InvalidValue as exc:
            raise ScenarioError(str(exc)) from None
    return converted


def _hash_passwords(ctx: Context, table: str, values: dict[str, Any]) -> dict[str, Any]:
    """Password fields (client secrets too) are stored hashed, as a Table API write stores
    them (§6)."""
    for key, value in values.items():
        if value and stored_hashed(ctx.dictionary, table, key):
            values[key] = hash_password(str(value),
                                        iterations=ctx.platform.password_hash_iterations)
    return values


def _table(ctx: Context, args: Mapping[str, Any]) -> str:
    table = args.get("table")
    if not isinstance(table, str) or table not in ctx.dictionary:
        raise ScenarioError(f"unknown table {table!r}")
    return table


def _matching(ctx: Context, table: str, where: Mapping[str, Any]) -> list[dict[str, Any]]:
    criteria = _storage(ctx, table, where)
    nulls = {k for k, v in criteria.items() if v is None}
    found = rows.find_by(ctx.db, ctx.dictionary, table,
                         **{k: v for k, v in criteria.items() if k not in nulls})
    return [r for r in found if all(r.get(k) is None for k in nulls)]


def _update(ctx: Context, args: Mapping[str, Any], _clock: ControllableClock) -> None:
    table = _table(ctx, args)
    changes = _hash_passwords(ctx, table, _storage(ctx, table, args.get("set") or {}))
    changes["sys_updated_on"] = ctx.now_glide()
    changes["sys_updated_by"] = ctx.user.user_name
    for row in _matching(ctx, table, args.get("where") or {}):
        changes["sys_mod_count"] = int(row.get("sys_mod_count") or 0) + 1
        rows.update(ctx.db, ctx.dictionary, table, row["sys_id"], changes)


def _insert(ctx: Context, args: Mapping[str, Any], _clock: ControllableClock) -> None:
    table = _table(ctx, args)
    values = dict(args.get("values") or {})
    _storage(ctx, table, values)  # validates names and values
    row = storage_row(ctx.dictionary, table, values, stamp=ctx.now_glide(),
                      user_name=ctx.user.user_name)
    row.update(_hash_passwords(ctx, table, {k: row[k] for k in values if row.get(k)}))
    row["sys_id"] = args.get("sys_id") or ctx.platform.ids.sys_id()
    if rows.get(ctx.db, ctx.dictionary, table, row["sys_id"]) is None:
        rows.insert(ctx.db, ctx.dictionary, table, row)


def _delete(ctx: Context, args: Mapping[str, Any], _clock: ControllableClock) -> None:
    table = _table(ctx, args)
    where = args.get("where")
    if not where:
        raise ScenarioError("delete needs a non-empty 'where'")
    for row in _matching(ctx, table, where):
        rows.delete(ctx.db, ctx.dictionary, table, row["sys_id"])


def _property(ctx: Context, args: Mapping[str, Any], clock: ControllableClock) -> None:
    name, value = args.get("name"), args.get("value")
    if not isinstance(name, str):
        raise ScenarioError("property needs a 'name'")
    if _matching(ctx, "sys_properties", {"name": name}):
        _update(ctx, {"table": "sys_properties", "where": {"name": name},
                      "set": {"value": str(value)}}, clock)
    else:
        _insert(ctx, {"table": "sys_properties", "values": {"name": name, "value": str(value)}},
                clock)


def _clock(ctx: Context, args: Mapping[str, Any], clock: ControllableClock) -> None:
    try:
        if "advance" in args:
            clock.advance(float(args["advance"]))
        elif "freeze" in args:
            clock.freeze(parse_glide(str(args["freeze"])) if args["freeze"] else None)
        else:
            raise ScenarioError("clock needs 'advance' or 'freeze'")
    except (ValueError, TypeError, OverflowError) as exc:  # ClockOutOfRange too
        raise ScenarioError(f"clock: {exc}") from None


def _release(ctx: Context, args: Mapping[str, Any], clock: ControllableClock) -> None:
    # A running instance cannot change its code; what clients and release gates see is the
    # build it reports in glide.war (servicenow-behaviour §8), so that is what changes.
    family = args.get("family")
    if not isinstance(family, str):
        raise ScenarioError("release needs a 'family' (a release name, or 'running')")
    try:
        release = ctx.platform.release if family == "running" else parse_release(family)
    except UnknownRelease as exc:
        raise ScenarioError(str(exc)) from None
    _property(ctx, {"name": "glide.war", "value": release.glide_war}, clock)


def _rate_limit_usage(ctx: Context, args: Mapping[str, Any], clock: ControllableClock) -> None:
    """``rate_limit_usage: {rule: <name>, user: <user_name>, requests: N}``: the user has
    already made N requests under the rule this hour (its Rate Limit Counts), by the
    instance clock as it is once the scenario's clock actions ran."""
    rule, user, requests = args.get("rule"), args.get("user"), args.get("requests")
    if not isinstance(rule, str) or not isinstance(user, str) or not isinstance(requests, int):
        raise ScenarioError("rate_limit_usage needs 'rule' (a name), 'user' (a user name) "
                            "and 'requests' (an integer)")
    found_rule = rows.find_by(ctx.db, ctx.dictionary, "sys_rate_limit_rules", name=rule)
    found_user = rows.find_by(ctx.db, ctx.dictionary, "sys_user", user_name=user)
    if not found_rule or not found_user:
        raise ScenarioError(f"rate_limit_usage: no rule {rule!r} or no user {user!r}")
    at = ctx.clock
    ctx.clock = clock  # the clock this scenario may just have moved
    try:
        rate_limits.use_up(ctx, str(found_rule[0]["sys_id"]), str(found_user[0]["sys_id"]),
                           requests)
    finally:
        ctx.clock = at


def _fault(ctx: Context, args: Mapping[str, Any], _clock: ControllableClock) -> None:
    """``fault: {...}``: add a fault rule (the body of ``POST /_emulator/faults``,
    docs/faults.md); ``fault: {clear: true}`` removes every rule."""
    if args.get("clear") is True and len(args) == 1:
        faults.clear_rules(ctx)
        return
    try:
        faults.add_rule(ctx, dict(args))
    except faults.InvalidFaultRule as exc:
        raise ScenarioError(f"fault: {exc.detail}") from None


BUILTIN_ACTIONS: Mapping[str, Action] = {
    "update": _update,
    "insert": _insert,
    "delete": _delete,
    "property": _property,
    "clock": _clock,
    "release": _release,
    "rate_limit_usage": _rate_limit_usage,
    "fault": _fault,
}


def run_actions(ctx: Context, actions: Iterable[Mapping[str, Any]], clock: ControllableClock,
                registry: Mapping[str, Action]) -> None:
    """Run actions in order (the caller holds the transaction and saves the clock)."""
    for action in actions:
        ((kind, args),) = action.items()
        handler = registry.get(kind)
        if handler is None:
            raise ScenarioError(f"unknown action {kind!r}; known: {', '.join(sorted(registry))}")
        if not isinstance(args, Mapping):
            raise ScenarioError(f"action {kind!r} takes a mapping of arguments")
        handler(ctx, args, clock)
