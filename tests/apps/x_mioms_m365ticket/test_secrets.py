"""The demo credentials appear only in ``serve``'s banner: never in answers, logs or the journal."""

from __future__ import annotations

import dataclasses
import json

from mock_servicenow.app import create_app
from mock_servicenow.apps.x_mioms_m365ticket.constants import OAUTH_ENTITY_NAME
from mock_servicenow.domain.identity import oauth_tokens
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows
from tests.apps.x_mioms_m365ticket.conftest import API, browser_session, client, system_ctx

PASSWORD = "Pw-9f3e-distinctive"


def test_client_secret_and_passwords_stay_out_of_answers_logs_and_journal(
        snow_settings: Settings) -> None:
    snow_app = create_app(dataclasses.replace(snow_settings, integration_password=PASSWORD))
    snow_admin = client(snow_app)
    ctx = system_ctx(snow_app)
    entity = rows.find_by(ctx.db, ctx.dictionary, "oauth_entity", name=OAUTH_ENTITY_NAME)[0]
    secret = oauth_tokens.generated_client_secret(ctx, entity)  # what serve's banner prints
    assert secret and str(entity["client_secret"]).startswith("pbkdf2_sha256$")
    seen: list[str] = []
    for step in ("oauth_entity", "integration_user", "roles", "privileges", "readiness"):
        seen.append(snow_admin.post(f"{API}/checklist/{step}/run").text)
    seen.append(snow_admin.get(f"{API}/checklist").text)
    with client(snow_app, ("m365_integration", PASSWORD)) as integration:
        seen.append(integration.post(f"{API}/connection", json={
            "tenant_id": "t", "client_id": entity["client_id"]}).text)
        seen.append(integration.get(f"{API}/connection?access_token=abc").text)
    page = browser_session(snow_app)
    for path in ("/x_mioms_m365ticket_checklist.do", "/oauth_entity_list.do",
                 f"/oauth_entity.do?sys_id={entity['sys_id']}",
                 "/x_mioms_m365ticket_connection.do"):
        seen.append(page.get(path).get_data(as_text=True))
    seen.append(json.dumps(snow_admin.get("/_emulator/journal").json()))
    seen += [str(r["message"]) for r in rows.find_by(ctx.db, ctx.dictionary, "syslog")]
    ctx.db.close()
    everything = "\n".join(seen)
    assert entity["client_id"] in everything  # not a secret: the check can see values
    assert secret not in everything
    assert PASSWORD not in everything
    assert '"connected_by":"m365_integration"' in everything  # the handshake did happen
    snow_admin.close()
