//! Diff of a 500-agent management unit: canonicalise, hash, compare (half changed).

use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::HashMap;
use std::hint::black_box;
use wfm_reactor::diff::{CanonicalAgentSchedule, diff};
use wfm_reactor::genesys::wfm::BuAgentScheduleQueryResponse;

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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
