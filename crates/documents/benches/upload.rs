//! Upload throughput: one 3 MB phone-style JPEG with EXIF GPS data through everything the
//! server does with it before answering (content check, decode with limits, orientation,
//! re-encode without metadata, encryption under a fresh data key wrapped with HPKE, atomic
//! write with fsync). `cargo bench -p madoguchi-documents`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, RgbImage};
use madoguchi_documents::{DocumentStore, sanitize};
use madoguchi_seal::{EnvelopeWriter, PublicKeySet};

/// A photo-like 12-megapixel JPEG of about 3 MB: smooth areas, edges and sensor noise.
fn three_megabyte_photo() -> Vec<u8> {
    let (w, h) = (4032u32, 3024u32);
    let mut seed = 0x9E37_79B9u32;
    let picture = RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 15) as i32 - 7;
        let base = |v: u32| ((v % 256) as i32 + noise).clamp(0, 255) as u8;
        let card = x > w / 5 && x < w * 4 / 5 && y > h / 4 && y < h * 3 / 4;
        if card {
            let text = (x / 7 + y / 11) % 5 == 0;
            let v = if text { 40 } else { 225 };
            image::Rgb([base(v), base(v), base(v + 10)])
        } else {
            image::Rgb([base(x / 20 + 60), base(y / 15 + 40), base((x + y) / 30)])
        }
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 90))
        .expect("encode");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&support::exif_app1(6));
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn upload(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).expect("data");
    let keys = data.join("keys");
    madoguchi_keyring::init_keys(&keys, &data, &tmp.path().join("core.key")).expect("keys");
    let office = PublicKeySet::load(&keys).expect("keys").office;
    let store =
        DocumentStore::open(&data.join("documents"), EnvelopeWriter::new(office)).expect("folder");
    let folder = store.folder().expect("a folder");
    let photo = three_megabyte_photo();
    eprintln!("upload: {} bytes, 4032 × 3024, EXIF with GPS", photo.len());

    let mut group = c.benchmark_group("identity-document");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(photo.len() as u64));
    group.bench_function("sanitize+encrypt+store 3 MB JPEG", |b| {
        b.iter(|| {
            let document = sanitize(&photo).expect("accepted");
            let id = uuid::Uuid::now_v7();
            let sealed = store.seal(&id, &document).expect("sealed");
            folder.write(&sealed).expect("stored");
            folder.delete(&id).expect("deleted");
        });
    });
    group.bench_function("sanitize only", |b| {
        b.iter(|| sanitize(&photo).expect("accepted"));
    });
    group.finish();
}

criterion_group!(benches, upload);
criterion_main!(benches);
