"""``snow-connector``: a thin command line over :class:`connector.api.Connector`.

Commands and options are fixed (ARCHITECTURE §2). Exit status 0 on success; otherwise 1 with
a one-line reason on stderr (2 for usage errors, from argparse). Secrets are never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .api import Card, Connector, Status, Ticket
from .errors import ConnectorError, InvalidInput, describe
from .mapping import PRIORITIES
from .settings import ConnectorSettings

ConnectorFactory = Callable[[ConnectorSettings], Connector]

#: ``snow-connector ui``'s port: next to the loopback callback's 8765, which it must not take.
DEFAULT_UI_PORT = 8766


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mock-servicenow")  # the distribution that ships snow-connector
    except PackageNotFoundError:  # pragma: no cover - running from a source tree only
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    """The command-line grammar (ARCHITECTURE §2); every option and argument has its help."""
    parser = argparse.ArgumentParser(
        prog="snow-connector",
        description="Share Microsoft Secure Score improvement actions with ServiceNow as "
                    "change requests or incidents, and track them.",
        epilog="State lives under $SNOW_CONNECTOR_HOME (default ~/.snow-connector). Run "
               "'snow-connector COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"snow-connector {_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def read_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--json", action="store_true", help="print JSON")
        return command

    def graph_files(command: argparse.ArgumentParser) -> None:
        command.add_argument("--file", action="append", default=[], metavar="GRAPH_JSON",
                             help="a Microsoft Graph secureScoreControlProfiles export "
                                  "(repeat for later pages; default: the built-in samples)")

    connect = read_command("connect", "connect to an instance over OAuth")
    connect.add_argument("--instance", required=True,
                         help="instance URL (https://NAME.service-now.com) or name")
    connect.add_argument("--client-id", required=True,
                         help="client ID of the instance's OAuth application registry entry")
    connect.add_argument("--client-secret",
                         help="its client secret (default: $SNOW_CONNECTOR_CLIENT_SECRET)")
    connect.add_argument("--ca-bundle", metavar="PATH",
                         help="CA bundle to verify the instance's certificate (serve --tls "
                              "prints one)")
    connect.add_argument("--username",
                         help="use the password grant as this user (automation) instead of "
                              "the browser consent")
    connect.add_argument("--password", help="default: $SNOW_CONNECTOR_PASSWORD, else a prompt")
    connect.add_argument("--no-browser", action="store_true",
                         help="only print the authorize URL, do not open a browser")

    read_command("status", "connection, provisioning and token state")
    authorize = read_command("authorize", "provision the connection (the app's Authorize)")
    authorize.add_argument("--tenant-id", help="Microsoft 365 tenant id to register")

    actions = read_command("actions", "list Secure Score improvement actions")
    graph_files(actions)

    share = read_command("share", "share an action as a change request or an incident")
    share.add_argument("action_id", metavar="ACTION_ID",
                       help="the improvement action's id (see 'snow-connector actions')")
    graph_files(share)
    share.add_argument("--type", required=True, choices=("change", "incident"),
                       help="the ticket to create: a change request or an incident")
    share.add_argument("--priority", required=True, choices=PRIORITIES,
                       help="the ticket's priority")
    share.add_argument("--due", required=True, metavar="YYYY-MM-DD", help="the due date")
    share.add_argument("--name", metavar="TEXT",
                       help="the ticket's short description (default: the action's title)")
    share.add_argument("--description", metavar="TEXT",
                       help="the ticket's description (default: built from the action)")
    share.add_argument("--category", metavar="CATEGORY",
                       help="devices|data|apps|identity|infrastructure (default: the action's)")

    read_command("tickets", "tickets the connector created")
    read_command("cards", "change and incident cards: counts by state")
    read_command("sync", "pull the state of the connector's tickets")

    states = sub.add_parser("states", help="customize state names",
                            description="Customize the names the cards show for ticket "
                                        "states.")
    states_sub = states.add_subparsers(dest="states_command", required=True, metavar="ACTION")
    states_set = states_sub.add_parser("set", help="name a state value",
                                       description="Name a state value of change requests "
                                                   "or incidents.")
    states_set.add_argument("--json", action="store_true", help="print JSON")
    states_set.add_argument("ticket_type", choices=("change", "incident"),
                            help="which tickets' state")
    states_set.add_argument("value", metavar="VALUE",
                            help="the state's value on the instance (e.g. -5, 1, 6)")
    states_set.add_argument("name", metavar="NAME", help="the name to show for it")

    read_command("disconnect", "revoke tokens, remove the connection, delete secrets")

    ui = sub.add_parser("ui", help="serve the Microsoft 365 side as local web pages")
    ui.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; keep it on loopback)")
    ui.add_argument("--port", type=int, default=DEFAULT_UI_PORT,
                    help=f"port (default {DEFAULT_UI_PORT}; 0 picks a free one)")
    return parser


class _ProgressBar:
    """A stderr progress bar for long syncs: drawn on a terminal only (a log or a pipe gets
    no carriage returns), and only when there is more than one page."""

    def __init__(self, stream: TextIO, threshold: int) -> None:
        self.stream = stream
        self.threshold = threshold
        self.drawn = False
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty())

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled or total is None or total <= self.threshold:
            return
        width = 30
        filled = int(width * min(done, total) / total)
        self.stream.write(f"\rsync [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.drawn = True
        if done >= total:
            self.stream.write("\n")
            self.drawn = False
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False


def _print_status(status: Status, out: TextIO) -> None:
    out.write(f"status: {status.summary}\n")
    if status.connected:
        out.write(f"instance: {status.instance_url}\n")
        out.write(f"client id: {status.client_id}\n")
        if status.release:
            out.write(f"release: {status.release}\n")
        if status.connected_by:
            out.write(f"connected by: {status.connected_by}\n")
        held = ", ".join(f"{name} {'held' if ok else 'missing'}"
                         for name, ok in status.secrets.items())
        out.write(f"secrets: {held}\n")
    if status.hint:
        out.write(f"hint: {status.hint}\n")


def _print_tickets(tickets: Sequence[Ticket], out: TextIO) -> None:
    if not tickets:
        out.write("no tickets yet: share an action with `snow-connector share`\n")
        return
    for t in tickets:
        out.write(f"{t.number}\t{t.table}\t{t.state_name}\tdue {t.due_date or '-'}\t"
                  f"{t.control_id}\t{t.short_description}\n")


def _print_cards(cards: Sequence[Card], out: TextIO) -> None:
    for card in cards:
        out.write(f"{card.title} ({card.total})\n")
        for line in card.states:
            out.write(f"  {line.name:<24} {line.count}\n")


def _emit(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _run(args: argparse.Namespace, connector: Connector, out: TextIO, err: TextIO) -> None:
    command = args.command
    as_json = getattr(args, "json", False)
    if command == "connect":
        secret = args.client_secret or os.environ.get("SNOW_CONNECTOR_CLIENT_SECRET", "")
        if not secret:
            raise InvalidInput("missing --client-secret (or $SNOW_CONNECTOR_CLIENT_SECRET)")
        if args.username:
            password = args.password or os.environ.get("SNOW_CONNECTOR_PASSWORD") or \
                _prompt_password(args.username)
            status = connector.connect_with_password(args.instance, args.client_id, secret,
                                                     args.username, password,
                                                     ca_bundle=args.ca_bundle)
        else:
            if args.password:
                raise InvalidInput("--password needs --username")
            def announce(url: str) -> None:
                err.write(f"open this URL to authorize (waiting for the redirect):\n{url}\n")
                err.flush()

            status = connector.connect_with_browser(
                args.instance, args.client_id, secret, ca_bundle=args.ca_bundle,
                announce=announce, open_browser=not args.no_browser)
        _emit(status.to_json(), out) if as_json else _print_status(status, out)
    elif command == "status":
        status = connector.status()
        _emit(status.to_json(), out) if as_json else _print_status(status, out)
        if status.summary != "connected and provisioned":
            # The report is on stdout; the exit status says the connection is not usable.
            raise Unusable(f"the connection is not usable: {status.summary}", hint=status.hint)
    elif command == "authorize":
        status = connector.authorize(args.tenant_id)
        _emit(status.to_json(), out) if as_json else _print_status(status, out)
    elif command == "actions":
        action_set = connector.actions(args.file)
        if as_json:
            _emit({"actions": [a.to_json() for a in action_set.actions],
                   "incomplete": action_set.incomplete}, out)
        else:
            for a in action_set.actions:
                out.write(f"{a.id}\t{a.category or '?'}\t{a.title}\n")
            if action_set.incomplete:
                err.write("note: the last page has an @odata.nextLink; pass the next page "
                          "with another --file\n")
    elif command == "share":
        ticket = connector.share(args.action_id, ticket_type=args.type, priority=args.priority,
                                 due=args.due, name=args.name, description=args.description,
                                 category=args.category, files=args.file)
        if as_json:
            _emit(ticket.to_json(), out)
        else:
            out.write(f"{ticket.number}\n")
            if not ticket.created:
                err.write(f"already shared: {ticket.number} exists for this action\n")
    elif command == "tickets":
        tickets = connector.tickets()
        _emit([t.to_json() for t in tickets], out) if as_json else _print_tickets(tickets, out)
    elif command == "cards":
        cards = connector.cards()
        _emit([c.to_json() for c in cards], out) if as_json else _print_cards(cards, out)
    elif command == "sync":
        bar = _ProgressBar(err, connector.settings.page_size)
        try:
            result = connector.sync(progress=bar)
        finally:
            bar.finish()
        if as_json:
            _emit(result.to_json(), out)
        else:
            out.write(f"synced: {result.pulled} pulled, {result.changed} changed, "
                      f"{result.removed} removed, {result.tickets} tracked\n")
    elif command == "states":
        names = connector.set_state_name(args.ticket_type, args.value, args.name)
        _emit(names, out) if as_json else out.write(
            f"{args.ticket_type} state {args.value.strip()} is now shown as "
            f"{names[args.value.strip()]!r}\n")
    elif command == "disconnect":
        outcome = connector.disconnect()
        for warning in outcome.warnings:
            err.write(f"warning: {warning}\n")
        if as_json:
            _emit({"was_connected": outcome.was_connected,
                   "connection_removed": outcome.connection_removed,
                   "tokens_revoked": outcome.tokens_revoked,
                   "warnings": list(outcome.warnings)}, out)
        else:
            out.write("disconnected\n" if outcome.was_connected else "not connected\n")


class Unusable(ConnectorError):
    """``status`` found a connection that cannot share tickets (its exit status is 1)."""


def _prompt_password(user_name: str) -> str:
    """Ask for the password on the terminal; without one (CI, a pipe) say what to pass."""
    if not sys.stdin.isatty():
        raise InvalidInput(f"no password for {user_name}: give --password or "
                           "$SNOW_CONNECTOR_PASSWORD (there is no terminal to ask on)")
    try:
        return getpass.getpass(f"password for {user_name}: ")
    except EOFError:
        raise InvalidInput(f"no password for {user_name}: give --password or "
                           "$SNOW_CONNECTOR_PASSWORD") from None


def _fail(line: str, status: int) -> int:
    sys.stderr.write(f"snow-connector: {line}\n")
    return status


def _serve_ui(args: argparse.Namespace, settings: ConnectorSettings,
              make: Callable[[], Connector], account: str) -> int:
    """``ui``: serve the pages until interrupted; ``ready: <url>`` once listening.

    The access log (redacted) and the ui's errors go to stderr.
    """
    import logging
    import signal

    from .ui import create_app, listen
    from .ui.security import host_names

    app = create_app(settings, connector_factory=make, bound_host=args.host, account=account)
    try:
        listening = listen(app, args.host, args.port)
    except OSError as exc:
        sys.stderr.write(f"snow-connector: cannot listen on {args.host}:{args.port}: "
                         f"{exc.strerror or exc}\n")
        return 1
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("connector.ui")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    if host_names(args.host) is None:
        sys.stderr.write(f"snow-connector: warning: {args.host} is not a loopback address; "
                         "anyone who can reach it can use this connection\n")
    sys.stdout.write(f"ready: {listening.base_url}\n")
    sys.stdout.flush()

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        listening.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["snow_connector_ui"].flows.cancel()
        listening.server.server_close()
        listening.sock.close()
        logger.removeHandler(handler)
    return 0


def main(argv: Sequence[str] | None = None, *, connector: ConnectorFactory | None = None,
         environ: dict[str, str] | None = None) -> int:
    """Entry point; ``connector`` builds the library object (tests inject a transport).

    Every failure is one line on stderr and a non-zero status, never a traceback: the
    library's errors (1), Ctrl-C (130), output closed early (``| head``: 141, silently, as
    POSIX tools do on SIGPIPE)."""
    args = _parser().parse_args(argv)
    try:
        settings = ConnectorSettings.from_env(environ)
        env = os.environ if environ is None else environ
        factory = connector or (lambda s: Connector(s))
        account = env.get("SNOW_CONNECTOR_UPN") or getpass.getuser()

        def make() -> Connector:
            made = factory(settings)
            if not made.initiated_by:
                made.initiated_by = account
            return made

        if args.command == "ui":
            return _serve_ui(args, settings, make, account)
        _run(args, make(), sys.stdout, sys.stderr)
        sys.stdout.flush()
    except ConnectorError as exc:
        return _fail(describe(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return _output_closed()
    return 0


def _output_closed() -> int:
    """The reader of our output went away (``snow-connector tickets | head``): stop quietly.
    stdout is pointed at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
