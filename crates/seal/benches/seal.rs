//! Costs of the public site's sealing operations.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use hpke::Kem as _;
use madoguchi_seal::{
    EnvelopeWriter, MailSealer, PublicKey, Sealable, SecretKind, SecretSealer, suite,
};
use std::hint::black_box;
use uuid::Uuid;

struct Pin(&'static [u8]);
impl Sealable for Pin {
    fn secret_bytes(&self) -> &[u8] {
        self.0
    }
}

fn public_key(seed: u8) -> PublicKey {
    let (_, pk) = suite::Kem::derive_keypair(&[seed; 32]);
    PublicKey::from_hpke(pk)
}

fn bench(c: &mut Criterion) {
    let subject = Uuid::from_u128(0x0123_4567_89ab_cdef);

    let sealer = SecretSealer::new(public_key(1));
    c.bench_function("secret_seal_4_digit_pin", |b| {
        b.iter(|| {
            sealer
                .seal(SecretKind::CashCardPin, black_box(&subject), &Pin(b"1234"))
                .unwrap()
        })
    });

    let writer = EnvelopeWriter::new(public_key(2));
    let value = [b'x'; 30];
    let names: Vec<String> = (0..20).map(|i| format!("field_{i:02}")).collect();
    c.bench_function("envelope_begin_plus_20_fields_30b", |b| {
        b.iter(|| {
            let enc = writer.begin(black_box(&subject)).unwrap();
            let mut total = 0;
            for name in &names {
                total += enc.encrypt_field(name, black_box(&value)).unwrap().len();
            }
            (enc.wrapped_key().as_bytes().len(), total)
        })
    });

    let mail = MailSealer::new(public_key(3));
    let message = vec![b'm'; 2048];
    c.bench_function("mail_seal_2kb", |b| {
        b.iter(|| mail.seal(black_box(&subject), black_box(&message)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
