"""``mock-servicenow``: serve an instance, reset a running one.

Every failure the user can cause (unknown flag, unwritable database path, port in use, corrupt
database file) is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mock_servicenow.errors import ServiceNowError
from mock_servicenow.releases import DEFAULT_RELEASE, FAMILIES, UnknownRelease, parse_release
from mock_servicenow.settings import MEMORY, Settings

if TYPE_CHECKING:
    from flask import Flask

PROG = "mock-servicenow"
#: Where the client commands (reset, scenario apply) find the instance without --url.
DEFAULT_URL = "http://127.0.0.1:8080"
URL_ENV = "MOCK_SERVICENOW_URL"
_URL_HELP = f"base URL of the running instance (default: ${URL_ENV}, else {DEFAULT_URL})"


def version() -> str:
    """The installed package's version (``pyproject.toml``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("mock-servicenow")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree only
        return "unknown"


def instance_url(given: str | None, environ: dict[str, str]) -> str:
    """The instance a client command talks to: ``--url``, else ``$MOCK_SERVICENOW_URL``, else
    the default instance's address."""
    return (given or environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


class CommandError(Exception):
    """A failure reported as one line: ``mock-servicenow: <message>``."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {PROG} --help)", file=sys.stderr)
        raise SystemExit(2)


def _port(text: str) -> int:
    """A TCP port, 0 to 65535 (argparse turns the ValueError into a one-line usage error)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: a number is needed") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: ports go from 0 to 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar (ARCHITECTURE §2); every option and argument has its help."""
    parser = _Parser(prog=PROG, description="A faithful local ServiceNow instance: serve one, "
                     "or drive a running one (reset, troubleshooting scenarios).",
                     epilog=f"Run '{PROG} COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                     metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run an instance (prints 'ready: URL' once it accepts connections)",
        description="Run an emulated instance. With no options: the demo instance on "
                    "http://127.0.0.1:8080, data under .mock_servicenow/.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="interface to listen on (default 127.0.0.1; the control plane "
                            "answers loopback callers only)")
    serve.add_argument("--port", type=_port, default=8080,
                       help="port to listen on (default 8080; 0 picks a free port)")
    serve.add_argument("--tls", action="store_true",
                       help="serve https with a locally generated CA (prints ca-bundle: PATH)")
    serve.add_argument("--client-ca", metavar="PATH",
                       help="with --tls: ask clients for a certificate and verify it against "
                            "this CA bundle (mutual TLS; see tls client-cert)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH",
                       help="SQLite file of the instance (default .mock_servicenow/instance.db)")
    where.add_argument("--memory", action="store_true",
                       help="keep everything in memory (gone when the server stops)")
    serve.add_argument("--release", default=DEFAULT_RELEASE, metavar="NAME",
                       help=f"release family the instance reports, oldest {FAMILIES[0]} to "
                            f"newest {FAMILIES[-1]} (default {DEFAULT_RELEASE})")
    serve.add_argument("--scenario", action="append", default=[], metavar="NAME",
                       help="apply a troubleshooting scenario at start (repeatable; see "
                            f"'{PROG} scenario list')")
    serve.add_argument("--empty", action="store_true",
                       help="only what the platform cannot run without (no demo data, no app)")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help="serve with gunicorn, N processes on one database")
    serve.add_argument("--instance-name", default=None, metavar="NAME",
                       help="the instance's name, shown in the pages' header and in "
                            "/_emulator/info (default dev00000)")
    serve.add_argument("--quiet", action="store_true",
                       help="no access log on stderr (the log never shows secrets)")

    reset = commands.add_parser("reset", help="reset a running instance to its seeded state",
                                description="Reset a running instance to its seeded state "
                                            "(POST /_emulator/reset).")
    reset.add_argument("--url", help=_URL_HELP)

    scenario = commands.add_parser("scenario", help="the troubleshooting catalogue",
                                   description="List, describe and apply the troubleshooting "
                                               "scenarios (docs/qa.md).")
    actions = scenario.add_subparsers(dest="scenario_command", required=True,
                                      parser_class=_Parser, metavar="ACTION")
    listing = actions.add_parser("list", help="list the scenarios")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = actions.add_parser("show", help="everything about one scenario")
    show.add_argument("name", metavar="NAME", help="the scenario (see 'scenario list')")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    apply = actions.add_parser("apply", help="apply a scenario (or its fix) to a running "
                                             "instance")
    apply.add_argument("name", metavar="NAME", help="the scenario (see 'scenario list')")
    apply.add_argument("--url", help=_URL_HELP)
    apply.add_argument("--fix", action="store_true", help="apply the documented fix instead")

    tls = commands.add_parser("tls", help="local certificates for serve --tls")
    tls_actions = tls.add_subparsers(dest="tls_command", required=True, parser_class=_Parser)
    client = tls_actions.add_parser(
        "client-cert", help="issue a key and client certificate for a user from the local "
                            "client CA (serve --tls --client-ca <the printed client-ca>)")
    client.add_argument("user", help="the user's user_name (the certificate's CN)")
    client.add_argument("--out", metavar="DIR", help="where to write them (default "
                                                     "<home>/tls/clients)")
    client.add_argument("--url", help="also map the certificate to the user on this running "
                                      "instance (Table API, as admin)")
    client.add_argument("--ca-bundle", metavar="PATH",
                        help="verify an https --url against this bundle (default "
                             "<home>/tls/ca.pem)")
    return parser


def settings_for(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Settings from the environment and ``serve``'s flags."""
    overrides: dict[str, object] = {
        "release": parse_release(args.release).family,
        "seed": "empty" if args.empty else "demo",
        "scenarios": tuple(args.scenario),
        "access_log": not args.quiet,
    }
    if args.memory:
        overrides["database_path"] = MEMORY
    elif args.db:
        overrides["database_path"] = str(Path(args.db))
    if args.instance_name:
        overrides["instance_name"] = args.instance_name
    return Settings.from_env(environ, **overrides)


def _banner(settings: Settings) -> None:
    print(f"instance: {settings.instance_name} ({parse_release(settings.release).display_name})",
          flush=True)
    print("admin user: admin (password from MOCK_SERVICENOW_ADMIN_PASSWORD, default admin)",
          flush=True)


def _app_banner(app: object) -> None:
    """The installed apps' lines: the credentials a connector needs (ARCHITECTURE §2)."""
    from mock_servicenow import apps

    instance = app.extensions["mock_servicenow"].instance  # type: ignore[attr-defined]
    db = instance.connect()
    try:
        for line in apps.banner_lines(instance.context(db)):
            print(line, flush=True)
    finally:
        db.close()


def serve(args: argparse.Namespace) -> int:
    """``serve``: prepare the instance, bind, print ``ready:``, serve until interrupted."""
    from mock_servicenow.app import create_app
    from mock_servicenow.server import listen, serve_gunicorn
    from mock_servicenow.store.db import DatabaseUnavailable
    from mock_servicenow.tls import ensure_tls

    environ = dict(os.environ)
    settings = settings_for(args, environ)
    if args.workers is not None and args.workers < 1:
        raise CommandError("--workers must be 1 or more")
    if args.workers and settings.is_memory:
        raise CommandError("--memory cannot be shared by several worker processes; use --db")
    # authlib refuses plain http except on loopback (house style F2); the emulator may be
    # served on another interface for containers, so the CLI (never create_app) allows it.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    try:
        tls = ensure_tls(settings.home / "tls", args.host) if args.tls else None
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot prepare TLS under {settings.home / 'tls'}: {exc}") from None
    client_ca = _client_ca(args.client_ca, tls is not None)

    def factory() -> Flask:
        return create_app(settings)

    try:
        app = factory()
    except DatabaseUnavailable as exc:
        raise CommandError(str(exc)) from None

    def ready(url: str) -> None:
        _banner(settings)
        _app_banner(app)
        if tls is not None:
            print(f"ca-bundle: {tls.ca_bundle.resolve()}", flush=True)
        if client_ca is not None:
            print(f"client-ca: {client_ca.resolve()}", flush=True)
        print(f"ready: {url}", flush=True)

    if args.workers:
        serve_gunicorn(lambda: app, args.host, args.port, args.workers, tls, ready,
                       client_ca=client_ca)
        return 0
    try:
        listening = listen(app, args.host, args.port, tls, client_ca)
    except OSError as exc:
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise CommandError(f"port {args.port} on {args.host} is already in use") from None
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    ready(listening.base_url)
    try:
        listening.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _client_ca(value: str | None, tls: bool) -> Path | None:
    """``--client-ca PATH``: a readable PEM CA bundle, only with ``--tls``."""
    if value is None:
        return None
    if not tls:
        raise CommandError("--client-ca needs --tls (client certificates travel over TLS)")
    import ssl

    path = Path(value)
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "no certificate"
        raise CommandError(f"--client-ca {path}: not a readable PEM CA bundle ({reason})") \
            from None
    return path


def tls_command(args: argparse.Namespace) -> int:
    """``tls client-cert USER [--out DIR] [--url BASE]``: a key and a client certificate from
    the local client CA; with ``--url`` the certificate is also mapped to the user
    (``sys_user_certificate``) through the Table API. Paths are printed, never the key."""
    from mock_servicenow.tls import issue_client_certificate

    environ = dict(os.environ)
    home = Settings.from_env(environ).home
    try:
        issued = issue_client_certificate(home / "tls", args.user,
                                          Path(args.out) if args.out else None)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot issue a client certificate: {exc}") from None
    print(f"client-ca: {issued.client_ca.resolve()}")
    print(f"certificate: {issued.certificate.resolve()}")
    print(f"private-key: {issued.private_key.resolve()}")
    if not args.url:
        print(f"not mapped yet: run again with --url BASE, or POST the certificate to "
              f"/api/now/table/sys_user_certificate for {args.user} (docs/identity.md)")
        return 0
    sys_id = _map_certificate(args, home, issued.pem,
                              environ.get("MOCK_SERVICENOW_ADMIN_PASSWORD", "admin"))
    print(f"mapped: {args.user} (sys_user_certificate {sys_id})")
    return 0


def _map_certificate(args: argparse.Namespace, home: Path, pem: str, password: str) -> str:
    import httpx

    base = args.url.rstrip("/")
    bundle = Path(args.ca_bundle) if args.ca_bundle else home / "tls" / "ca.pem"
    verify: bool | str = str(bundle) if base.startswith("https") and bundle.exists() else True
    try:
        with httpx.Client(base_url=base, auth=("admin", password), verify=verify,
                          timeout=30, headers={"Accept": "application/json"}) as client:
            found = client.get("/api/now/table/sys_user", params={
                "sysparm_query": f"user_name={args.user}", "sysparm_fields": "sys_id"})
            if found.status_code != 200:
                raise CommandError(f"cannot look up {args.user}: HTTP {found.status_code}")
            users = found.json().get("result") or []
            if not users:
                raise CommandError(f"no user {args.user} on {args.url}")
            created = client.post("/api/now/table/sys_user_certificate", json={
                "name": f"{args.user} (mock-servicenow client CA)", "user": users[0]["sys_id"],
                "pem_certificate": pem, "active": "true"})
    except httpx.HTTPError as exc:
        raise CommandError(_network_failure(exc, base)) from None
    if created.status_code != 201:
        raise CommandError(f"mapping refused: HTTP {created.status_code}")
    return str(created.json()["result"]["sys_id"])


#: How long the client commands wait for an answer before giving up (docs: README).
CLIENT_TIMEOUT = 30.0


def _post(url: str, body: dict[str, object] | None = None) -> Any:
    """POST to a running instance's control plane; a network failure is a one-line
    :class:`CommandError` saying what happened."""
    import httpx

    try:
        return httpx.post(url, json=body, timeout=CLIENT_TIMEOUT)
    except httpx.HTTPError as exc:
        raise CommandError(_network_failure(exc, url)) from None


def _network_failure(exc: Exception, url: str) -> str:
    """What went wrong reaching ``url``, in words (not an exception class name)."""
    import ssl

    import httpx

    target = httpx.URL(url)
    where = f"{target.host}:{target.port or (443 if target.scheme == 'https' else 80)}"
    origin = f"{target.scheme}://{where}"
    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in causes:
        causes.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(c) for c in causes).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect to {origin} within {CLIENT_TIMEOUT:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {origin} within {CLIENT_TIMEOUT:g} s"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
        return f"connection refused at {where} (is the instance running? see --url)"
    if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
        return f"the certificate of {origin} is not trusted"
    if "wrong version number" in text or "record layer failure" in text:
        return f"the server at {origin} speaks http, not https"
    if isinstance(exc, httpx.RemoteProtocolError):
        return (f"the server at {origin} closed the connection without answering (if it "
                "serves https, use an https:// URL)")
    if "name or service not known" in text or "name resolution" in text:
        return f"cannot find the host {target.host}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"{url} is not an http(s) URL"
    return f"cannot reach {origin}"


def reset(args: argparse.Namespace) -> int:
    """``reset [--url BASE]``: ``POST /_emulator/reset`` on a running instance."""
    url = instance_url(args.url, dict(os.environ))
    response = _post(f"{url}/_emulator/reset")
    if response.status_code != 200:
        raise CommandError(f"reset refused: HTTP {response.status_code}")
    try:
        elapsed = response.json().get("elapsed_ms")
    except (ValueError, AttributeError):
        raise CommandError(f"{url} answered, but not as a mock-servicenow instance") \
            from None
    print(f"reset: {elapsed} ms")
    return 0


def scenario(args: argparse.Namespace) -> int:
    """``scenario list|show|apply``."""
    import json

    from mock_servicenow.domain.platform import scenarios

    dirs = Settings.from_env(dict(os.environ)).scenario_dirs
    if args.scenario_command == "list":
        catalogue = scenarios.catalogue(dirs)
        if args.json:
            print(json.dumps([s.describe() for s in catalogue.values()], indent=2))
        else:
            width = max((len(n) for n in catalogue), default=0)
            for name, entry in sorted(catalogue.items()):
                print(f"{name.ljust(width)}  {entry.title}")
        return 0
    if args.scenario_command == "show":
        described = scenarios.find(args.name, dirs).describe()
        if args.json:
            print(json.dumps(described, indent=2))
            return 0
        print(f"{described['name']}: {described['title']}")
        print(f"troubleshooting: {described['troubleshooting']}")
        print("symptom:")
        for key, value in described["symptom"].items():
            print(f"  {key}: {value}")
        print("fix:")
        for number, step in enumerate(described["fix"]["steps"], start=1):
            print(f"  {number}. {step}")
        print(f"outcome: {described['outcome']}")
        return 0
    base = instance_url(args.url, dict(os.environ))
    response = _post(f"{base}/_emulator/scenarios/{args.name}", {"fix": args.fix})
    if response.status_code != 200:
        try:
            error = response.json()["error"]
            reason = error.get("detail") or error.get("message")
        except (ValueError, KeyError, TypeError):
            reason = f"HTTP {response.status_code}"
        raise CommandError(f"scenario {args.name} not applied: {reason}")
    print(f"{'fixed' if args.fix else 'applied'}: {args.name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mock-servicenow`` and ``python -m mock_servicenow``.

    Every failure is one line on stderr and a non-zero status, never a traceback: errors
    the user can cause (1; 2 for usage), Ctrl-C (130), output closed early (``| head``:
    141, silently)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "reset":
            return reset(args)
        if args.command == "scenario":
            code = scenario(args)
            sys.stdout.flush()
            return code
        if args.command == "tls":
            return tls_command(args)
    except ServiceNowError as exc:
        # Scenario files and names: the domain's error text is the one-line reason.
        return _fail(str(exc.detail or exc.message), 1)
    except UnknownRelease as exc:
        return _fail(str(exc), 2)
    except CommandError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        _silence_stdout()
        return 141
    parser.error(f"unknown command {args.command}")


def _fail(line: str, status: int) -> int:
    print(f"{PROG}: {' '.join(line.split())}", file=sys.stderr)
    return status


def _silence_stdout() -> None:
    """The reader of stdout went away: point it at /dev/null so the interpreter's last flush
    cannot raise again (the usual SIGPIPE behaviour of command-line tools)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
