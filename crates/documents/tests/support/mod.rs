//! Real files built in the test: JPEGs carrying an EXIF block with GPS tags, PNGs carrying
//! text chunks, and headers that lie about their size.
#![allow(dead_code)]

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, RgbImage};

/// The camera make written into the EXIF block.
pub const CAMERA_MAKE: &[u8] = b"GPS-TEST-CAMERA-4711";
/// The GPS latitude 35° 41' 22.45" as the EXIF block stores it (three little-endian
/// rationals): found in a file, it means the position survived.
pub const GPS_LATITUDE: [u8; 24] = [
    35, 0, 0, 0, 1, 0, 0, 0, 41, 0, 0, 0, 1, 0, 0, 0, 0xC5, 0x08, 0, 0, 100, 0, 0, 0,
];
/// The text of the PNG tEXt chunk.
pub const PNG_TEXT: &[u8] = b"Location: 35.6895N 139.6917E home of Taro";

/// A photo-like picture: left half dark, right half light, a gradient in between.
pub fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = if x < width / 2 { 30 } else { 220 };
        image::Rgb([
            v,
            (y * 255 / height.max(1)) as u8,
            ((x * 7 + y * 3) % 256) as u8,
        ])
    })
}

/// A plain JPEG of `picture(width, height)`.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(picture(width, height))
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 92))
        .expect("encode jpeg");
    out
}

/// An EXIF APP1 segment (little-endian TIFF) with IFD0 {Make, Orientation, GPS IFD pointer}
/// and a GPS IFD {LatitudeRef N, Latitude, LongitudeRef E, Longitude}.
pub fn exif_app1(orientation: u16) -> Vec<u8> {
    fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    }
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // Layout: header 8 | IFD0 (2 + 3×12 + 4 = 42) at 8 | GPS IFD (2 + 4×12 + 4 = 54) at 50 |
    // data at 104: make string, latitude, longitude.
    let ifd0 = 8u32;
    let gps_ifd = ifd0 + 42;
    let make_at = gps_ifd + 54;
    let make_len = CAMERA_MAKE.len() as u32 + 1;
    let lat_at = make_at + make_len;
    let lon_at = lat_at + 24;
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&ifd0.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010F, ASCII, make_len, make_at.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, SHORT, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, gps_ifd);
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, lat_at.to_le_bytes());
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, RATIONAL, 3, lon_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, make_at);
    t.extend_from_slice(CAMERA_MAKE);
    t.push(0);
    t.extend_from_slice(&GPS_LATITUDE);
    for (n, d) in [(139u32, 1u32), (41, 1), (3015, 100)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + t.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&t);
    app1
}

/// A JPEG of `picture(width, height)` with the EXIF GPS block right after SOI, as a phone
/// writes it.
pub fn jpeg_with_gps(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&exif_app1(orientation));
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG chunk with its CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

/// A plain PNG of `picture(width, height)`.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(picture(width, height))
        .write_with_encoder(PngEncoder::new(&mut out))
        .expect("encode png");
    out
}

/// A PNG with a tEXt chunk (and an eXIf chunk with GPS) after IHDR.
pub fn png_with_text(width: u32, height: u32) -> Vec<u8> {
    let plain = png(width, height);
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(PNG_TEXT);
    let exif = exif_app1(1);
    let mut out = plain[..ihdr_end].to_vec();
    out.extend_from_slice(&png_chunk(b"tEXt", &text));
    out.extend_from_slice(&png_chunk(b"eXIf", &exif[10..]));
    out.extend_from_slice(&plain[ihdr_end..]);
    out
}

/// `png` with its IHDR claiming `width` × `height` (CRC recomputed): a decompression bomb's
/// header on a tiny file.
pub fn png_claiming(png: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = png.to_vec();
    out[16..20].copy_from_slice(&width.to_be_bytes());
    out[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out[12..29]);
    let crc = crc.finalize().to_be_bytes();
    out[29..33].copy_from_slice(&crc);
    out
}

/// A real decompression bomb: a PNG of `width` × `height` black pixels, one zlib stream of
/// zero rows (a few kilobytes on the wire).
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; width as usize + 1];
    for _ in 0..height {
        z.write_all(&row).expect("deflate");
    }
    let idat = z.finish().expect("deflate");
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    out.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    out.extend_from_slice(&png_chunk(b"IDAT", &idat));
    out.extend_from_slice(&png_chunk(b"IEND", &[]));
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether a JPEG has an APP1 segment (EXIF or XMP) before its first scan.
pub fn jpeg_has_app1(jpeg: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        if marker == 0xE1 {
            return true;
        }
        if marker == 0xDA {
            return false;
        }
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        at += 2 + len;
    }
    false
}

/// The chunk types of a PNG, in order.
pub fn png_chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]) as usize;
        types.push(String::from_utf8_lossy(&png[at + 4..at + 8]).into_owned());
        at += 12 + len;
    }
    types
}
