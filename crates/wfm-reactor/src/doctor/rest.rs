//! The REST checks: each route the daemon calls, on the watched business units, in the
//! order the daemon calls them. Whatever could be read is returned as the membership the
//! topic checks subscribe for.

use super::Check;
use crate::config::Config;
use crate::reactor::{Membership, WatchedBu};
use crate::wfm::{Weeks, WfmClient};
use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use std::collections::BTreeMap;

/// Users sampled for the presence and routing-status calls (one bulk call's worth).
const SAMPLE_USERS: usize = crate::wfm::BULK_PRESENCE_MAX;

/// Runs the REST checks, pushing one row per route and business unit.
pub async fn check(config: &Config, wfm: &WfmClient, out: &mut Vec<Check>) -> Membership {
    let all = config.watch.business_units.iter().any(|b| b == "*");
    let mut ids: Vec<String> = config
        .watch
        .business_units
        .iter()
        .filter(|b| *b != "*")
        .cloned()
        .collect();
    let name = "REST businessunits.list (GET /businessunits)";
    match wfm.business_units().await {
        Ok(list) => {
            let visible: Vec<String> = list
                .into_iter()
                .filter(|b| b.authorized != Some(false))
                .filter_map(|b| b.id)
                .collect();
            let row = if all && visible.is_empty() {
                Check::fail(
                    name,
                    "no business unit visible to the OAuth client (divisions of its roles?)",
                    Vec::new(),
                )
            } else {
                Check::pass(name, format!("{} business unit(s) visible", visible.len()))
            };
            out.push(if all { row } else { row.optional() });
            if all {
                ids = visible;
            }
        }
        Err(err) => {
            let row = Check::from_wfm_error(name, &err);
            out.push(if all { row } else { row.optional() });
        }
    }
    let mut membership = Membership::default();
    for bu in ids {
        if let Some(w) = check_bu(config, wfm, &bu, out).await {
            membership.business_units.insert(bu, w);
        }
    }
    let users: Vec<String> = crate::reactor::watched_users(config, &membership)
        .into_iter()
        .take(SAMPLE_USERS)
        .collect();
    check_presence(config, wfm, &users, out).await;
    check_adherence(config, wfm, &membership, out).await;
    membership
}

/// Genesys's adherence of one watched unit (`wfm:realtimeAdherence:view`, the permission
/// of the unit topic too). Optional in `mode = "auto"`: a refusal only means the local
/// engine computes adherence there.
async fn check_adherence(config: &Config, wfm: &WfmClient, m: &Membership, out: &mut Vec<Check>) {
    let name = "REST adherence.get (GET /managementunits/{id}/adherence, wfm:realtimeAdherence:view)";
    if !crate::reactor::genesys_adherence(config) {
        out.push(Check::skipped(
            name,
            "adherence off or [adherence] mode = \"local\"",
        ));
        return;
    }
    let Some(mu) = m.management_units().next() else {
        out.push(Check::skipped(name, "no watched management unit"));
        return;
    };
    let row = match wfm.management_unit_adherence(mu).await {
        Ok(a) => Check::pass(name, format!("management unit {mu}: {} agent(s)", a.len())),
        Err(err) => Check::from_wfm_error(name, &err),
    };
    let auto = config.adherence.mode == crate::config::AdherenceMode::Auto;
    out.push(if auto { row.optional() } else { row });
}

/// One business unit: settings, management units and their agents, activity codes,
/// schedules in the reconcile window, one schedule's metadata and agent schedules.
async fn check_bu(config: &Config, wfm: &WfmClient, bu: &str, out: &mut Vec<Check>) -> Option<WatchedBu> {
    let label = |route: &str| format!("REST {route} (BU {bu})");
    let time_zone = match wfm.business_unit(bu).await {
        Ok(d) => {
            let tz = d
                .settings
                .and_then(|s| s.time_zone)
                .unwrap_or_else(|| "UTC".into());
            out.push(Check::pass(label("businessunits.get"), format!("time zone {tz}")));
            tz
        }
        Err(err) => {
            out.push(Check::from_wfm_error(label("businessunits.get"), &err));
            return None;
        }
    };
    let mut management_units = BTreeMap::new();
    match wfm.management_units(bu).await {
        Ok(mus) => {
            out.push(Check::pass(
                label("managementunits.list"),
                format!("{} management unit(s)", mus.len()),
            ));
            let mut failed = None;
            for mu in mus.into_iter().filter_map(|m| m.id) {
                match wfm.management_unit_users(&mu).await {
                    Ok(users) => {
                        management_units.insert(mu, users);
                    }
                    Err(err) => {
                        failed = Some(err);
                        break;
                    }
                }
            }
            out.push(match failed {
                Some(err) => Check::from_wfm_error(label("managementunits.users"), &err),
                None => Check::pass(
                    label("managementunits.users"),
                    format!(
                        "{} agent(s)",
                        management_units.values().map(Vec::len).sum::<usize>()
                    ),
                ),
            });
        }
        Err(err) => out.push(Check::from_wfm_error(label("managementunits.list"), &err)),
    }
    out.push(match wfm.refresh_activity_codes(bu).await {
        Ok(codes) => Check::pass(label("activitycodes.list"), format!("{} code(s)", codes.len())),
        Err(err) => Check::from_wfm_error(label("activitycodes.list"), &err),
    });
    check_schedules(config, wfm, bu, &label, out).await;
    Some(WatchedBu {
        time_zone,
        management_units,
    })
}

/// Schedules list over the reconcile window, then one schedule's metadata and agents.
async fn check_schedules(
    config: &Config,
    wfm: &WfmClient,
    bu: &str,
    label: &dyn Fn(&str) -> String,
    out: &mut Vec<Check>,
) {
    let today = Utc::now().date_naive();
    let earliest = week_start(today) - Days::weeks(i64::from(config.fetch.weeks_back));
    let latest = week_start(today) + Days::weeks(i64::from(config.fetch.weeks_ahead));
    let (e, l) = (
        earliest.format("%Y-%m-%d").to_string(),
        latest.format("%Y-%m-%d").to_string(),
    );
    let weeks = Weeks::Recent {
        earliest: &e,
        latest: &l,
    };
    let list = match wfm.schedules(bu, weeks, config.watch.published_only).await {
        Ok(list) => {
            out.push(Check::pass(
                label("schedules.list"),
                format!("{} schedule(s) between {e} and {l}", list.len()),
            ));
            list
        }
        Err(err) => {
            out.push(Check::from_wfm_error(label("schedules.list"), &err));
            return;
        }
    };
    let Some((id, week)) = list
        .iter()
        .find_map(|s| Some((s.id.clone()?, s.week_date.clone()?)))
    else {
        out.push(Check::skipped(
            label("schedules.get"),
            "no schedule in the window",
        ));
        out.push(Check::skipped(
            label("agentschedules.query"),
            "no schedule in the window",
        ));
        return;
    };
    let meta = match wfm.schedule_metadata(bu, &week, &id).await {
        Ok(m) => {
            out.push(Check::pass(label("schedules.get"), format!("schedule {id}")));
            m
        }
        Err(err) => {
            out.push(Check::from_wfm_error(label("schedules.get"), &err));
            return;
        }
    };
    let Some(mu) = meta
        .management_units
        .iter()
        .find_map(|m| m.management_unit.as_ref().and_then(|r| r.id.clone()))
    else {
        out.push(Check::skipped(
            label("agentschedules.query"),
            format!("schedule {id} has no management unit"),
        ));
        return;
    };
    out.push(match wfm.agent_schedules(bu, &week, &id, &mu, None).await {
        Ok(r) => Check::pass(
            label("agentschedules.query"),
            format!("{} agent schedule(s) in MU {mu}", r.agent_schedules.len()),
        ),
        Err(err) => Check::from_wfm_error(label("agentschedules.query"), &err),
    });
}

/// Bulk presence (and routing status when watched) for a sample of the watched users.
async fn check_presence(config: &Config, wfm: &WfmClient, users: &[String], out: &mut Vec<Check>) {
    if users.is_empty() {
        out.push(Check::skipped("REST presence.bulk", "no watched users"));
        return;
    }
    out.push(match wfm.presences(users).await {
        Ok(p) => Check::pass("REST presence.bulk", format!("{} presence(s) read", p.len())),
        Err(err) => Check::from_wfm_error("REST presence.bulk", &err),
    });
    if config.watch.routing_status {
        out.push(match wfm.routing_status(&users[0]).await {
            Ok(_) => Check::pass("REST routingstatus.get", format!("user {}", users[0])),
            Err(err) => Check::from_wfm_error("REST routingstatus.get", &err),
        });
    }
}

/// Monday of `d`'s ISO week (the reconcile window is aligned the same way).
fn week_start(d: NaiveDate) -> NaiveDate {
    d - Days::days(i64::from(d.weekday().num_days_from_monday()))
}
