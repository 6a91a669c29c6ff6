//! Hostile and ordinary uploads through `sanitize`, with real files built in the test.

mod support;

use std::time::{Duration, Instant};

use madoguchi_documents::limits::{MAX_DIMENSION, MAX_FILE_BYTES};
use madoguchi_documents::{ContentType, Refusal, inspect, sanitize};
use support::*;

#[test]
fn a_jpeg_loses_its_exif_and_gps_and_is_turned_upright() {
    // Orientation 6: the camera was held rotated; viewers turn it 90° clockwise.
    let upload = jpeg_with_gps(64, 32, 6);
    assert!(jpeg_has_app1(&upload), "the test file carries EXIF");
    assert!(contains(&upload, &GPS_LATITUDE) && contains(&upload, CAMERA_MAKE));
    assert!(
        image::load_from_memory(&upload).is_ok(),
        "the upload is a valid JPEG"
    );

    let clean = sanitize(&upload).expect("accepted");
    assert_eq!(clean.content_type, ContentType::Jpeg);
    assert_eq!(clean.dimensions, Some((32, 64)), "orientation applied");
    assert!(!jpeg_has_app1(&clean.bytes), "no APP1 (EXIF/XMP) segment");
    assert!(!contains(&clean.bytes, b"Exif\0\0"));
    assert!(!contains(&clean.bytes, &GPS_LATITUDE), "no GPS position");
    assert!(!contains(&clean.bytes, CAMERA_MAKE), "no camera make");
    let decoded = image::load_from_memory_with_format(&clean.bytes, image::ImageFormat::Jpeg)
        .expect("the output decodes");
    assert_eq!((decoded.width(), decoded.height()), (32, 64));
}

#[test]
fn a_png_loses_its_text_and_exif_chunks() {
    let upload = png_with_text(40, 30);
    let types = png_chunk_types(&upload);
    assert!(types.contains(&"tEXt".to_owned()) && types.contains(&"eXIf".to_owned()));
    assert!(image::load_from_memory(&upload).is_ok());

    let clean = sanitize(&upload).expect("accepted");
    assert_eq!(clean.content_type, ContentType::Png);
    let types = png_chunk_types(&clean.bytes);
    assert!(
        types
            .iter()
            .all(|t| ["IHDR", "IDAT", "IEND"].contains(&t.as_str())),
        "only image chunks remain: {types:?}"
    );
    assert!(!contains(&clean.bytes, PNG_TEXT));
    assert!(!contains(&clean.bytes, &GPS_LATITUDE));
    let before = image::load_from_memory(&upload).expect("decodes").to_rgb8();
    let after = image::load_from_memory(&clean.bytes)
        .expect("decodes")
        .to_rgb8();
    assert_eq!(before, after, "PNG is re-encoded losslessly");
}

#[test]
fn a_script_named_jpg_is_refused_by_its_content() {
    // The name is not even passed: only bytes decide.
    for bytes in [
        &b"<script>alert(document.cookie)</script>"[..],
        b"<html><body onload=alert(1)>",
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04 not a document",
    ] {
        assert_eq!(
            sanitize(bytes).map(|_| ()),
            Err(Refusal::NotAcceptedType),
            "{bytes:?}"
        );
    }
    assert_eq!(sanitize(b"").map(|_| ()), Err(Refusal::Empty));
}

#[test]
fn a_20000_by_20000_png_header_is_refused_at_once_without_decoding() {
    let bomb = png_claiming(&png(16, 16), 20_000, 20_000);
    assert!(bomb.len() < 2_000);
    let started = Instant::now();
    assert_eq!(inspect(&bomb).map(|_| ()), Err(Refusal::TooManyPixels));
    assert_eq!(sanitize(&bomb).map(|_| ()), Err(Refusal::TooManyPixels));
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_real_decompression_bomb_is_refused_without_allocating_its_pixels() {
    // 20,000 × 20,000 grey pixels would take 400 MB; the file is a few hundred kilobytes.
    let bomb = png_bomb(20_000, 20_000);
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let started = Instant::now();
    assert_eq!(sanitize(&bomb).map(|_| ()), Err(Refusal::TooManyPixels));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // Within the dimension limit but over the pixel count: 10,000 × 9,000 = 90 MP.
    let wide = png_bomb(MAX_DIMENSION, 9_000);
    assert_eq!(sanitize(&wide).map(|_| ()), Err(Refusal::TooManyPixels));
}

#[test]
fn a_jpeg_claiming_too_many_pixels_is_refused_from_its_header() {
    let mut big = jpeg(16, 16);
    // Patch the SOF0 frame header's height and width to 12,000 × 12,000.
    let sof = big
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("SOF0");
    big[sof + 5..sof + 7].copy_from_slice(&12_000u16.to_be_bytes());
    big[sof + 7..sof + 9].copy_from_slice(&12_000u16.to_be_bytes());
    assert_eq!(sanitize(&big).map(|_| ()), Err(Refusal::TooManyPixels));
}

#[test]
fn a_truncated_jpeg_or_png_is_refused() {
    let whole = jpeg_with_gps(200, 120, 1);
    for cut in [
        whole.len() - 2,
        whole.len() * 2 / 3,
        whole.len() / 3,
        300,
        3,
    ] {
        assert_eq!(
            sanitize(&whole[..cut]).map(|_| ()),
            Err(Refusal::Damaged),
            "JPEG cut at {cut} of {}",
            whole.len()
        );
    }
    let whole = png(200, 120);
    for cut in [whole.len() - 1, whole.len() - 12, whole.len() / 2, 20] {
        assert_eq!(
            sanitize(&whole[..cut]).map(|_| ()),
            Err(Refusal::Damaged),
            "PNG cut at {cut} of {}",
            whole.len()
        );
    }
    // A flipped bit in a PNG chunk: its CRC no longer matches.
    let mut flipped = png(20, 20);
    let last_idat_byte = flipped.len() - 12 - 5;
    flipped[last_idat_byte] ^= 0x40;
    assert_eq!(sanitize(&flipped).map(|_| ()), Err(Refusal::Damaged));
}

#[test]
fn garbage_after_a_jpeg_header_is_damage_not_a_panic() {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let base = jpeg(48, 48);
    for round in 0..200 {
        let mut bytes = base.clone();
        for _ in 0..(1 + round % 8) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = 3 + (rng as usize) % (bytes.len() - 3);
            bytes[at] = (rng >> 32) as u8;
        }
        // Whatever the outcome, it is an answer: accepted or refused, never a panic.
        let _ = sanitize(&bytes);
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_anything_else() {
    let mut big = jpeg(16, 16);
    big.resize(MAX_FILE_BYTES + 1, 0);
    assert_eq!(sanitize(&big).map(|_| ()), Err(Refusal::TooLarge));
}

#[test]
fn a_grey_and_an_rgba_image_are_kept_in_their_format() {
    let mut grey = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(30, 20, image::Luma([77])))
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut grey))
        .expect("png");
    let clean = sanitize(&grey).expect("grey PNG");
    assert_eq!(clean.content_type, ContentType::Png);

    let mut rgba = Vec::new();
    image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
        30,
        20,
        image::Rgba([1, 2, 3, 128]),
    ))
    .write_with_encoder(image::codecs::png::PngEncoder::new(&mut rgba))
    .expect("png");
    let clean = sanitize(&rgba).expect("RGBA PNG");
    let back = image::load_from_memory(&clean.bytes).expect("decodes");
    assert_eq!(back.color(), image::ColorType::Rgba8, "transparency kept");
}

#[test]
fn a_pdf_is_accepted_as_is_and_a_pdf_with_javascript_is_not() {
    let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
        2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
        trailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n";
    let clean = sanitize(pdf).expect("accepted");
    assert_eq!(clean.content_type, ContentType::Pdf);
    assert_eq!(&clean.bytes[..], &pdf[..], "stored as uploaded");

    let js = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\nendobj\n\
        trailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n";
    assert_eq!(sanitize(js).map(|_| ()), Err(Refusal::PdfNotAccepted));
    assert_eq!(
        sanitize(&pdf[..pdf.len() - 12]).map(|_| ()),
        Err(Refusal::Damaged),
        "truncated PDF"
    );
}

#[test]
fn a_large_photo_is_handled_within_the_limits() {
    // 4032 × 3024: a 12-megapixel phone photo.
    let upload = jpeg_with_gps(4032, 3024, 1);
    let started = Instant::now();
    let clean = sanitize(&upload).expect("accepted");
    assert_eq!(clean.dimensions, Some((4032, 3024)));
    assert!(!contains(&clean.bytes, &GPS_LATITUDE));
    eprintln!(
        "12 MP JPEG of {} bytes sanitized in {:?}",
        upload.len(),
        started.elapsed()
    );
}

/// Writes the fixtures under `tests/fixtures` (run with `--ignored` to regenerate them).
#[test]
#[ignore = "regenerates the committed fixtures"]
fn regenerate_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::write(dir.join("exif-gps.jpg"), jpeg_with_gps(320, 240, 1)).expect("write");
    std::fs::write(dir.join("text-chunk.png"), png_with_text(64, 48)).expect("write");
}

#[test]
fn the_committed_fixtures_are_what_they_claim() {
    let jpeg = include_bytes!("fixtures/exif-gps.jpg");
    assert!(jpeg_has_app1(jpeg) && contains(jpeg, &GPS_LATITUDE));
    assert!(!contains(
        &sanitize(jpeg).expect("accepted").bytes,
        &GPS_LATITUDE
    ));
    let png = include_bytes!("fixtures/text-chunk.png");
    assert!(contains(png, PNG_TEXT));
    assert!(!contains(&sanitize(png).expect("accepted").bytes, PNG_TEXT));
}
