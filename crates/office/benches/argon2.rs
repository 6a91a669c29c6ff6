//! One staff password hash (Argon2id, the parameters of `sign_in::password`) on this machine:
//! what a sign-in, a password change or an unknown username costs the server.
//!
//! `cargo bench -p madoguchi-office --bench argon2`

use criterion::{Criterion, criterion_group, criterion_main};
use madoguchi_office::sign_in::password::{
    ARGON2_M_COST, ARGON2_P_COST, ARGON2_T_COST, current_params, hash_with, verify,
};

fn bench(c: &mut Criterion) {
    let Ok(params) = current_params() else {
        return;
    };
    let name = format!("argon2id m={ARGON2_M_COST} KiB t={ARGON2_T_COST} p={ARGON2_P_COST}");
    let mut group = c.benchmark_group("staff password");
    group.sample_size(20);
    group.bench_function(format!("hash, {name}"), |b| {
        b.iter(|| hash_with(params.clone(), b"correct horse battery staple"));
    });
    if let Ok(stored) = hash_with(params.clone(), b"correct horse battery staple") {
        group.bench_function(format!("verify, {name}"), |b| {
            b.iter(|| verify(&stored, b"correct horse battery staple", &params));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
