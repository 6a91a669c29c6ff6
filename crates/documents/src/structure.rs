//! Bounded walks of an image file's structure, before any decoder sees it: they read the
//! dimensions from the header (so that a decompression bomb is refused before a pixel buffer
//! exists) and refuse a file that ends before its end marker (a truncated upload), which
//! lenient decoders would otherwise fill with grey.
//!
//! Both walks are linear in the file's length, allocate nothing and never index out of
//! bounds (every access is a checked `get`).

use crate::Refusal;
use crate::limits::pixels_allowed;

/// What the walk learnt: the image's dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn checked_dimensions(width: u32, height: u32) -> Result<Header, Refusal> {
    if width == 0 || height == 0 {
        return Err(Refusal::Damaged);
    }
    if !pixels_allowed(width, height) {
        return Err(Refusal::TooManyPixels);
    }
    Ok(Header { width, height })
}

/// Walks a JPEG's markers from SOI to EOI: every segment's length must fit in the file, a
/// frame header (SOF) must come before the first scan, and the entropy-coded data of each scan
/// must be followed by a marker. Bytes after EOI are ignored (they are dropped on re-encoding).
pub fn jpeg(bytes: &[u8]) -> Result<Header, Refusal> {
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(Refusal::Damaged);
    }
    let mut header = None;
    let mut at = 2;
    loop {
        // A marker: 0xFF, any number of 0xFF fill bytes, then the marker code.
        if bytes.get(at) != Some(&0xFF) {
            return Err(Refusal::Damaged);
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or(Refusal::Damaged)?;
        at += 1;
        match marker {
            0xD9 => return header.ok_or(Refusal::Damaged),
            // Standalone markers: restart intervals, TEM.
            0x01 | 0xD0..=0xD7 => continue,
            0x00 | 0xD8 => return Err(Refusal::Damaged),
            _ => {}
        }
        let length = usize::from(be16(bytes, at).ok_or(Refusal::Damaged)?);
        if length < 2 || at + length > bytes.len() {
            return Err(Refusal::Damaged);
        }
        match marker {
            // Frame headers (SOF0–SOF15 except DHT C4, JPG C8, DAC CC): P, Y, X.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // One frame per image, its header long enough for P, Y, X and Nf.
                if header.is_some() || length < 8 {
                    return Err(Refusal::Damaged);
                }
                let height = be16(bytes, at + 3).ok_or(Refusal::Damaged)?;
                let width = be16(bytes, at + 5).ok_or(Refusal::Damaged)?;
                header = Some(checked_dimensions(u32::from(width), u32::from(height))?);
                at += length;
            }
            // Start of scan: the header, then entropy-coded data up to the next marker.
            0xDA => {
                if header.is_none() {
                    return Err(Refusal::Damaged);
                }
                at += length;
                loop {
                    match bytes.get(at) {
                        None => return Err(Refusal::Damaged),
                        Some(0xFF) => match bytes.get(at + 1) {
                            None => return Err(Refusal::Damaged),
                            // A stuffed zero, a restart marker or a fill byte: still data.
                            Some(0x00 | 0xD0..=0xD7 | 0xFF) => at += 1,
                            Some(_) => break,
                        },
                        Some(_) => at += 1,
                    }
                }
            }
            _ => at += length,
        }
    }
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Walks a PNG's chunks from the signature to IEND: IHDR first with 13 bytes, every chunk's
/// length within the file, every CRC right, at least one IDAT. Bytes after IEND are ignored.
pub fn png(bytes: &[u8]) -> Result<Header, Refusal> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(Refusal::Damaged);
    }
    let mut at = PNG_SIGNATURE.len();
    let mut header = None;
    let mut image_data = false;
    loop {
        let length = be32(bytes, at).ok_or(Refusal::Damaged)? as usize;
        let kind = bytes.get(at + 4..at + 8).ok_or(Refusal::Damaged)?;
        let data_end = (at + 8).checked_add(length).ok_or(Refusal::Damaged)?;
        let data = bytes.get(at + 8..data_end).ok_or(Refusal::Damaged)?;
        let crc = be32(bytes, data_end).ok_or(Refusal::Damaged)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(kind);
        hasher.update(data);
        if hasher.finalize() != crc {
            return Err(Refusal::Damaged);
        }
        match (kind, header.is_some()) {
            (b"IHDR", false) if length == 13 => {
                let width = be32(data, 0).ok_or(Refusal::Damaged)?;
                let height = be32(data, 4).ok_or(Refusal::Damaged)?;
                header = Some(checked_dimensions(width, height)?);
            }
            (b"IHDR", _) | (_, false) => return Err(Refusal::Damaged),
            (b"IDAT", true) => image_data = true,
            (b"IEND", true) => {
                return if image_data {
                    header.ok_or(Refusal::Damaged)
                } else {
                    Err(Refusal::Damaged)
                };
            }
            _ => {}
        }
        at = data_end + 4;
    }
}
