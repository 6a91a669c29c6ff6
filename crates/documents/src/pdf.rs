//! The PDF check. PDFs are not parsed and not rewritten here (see `sanitize` for why); this
//! is a bounded, linear look at the bytes:
//!
//! 1. structure: a `%PDF-1.0`…`%PDF-2.0` header at the very start, and `startxref` and
//!    `%%EOF` in the last kilobyte (a truncated upload has neither);
//! 2. no name of active content or encryption anywhere in the file: `/JavaScript`, `/Launch`,
//!    `/SubmitForm`, `/ImportData`, `/GoToR`, `/GoToE`, `/RichMedia`, `/Rendition`, `/Movie`,
//!    `/Sound`, `/EmbeddedFile(s)`, `/FileAttachment`, `/AcroForm` (forms, XFA), `/Encrypt`.
//!    Names are compared after their `#xx` escapes are decoded (`/J#61vaScript`). Only names of
//!    five or more letters are searched, so that binary image data matches one by chance
//!    about once in a million 10 MB files;
//! 3. compressed object streams (PDF 1.5+), where dictionaries hide from step 2: each stream
//!    whose dictionary names `/ObjStm` or `/First` is inflated — FlateDecode only, no
//!    predictor, at most 4 MiB each and 16 MiB in all — and searched like the file.
//!
//! What it does not do: it reads the file front to back, where a viewer follows the
//! cross-reference offsets; an attacker who knows this check can still craft a file whose
//! objects the two read differently, or hide a dictionary behind a filter chain. It is a
//! filter for the common cases, not a guarantee: the back office must open PDFs only in a
//! sandboxed viewer without network access.

use crate::Refusal;
use crate::limits::{MAX_PDF_INFLATED_BYTES, MAX_PDF_OBJECT_STREAM_BYTES};

/// Names that refuse a PDF wherever they stand.
const REFUSED_NAMES: [&[u8]; 15] = [
    b"JavaScript",
    b"Launch",
    b"SubmitForm",
    b"ImportData",
    b"GoToR",
    b"GoToE",
    b"RichMedia",
    b"Rendition",
    b"Movie",
    b"Sound",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"FileAttachment",
    b"AcroForm",
    b"Encrypt",
];

/// Filters other than FlateDecode: an object stream using one is refused (its dictionaries
/// could not be searched).
const OTHER_FILTERS: [&[u8]; 14] = [
    b"ASCIIHexDecode",
    b"ASCII85Decode",
    b"LZWDecode",
    b"RunLengthDecode",
    b"CCITTFaxDecode",
    b"JBIG2Decode",
    b"DCTDecode",
    b"JPXDecode",
    b"Crypt",
    b"AHx",
    b"A85",
    b"LZW",
    b"RL",
    b"CCF",
];

/// How far back from `stream` a stream's dictionary is looked for.
const MAX_DICTIONARY_BYTES: usize = 64 * 1024;

pub fn check(bytes: &[u8]) -> Result<(), Refusal> {
    check_header(bytes)?;
    check_trailer(bytes)?;
    check_names(bytes)?;
    check_object_streams(bytes)
}

fn check_header(bytes: &[u8]) -> Result<(), Refusal> {
    match bytes.get(..8) {
        Some([b'%', b'P', b'D', b'F', b'-', b'1', b'.', b'0'..=b'7'])
        | Some([b'%', b'P', b'D', b'F', b'-', b'2', b'.', b'0']) => Ok(()),
        _ => Err(Refusal::Damaged),
    }
}

fn check_trailer(bytes: &[u8]) -> Result<(), Refusal> {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if find(tail, b"startxref").is_some() && find(tail, b"%%EOF").is_some() {
        Ok(())
    } else {
        Err(Refusal::Damaged)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// PDF white-space and delimiters end a name.
fn ends_name(b: u8) -> bool {
    matches!(
        b,
        0 | b'\t'
            | b'\n'
            | 0x0C
            | b'\r'
            | b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'/'
            | b'%'
    )
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Calls `found` with every name (decoded, without its slash) of `bytes` that is between
/// `min_len` and 32 bytes long; stops at the first error.
fn for_each_name(
    bytes: &[u8],
    min_len: usize,
    mut found: impl FnMut(&[u8]) -> Result<(), Refusal>,
) -> Result<(), Refusal> {
    let mut name = [0u8; 32];
    let mut at = 0;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'/'))
    {
        let mut i = at + offset + 1;
        let mut len = 0;
        let mut too_long = false;
        while let Some(&b) = bytes.get(i) {
            if ends_name(b) {
                break;
            }
            let (decoded, width) = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
                (b'#', Some(&h), Some(&l)) => match (hex(h), hex(l)) {
                    (Some(h), Some(l)) => (h << 4 | l, 3),
                    _ => (b, 1),
                },
                _ => (b, 1),
            };
            if len < name.len() {
                name[len] = decoded;
                len += 1;
            } else {
                too_long = true;
            }
            i += width;
        }
        if !too_long && len >= min_len {
            found(&name[..len])?;
        }
        at = i;
    }
    Ok(())
}

fn check_names(bytes: &[u8]) -> Result<(), Refusal> {
    for_each_name(bytes, 5, |name| {
        if REFUSED_NAMES.contains(&name) {
            Err(Refusal::PdfNotAccepted)
        } else {
            Ok(())
        }
    })
}

/// Whether `keyword` stands at `at` as a token of its own.
fn keyword_at(bytes: &[u8], at: usize, keyword: &[u8]) -> bool {
    let before_ok = at == 0 || bytes.get(at - 1).is_some_and(|&b| ends_name(b));
    let after_ok = bytes.get(at + keyword.len()).is_none_or(|&b| ends_name(b));
    before_ok && after_ok && bytes.get(at..at + keyword.len()) == Some(keyword)
}

fn check_object_streams(bytes: &[u8]) -> Result<(), Refusal> {
    let mut inflated_total = 0usize;
    let mut last_obj = 0usize;
    let mut at = 0usize;
    while at < bytes.len() {
        let b = bytes[at];
        if b == b'o' && keyword_at(bytes, at, b"obj") {
            last_obj = at + 3;
            at += 3;
            continue;
        }
        if b != b's' || !keyword_at(bytes, at, b"stream") {
            at += 1;
            continue;
        }
        // The stream's data starts after the end of line that follows `stream`.
        let data_start = match bytes.get(at + 6..at + 8) {
            Some(b"\r\n") => at + 8,
            Some([b'\n', _]) | Some([b'\r', _]) => at + 7,
            _ => return Err(Refusal::Damaged),
        };
        let data_len = find(&bytes[data_start..], b"endstream").ok_or(Refusal::Damaged)?;
        let data = &bytes[data_start..data_start + data_len];
        let dictionary = &bytes[last_obj.max(at.saturating_sub(MAX_DICTIONARY_BYTES))..at];
        let mut names: Vec<Vec<u8>> = Vec::new();
        for_each_name(dictionary, 1, |name| {
            names.push(name.to_vec());
            Ok(())
        })?;
        let has = |wanted: &[u8]| names.iter().any(|n| n == wanted);
        if has(b"ObjStm") || has(b"First") {
            let inflated;
            let content: &[u8] = if has(b"Filter") {
                if !has(b"FlateDecode")
                    || has(b"DecodeParms")
                    || OTHER_FILTERS.iter().any(|f| has(f))
                {
                    return Err(Refusal::PdfNotAccepted);
                }
                let limit = MAX_PDF_OBJECT_STREAM_BYTES
                    .min(MAX_PDF_INFLATED_BYTES.saturating_sub(inflated_total));
                inflated = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, limit)
                    .map_err(|e| match e.status {
                        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => Refusal::PdfNotAccepted,
                        _ => Refusal::Damaged,
                    })?;
                inflated_total += inflated.len();
                &inflated
            } else {
                data
            };
            for_each_name(content, 2, |name| {
                if REFUSED_NAMES.contains(&name) || name == b"JS" || name == b"AA" || name == b"XFA"
                {
                    Err(Refusal::PdfNotAccepted)
                } else {
                    Ok(())
                }
            })?;
        }
        at = data_start + data_len + "endstream".len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal, valid one-page PDF with `extra` added to its catalog.
    pub(crate) fn pdf_with(extra: &str) -> Vec<u8> {
        format!(
            "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R {extra} >>\nendobj\n\
             2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
             3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n\
             xref\n0 4\n0000000000 65535 f \ntrailer\n<< /Size 4 /Root 1 0 R >>\n\
             startxref\n9\n%%EOF\n"
        )
        .into_bytes()
    }

    #[test]
    fn a_plain_pdf_passes() {
        assert_eq!(check(&pdf_with("")), Ok(()));
        assert_eq!(check(&pdf_with("/OpenAction [3 0 R /Fit]")), Ok(()));
    }

    #[test]
    fn active_content_is_refused_even_when_escaped() {
        for extra in [
            "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
            "/OpenAction << /S /J#61vaScript /JS (app.alert(1)) >>",
            "/OpenAction << /S /Launch /F (cmd.exe) >>",
            "/Names << /EmbeddedFiles 9 0 R >>",
            "/AcroForm << /XFA 9 0 R >>",
        ] {
            assert_eq!(
                check(&pdf_with(extra)),
                Err(Refusal::PdfNotAccepted),
                "{extra}"
            );
        }
        let mut encrypted = pdf_with("");
        let at = find(&encrypted, b"/Root").unwrap();
        encrypted.splice(at..at, b"/Encrypt 7 0 R ".iter().copied());
        assert_eq!(check(&encrypted), Err(Refusal::PdfNotAccepted));
    }

    #[test]
    fn truncated_or_wrong_header_is_damaged() {
        let pdf = pdf_with("");
        assert_eq!(check(&pdf[..pdf.len() / 2]), Err(Refusal::Damaged));
        let mut v9 = pdf.clone();
        v9[5] = b'9';
        assert_eq!(check(&v9), Err(Refusal::Damaged));
    }

    fn with_object_stream(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.5\n5 0 obj\n".to_vec();
        pdf.extend_from_slice(dict.as_bytes());
        pdf.extend_from_slice(b"\nstream\n");
        pdf.extend_from_slice(data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        pdf.extend_from_slice(&pdf_with("")[9..]);
        pdf
    }

    #[test]
    fn object_streams_are_inflated_and_searched() {
        let clean = miniz_oxide::deflate::compress_to_vec_zlib(b"1 0 << /Type /Page >>", 6);
        let dict = format!(
            "<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {} >>",
            clean.len()
        );
        assert_eq!(check(&with_object_stream(&dict, &clean)), Ok(()));

        let hidden =
            miniz_oxide::deflate::compress_to_vec_zlib(b"1 0 << /S /JavaScript /JS (x) >>", 6);
        assert_eq!(
            check(&with_object_stream(&dict, &hidden)),
            Err(Refusal::PdfNotAccepted)
        );
        let short = miniz_oxide::deflate::compress_to_vec_zlib(b"1 0 << /AA 4 0 R >>", 6);
        assert_eq!(
            check(&with_object_stream(&dict, &short)),
            Err(Refusal::PdfNotAccepted)
        );
    }

    #[test]
    fn an_object_stream_bomb_is_refused_without_inflating_it_all() {
        let zeros = vec![b' '; 64 * 1024 * 1024];
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 9);
        assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
        let dict = "<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>";
        assert_eq!(
            check(&with_object_stream(dict, &bomb)),
            Err(Refusal::PdfNotAccepted)
        );
    }

    #[test]
    fn an_object_stream_behind_another_filter_is_refused() {
        let dict = "<< /Type /ObjStm /N 1 /First 4 /Filter [/ASCIIHexDecode /FlateDecode] >>";
        assert_eq!(
            check(&with_object_stream(dict, b"00")),
            Err(Refusal::PdfNotAccepted)
        );
    }
}
