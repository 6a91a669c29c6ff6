//! From untrusted upload bytes to a document safe to keep.
//!
//! [`inspect`] is cheap (no decoding, no allocation of pixels): size, type by content, and
//! for images the dimensions read from the file's own header by a bounded walk of its
//! structure. It tells the caller how much memory decoding will take
//! ([`Inspection::decode_cost_bytes`]), so that a server can bound the memory of concurrent
//! decodes. [`sanitize`] then does the work:
//!
//! - **JPEG and PNG** are decoded with `image::Limits` set before decoding (width, height,
//!   allocation), turned upright by their EXIF orientation, and re-encoded from their pixels
//!   alone — JPEG at quality [`JPEG_QUALITY`], PNG losslessly. No metadata of the upload can
//!   survive: EXIF (GPS position, camera serial number, time), XMP, IPTC, ICC profiles,
//!   comments, PNG `tEXt`/`iTXt`/`zTXt`/`eXIf` chunks, trailing data and embedded thumbnails
//!   are all gone, because none of them is copied. A decoder panic counts as damage.
//! - **PDF — the decision.** A PDF is accepted within the size limit and after the bounded
//!   check of `pdf.rs` (structure, no encryption, no active content, object streams inflated
//!   with a cap and searched); it is stored **as uploaded, not rewritten**. The alternative —
//!   parsing it with `lopdf` and deleting `/Info` and `/Metadata` — was rejected: such a parser
//!   inflates every compressed object stream without a bound (a decompression bomb in the
//!   internet-facing process), recurses on nesting (a stack overflow aborts the whole server),
//!   and rewriting a hostile file would still not make it safe to open. So, honestly:
//!   **a PDF keeps its document information (author, producer, dates) and XMP metadata**, and
//!   the back office must open PDFs only in a sandboxed viewer without network access (or
//!   rasterize them there). Applicants are asked for photos first; PDF is for scans.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use zeroize::{Zeroize, Zeroizing};

use crate::limits::{JPEG_QUALITY, MAX_DECODE_ALLOC, MAX_DIMENSION, MAX_FILE_BYTES};
use crate::sniff::{ContentType, sniff};
use crate::{Refusal, pdf, structure};

/// What [`inspect`] found out without decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    pub content_type: ContentType,
    /// Width and height from the image's header; `None` for a PDF.
    pub dimensions: Option<(u32, u32)>,
    /// The upload's size in bytes.
    pub size: usize,
}

impl Inspection {
    /// A generous estimate of the memory [`sanitize`] needs at its peak: the upload, the
    /// decoded pixels (RGBA, 16 bits per channel for PNG, coefficients of a progressive JPEG)
    /// and the re-encoded output.
    pub fn decode_cost_bytes(&self) -> u64 {
        let size = self.size as u64;
        match (self.content_type, self.dimensions) {
            (ContentType::Jpeg, Some((w, h))) => 2 * size + u64::from(w) * u64::from(h) * 9,
            (ContentType::Png, Some((w, h))) => 2 * size + u64::from(w) * u64::from(h) * 8,
            // The PDF check inflates at most its cap.
            _ => size + crate::limits::MAX_PDF_OBJECT_STREAM_BYTES as u64,
        }
    }
}

/// A document fit to keep. Its bytes are zeroized when it is dropped.
pub struct SanitizedDocument {
    pub content_type: ContentType,
    /// Width and height of an image (after its orientation was applied); `None` for a PDF.
    pub dimensions: Option<(u32, u32)>,
    pub bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SanitizedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SanitizedDocument")
            .field("content_type", &self.content_type)
            .field("dimensions", &self.dimensions)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Size, type and header dimensions of an upload, without decoding it.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge);
    }
    let content_type = sniff(bytes).ok_or(Refusal::NotAcceptedType)?;
    let dimensions = match content_type {
        ContentType::Jpeg => Some(structure::jpeg(bytes)?),
        ContentType::Png => Some(structure::png(bytes)?),
        ContentType::Pdf => None,
    }
    .map(|h| (h.width, h.height));
    Ok(Inspection {
        content_type,
        dimensions,
        size: bytes.len(),
    })
}

/// Checks and cleans an upload: see the module documentation.
pub fn sanitize(bytes: &[u8]) -> Result<SanitizedDocument, Refusal> {
    let inspection = inspect(bytes)?;
    match inspection.content_type {
        ContentType::Pdf => {
            pdf::check(bytes)?;
            Ok(SanitizedDocument {
                content_type: ContentType::Pdf,
                dimensions: None,
                bytes: Zeroizing::new(bytes.to_vec()),
            })
        }
        ContentType::Jpeg => reencode(bytes, ImageFormat::Jpeg, ContentType::Jpeg),
        ContentType::Png => reencode(bytes, ImageFormat::Png, ContentType::Png),
    }
}

fn decoder_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

fn refusal_of(error: &ImageError) -> Refusal {
    match error {
        ImageError::Limits(_) => Refusal::TooManyPixels,
        _ => Refusal::Damaged,
    }
}

fn reencode(
    bytes: &[u8],
    format: ImageFormat,
    content_type: ContentType,
) -> Result<SanitizedDocument, Refusal> {
    // Decoders are written in safe Rust but may still panic on hostile input: that is damage,
    // not a crash of the request.
    let decoded = catch_unwind(AssertUnwindSafe(|| decode(bytes, format)))
        .map_err(|_| Refusal::Damaged)??;
    let dimensions = (decoded.width(), decoded.height());
    let encoded = catch_unwind(AssertUnwindSafe(|| encode(decoded, content_type)))
        .map_err(|_| Refusal::Damaged)??;
    Ok(SanitizedDocument {
        content_type,
        dimensions: Some(dimensions),
        bytes: encoded,
    })
}

fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, Refusal> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits());
    let mut decoder = reader.into_decoder().map_err(|e| refusal_of(&e))?;
    // `into_decoder` checks width and height against the limits; the allocation is checked
    // here, before the pixel buffer exists.
    if decoder.total_bytes() > MAX_DECODE_ALLOC {
        return Err(Refusal::TooManyPixels);
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| refusal_of(&e))?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn encode(image: DynamicImage, content_type: ContentType) -> Result<Zeroizing<Vec<u8>>, Refusal> {
    let mut out = Zeroizing::new(Vec::new());
    let result = match content_type {
        ContentType::Jpeg => {
            // JPEG holds grey or RGB, 8 bits; an alpha channel (rare in a JPEG) is dropped.
            let image = match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => image,
                DynamicImage::ImageLumaA8(_)
                | DynamicImage::ImageLuma16(_)
                | DynamicImage::ImageLumaA16(_) => {
                    let grey = DynamicImage::ImageLuma8(image.to_luma8());
                    wipe(image);
                    grey
                }
                other => {
                    let rgb = DynamicImage::ImageRgb8(other.to_rgb8());
                    wipe(other);
                    rgb
                }
            };
            let result =
                image.write_with_encoder(JpegEncoder::new_with_quality(&mut *out, JPEG_QUALITY));
            wipe(image);
            result
        }
        _ => {
            let result = image.write_with_encoder(PngEncoder::new(&mut *out));
            wipe(image);
            result
        }
    };
    result.map_err(|_| Refusal::Damaged)?;
    Ok(out)
}

/// Overwrites decoded pixels before their memory is freed: they show an identity document.
fn wipe(image: DynamicImage) {
    match image {
        DynamicImage::ImageLuma8(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageLumaA8(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageRgb8(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageRgba8(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageLuma16(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageLumaA16(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageRgb16(mut b) => b.zeroize_pixels(),
        DynamicImage::ImageRgba16(mut b) => b.zeroize_pixels(),
        _ => {}
    }
}

trait ZeroizePixels {
    fn zeroize_pixels(&mut self);
}

impl<P, S> ZeroizePixels for image::ImageBuffer<P, Vec<S>>
where
    P: image::Pixel<Subpixel = S>,
    S: image::Primitive + Zeroize,
{
    fn zeroize_pixels(&mut self) {
        let samples: &mut [S] = self;
        samples.iter_mut().for_each(Zeroize::zeroize);
    }
}
