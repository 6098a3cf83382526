"""The library API behind ``snow-connector``: :class:`Connector`.

One method per CLI command; the CLI only parses arguments and prints what these return. Every
failure is a :class:`~connector.errors.ConnectorError`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import ssl
import time
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token

from . import network
from .auth import (
    REVOKE_PATH,
    InstanceAuth,
    authorization_request,
    code_from_callback,
    send_token_request,
    token_request,
)
from .client import ServiceNowClient, hint_for, value_of
from .errors import (
    AuthenticationError,
    ConnectorError,
    InstanceUnavailable,
    InvalidInput,
    NotConnected,
    NotProvisioned,
    PermissionDenied,
    ReauthorizationRequired,
    ServiceNowAPIError,
    TransportError,
    UnsupportedInstance,
)
from .graph import CATEGORIES, ActionSet, load_actions, parse_documents
from .loopback import LoopbackReceiver, RedirectReceiver
from .mapping import PRIORITIES, TABLES, build_task, default_description, to_payload
from .retry import IDEMPOTENT, RetryTransport
from .settings import ConnectorSettings
from .store import ConnectorState, Credentials, Store, TrackedTicket

#: Release families, oldest first (servicenow-behaviour §8); the integration needs Kingston+.
RELEASE_FAMILIES: tuple[str, ...] = (
    "aspen", "berlin", "calgary", "dublin", "eureka", "fuji", "geneva", "helsinki", "istanbul",
    "jakarta", "kingston", "london", "madrid", "newyork", "orlando", "paris", "quebec", "rome",
    "sandiego", "tokyo", "utah", "vancouver", "washingtondc", "xanadu", "yokohama", "zurich",
    "australia",
)
MINIMUM_RELEASE = "kingston"

#: Out-of-box state labels (servicenow-behaviour §7.3, §7.4): the defaults of the cards.
DEFAULT_STATE_NAMES: dict[str, dict[str, str]] = {
    "change_request": {"-5": "New", "-4": "Assess", "-3": "Authorize", "-2": "Scheduled",
                       "-1": "Implement", "0": "Review", "3": "Closed", "4": "Canceled"},
    "incident": {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved",
                 "7": "Closed", "8": "Canceled"},
}
CARD_TITLES = {"change_request": "Change management", "incident": "Incident management"}
#: What the share task offers (the CLI's choices): ticket types, priorities, categories.
TICKET_TYPES: tuple[str, ...] = tuple(TABLES)
SHARE_PRIORITIES: tuple[str, ...] = PRIORITIES
RECOMMENDATION_CATEGORIES: tuple[str, ...] = CATEGORIES
#: Every correlation id the connector writes starts with this (see mapping.correlation_id).
CORRELATION_PREFIX = "m365ss:"
TICKET_FIELDS = ("sys_id,number,state,priority,short_description,due_date,correlation_id,"
                 "sys_updated_on,x_mioms_m365ticket_control_id")
#: Tenant used when neither the Graph data nor the caller names one.
DEFAULT_TENANT_ID = "00000000-0000-0000-0000-000000000000"


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


def normalize_instance_url(instance: str) -> str:
    """``dev12345`` -> ``https://dev12345.service-now.com``; URLs keep their scheme and host."""
    value = instance.strip().rstrip("/")
    if not value:
        raise InvalidInput("an instance URL is required (--instance)")
    if "://" not in value:
        value = f"https://{value}.service-now.com" if "." not in value else f"https://{value}"
    try:
        url = httpx.URL(value)
        port = url.port
    except httpx.InvalidURL:
        raise InvalidInput(f"{instance!r} is not an instance URL") from None
    # A DNS name or an IP literal (RFC 3986 §3.2.2), and a port that exists.
    if url.scheme not in ("http", "https") or not _HOST.fullmatch(url.host) or \
            not 0 < (port or 443) < 65536:
        raise InvalidInput(f"{instance!r} is not an instance URL")
    return str(url.copy_with(path="", query=None, fragment=None)).rstrip("/")


def release_family(glide_war: str) -> str | None:
    """``glide-washingtondc-12-20-2023__patch9-....zip`` -> ``washingtondc`` (§8).

    ``None`` when the value does not have the ``glide-<family>-`` shape. A family name not in
    :data:`RELEASE_FAMILIES` is returned as is: it is most likely a release newer than this
    list.
    """
    match = re.match(r"glide-([a-z]+)-", glide_war.strip().lower())
    return match.group(1) if match else None


def record_url(instance_url: str, table: str, sys_id: str) -> str:
    """The record's form on the instance: ``<instance>/<table>.do?sys_id=<sys_id>``
    (the platform's form URL; servicenow-behaviour §1 names records by table and sys_id)."""
    return f"{instance_url.rstrip('/')}/{table}.do?" + urlencode({"sys_id": sys_id})


@dataclass(frozen=True)
class Ticket:
    """A ticket created by the connector, as last synced."""

    table: str
    number: str
    sys_id: str
    state: str
    state_name: str
    priority: str
    short_description: str
    due_date: str
    control_id: str
    correlation_id: str
    sys_updated_on: str
    #: False when ``share`` found an existing ticket for the action instead of creating one.
    created: bool = True

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Status:
    """What ``status`` reports. Secrets are reported as held or not, never shown."""

    connected: bool
    provisioned: bool
    reauthorization_required: bool
    instance_url: str | None = None
    client_id: str | None = None
    release: str | None = None
    connected_by: str | None = None
    secrets: dict[str, bool] = field(default_factory=dict)
    problem: str | None = None
    hint: str | None = None

    @property
    def summary(self) -> str:
        """``not connected`` | ``reauthorization required`` | ``connected, not provisioned``
        | ``connected and provisioned`` | ``connected, instance unreachable``."""
        if not self.connected:
            return "not connected"
        if self.reauthorization_required:
            return "reauthorization required"
        if self.problem:
            return f"connected, {self.problem}"
        return "connected and provisioned" if self.provisioned else "connected, not provisioned"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["summary"] = self.summary
        return data


@dataclass(frozen=True)
class CardLine:
    """One state on a card."""

    value: str
    name: str
    count: int


@dataclass(frozen=True)
class Card:
    """A change-management or incident-management card (counts by state)."""

    table: str
    title: str
    total: int
    states: tuple[CardLine, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {"table": self.table, "title": self.title, "total": self.total,
                "states": [{"value": s.value, "name": s.name, "count": s.count}
                           for s in self.states]}


@dataclass(frozen=True)
class SyncResult:
    """What a ``sync`` pulled."""

    pulled: int
    changed: int
    tickets: int
    #: Tracked tickets the instance no longer has (deleted, or the instance was reset).
    removed: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {"pulled": self.pulled, "changed": self.changed, "removed": self.removed,
                "tickets": self.tickets}


@dataclass(frozen=True)
class DisconnectResult:
    """What ``disconnect`` did; ``was_connected`` is False for a harmless second call."""

    was_connected: bool
    connection_removed: bool = False
    tokens_revoked: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization-code flow between its two halves (the browser is on the instance).

    ``url`` is the authorize URL to open; the redirect to ``redirect_uri`` must carry
    ``state``. The client secret is kept for the code exchange and never shown (``repr``).
    """

    url: str
    state: str
    redirect_uri: str
    instance_url: str
    client_id: str
    client_secret: str = field(repr=False)
    ca_bundle: str | None = None


@dataclass(frozen=True)
class TaskDraft:
    """The share task as it opens for an improvement action (m365-ticketing.md §3.4)."""

    action_id: str
    name: str
    description: str
    category: str


@dataclass(frozen=True)
class StateName:
    """One state value of a ticket type: the platform's label and the admin's name, if any."""

    value: str
    default: str
    custom: str | None


Progress = Callable[[int, int | None], None]


class Connector:
    """The Microsoft 365 side of the integration, for one connector home.

    ``transport`` is any httpx transport (``MockTransport`` in unit tests, ``WSGITransport``
    against an in-process instance); ``open_url`` opens the authorize URL (default: the
    desktop browser when there is one); ``receiver`` receives the redirect (default: a
    loopback listener on the redirect URI); ``clock`` (epoch seconds) and ``sleep`` are
    injectable so tests never wait.
    """

    def __init__(self, settings: ConnectorSettings, *,
                 transport: httpx.BaseTransport | None = None,
                 open_url: Callable[[str], object] | None = None,
                 receiver: Callable[[], RedirectReceiver] | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None,
                 initiated_by: str = "") -> None:
        self.settings = settings
        self.store = Store(settings.home)
        self._transport = transport
        self._open_url = open_url if open_url is not None else _open_in_browser
        self._receiver = receiver if receiver is not None else LoopbackReceiver
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.initiated_by = initiated_by

    # plumbing ---------------------------------------------------------------------------
    def _inner_transport(self, ca_bundle: str | None) -> tuple[httpx.BaseTransport, bool]:
        if self._transport is not None:
            return self._transport, False
        verify: ssl.SSLContext | bool = True
        if ca_bundle:
            try:
                verify = ssl.create_default_context(cafile=ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise InvalidInput(f"cannot use CA bundle {ca_bundle}: {exc}") from exc
        return httpx.HTTPTransport(verify=verify), True

    @contextmanager
    def _http(self, instance_url: str, ca_bundle: str | None,
              auth: httpx.Auth | None = None) -> Iterator[httpx.Client]:
        inner, owned = self._inner_transport(ca_bundle)
        transport = RetryTransport(inner, self.settings.retry, sleep=self._sleep, rng=self._rng,
                                   clock=self._clock)
        client = httpx.Client(base_url=instance_url, transport=transport, auth=auth,
                              timeout=self.settings.timeout)
        try:
            yield client
        finally:
            # Closing the client closes the transport chain: only do that to what we built.
            if owned:
                client.close()

    def _credentials(self) -> Credentials:
        credentials = self.store.load_credentials()
        if credentials is None:
            raise NotConnected("not connected to a ServiceNow instance")
        return credentials

    def _persist_tokens(self, credentials: Credentials) -> None:
        self.store.save_credentials(credentials)

    def _mark_reauthorization_required(self) -> None:
        state = self.store.load_state()
        state.reauthorization_required = True
        self.store.save_state(state)

    @contextmanager
    def _api(self, credentials: Credentials | None = None,
             persist: bool = True) -> Iterator[ServiceNowClient]:
        creds = credentials or self._credentials()
        auth = InstanceAuth(
            creds,
            on_tokens=self._persist_tokens if persist else (lambda _c: None),
            on_refresh_refused=self._mark_reauthorization_required if persist
            else (lambda: None),
            clock=self._clock, leeway=self.settings.refresh_leeway)
        with self._http(creds.instance_url, creds.ca_bundle, auth) as http:
            yield ServiceNowClient(http)

    # connect ----------------------------------------------------------------------------
    def connect_with_password(self, instance: str, client_id: str, client_secret: str,
                              username: str, password: str, *,
                              ca_bundle: str | None = None) -> Status:
        """Connect with the resource-owner password grant (automation)."""
        instance_url = normalize_instance_url(instance)
        _require(client_id=client_id, client_secret=client_secret, username=username,
                 password=password)
        with self._http(instance_url, ca_bundle) as http:
            token = send_token_request(
                http, token_request(instance_url, "password", client_id, client_secret,
                                    username=username, password=password),
                "password", self._clock)
        return self._finish_connect(instance_url, client_id, client_secret, token, ca_bundle)

    def connect_with_browser(self, instance: str, client_id: str, client_secret: str, *,
                             ca_bundle: str | None = None,
                             announce: Callable[[str], None] = lambda _url: None,
                             open_browser: bool = True) -> Status:
        """Connect with the authorization-code flow.

        Listens on the redirect URI, calls ``announce`` with the authorize URL (the CLI prints
        it), opens it (unless ``open_browser`` is false), waits for the redirect, checks
        ``state`` and exchanges the code: :meth:`begin_authorization`, a receiver, then
        :meth:`complete_authorization`.
        """
        pending = self.begin_authorization(instance, client_id, client_secret,
                                           ca_bundle=ca_bundle)
        receiver = self._receiver()
        receiver.start(pending.redirect_uri)
        announce(pending.url)
        if open_browser:
            try:
                self._open_url(pending.url)
            except Exception:  # noqa: BLE001 - no browser is fine: the URL was announced
                pass
        return self.complete_authorization(pending, receiver.wait())

    def begin_authorization(self, instance: str, client_id: str, client_secret: str, *,
                            ca_bundle: str | None = None) -> PendingAuthorization:
        """The first half of the authorization-code flow: the authorize URL to open.

        Nothing is sent or stored. The redirect URI is always the configured one
        (``ConnectorSettings.redirect_uri``, which the instance's OAuth entity lists: a real
        instance matches it exactly), whoever receives the redirect.
        """
        instance_url = normalize_instance_url(instance)
        _require(client_id=client_id, client_secret=client_secret)
        state = generate_token(32)
        request = authorization_request(instance_url, client_id, self.settings.redirect_uri,
                                        state)
        return PendingAuthorization(url=request.url, state=state,
                                    redirect_uri=request.redirect_uri,
                                    instance_url=instance_url, client_id=client_id,
                                    client_secret=client_secret, ca_bundle=ca_bundle)

    def complete_authorization(self, pending: PendingAuthorization,
                               callback_url: str) -> Status:
        """The second half: check the redirect's ``state``, exchange its code, store.

        ``callback_url`` is the full URL the instance redirected the browser to.
        """
        code = code_from_callback(callback_url, pending.state)
        with self._http(pending.instance_url, pending.ca_bundle) as http:
            token = send_token_request(
                http, token_request(pending.instance_url, "authorization_code",
                                    pending.client_id, pending.client_secret, code=code,
                                    redirect_uri=pending.redirect_uri),
                "authorization_code", self._clock)
        return self._finish_connect(pending.instance_url, pending.client_id,
                                    pending.client_secret, token, pending.ca_bundle)

    def _finish_connect(self, instance_url: str, client_id: str, client_secret: str,
                        token: dict[str, Any], ca_bundle: str | None) -> Status:
        expires_at = token.get("expires_at")
        credentials = Credentials(
            instance_url=instance_url, client_id=client_id, client_secret=client_secret,
            access_token=str(token["access_token"]),
            refresh_token=str(token["refresh_token"]) if token.get("refresh_token") else None,
            expires_at=float(expires_at) if expires_at is not None else None,
            ca_bundle=ca_bundle)
        # Check the instance before storing anything: nothing is kept for an instance that
        # cannot host the integration.
        with self._api(credentials, persist=False) as api:
            release = self._check_instance(api)
        state = self.store.load_state()
        if state.instance_url != instance_url:
            state = ConnectorState(state_names=state.state_names)
        state.instance_url = instance_url
        state.reauthorization_required = False
        state.release = release or ""
        self.store.save_credentials(credentials)
        self.store.save_state(state)
        return self.status()

    def _check_instance(self, api: ServiceNowClient) -> str | None:
        try:
            glide_war = api.glide_war()
        except ServiceNowAPIError:
            glide_war = None  # property not readable by this user: cannot tell, go on
        family = release_family(glide_war) if glide_war else None
        # An unknown family name is taken for a release newer than our list, not refused.
        if family in RELEASE_FAMILIES and \
                RELEASE_FAMILIES.index(family) < RELEASE_FAMILIES.index(MINIMUM_RELEASE):
            raise UnsupportedInstance(
                f"the instance runs ServiceNow {family.capitalize()}; the Microsoft 365 "
                "ticketing integration needs Kingston or later: upgrade the instance",
                hint="upgrade the instance to Kingston or later (not fixable in place)")
        try:
            installed = api.app_installed()
        except ServiceNowAPIError as exc:
            raise UnsupportedInstance(
                f"cannot check whether the app is installed: {exc}", hint=exc.hint) from exc
        if not installed:
            raise UnsupportedInstance(
                "the Microsoft 365 Ticketing Connector app (x_mioms_m365ticket) is not installed "
                "on the instance: install it and complete its installation checklist",
                hint="install the app from the ServiceNow Store, then run its checklist")
        return family

    # status / authorize -------------------------------------------------------------------
    def status(self) -> Status:
        """Connection state, asking the instance (the app's ``GET /connection``)."""
        credentials = self.store.load_credentials()
        state = self.store.load_state()
        if credentials is None:
            return Status(connected=False, provisioned=False, reauthorization_required=False,
                          hint="run `snow-connector connect`")
        secrets = {"client_secret": bool(credentials.client_secret),
                   "access_token": bool(credentials.access_token),
                   "refresh_token": bool(credentials.refresh_token)}
        base = Status(connected=True, provisioned=state.provisioned,
                      reauthorization_required=False, instance_url=credentials.instance_url,
                      client_id=credentials.client_id, release=state.release or None,
                      secrets=secrets)
        try:
            with self._api(credentials) as api:
                connection = api.get_connection()
        except ReauthorizationRequired as exc:
            return replace(base, reauthorization_required=True, hint=exc.hint)
        except ServiceNowAPIError as exc:
            return replace(base, problem=f"the instance answered {exc.status}: {exc.message}",
                           hint=exc.hint or hint_for(exc.status, exc.message, exc.detail))
        except TransportError as exc:
            return replace(base, problem="instance unreachable", hint=str(exc))
        except InstanceUnavailable as exc:
            return replace(base, problem=str(exc), hint=exc.hint)
        provisioned = connection.get("status") == "connected"
        state = self.store.load_state()  # the auth flow may have changed it
        if state.provisioned != provisioned or state.reauthorization_required:
            state.provisioned = provisioned
            state.reauthorization_required = False
            self.store.save_state(state)
        return replace(base, provisioned=provisioned,
                       connected_by=value_of(connection.get("connected_by")) or None,
                       hint=None if provisioned else NotProvisioned.hint)

    def instance_url(self) -> str | None:
        """The connected instance's URL (no request); ``None`` when not connected."""
        credentials = self.store.load_credentials()
        return credentials.instance_url if credentials else None

    def authorize(self, tenant_id: str | None = None) -> Status:
        """The provisioning step: register with the app's connection endpoint."""
        credentials = self._credentials()
        state = self.store.load_state()
        tenant = (tenant_id or state.tenant_id or _sample_tenant()).strip()
        with self._api(credentials) as api:
            api.create_connection(tenant, credentials.client_id)
        state = self.store.load_state()
        state.provisioned = True
        state.tenant_id = tenant
        self.store.save_state(state)
        return self.status()

    def check_provisioned(self) -> None:
        """Raise :class:`NotProvisioned` (or the instance's own refusal) unless sharing and the
        cards would work now (one request: the app's ``GET /connection``)."""
        with self._api() as api:
            self._require_provisioned(api)

    def _require_provisioned(self, api: ServiceNowClient) -> None:
        connection = api.get_connection()
        state = self.store.load_state()
        provisioned = connection.get("status") == "connected"
        if state.provisioned != provisioned:
            state.provisioned = provisioned
            self.store.save_state(state)
        if not provisioned:
            raise NotProvisioned("the connection is not provisioned on the instance yet")

    # actions / share ----------------------------------------------------------------------
    def actions(self, files: Sequence[Path | str] = ()) -> ActionSet:
        """Improvement actions from Graph exports, or the built-in sample set."""
        return load_actions(files)

    def draft(self, action_id: str, *, files: Sequence[Path | str] = ()) -> TaskDraft:
        """What the share task starts with for an action (the admin edits it before sending):
        the name, description and category ``share`` uses when none is given."""
        action = self.actions(files).get(action_id)
        return TaskDraft(action_id=action.id, name=action.title,
                         description=default_description(action),
                         category=action.category or "")

    def share(self, action_id: str, *, ticket_type: str, priority: str | None,
              due: str | dt.date | None, name: str | None = None,
              description: str | None = None, category: str | None = None,
              files: Sequence[Path | str] = ()) -> Ticket:
        """Create (or find) the change request or incident for an action.

        One action, one ticket, whatever the timing: the action's correlation id is looked up
        first (in both tables), and the create carries a sys_id derived from that correlation
        id (:func:`~connector.mapping.ticket_sys_id`). The instance refuses a second record
        with a taken sys_id, so when a create's answer is lost (a timeout while a slow
        instance is still working, a dropped connection after commit, a 502/504) the
        connector asks for that sys_id and, while it is not there, sends the same create
        again: the first request can commit late, never twice.
        """
        if ticket_type not in TABLES:
            raise InvalidInput(f"ticket type {ticket_type!r} is not one of: change, incident")
        action_set = self.actions(files)
        try:
            action = action_set.get(action_id)
        except InvalidInput:
            if name is None or description is None:
                raise InvalidInput(
                    f"no improvement action with id {action_id!r}; to share your own action "
                    "give both --name and --description") from None
            action = None
        state = self.store.load_state()
        tenant = (action.tenant_id if action and action.tenant_id else
                  state.tenant_id or _sample_tenant())
        today = dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
        task = build_task(action=action, control_id=action.id if action else action_id,
                          tenant_id=tenant, initiated_by=self.initiated_by or "unknown",
                          priority=priority, due=due, today=today, name=name,
                          description=description, category=category)
        table = TABLES[ticket_type]
        payload = to_payload(task, ticket_type)
        credentials = self._credentials()
        with self._api(credentials) as api:
            self._require_provisioned(api)
            existing = self._lookup(api, task.correlation_id, table)
            if existing is not None:
                return self._track(existing[0], existing[1], created=False)
            found, created = self._create_once(api, table, payload)
        return self._track(found[0], found[1], created=created)

    def _create_once(self, api: ServiceNowClient, table: str, payload: dict[str, str]
                     ) -> tuple[tuple[str, dict[str, Any]], bool]:
        """POST the ticket under its fixed sys_id until the instance has it: ``((table,
        record), created)``. ``created`` is False when another run made it meanwhile."""
        sys_id = payload["sys_id"]
        attempts = max(1, self.settings.retry.attempts)
        lost: ConnectorError | None = None
        for attempt in range(attempts):
            try:
                return (table, api.create_record(table, payload)), True
            except PermissionDenied as exc:
                if not _is_duplicate_key(exc):
                    raise
                # The sys_id is taken: an earlier attempt of ours committed late (created),
                # or another run created this action's ticket first.
                found = self._by_sys_id(api, sys_id, table)
                if found is None:
                    raise
                return found, attempt > 0
            except (TransportError, ServiceNowAPIError) as exc:
                if isinstance(exc, ServiceNowAPIError) and exc.status not in (500, 502, 504):
                    raise
                lost = exc
            # The answer was lost: is the ticket there? If not, the same create again is
            # harmless (the sys_id cannot be used twice), so it is sent again.
            found = self._by_sys_id(api, sys_id, table)
            if found is not None:
                return found, True
        assert lost is not None
        raise lost

    def _by_sys_id(self, api: ServiceNowClient, sys_id: str,
                   target: str) -> tuple[str, dict[str, Any]] | None:
        """The ticket with this sys_id, in the target table then the other one."""
        return self._find(api, f"sys_id={sys_id}", target)

    def _lookup(self, api: ServiceNowClient, correlation: str,
                target: str) -> tuple[str, dict[str, Any]] | None:
        """The ticket already made for this action, by its correlation id."""
        return self._find(api, f"correlation_id={correlation}^ORDERBYsys_created_on", target)

    def _find(self, api: ServiceNowClient, query: str,
              target: str) -> tuple[str, dict[str, Any]] | None:
        """The first ticket matching ``query``: in the target table, then in the other.

        The target table's answer decides (its errors propagate). The other table is asked too,
        so an action shared as a change is not shared again as an incident; when that table is
        closed to this user (403, e.g. web-service access turned off on it), no ticket of this
        connector can be there either, so the share goes on.
        """
        others = [t for t in TABLES.values() if t != target]
        for table in (target, *others):
            try:
                row = api.find_one(table, query, fields=TICKET_FIELDS)
            except PermissionDenied:
                if table == target:
                    raise
                continue
            if row is not None:
                return table, row
        return None

    def _track(self, table: str, row: dict[str, Any], *, created: bool) -> Ticket:
        state = self.store.load_state()
        tracked = _tracked(table, row)
        state.tickets[tracked.sys_id] = tracked
        self.store.save_state(state)
        return self._ticket(tracked, state, created=created)

    def _ticket(self, tracked: TrackedTicket, state: ConnectorState,
                created: bool = True) -> Ticket:
        return Ticket(table=tracked.table, number=tracked.number, sys_id=tracked.sys_id,
                      state=tracked.state,
                      state_name=self.state_name(tracked.table, tracked.state, state),
                      priority=tracked.priority, short_description=tracked.short_description,
                      due_date=tracked.due_date, control_id=tracked.control_id,
                      correlation_id=tracked.correlation_id,
                      sys_updated_on=tracked.sys_updated_on, created=created)

    # tracking ------------------------------------------------------------------------------
    def tickets(self) -> list[Ticket]:
        """Tickets the connector created, as of the last share or sync (no request)."""
        state = self.store.load_state()
        rows = sorted(state.tickets.values(), key=lambda t: (t.table, t.number))
        return [self._ticket(t, state) for t in rows]

    def sync(self, progress: Progress | None = None) -> SyncResult:
        """Pull changes to the connector's tickets since the last sync, and forget tickets the
        instance no longer has.

        Per table: ``correlation_idSTARTSWITHm365ss:^sys_updated_on>=<watermark>
        ^ORDERBYsys_updated_on^ORDERBYsys_id``, paged. ``>=`` re-reads the rows of the
        watermark's second (updates within one second would otherwise be missed); re-reading
        is harmless. Deletions leave no row to pull: a first (full) sync sees what is gone
        directly; an incremental one asks for the number of the connector's tickets left in
        the table (one request, ``X-Total-Count``) and, when it is smaller than what is
        tracked, pulls the whole table again.
        """
        state = self.store.load_state()
        pulled = changed = removed = 0
        with self._api() as api:
            for table in TABLES.values():
                watermark = state.watermarks.get(table, "")
                seen, changes = self._pull(api, state, table, watermark, progress)
                pulled += len(seen)
                changed += changes
                tracked = {key for key, t in state.tickets.items() if t.table == table}
                if watermark and len(tracked) > self._count_tickets(api, table):
                    # Something is gone (deleted, or the instance was reset and its clock
                    # with it): pull the table whole and keep exactly what is there.
                    state.watermarks.pop(table, None)
                    seen, changes = self._pull(api, state, table, "", progress)
                    pulled += len(seen)
                    changed += changes
                    watermark = ""
                if not watermark:
                    for key in tracked - seen:
                        del state.tickets[key]
                        removed += 1
                # Saved per table so an interrupted sync keeps what it already pulled.
                self.store.save_state(state)
        return SyncResult(pulled=pulled, changed=changed, tickets=len(state.tickets),
                          removed=removed)

    def _pull(self, api: ServiceNowClient, state: ConnectorState, table: str, watermark: str,
              progress: Progress | None) -> tuple[set[str], int]:
        """Pull the connector's tickets of ``table`` updated since ``watermark`` (all of them
        without one) into ``state``: ``(sys_ids seen, how many changed)``."""
        query = f"correlation_idSTARTSWITH{CORRELATION_PREFIX}"
        if watermark:
            query += f"^sys_updated_on>={watermark}"
        query += "^ORDERBYsys_updated_on^ORDERBYsys_id"
        seen: set[str] = set()
        changed = 0
        for row, total in api.iter_records(table, query=query, fields=TICKET_FIELDS,
                                           page_size=self.settings.page_size):
            tracked = _tracked(table, row)
            if state.tickets.get(tracked.sys_id) != tracked:
                changed += 1
            state.tickets[tracked.sys_id] = tracked
            if tracked.sys_updated_on > state.watermarks.get(table, ""):
                state.watermarks[table] = tracked.sys_updated_on
            seen.add(tracked.sys_id)
            if progress is not None:
                progress(len(seen), total)
        return seen, changed

    def _count_tickets(self, api: ServiceNowClient, table: str) -> int:
        """How many of the connector's tickets ``table`` holds (``X-Total-Count``)."""
        page = api.list_records(table, query=f"correlation_idSTARTSWITH{CORRELATION_PREFIX}",
                                fields="sys_id", limit=1)
        return page.total if page.total is not None else len(page.rows)

    def cards(self) -> list[Card]:
        """Change-management and incident-management counts by state (one request per card)."""
        state = self.store.load_state()
        cards = []
        with self._api() as api:
            self._require_provisioned(api)
            for table in TABLES.values():
                counts = api.count_by(table, "state",
                                      query=f"correlation_idSTARTSWITH{CORRELATION_PREFIX}")
                values = list(DEFAULT_STATE_NAMES[table])
                values += [v for v in state.state_names.get(table, {}) if v not in values]
                values += [v for v in counts if v not in values]
                lines = tuple(CardLine(value=v, name=self.state_name(table, v, state),
                                       count=counts.get(v, 0)) for v in values)
                cards.append(Card(table=table, title=CARD_TITLES[table],
                                  total=sum(counts.values()), states=lines))
        return cards

    def state_name(self, table: str, value: str, state: ConnectorState | None = None) -> str:
        """The admin's name for a state value, else the platform's default label."""
        current = state or self.store.load_state()
        custom = current.state_names.get(table, {})
        return custom.get(value) or DEFAULT_STATE_NAMES.get(table, {}).get(value) or value

    def set_state_name(self, ticket_type: str, value: str, name: str, *,
                       new: bool = False) -> dict[str, str]:
        """Customize the name shown for a state value (``states set``).

        A value the table is not known to have (the out-of-box states, those the instance
        gave a ticket, those already named) is refused, unless ``new`` says the admin is
        adding a state of a customized state model on purpose (the pages' "add" row)."""
        if ticket_type not in TABLES:
            raise InvalidInput(f"ticket type {ticket_type!r} is not one of: change, incident")
        if not re.fullmatch(r"-?\d{1,6}", value.strip()):
            raise InvalidInput(f"state value {value!r} is not a ServiceNow state value "
                               "(an integer such as -5, 1 or 7)")
        clean = " ".join(name.split())
        if not clean or len(clean) > 40:
            raise InvalidInput("a state name must have 1 to 40 characters")
        table = TABLES[ticket_type]
        state = self.store.load_state()
        # The table's states: the out-of-box model (servicenow-behaviour §7.3, §7.4) and any
        # value the instance gave the connector's tickets (a customized state model).
        known = dict(DEFAULT_STATE_NAMES[table])
        known.update({t.state: t.state for t in state.tickets.values()
                      if t.table == table and t.state and t.state not in known})
        known.update({v: n for v, n in state.state_names.get(table, {}).items()
                      if v not in known})
        if not new and value.strip() not in known:
            listed = ", ".join(f"{v} {label}" for v, label in known.items())
            raise InvalidInput(f"{table} has no state {value.strip()}; its states are {listed}")
        state.state_names.setdefault(table, {})[value.strip()] = clean
        self.store.save_state(state)
        return dict(state.state_names[table])

    def clear_state_name(self, ticket_type: str, value: str) -> dict[str, str]:
        """Show a state value with the platform's label again (undo :meth:`set_state_name`)."""
        if ticket_type not in TABLES:
            raise InvalidInput(f"ticket type {ticket_type!r} is not one of: change, incident")
        table = TABLES[ticket_type]
        state = self.store.load_state()
        names = state.state_names.setdefault(table, {})
        if names.pop(value.strip(), None) is not None:
            self.store.save_state(state)
        return dict(names)

    def state_names(self, ticket_type: str) -> list[StateName]:
        """Every state value of a ticket type the cards know: the platform's out-of-box values
        first, then values the admin named or tickets carry (no request)."""
        if ticket_type not in TABLES:
            raise InvalidInput(f"ticket type {ticket_type!r} is not one of: change, incident")
        table = TABLES[ticket_type]
        state = self.store.load_state()
        custom = state.state_names.get(table, {})
        values = list(DEFAULT_STATE_NAMES[table])
        values += [v for v in custom if v not in values]
        values += sorted({t.state for t in state.tickets.values()
                          if t.table == table and t.state and t.state not in values})
        defaults = DEFAULT_STATE_NAMES[table]
        return [StateName(value=v, default=defaults.get(v, v), custom=custom.get(v))
                for v in values]

    # Secure Score exports kept for the pages ----------------------------------------------
    def import_actions(self, documents: Sequence[bytes | str]) -> ActionSet:
        """Keep Graph ``secureScoreControlProfiles`` pages under the connector home.

        The pages are read as :meth:`actions` reads ``--file`` (in order, the pages of one
        listing); nothing is kept unless all of them parse. They replace the previous import.
        """
        parsed: list[object] = []
        for number, document in enumerate(documents, start=1):
            text = document.decode("utf-8-sig", errors="replace") \
                if isinstance(document, bytes) else document
            try:
                parsed.append(json.loads(text))
            except ValueError as exc:
                raise InvalidInput(f"page {number} is not valid JSON: {exc}") from exc
        if not parsed:
            raise InvalidInput("no Secure Score export was given")
        action_set = parse_documents(parsed)
        if not action_set.actions:
            raise InvalidInput("the export holds no improvement actions")
        self.store.save_action_pages(parsed)
        return action_set

    def imported_action_files(self) -> list[Path]:
        """The pages kept by :meth:`import_actions` (empty: the built-in sample set is used)."""
        return self.store.action_page_paths()

    def forget_imported_actions(self) -> None:
        """Go back to the built-in sample set."""
        self.store.delete_action_pages()

    # disconnect ----------------------------------------------------------------------------
    def disconnect(self) -> DisconnectResult:
        """Remove the app's connection record, revoke the tokens, delete the stored secrets.

        Remote steps are best effort (an unreachable or already-revoked instance must not
        keep secrets on disk); what failed is reported in ``warnings``. A second call does
        nothing and succeeds.
        """
        credentials = self.store.load_credentials()
        if credentials is None:
            return DisconnectResult(was_connected=False)
        warnings: list[str] = []
        removed = revoked = False
        try:
            with self._api(credentials, persist=False) as api:
                api.delete_connection()
            removed = True
        except ConnectorError as exc:
            warnings.append(f"could not remove the app's connection record: {exc}")
        try:
            with self._http(credentials.instance_url, credentials.ca_bundle) as http:
                for token in (credentials.access_token, credentials.refresh_token):
                    if token:
                        self._revoke(http, credentials, token)
            revoked = True
        except ConnectorError as exc:
            warnings.append(f"could not revoke the tokens: {exc}")
        self.store.delete_credentials()
        state = self.store.load_state()
        state.provisioned = False
        state.reauthorization_required = False
        self.store.save_state(state)
        return DisconnectResult(was_connected=True, connection_removed=removed,
                                tokens_revoked=revoked, warnings=tuple(warnings))

    def _revoke(self, http: httpx.Client, credentials: Credentials, token: str) -> None:
        # servicenow-behaviour §4.3: no authentication needed; the token goes in the form body
        # (RFC 7009) rather than the URL, where proxies and access logs would keep it. The
        # client id/secret are sent too, for instances that authenticate the client.
        request = httpx.Request(
            "POST", credentials.instance_url + REVOKE_PATH,
            data={"token": token, "client_id": credentials.client_id,
                  "client_secret": credentials.client_secret},
            extensions={IDEMPOTENT: True})
        try:
            response = http.send(request)
        except httpx.TransportError as exc:
            raise TransportError(network.describe(exc)) from exc
        if response.status_code >= 400:
            raise AuthenticationError(f"the instance refused the revocation "
                                      f"(HTTP {response.status_code})")


def _tracked(table: str, row: dict[str, Any]) -> TrackedTicket:
    return TrackedTicket(
        table=table, sys_id=value_of(row.get("sys_id")), number=value_of(row.get("number")),
        correlation_id=value_of(row.get("correlation_id")),
        control_id=value_of(row.get("x_mioms_m365ticket_control_id")),
        short_description=value_of(row.get("short_description")),
        state=value_of(row.get("state")), priority=value_of(row.get("priority")),
        due_date=value_of(row.get("due_date")),
        sys_updated_on=value_of(row.get("sys_updated_on")))


def _is_duplicate_key(error: ServiceNowAPIError) -> bool:
    """A create refused because its sys_id is taken (servicenow-behaviour §1.5 pattern)."""
    return "Unique Key violation" in f"{error.message} {error.detail or ''}"


def _require(**values: str) -> None:
    missing = [name.replace("_", "-") for name, value in values.items() if not value]
    if missing:
        raise InvalidInput("missing: " + ", ".join("--" + m for m in missing))


def _sample_tenant() -> str:
    for action in load_actions().actions:
        if action.tenant_id:
            return action.tenant_id
    return DEFAULT_TENANT_ID


def _open_in_browser(url: str) -> bool:
    return webbrowser.open(url)
