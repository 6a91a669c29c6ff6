//! The limits every upload is held to, checked in this order: size, the dimensions in the
//! file's own header, then the decoder's allocation.
//!
//! They are sized for phone photos of an identity card: a 12-megapixel photo (4032 × 3024)
//! is 2–5 MB; a 48-megapixel "high resolution" mode photo is refused with a message asking
//! for the standard mode.

/// The largest file accepted: 10 MB (10 × 1024 × 1024 bytes).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The most pixels an image may have: 40 megapixels (e.g. 8,000 × 5,000).
pub const MAX_PIXELS: u64 = 40_000_000;

/// The widest or highest an image may be: 10,000 pixels.
pub const MAX_DIMENSION: u32 = 10_000;

/// The most memory the decoder may allocate for the pixels of one image: 256 MiB. A
/// 40-megapixel RGBA image takes 160 MB; the same with 16 bits per channel (320 MB) is refused.
pub const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

/// JPEG quality of re-encoded photos: text on an identity card stays legible.
pub const JPEG_QUALITY: u8 = 90;

/// The most bytes the PDF check inflates from one compressed object stream (which holds
/// dictionaries, not images: a few kilobytes in an honest file).
pub const MAX_PDF_OBJECT_STREAM_BYTES: usize = 4 * 1024 * 1024;

/// The most bytes the PDF check inflates from all object streams of one file together.
pub const MAX_PDF_INFLATED_BYTES: usize = 16 * 1024 * 1024;

/// Whether `width` × `height` is within [`MAX_DIMENSION`] and [`MAX_PIXELS`].
pub const fn pixels_allowed(width: u32, height: u32) -> bool {
    width <= MAX_DIMENSION
        && height <= MAX_DIMENSION
        && (width as u64) * (height as u64) <= MAX_PIXELS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_megapixels_pass_and_one_row_more_does_not() {
        assert!(pixels_allowed(8_000, 5_000));
        assert!(!pixels_allowed(8_000, 5_001));
        assert!(pixels_allowed(10_000, 4_000));
        assert!(!pixels_allowed(10_001, 100));
        assert!(!pixels_allowed(20_000, 20_000));
    }
}
