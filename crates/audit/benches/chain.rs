//! Events per second through `audit verify`'s walk (hashing and comparison; one core), the
//! figure issue 6 names: `cargo bench -p madoguchi-audit --bench chain`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use madoguchi_audit::{EventContent, GENESIS, Walk, link};

fn event(seq: i64) -> EventContent<'static> {
    EventContent {
        seq,
        id: [seq as u8; 16],
        at: 1_780_000_000 + seq,
        actor: "staff:0190a0b0-0000-7000-8000-000000000001",
        actor_address: Some("10.1.2.3"),
        session: Some("a1b2c3d4e5f6"),
        action: "application.reveal",
        subject_kind: Some("application"),
        subject_id: Some("0190a0b0-0000-7000-8000-0000000000aa"),
        fields: "family_name,given_name,phone_mobile",
        purpose: Some("review"),
        detail: None,
        outcome: "ok",
    }
}

fn walk(c: &mut Criterion) {
    const N: i64 = 100_000;
    let mut head = GENESIS;
    let log: Vec<_> = (1..=N)
        .map(|seq| {
            let e = event(seq);
            head = link(&head, &e);
            (e, head)
        })
        .collect();
    let mut group = c.benchmark_group("audit chain");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("verify walk, 100,000 events", |b| {
        b.iter(|| {
            let mut walk = Walk::new(&[]);
            for (e, h) in &log {
                walk.step(e, h);
            }
            assert!(walk.finish().0.is_empty());
        })
    });
    group.finish();
}

criterion_group!(benches, walk);
criterion_main!(benches);
