//! WFM schedule REST routes: week schedule lists, schedule metadata, the agent-schedule
//! query with its three delivery modes (inline, `downloadUrl`, async), and the download
//! endpoint that plays the pre-signed URL (gzip JSON, no bearer token needed).

use super::errors::{ApiError, ApiResult};
use super::notify::publish_where;
use super::query::Query;
use super::schedules::{AgentWeek, WeekKey, agent_week, iso};
use super::state::DownloadFault;
use super::state::{AppState, ScheduleState, Shared};
use super::topics::is_query_result_topic;
use super::wfm_routes::{bu_or_404, require};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// Permissions that allow reading schedules (any one).
pub(crate) const SCHEDULE_PERMS: &[&str] = &["wfm:schedule:view", "wfm:publishedSchedule:view"];

/// Downloads kept before old ones are dropped.
const MAX_DOWNLOADS: usize = 1024;

/// Renders the list-item fields of a schedule (shared by list, metadata and events).
pub(crate) fn schedule_json(shared: &Shared, s: &ScheduleState) -> Value {
    let by = json!({"id": shared.org.org_id});
    json!({
        "id": s.id, "weekDate": s.week_date.to_string(), "weekCount": 1, "description": s.description,
        "published": s.published,
        "shortTermForecast": {"id": super::ids::uuid(&[super::ids::hash_str(&s.id), 11]), "weekDate": s.week_date.to_string(), "description": "Forecast"},
        "generationResults": {"failed": false, "runId": super::ids::uuid(&[super::ids::hash_str(&s.id), 12]), "messageCount": 0, "messageSeverityCounts": []},
        "metadata": {"version": s.version, "modifiedBy": by, "dateModified": iso(s.modified), "createdBy": by, "dateCreated": iso(shared.started)},
        "selfUri": format!("/api/v2/workforcemanagement/businessunits/{}/weeks/{}/schedules/{}", shared.org.bus[s.bu].id, s.week_date, s.id),
    })
}

/// Parses a `yyyy-MM-dd` week id.
fn parse_week(w: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(w, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            "invalid.date",
            format!("weekId {w:?} is not yyyy-MM-dd or 'recent'"),
        )
    })
}

/// `GET .../businessunits/{buId}/weeks/{weekId}/schedules`
pub(crate) async fn list(
    State(shared): State<AppState>,
    Path((bu, week)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let b = bu_or_404(&shared, &bu)?;
    require(&shared, SCHEDULE_PERMS)?;
    let q = Query::parse(raw.as_deref());
    let (lo, hi) = if week == "recent" {
        let today = chrono::Utc::now().date_naive();
        let lo = q
            .get("earliestWeekDate")
            .map(parse_week)
            .transpose()?
            .unwrap_or(today - chrono::Duration::weeks(26));
        let hi = q
            .get("latestWeekDate")
            .map(parse_week)
            .transpose()?
            .unwrap_or(today + chrono::Duration::weeks(26));
        (lo, hi)
    } else {
        let d = parse_week(&week)?;
        (d, d)
    };
    let only_published = q.flag("includeOnlyPublished");
    let inner = shared.lock();
    let entities: Vec<Value> = inner
        .schedules
        .iter()
        .filter(|s| s.bu == b && !s.deleted && (!only_published || s.published))
        // A one-week schedule spans [weekDate, weekDate + 6].
        .filter(|s| s.week_date + chrono::Duration::days(6) >= lo && s.week_date <= hi)
        .map(|s| schedule_json(&shared, s))
        .collect();
    Ok(Json(json!({"entities": entities})))
}

/// The index of a live schedule of a BU and week, or 404.
fn find(shared: &Shared, b: usize, week: &str, id: &str) -> ApiResult<usize> {
    let inner = shared.lock();
    inner
        .schedules
        .iter()
        .position(|s| {
            s.bu == b && s.id == id && !s.deleted && (week == "recent" || s.week_date.to_string() == week)
        })
        .ok_or_else(|| ApiError::not_found("schedule"))
}

/// `GET .../weeks/{weekId}/schedules/{scheduleId}?expand=managementUnits.agents`
pub(crate) async fn metadata(
    State(shared): State<AppState>,
    Path((bu, week, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let b = bu_or_404(&shared, &bu)?;
    require(&shared, SCHEDULE_PERMS)?;
    let idx = find(&shared, b, &week, &id)?;
    let with_agents = Query::parse(raw.as_deref())
        .all("expand")
        .iter()
        .any(|e| e == "managementUnits.agents");
    let inner = shared.lock();
    let s = &inner.schedules[idx];
    let mut body = schedule_json(&shared, s);
    let start = iso(s.week_date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    let end = iso((s.week_date + chrono::Duration::days(7))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc());
    let mus: Vec<Value> = shared.org.bus[b]
        .mus
        .iter()
        .map(|&m| {
            let mu = &shared.org.mus[m];
            let mut v = json!({"managementUnit": {"id": mu.id}, "agentCount": mu.agents.len(), "startDate": start, "endDate": end});
            if with_agents {
                v["agents"] = mu.agents.iter().map(|&a| json!({"id": shared.org.agents[a].id})).collect();
            }
            v
        })
        .collect();
    body["managementUnits"] = Value::Array(mus);
    Ok(Json(body))
}

/// Stores a gzip JSON result and returns its download URL.
pub(crate) fn store_download(shared: &Shared, value: &impl Serialize) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Serialised whole first: serde_json writes many tiny fragments, and each write into
    // the encoder is a deflate call.
    let json = serde_json::to_vec(value).unwrap_or_default();
    let _ = gz.write_all(&json);
    let bytes = gz.finish().unwrap_or_default();
    let mut inner = shared.lock();
    // Counter first so keys sort by age and the oldest download is the one dropped.
    inner.download_seq += 1;
    let key = format!("{:012x}{}", inner.download_seq, uuid::Uuid::new_v4().simple());
    if inner.downloads.len() >= MAX_DOWNLOADS
        && let Some(old) = inner.downloads.keys().next().cloned()
    {
        inner.downloads.remove(&old);
    }
    inner.downloads.insert(key.clone(), bytes.into());
    format!("{}/downloads/{key}", shared.base_url)
}

/// Stores the configured gzip bomb as a download; keys of bombs served without
/// `Content-Encoding` end in [`RAW_SUFFIX`].
async fn store_bomb(shared: &Shared, bomb: &crate::bomb::DownloadBomb) -> String {
    let size = bomb.decoded_bytes;
    let bytes = tokio::task::spawn_blocking(move || crate::bomb::cached_bomb(size))
        .await
        .unwrap_or_default();
    let mut inner = shared.lock();
    inner.download_seq += 1;
    let suffix = if bomb.without_content_encoding {
        RAW_SUFFIX
    } else {
        ""
    };
    let key = format!("{:012x}bomb{suffix}", inner.download_seq);
    inner.downloads.insert(key.clone(), bytes);
    format!("{}/downloads/{key}", shared.base_url)
}

/// Marks a stored download served as raw gzip bytes, without `Content-Encoding`.
const RAW_SUFFIX: &str = "-raw";

/// `GET /downloads/{key}`: the gzip body, `Content-Encoding: gzip`, no auth.
pub(crate) async fn download(State(shared): State<AppState>, Path(key): Path<String>) -> Response {
    let (body, fault) = {
        let mut inner = shared.lock();
        let body = inner.downloads.get(&key).cloned();
        let fault = body.as_ref().and(inner.download_faults.pop_front());
        (body, fault)
    };
    match fault {
        Some(DownloadFault::Slow(wait)) => tokio::time::sleep(wait).await,
        Some(DownloadFault::Truncated) => {
            if let Some(b) = body {
                return truncated(b);
            }
        }
        None => {}
    }
    match body {
        Some(b) if key.ends_with(RAW_SUFFIX) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], b).into_response()
        }
        Some(b) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            b,
        )
            .into_response(),
        None => ApiError::not_found("download").into_response(),
    }
}

/// Half of `body`, then a broken connection: `Content-Length` promises all of it.
fn truncated(body: bytes::Bytes) -> Response {
    metrics::counter!("wfm_reactor_sim_downloads_truncated_total").increment(1);
    let half = body.slice(..body.len() / 2);
    let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "sim: download cut");
    let chunks = futures::stream::iter([Ok(half), Err(cut)]);
    let mut resp = axum::body::Body::from_stream(chunks).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_ENCODING, header::HeaderValue::from_static("gzip"));
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(body.len()));
    resp
}

/// `POST .../schedules/{scheduleId}/agentschedules/query?forceAsync=&forceDownloadService=`
pub(crate) async fn query(
    State(shared): State<AppState>,
    Path((bu, week, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    Json(req): Json<Value>,
) -> ApiResult<Response> {
    let b = bu_or_404(&shared, &bu)?;
    require(&shared, SCHEDULE_PERMS)?;
    let idx = find(&shared, b, &week, &id)?;
    let mu_id = req
        .get("managementUnitId")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("bad.request", "managementUnitId is required"))?;
    let m = shared
        .org
        .mu_index(mu_id)
        .filter(|&m| shared.org.mus[m].bu == b)
        .ok_or_else(|| {
            ApiError::bad_request(
                "wfm.management.unit.not.found",
                format!("management unit {mu_id} is not in business unit {bu}"),
            )
        })?;
    if let Some(bomb) = shared
        .config
        .download_bomb
        .as_ref()
        .filter(|b| b.management_unit == mu_id)
    {
        let url = store_bomb(&shared, bomb).await;
        return Ok(Json(json!({"status": "Complete", "operationId": uuid::Uuid::new_v4().to_string(), "progress": 100, "downloadUrl": url})).into_response());
    }
    // The simulated org has no teams, so any requested team is empty (the 2025-12 rule).
    if req
        .get("teamIds")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
    {
        return Err(ApiError::bad_request(
            "wfm.team.empty.or.no.members.in.management.unit",
            "The requested teams are empty or have no members in the management unit",
        ));
    }
    let wanted: Option<Vec<&str>> = req
        .get("userIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let q = Query::parse(raw.as_deref());
    let (force_async, force_download) = (q.flag("forceAsync"), q.flag("forceDownloadService"));
    let bu_ref = &shared.org.bus[b];
    // Only the revisions are read under the lock; rendering happens outside it, so
    // simultaneous queries (and the schedule changes a test drives) do not queue.
    let (schedule_id, week_date, agents) = {
        let inner = shared.lock();
        let s = &inner.schedules[idx];
        let agents: Vec<(usize, u32)> = shared.org.mus[m]
            .agents
            .iter()
            .filter(|&&a| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&shared.org.agents[a].id.as_str()))
            })
            .map(|&a| (a, inner.revisions.get(&(idx, a)).copied().unwrap_or(0)))
            .collect();
        (s.id.clone(), s.week_date, agents)
    };
    let schedules: Vec<AgentWeek> = agents
        .into_iter()
        .map(|(a, revision)| {
            agent_week(&WeekKey {
                seed: shared.config.seed,
                schedule_id: &schedule_id,
                week_date,
                agent_index: a,
                agent_id: &shared.org.agents[a].id,
                revision,
                offset_minutes: bu_ref.offset_minutes,
            })
        })
        .collect();
    let count = schedules.len();
    let result = QueryResult {
        agent_schedules: schedules,
        business_unit_time_zone: &bu_ref.time_zone,
    };
    let operation_id = uuid::Uuid::new_v4().to_string();
    let async_only = shared.lock().async_only;
    if force_async || (async_only && !force_download) {
        let url = store_download(&shared, &result);
        let body = json!({"operationId": operation_id, "businessUnitId": bu_ref.id, "downloadUrl": url});
        let s2 = shared.clone();
        tokio::spawn(async move {
            // After the response: the client must have subscribed beforehand.
            tokio::time::sleep(Duration::from_millis(20)).await;
            publish_where(&s2, is_query_result_topic, &body);
        });
        return Ok(
            Json(json!({"status": "Processing", "operationId": operation_id, "progress": 0})).into_response(),
        );
    }
    if force_download || count > shared.config.download_threshold_agents {
        let url = store_download(&shared, &result);
        return Ok(Json(
            json!({"status": "Complete", "operationId": operation_id, "progress": 100, "downloadUrl": url}),
        )
        .into_response());
    }
    Ok(Json(InlineAnswer {
        status: "Complete",
        operation_id: &operation_id,
        progress: 100,
        result: &result,
    })
    .into_response())
}

/// The query's `result` (`BuAgentScheduleQueryResponse` list and the BU's time zone).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryResult<'a> {
    agent_schedules: Vec<AgentWeek>,
    business_unit_time_zone: &'a str,
}

/// A `Complete` answer with its result inline.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InlineAnswer<'a> {
    status: &'static str,
    operation_id: &'a str,
    progress: u32,
    result: &'a QueryResult<'a>,
}
