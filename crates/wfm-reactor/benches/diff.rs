//! Diff of a 500-agent management unit: canonicalise, hash, compare (half changed); and
//! the per-unit work of the load bench's bursts scenario on a simulator-shaped answer of
//! 90 agents (5 shifts of 8–9 activities each), 30 of them changed: reading the answer,
//! canonicalising, diffing against the stored hashes.
//!
//! `DIFF_BENCH_ITERS=n` runs each unit case `n` times without criterion and exits, for
//! instruction counts under `valgrind --tool=callgrind` (repeatable where timings are not).

use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::hint::black_box;
use wfm_reactor::diff::{CanonicalAgentSchedule, CanonicalAnswer, diff};
use wfm_reactor::genesys::wfm::{BuAgentScheduleQueryResponse, BuAgentSchedulesQueryResponse};

fn agent(i: usize, shift_hour: usize) -> BuAgentScheduleQueryResponse {
    let shifts: Vec<_> = (0..5)
        .map(|d| {
            serde_json::json!({
                "id": format!("s-{i}-{d}"),
                "startDate": format!("2026-08-{:02}T{:02}:00:00Z", 17 + d, shift_hour),
                "lengthMinutes": 480,
                "activities": (0..4).map(|a| serde_json::json!({
                    "startDate": format!("2026-08-{:02}T{:02}:00:00Z", 17 + d, shift_hour + 2 * a),
                    "lengthMinutes": 120, "activityCodeId": format!("{a}"), "paid": true
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "user": {"id": format!("user-{i:04}")}, "shifts": shifts, "fullDayTimeOffMarkers": []
    }))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let before: Vec<_> = (0..500).map(|i| agent(i, 8)).collect();
    let previous: HashMap<String, String> = before
        .iter()
        .filter_map(CanonicalAgentSchedule::from_api)
        .map(|(u, s)| (u, s.hash()))
        .collect();
    let after: Vec<_> = (0..500)
        .map(|i| agent(i, if i % 2 == 0 { 9 } else { 8 }))
        .collect();
    c.bench_function("diff 500-agent management unit", |b| {
        b.iter(|| {
            let current: Vec<_> = after
                .iter()
                .filter_map(CanonicalAgentSchedule::from_api)
                .collect();
            let d = diff(&previous, current);
            assert_eq!(d.len(), 250);
            black_box(d)
        })
    });
}

/// One agent's week as the simulator renders it (`genesys-sim`'s `AgentWeek`): five
/// 8-hour shifts, each with its schedule and work-plan references; `revision` moves
/// the start, as a simulator edit does.
fn sim_agent(i: usize, revision: usize) -> Value {
    let start = 6 + (i + revision) % 6;
    let segments: &[(i64, i64, &str)] = if i.is_multiple_of(3) {
        &[
            (0, 120, "0"),
            (120, 15, "1"),
            (135, 105, "0"),
            (240, 30, "2"),
            (270, 60, "3"),
            (330, 30, "0"),
            (360, 15, "1"),
            (375, 105, "0"),
        ]
    } else {
        &[
            (0, 120, "0"),
            (120, 15, "1"),
            (135, 105, "0"),
            (240, 30, "2"),
            (270, 90, "0"),
            (360, 15, "1"),
            (375, 105, "0"),
        ]
    };
    let shifts: Vec<Value> = (0..5)
        .map(|d| {
            let at = |off: i64| {
                let t = chrono::NaiveDate::from_ymd_opt(2026, 8, 17 + d)
                    .unwrap()
                    .and_hms_opt(start as u32, 0, 0)
                    .unwrap()
                    .and_utc()
                    + chrono::Duration::minutes(off);
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            };
            json!({
                "id": format!("6f1c2a4e-0000-4000-8000-{i:06}{d:02}{revision:04}"),
                "startDate": at(0),
                "lengthMinutes": 480,
                "activities": segments.iter().map(|&(off, len, code)| json!({
                    "startDate": at(off), "lengthMinutes": len, "description": "",
                    "activityCodeId": code, "paid": code != "2", "payableMinutes": if code == "2" { 0 } else { len },
                })).collect::<Vec<_>>(),
                "manuallyEdited": revision > 0,
                "schedule": {"id": "0d9c3f8e-1111-4222-8333-444455556666", "weekDate": "2026-08-17"},
                "workPlanId": "1a2b3c4d-0000-4000-8000-000000000009",
                "workPlanShiftId": format!("1a2b3c4d-0000-4000-8000-0000000000{d:02}"),
            })
        })
        .collect();
    let user = format!("00000000-0000-4000-8000-{i:012}");
    json!({
        "user": {"id": user, "selfUri": format!("/api/v2/users/{user}")},
        "shifts": shifts,
        "fullDayTimeOffMarkers": [],
        "workPlan": {"id": "1a2b3c4d-0000-4000-8000-000000000009"},
        "metadata": {"version": revision + 1},
    })
}

/// The bursts scenario's unit: 90 agents named by the narrowing, 30 of them edited.
struct Unit {
    body: Vec<u8>,
    previous: HashMap<String, String>,
}

fn unit() -> Unit {
    let before: Vec<Value> = (0..90).map(|i| sim_agent(i, 0)).collect();
    let after: Vec<Value> = (0..90)
        .map(|i| sim_agent(i, usize::from(i.is_multiple_of(3))))
        .collect();
    let old: CanonicalAnswer =
        serde_json::from_slice(&serde_json::to_vec(&json!({"agentSchedules": before})).unwrap()).unwrap();
    Unit {
        body: serde_json::to_vec(&json!({"agentSchedules": after})).unwrap(),
        previous: old.agents.into_iter().map(|(u, s)| (u, s.hash())).collect(),
    }
}

/// Reading through the API models, then `from_api` (the definition).
#[inline(never)]
fn read_two_pass(body: &[u8]) -> Vec<(String, CanonicalAgentSchedule)> {
    let answer: BuAgentSchedulesQueryResponse = serde_json::from_slice(body).unwrap();
    answer
        .agent_schedules
        .iter()
        .filter_map(CanonicalAgentSchedule::from_api)
        .collect()
}

/// Reading straight into canonical schedules (what the schedule fetch does).
#[inline(never)]
fn read_one_pass(body: &[u8]) -> Vec<(String, CanonicalAgentSchedule)> {
    serde_json::from_slice::<CanonicalAnswer>(body).unwrap().agents
}

#[inline(never)]
fn read_and_diff(u: &Unit) -> usize {
    let d = diff(&u.previous, read_one_pass(&u.body));
    assert_eq!(d.len(), 30);
    d.len()
}

fn bench_unit(c: &mut Criterion) {
    let u = unit();
    let mut g = c.benchmark_group("bursts unit (90 agents, 30 changed)");
    g.bench_function("read: API models + from_api", |b| {
        b.iter(|| black_box(read_two_pass(&u.body)))
    });
    g.bench_function("read: one pass", |b| b.iter(|| black_box(read_one_pass(&u.body))));
    g.bench_function("read + diff", |b| b.iter(|| black_box(read_and_diff(&u))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench, bench_unit
}

fn main() {
    if let Some(n) = std::env::var("DIFF_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        // `DIFF_BENCH_CASE`: `two-pass`, `one-pass` or `read+diff` (default: all three).
        let case = std::env::var("DIFF_BENCH_CASE").unwrap_or_default();
        let u = unit();
        for _ in 0..n {
            match case.as_str() {
                "two-pass" => drop(black_box(read_two_pass(&u.body))),
                "one-pass" => drop(black_box(read_one_pass(&u.body))),
                "read+diff" => drop(black_box(read_and_diff(&u))),
                _ => {
                    assert_eq!(read_two_pass(&u.body), read_one_pass(&u.body));
                    black_box(read_and_diff(&u));
                }
            }
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
