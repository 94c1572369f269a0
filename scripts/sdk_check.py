#!/usr/bin/env python3
"""Checks the wfm-reactor simulator against the official Genesys Cloud Python SDK.

Usage:  pip install purecloudplatformclientv2
        wfm-reactor sim --listen 127.0.0.1:8089   # prints base_url / client_id / client_secret
        python3 scripts/sdk_check.py http://127.0.0.1:8089 [client_id] [client_secret]

Why: the simulator renders its JSON independently of our client models; the official SDK
deserialises every response into its generated models, so a wrong field name or type in
the simulator shows up here as a missing value. Not run in CI (needs the SDK installed).

The SDK derives the login host by replacing "//api." with "//login." in the API host; a
plain http://127.0.0.1:PORT host has no "api." so login goes to the same base URL, which is
exactly where the simulator serves /oauth/token.
"""
import datetime
import sys
import traceback

import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.models import BuQueryAgentSchedulesRequest, ChannelTopic

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8089"
client_id = sys.argv[2] if len(sys.argv) > 2 else "sim-client"
client_secret = sys.argv[3] if len(sys.argv) > 3 else "sim-secret"

gc.configuration.host = base
api_client = gc.api_client.ApiClient()
api_client.host = base

results = []


def check(name, fn):
    try:
        fn()
        results.append((name, True, ""))
        print(f"PASS {name}")
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        results.append((name, False, repr(e)))
        print(f"FAIL {name}: {e!r}")
        traceback.print_exc(limit=2)


state = {}


def login():
    global api_client
    api_client = api_client.get_client_credentials_token(client_id, client_secret)
    assert api_client.access_token, "no access token"


def wfm():
    return gc.WorkforceManagementApi(api_client)


def bus():
    listing = wfm().get_workforcemanagement_businessunits()
    assert listing.entities and listing.entities[0].id and listing.entities[0].name
    state["bu"] = listing.entities[0].id


def bu_get():
    bu = wfm().get_workforcemanagement_businessunit(state["bu"], expand=["settings"])
    assert bu.settings.time_zone, "settings.timeZone"
    assert bu.settings.start_day_of_week == "Monday"


def mus():
    listing = wfm().get_workforcemanagement_businessunit_managementunits(state["bu"])
    mu = listing.entities[0]
    assert mu.id and mu.business_unit.id == state["bu"]
    state["mu"] = mu.id


def mu_users():
    listing = wfm().get_workforcemanagement_managementunit_users(state["mu"])
    assert listing.entities and listing.entities[0].id
    state["users"] = [u.id for u in listing.entities]


def activity_codes():
    listing = wfm().get_workforcemanagement_businessunit_activitycodes(state["bu"])
    cats = {c.category for c in listing.entities}
    assert {"OnQueueWork", "Break", "Meal"} <= cats, cats


def schedules():
    listing = wfm().get_workforcemanagement_businessunit_week_schedules(state["bu"], "recent")
    published = [s for s in listing.entities if s.published]
    assert published and isinstance(published[0].week_date, datetime.date)
    state["schedule"] = published[0].id
    state["week"] = published[0].week_date


def schedule_meta():
    meta = wfm().get_workforcemanagement_businessunit_week_schedule(
        state["bu"], state["week"], state["schedule"], expand="managementUnits.agents")
    assert meta.metadata.version >= 1
    assert meta.management_units[0].management_unit.id
    assert meta.management_units[0].agents


def agent_query():
    body = BuQueryAgentSchedulesRequest()
    body.management_unit_id = state["mu"]
    body.user_ids = state["users"][:5]
    resp = wfm().post_workforcemanagement_businessunit_week_schedule_agentschedules_query(
        state["bu"], state["week"], state["schedule"], body)
    assert resp.status == "Complete"
    scheds = resp.result.agent_schedules
    assert len(scheds) == 5
    shift = scheds[0].shifts[0]
    assert shift.start_date and shift.length_minutes == 480 and shift.activities[0].activity_code_id


def agent_query_download():
    body = BuQueryAgentSchedulesRequest()
    body.management_unit_id = state["mu"]
    resp = wfm().post_workforcemanagement_businessunit_week_schedule_agentschedules_query(
        state["bu"], state["week"], state["schedule"], body, force_download_service=True)
    assert resp.download_url and resp.result is None


def presence_get():
    p = gc.PresenceApi(api_client).get_user_presences_purecloud(state["users"][0])
    assert p.presence_definition.system_presence and p.modified_date


def presence_bulk():
    ps = gc.PresenceApi(api_client).get_users_presences_purecloud_bulk(id=state["users"][:10])
    assert len(ps) == 10 and ps[0].user_id and ps[0].presence_definition.id


def routing_status():
    r = gc.UsersApi(api_client).get_user_routingstatus(state["users"][0])
    assert r.user_id == state["users"][0] and r.status


def channels():
    n = gc.NotificationsApi(api_client)
    ch = n.post_notifications_channels()
    assert ch.id and ch.connect_uri and ch.expires
    listing = n.get_notifications_channels()
    assert any(c.id == ch.id for c in listing.entities)
    topic = ChannelTopic()
    topic.id = f"v2.users.{state['users'][0]}?presence&routingStatus"
    subs = n.put_notifications_channel_subscriptions(ch.id, [topic])
    assert subs.entities[0].id == topic.id
    extra = ChannelTopic()
    extra.id = f"v2.workforcemanagement.businessunits.{state['bu']}.schedules"
    subs = n.post_notifications_channel_subscriptions(ch.id, [extra])
    assert len(subs.entities) == 2
    got = n.get_notifications_channel_subscriptions(ch.id)
    assert {t.id for t in got.entities} == {topic.id, extra.id}
    n.head_notifications_channel(ch.id)


for name, fn in [
    ("login (client credentials)", login),
    ("business units list", bus),
    ("business unit get (settings)", bu_get),
    ("management units", mus),
    ("management unit users", mu_users),
    ("activity codes", activity_codes),
    ("week schedules (recent)", schedules),
    ("schedule metadata (expand agents)", schedule_meta),
    ("agent schedules query (inline)", agent_query),
    ("agent schedules query (forceDownloadService)", agent_query_download),
    ("presence get", presence_get),
    ("presence bulk", presence_bulk),
    ("routing status", routing_status),
    ("channels create/list/subscriptions/head", channels),
]:
    check(name, fn)

failed = [r for r in results if not r[1]]
print(f"\n{len(results) - len(failed)}/{len(results)} passed")
sys.exit(1 if failed else 0)
