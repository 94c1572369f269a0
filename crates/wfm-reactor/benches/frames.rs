//! Frame parse + route: one websocket text frame → typed [`Frame`], for the two frames
//! that dominate traffic (presence, BU schedule `Complete`), at realistic sizes. Also a
//! heartbeat, since every socket gets one every 30 s. Reports frames per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use wfm_reactor::topics::{Frame, parse_frame};

fn presence_frame() -> String {
    json!({
        "topicName": "v2.users.8b0c4ff4-1c1b-4b8e-9f5e-3f2f6c1d2a11.presence",
        "version": "2",
        "eventBody": {
            "source": "PURECLOUD",
            "presenceDefinition": {"id": "e08eaf1b-ee47-4fa9-a231-1200e284798f", "systemPresence": "On Queue"},
            "primary": true,
            "message": "",
            "modifiedDate": "2026-11-22T07:01:02.345Z"
        },
        "metadata": {"CorrelationId": "0f3a3a8e-3c39-4a53-9bd4-5c8c3c1a7a10"}
    })
    .to_string()
}

/// A `Complete` for one schedule week touching `agents` agents in one management unit
/// (the shape the simulator and Genesys send: agent ids inline).
fn schedule_frame(agents: usize) -> String {
    let ids: Vec<_> = (0..agents)
        .map(|i| json!({"id": format!("00000000-0000-4000-8000-{i:012}")}))
        .collect();
    json!({
        "topicName": "v2.workforcemanagement.businessunits.3f1c2b7a-8d3e-4a4b-9c55-1e2d3c4b5a69.schedules",
        "version": "2",
        "eventBody": {
            "status": "Complete",
            "operationId": "6d1f0f8e-9a9b-4c59-8c1e-2f0a5c3b7d11",
            "eventType": "Update",
            "result": {
                "id": "a6f2b1c0-5d4e-4f3a-8b2c-1d0e9f8a7b6c",
                "weekDate": "2026-11-23T00:00:00Z",
                "weekCount": 1,
                "description": "Published week of 2026-11-23",
                "published": true,
                "managementUnits": [{
                    "managementUnit": {"id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"},
                    "startDate": "2026-11-23T00:00:00Z",
                    "endDate": "2026-11-30T00:00:00Z",
                    "agents": ids,
                    "agentCount": agents
                }],
                "generationResults": {"failed": false, "messageCount": 0, "messageSeverityCounts": []},
                "metadata": {"version": 42, "modifiedBy": {"id": "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"}, "dateModified": "2026-11-22T07:01:02.345Z"}
            }
        },
        "metadata": {"CorrelationId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}
    })
    .to_string()
}

fn bench(c: &mut Criterion) {
    let heartbeat =
        json!({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}).to_string();
    let frames = [
        ("presence", presence_frame()),
        ("schedule_complete_1_agent", schedule_frame(1)),
        ("schedule_complete_50_agents", schedule_frame(50)),
        ("heartbeat", heartbeat),
    ];
    let mut g = c.benchmark_group("parse_frame");
    for (name, text) in &frames {
        // Guard: a bench of a frame that fails to parse would measure the error path.
        match parse_frame(text) {
            Ok(Frame::Notification { .. } | Frame::Heartbeat) => {}
            other => panic!("{name} did not parse as expected: {other:?}"),
        }
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("{name} ({} bytes)", text.len()), |b| {
            b.iter(|| parse_frame(black_box(text)).expect("valid frame"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
