//! Store throughput: presence-sized commits one at a time, concurrently (group commit),
//! in batches, and outbox reads. Reports elements (events) per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wfm_reactor::events::NewEvent;
use wfm_reactor::store::{Batch, StateChange, Store};
use wfm_testkit::delivery::{presence_change, single};

/// The `i`th presence change: 5000 users, alternating presence, distinct modifiedDates.
fn presence(i: u64) -> (StateChange, NewEvent) {
    let presence = if i.is_multiple_of(2) {
        "Available"
    } else {
        "On Queue"
    };
    let modified = format!("2026-01-01T00:00:00.{:06}Z", i % 1_000_000);
    presence_change(
        &format!("user-{}", i % 5000),
        presence,
        &modified,
        Some("PURECLOUD"),
    )
}

fn one(i: u64) -> Batch {
    single(presence(i))
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.db")).unwrap();
    let mut n = 0u64;
    let mut g = c.benchmark_group("outbox");
    g.sample_size(10);

    g.throughput(Throughput::Elements(100));
    g.bench_function("commit_sequential_100", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..100 {
                    n += 1;
                    store.commit(one(n)).await.unwrap();
                }
            })
        })
    });

    const CONCURRENT: u64 = 5000;
    g.throughput(Throughput::Elements(CONCURRENT));
    g.bench_function("commit_concurrent_single_event", |b| {
        b.iter(|| {
            n += CONCURRENT;
            let base = n;
            rt.block_on(async {
                let tasks: Vec<_> = (0..CONCURRENT)
                    .map(|i| {
                        let s = store.clone();
                        tokio::spawn(async move { s.commit(one(base + i)).await.unwrap() })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });

    g.throughput(Throughput::Elements(5000));
    g.bench_function("commit_batched_100x50", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..50 {
                    let mut batch = Batch::default();
                    for _ in 0..100 {
                        n += 1;
                        let (c, e) = presence(n);
                        batch.changes.push(c);
                        batch.events.push(e);
                    }
                    store.commit(batch).await.unwrap();
                }
            })
        })
    });

    g.throughput(Throughput::Elements(256));
    g.bench_function("read_outbox_256", |b| {
        b.iter(|| rt.block_on(async { store.read_outbox(1000, 256).await.unwrap() }))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
