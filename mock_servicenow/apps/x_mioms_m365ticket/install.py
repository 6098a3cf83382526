"""Installing the app: the release gate, its scope, role and records; ``serve``'s banner.

m365-ticketing.md §3.2: the app needs ServiceNow Kingston or later. On an older release the
install is refused with a clear message (logged to ``syslog`` and shown by ``serve``), and the
instance runs without the app (its scripted API then does not exist). The demo seed installs
the app and completes its checklist (ARCHITECTURE §2).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from mock_servicenow.apps.x_mioms_m365ticket import checklist
from mock_servicenow.apps.x_mioms_m365ticket.constants import (
    APP_NAME,
    APP_ROLE,
    APP_VERSION,
    CONNECTION_TABLE,
    INTEGRATION_USER,
    MIN_RELEASE,
    OAUTH_ENTITY_NAME,
    PACKAGE_PRIVILEGES,
    SCOPE,
    SCOPE_SYS_ID,
)
from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.domain.identity import oauth_tokens
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.seed import Installer, storage_row
from mock_servicenow.domain.scopes import access_policy
from mock_servicenow.domain.scopes.scoped import ScopedContext
from mock_servicenow.errors import ServiceNowError
from mock_servicenow.releases import Release, UnknownRelease, parse_release
from mock_servicenow.store import rows


class InstallRefused(ServiceNowError):
    """The app cannot be installed on this instance (release too old)."""

    status = 400
    message = "Application installation failed"


def release_refusal(release: Release) -> str | None:
    """Why the app cannot be installed on ``release``, or ``None`` when it can."""
    if release.at_least(MIN_RELEASE):
        return None
    return (f"{APP_NAME} ({SCOPE}) requires ServiceNow {parse_release(MIN_RELEASE).display_name} "
            f"or later; this instance runs {release.display_name}. Upgrade the instance to "
            "install it.")


def reported_release(ctx: Context) -> Release:
    """The release the instance reports about itself: its ``glide.war`` build.

    servicenow-behaviour §8: ``glide.war`` is how an instance tells its release; the store's
    compatibility check and the connector both read it. A missing or unparseable value falls
    back to the release the instance was started with.
    """
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_properties", name="glide.war")
    match = re.match(r"glide-([a-z]+)-", str(found[0].get("value") or "")) if found else None
    if match:
        try:
            return parse_release(match.group(1))
        except UnknownRelease:
            pass
    return ctx.platform.release


def is_installed(ctx: Context) -> bool:
    """True when the app's scope exists and the instance's release can run it.

    On a release older than Kingston (as ``glide.war`` reports it: see
    :func:`reported_release`) the app is not available, so the ``pre-kingston`` scenario
    reproduces on a running instance.
    """
    if release_refusal(reported_release(ctx)) is not None:
        return False
    return access_policy.load_scope(ctx, SCOPE) is not None


def install(ctx: Context) -> None:
    """Install the app (scope, role, checklist and connection records); idempotent.

    Raises :class:`InstallRefused` on releases older than Kingston.
    """
    refusal = release_refusal(reported_release(ctx))
    if refusal is not None:
        raise InstallRefused(refusal)
    if is_installed(ctx):
        return
    stamp, by = ctx.now_glide(), ctx.user.user_name
    for table, values, sys_id in (
        ("sys_scope", {
            "name": APP_NAME, "scope": SCOPE, "version": APP_VERSION, "vendor": "Microsoft",
            "vendor_prefix": "x_mioms",
            "short_description": "Create and track Microsoft 365 Secure Score tickets",
            # Enforcing: a missing cross-scope privilege is requested, not granted
            # (servicenow-behaviour §5); the checklist's step 4 requests and allows them.
            "runtime_access_tracking": "enforcing",
        }, SCOPE_SYS_ID),
        ("sys_user_role", {"name": APP_ROLE, "suffix": "user", "sys_scope": SCOPE_SYS_ID,
                           "description": f"User of the {APP_NAME}"},
         stable_sys_id("sys_user_role", APP_ROLE)),
    ):
        row = storage_row(ctx.dictionary, table, values, stamp=stamp, user_name=by)
        row["sys_id"] = sys_id
        rows.insert(ctx.db, ctx.dictionary, table, row)
    scope = access_policy.load_scope(ctx, SCOPE)
    assert scope is not None  # inserted just above
    for table, operation in PACKAGE_PRIVILEGES:
        access_policy.record_privilege(ctx, scope, table, operation, "allowed")
    checklist.seed_steps(ctx)
    ScopedContext(ctx, SCOPE).insert(CONNECTION_TABLE, {"name": "Microsoft 365 security center",
                                                        "status": "not_connected"})


def _log_refusal(ctx: Context, message: str) -> None:
    row = storage_row(ctx.dictionary, "syslog", {"level": "2", "message": message,
                                                 "source": "sn_appclient"},
                      stamp=ctx.now_glide(), user_name=ctx.user.user_name)
    row["sys_id"] = ctx.platform.ids.sys_id()
    rows.insert(ctx.db, ctx.dictionary, "syslog", row)


def installer(integration_password: str) -> Installer:
    """The seed's installer: install, then complete the checklist with this password."""

    def install_app(ctx: Context) -> None:
        # Ids from a stream of the app's own: see IdGenerator.derive.
        platform = dataclasses.replace(ctx.platform, ids=ctx.platform.ids.derive(SCOPE))
        ctx = dataclasses.replace(ctx, platform=platform)
        try:
            install(ctx)
        except InstallRefused as refused:
            _log_refusal(ctx, refused.detail or refused.message)
            return
        checklist.run_all(ctx, integration_password=integration_password)

    # The instance caches seeded templates keyed by installer names; the password changes the
    # seed's result, so it belongs in the name (as a digest, never in clear).
    digest = hashlib.sha256(integration_password.encode()).hexdigest()[:12]
    install_app.__qualname__ = f"install_app[{digest}]"
    return install_app


def banner_lines(ctx: Context) -> list[str]:
    """What ``serve`` prints: the OAuth client a connector needs, the integration user.

    These demo credentials are ``serve``'s documented interface (ARCHITECTURE §2); they are
    printed here and nowhere else (not logged, not in the journal).
    """
    refusal = release_refusal(reported_release(ctx))
    if refusal is not None:
        return [f"m365 app: not installed: {refusal}"]
    if not is_installed(ctx):
        return ["m365 app: not installed"]
    state = "complete" if checklist.get_checklist(ctx).complete else "not complete"
    lines = [f"m365 app: {APP_NAME} ({SCOPE}) installed, checklist {state}"]
    found = rows.find_by(ctx.db, ctx.dictionary, "oauth_entity", name=OAUTH_ENTITY_NAME)
    if found:
        entity = found[0]
        # Only a hash is stored; the secret the platform generated is re-derived. One an
        # admin set since cannot be shown (oauth_tokens module docstring).
        secret = oauth_tokens.generated_client_secret(ctx, entity)
        lines += [
            f"oauth client: {OAUTH_ENTITY_NAME}",
            f"client_id: {entity['client_id']}",
            f"client_secret: {secret}" if secret is not None else
            "client_secret: (changed since the checklist created it: use the one you set)",
            f"redirect urls: {entity['redirect_url']}",
        ]
    if rows.find_by(ctx.db, ctx.dictionary, "sys_user", user_name=INTEGRATION_USER):
        lines.append(f"integration user: {INTEGRATION_USER} (password from "
                     "MOCK_SERVICENOW_INTEGRATION_PASSWORD, default integration)")
    return lines
