//! Identity documents in the HTTP tests: real files, and the multipart form a browser sends.

use super::{TestApp, csrf_of};

/// A real 320 × 240 JPEG with an EXIF block (camera make, GPS position) right after SOI,
/// as a phone writes it (`crates/documents/tests/fixtures`, built by its tests).
pub const GPS_JPEG: &[u8] = include_bytes!("../../../documents/tests/fixtures/exif-gps.jpg");
/// A real PNG with a `tEXt` chunk (a home address) and an `eXIf` chunk.
pub const TEXT_PNG: &[u8] = include_bytes!("../../../documents/tests/fixtures/text-chunk.png");

/// The GPS latitude 35° 41' 22.45" as the fixture's EXIF block stores it: found anywhere at
/// rest, it means the position survived.
pub const GPS_LATITUDE: [u8; 24] = [
    35, 0, 0, 0, 1, 0, 0, 0, 41, 0, 0, 0, 1, 0, 0, 0, 0xC5, 0x08, 0, 0, 100, 0, 0, 0,
];
/// The camera make of the fixture's EXIF block.
pub const CAMERA_MAKE: &[u8] = b"GPS-TEST-CAMERA-4711";
/// The text of the PNG fixture's tEXt chunk.
pub const PNG_TEXT: &[u8] = b"Location: 35.6895N 139.6917E home of Taro";

/// One part of a multipart form: a field name, a file name (for files) and the bytes.
pub struct Part<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub bytes: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn file(name: &'a str, file_name: &'a str, bytes: &'a [u8]) -> Part<'a> {
        Part {
            name,
            file_name: Some(file_name),
            bytes,
        }
    }
}

/// A `multipart/form-data` body and its content type, as a browser builds it.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("----madoguchi-test-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part.file_name {
            Some(file_name) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n",
                    part.name, file_name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
        }
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Opens the identity step and posts `files` (field, file name, bytes) with its CSRF token
/// first, as the page's form does.
pub async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    let page = client
        .get(app.url("/apply/savings-account/identity"))
        .send()
        .await
        .expect("identity page")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    let mut parts = vec![Part {
        name: "csrf",
        file_name: None,
        bytes: csrf.as_bytes(),
    }];
    parts.extend(
        files
            .iter()
            .map(|(name, file, bytes)| Part::file(name, file, bytes)),
    );
    post_multipart(app, client, &parts).await
}

/// Posts a multipart body to the identity step.
pub async fn post_multipart(
    app: &TestApp,
    client: &reqwest::Client,
    parts: &[Part<'_>],
) -> reqwest::Response {
    let (content_type, body) = multipart(parts);
    client
        .post(app.url("/apply/savings-account/identity"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload")
}

/// The three documents every applicant sends: the GPS photo as front, the PNG as back, the
/// GPS photo again as selfie.
pub async fn upload_all(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    upload(
        app,
        client,
        &[
            ("document_front", "license-front.jpg", GPS_JPEG),
            ("document_back", "license-back.png", TEXT_PNG),
            ("selfie", "selfie.jpg", GPS_JPEG),
        ],
    )
    .await
}

/// The files of the documents folder (name, bytes).
pub fn stored_files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let dir = app.data.join("documents");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("documents folder")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read document"),
            )
        })
        .collect();
    files.sort();
    files
}
