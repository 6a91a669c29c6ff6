//! The type of an upload, from its first bytes only. The file name and the browser's
//! `Content-Type` are never consulted: both are chosen by whoever sends the file.

use std::fmt;

/// The three accepted types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    Jpeg,
    Png,
    Pdf,
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const PDF_MAGIC: &[u8] = b"%PDF-";

impl ContentType {
    /// The media type, as stored and as served to the back office.
    pub const fn mime(self) -> &'static str {
        match self {
            ContentType::Jpeg => "image/jpeg",
            ContentType::Png => "image/png",
            ContentType::Pdf => "application/pdf",
        }
    }

    /// The type with this media type ([`ContentType::mime`]).
    pub fn from_mime(mime: &str) -> Option<ContentType> {
        [ContentType::Jpeg, ContentType::Png, ContentType::Pdf]
            .into_iter()
            .find(|t| t.mime() == mime)
    }

    /// Whether it is a photo (decoded and re-encoded) rather than a PDF (checked as is).
    pub const fn is_image(self) -> bool {
        !matches!(self, ContentType::Pdf)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// The accepted type `bytes` start with, or `None` (then the file is refused).
pub fn sniff(bytes: &[u8]) -> Option<ContentType> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(ContentType::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(ContentType::Png)
    } else if bytes.starts_with(PDF_MAGIC) {
        Some(ContentType::Pdf)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(ContentType::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ContentType::Png)
        );
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(ContentType::Pdf));
    }

    #[test]
    fn anything_else_is_refused() {
        for bytes in [
            &b""[..],
            b"<script>alert(1)</script>",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"GIF89a",
            b"RIFF\0\0\0\0WEBPVP8 ",
            b"\xFF\xD8",    // too short for a JPEG
            b"\x89PNG\r\n", // a truncated signature
            b" %PDF-1.7",   // not at the start
            b"II*\0",       // TIFF
            b"PK\x03\x04",  // ZIP (docx, …)
        ] {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn mime_round_trips() {
        for t in [ContentType::Jpeg, ContentType::Png, ContentType::Pdf] {
            assert_eq!(ContentType::from_mime(t.mime()), Some(t));
        }
        assert_eq!(ContentType::from_mime("text/html"), None);
    }
}
