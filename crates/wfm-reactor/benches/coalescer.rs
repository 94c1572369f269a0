//! Coalescer throughput: offer and take 100k keys (a reconcile of a very large org).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::coalesce::{Coalescer, ScheduleKey};

const KEYS: usize = 100_000;

fn keys() -> Vec<ScheduleKey> {
    (0..KEYS)
        .map(|i| ScheduleKey {
            business_unit_id: format!("bu-{}", i % 50),
            schedule_id: format!("schedule-{i:08}"),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    c.bench_function("coalescer offer+take 100k keys", |b| {
        b.iter(|| {
            let t0 = Instant::now();
            let mut co = Coalescer::new(Duration::from_secs(2), Duration::from_secs(10));
            for (i, k) in keys.iter().enumerate() {
                co.offer(k.clone(), t0 + Duration::from_micros(i as u64));
            }
            // a second burst on every key moves every deadline once
            for k in &keys {
                co.offer(k.clone(), t0 + Duration::from_millis(500));
            }
            let due = co.take_due(t0 + Duration::from_secs(60));
            for k in &due {
                co.finished(k, t0 + Duration::from_secs(61), true);
            }
            black_box(due.len())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
