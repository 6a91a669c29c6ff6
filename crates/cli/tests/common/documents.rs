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

/// An upload of the identity step sent by hand over its own TCP connection, from `local` (a
/// loopback address: one client each), with the session `cookie`: the headers announce a body
/// of one `file_bytes` file after the CSRF field; [`Trickle::send`] sends it in pieces, as a
/// slow (or malicious) client does. The server's answer is read from the [`Answer`].
pub struct Trickle {
    writer: tokio::net::tcp::OwnedWriteHalf,
    remaining: usize,
    head: Option<Vec<u8>>,
}

/// The reading half of a [`Trickle`]'s connection.
pub struct Answer(tokio::net::tcp::OwnedReadHalf);

const BOUNDARY: &str = "madoguchi-trickle";

impl Trickle {
    pub async fn open(
        public_url: &str,
        local: std::net::IpAddr,
        cookie: &str,
        csrf: &str,
        file_bytes: usize,
    ) -> (Trickle, Answer) {
        use tokio::io::AsyncWriteExt as _;
        let address: std::net::SocketAddr = public_url
            .trim_start_matches("http://")
            .parse()
            .expect("a socket address");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(std::net::SocketAddr::new(local, 0))
            .expect("bind a loopback address");
        let stream = socket.connect(address).await.expect("connect");
        let (reader, mut writer) = stream.into_split();
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document_front\"; \
             filename=\"front.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        let tail = format!("\r\n--{BOUNDARY}--\r\n").len();
        let length = head.len() + file_bytes + tail;
        let request = format!(
            "POST /apply/savings-account/identity HTTP/1.1\r\nHost: {address}\r\n\
             Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {length}\r\n\r\n"
        );
        writer
            .write_all(request.as_bytes())
            .await
            .expect("request head");
        let trickle = Trickle {
            writer,
            remaining: file_bytes,
            head: Some(head),
        };
        (trickle, Answer(reader))
    }

    /// Sends the next `n` bytes of the file (the multipart head first); `false` once the
    /// server stopped reading (it answered and closed).
    pub async fn send(&mut self, n: usize) -> bool {
        use tokio::io::AsyncWriteExt as _;
        if let Some(head) = self.head.take()
            && self.writer.write_all(&head).await.is_err()
        {
            return false;
        }
        let n = n.min(self.remaining);
        self.remaining -= n;
        self.writer.write_all(&vec![0xA5u8; n]).await.is_ok()
    }

    /// Sends what is left and the closing boundary.
    pub async fn finish(&mut self) -> bool {
        use tokio::io::AsyncWriteExt as _;
        while self.remaining > 0 || self.head.is_some() {
            if !self.send(64 * 1024).await {
                return false;
            }
        }
        let tail = format!("\r\n--{BOUNDARY}--\r\n");
        self.writer.write_all(tail.as_bytes()).await.is_ok()
    }
}

impl Answer {
    /// The status of the server's answer (waits for it).
    pub async fn status(mut self) -> u16 {
        use tokio::io::AsyncReadExt as _;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = self.0.read(&mut buffer).await.expect("answer");
            assert!(n > 0, "the server closed without an answer");
            answer.extend_from_slice(&buffer[..n]);
        }
        let line = String::from_utf8_lossy(&answer).into_owned();
        line.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {line}"))
    }
}
