//! Refusing a request whose length two parsers could read differently, before hyper reads it.
//!
//! A request with both `Content-Length` and `Transfer-Encoding` is the classic vector of
//! request smuggling: a proxy in front may frame it by one header and the server by the
//! other, and what one takes for body the other takes for a second request. hyper reads such
//! a request by its chunks and closes the connection after it (RFC 9112 §6.1 allows that);
//! the bank's policy is stricter: it is answered 400 and nothing of it reaches a handler.
//!
//! [`Framing`] follows the message boundaries of the bytes a client sends (heads, then bodies
//! by `Content-Length` or by chunks) and holds each request head back until it is complete.
//! A head that carries both headers is replaced by a line that hyper cannot parse, so hyper
//! answers 400 and closes the connection. Every other byte is passed on unchanged. Input it
//! cannot follow (a malformed chunk, an oversized head) is passed on as it is and no longer
//! followed: hyper refuses such input itself.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A head longer than this is not followed (hyper refuses far shorter ones: 100 headers).
const MAX_HEAD: usize = 64 * 1024;

/// What hyper is given instead of an ambiguous head: an invalid method (DEL is no token
/// character), which it answers 400.
const REFUSED_HEAD: &[u8] = b"AMBIGUOUS\x7f / HTTP/1.1\r\n\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a request head (held back until its blank line).
    Head,
    /// This many body bytes left (`Content-Length`).
    Body(u64),
    /// A chunked body.
    Chunk(Chunk),
    /// No longer followed: everything is passed on as it comes.
    Passthrough,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// The chunk size in hex; `digits`: whether one was read.
    Size {
        size: u64,
        digits: bool,
    },
    /// An extension after the size, up to the line's end.
    Extension {
        size: u64,
    },
    /// The LF that ends the size line.
    SizeLf {
        size: u64,
    },
    /// This many data bytes left.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataCr,
    DataLf,
    /// The start of a trailer line (or the final blank line).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// The LF that ends a trailer line.
    TrailerLf,
    /// The LF of the final blank line.
    EndLf,
}

/// The client's bytes as a request stream (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Framing {
    state: State,
    head: Vec<u8>,
}

impl Framing {
    pub(crate) fn new() -> Framing {
        Framing {
            state: State::Head,
            head: Vec::new(),
        }
    }

    /// Takes bytes read from the client; appends to `out` what hyper may read now.
    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while let Some((&byte, rest)) = input.split_first() {
            match self.state {
                State::Passthrough => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Body(left) => {
                    let n = usize::try_from(left).map_or(input.len(), |l| l.min(input.len()));
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::Head
                    } else {
                        State::Body(left)
                    };
                }
                State::Chunk(Chunk::Data(left)) => {
                    let n = usize::try_from(left).map_or(input.len(), |l| l.min(input.len()));
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    let left = left - n as u64;
                    self.state = State::Chunk(if left == 0 {
                        Chunk::DataCr
                    } else {
                        Chunk::Data(left)
                    });
                }
                State::Chunk(chunk) => {
                    out.push(byte);
                    input = rest;
                    self.state = next_in_chunked(chunk, byte);
                }
                State::Head => {
                    input = rest;
                    self.head_byte(byte, out);
                }
            }
        }
    }

    /// The client closed its side: hyper gets what was held back (and refuses a cut head).
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.head);
    }

    fn head_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        if self.head.is_empty() && (byte == b'\r' || byte == b'\n') {
            // Empty lines before a request line: hyper skips them.
            out.push(byte);
            return;
        }
        self.head.push(byte);
        if self.head.ends_with(b"\n\n") || self.head.ends_with(b"\n\r\n") {
            let head = std::mem::take(&mut self.head);
            self.state = match body_of(&head) {
                Some(state) => {
                    out.extend_from_slice(&head);
                    state
                }
                None => {
                    tracing::warn!(
                        "refused a request with both Content-Length and Transfer-Encoding"
                    );
                    out.extend_from_slice(REFUSED_HEAD);
                    State::Passthrough
                }
            };
        } else if self.head.len() > MAX_HEAD {
            out.append(&mut self.head);
            self.state = State::Passthrough;
        }
    }
}

/// How the body after `head` is framed; `None`: ambiguously (both lengths).
fn body_of(head: &[u8]) -> Option<State> {
    let mut lengths = Vec::new();
    let mut coding: Option<Vec<u8>> = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            lengths.push(value.to_vec());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            coding = Some(value.to_vec());
        }
    }
    match (coding, lengths.first()) {
        (Some(_), Some(_)) => None,
        (Some(coding), None) => {
            let last = coding.rsplit(|&b| b == b',').next().unwrap_or_default();
            Some(if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                State::Chunk(Chunk::Size {
                    size: 0,
                    digits: false,
                })
            } else {
                // Not chunked last: hyper answers 400.
                State::Passthrough
            })
        }
        (None, Some(first)) => {
            let length = std::str::from_utf8(first)
                .ok()
                .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|text| text.parse::<u64>().ok());
            Some(match length {
                Some(n) if lengths.iter().all(|l| l == first) => {
                    if n == 0 {
                        State::Head
                    } else {
                        State::Body(n)
                    }
                }
                // Invalid or differing lengths: hyper answers 400.
                _ => State::Passthrough,
            })
        }
        (None, None) => Some(State::Head),
    }
}

/// One byte of a chunked body outside chunk data.
fn next_in_chunked(chunk: Chunk, byte: u8) -> State {
    let hex = char::from(byte).to_digit(16).map(u64::from);
    State::Chunk(match (chunk, byte) {
        (Chunk::Size { size, .. }, _) if hex.is_some() => {
            match size
                .checked_mul(16)
                .zip(hex)
                .and_then(|(s, h)| s.checked_add(h))
            {
                Some(size) => Chunk::Size { size, digits: true },
                None => return State::Passthrough,
            }
        }
        (Chunk::Size { size, digits: true }, b';' | b' ' | b'\t') => Chunk::Extension { size },
        (Chunk::Size { size, digits: true }, b'\r') => Chunk::SizeLf { size },
        (Chunk::Extension { size }, b'\r') => Chunk::SizeLf { size },
        (Chunk::Extension { size }, _) => Chunk::Extension { size },
        (Chunk::SizeLf { size: 0 }, b'\n') => Chunk::TrailerStart,
        (Chunk::SizeLf { size }, b'\n') => Chunk::Data(size),
        (Chunk::DataCr, b'\r') => Chunk::DataLf,
        (Chunk::DataLf, b'\n') => Chunk::Size {
            size: 0,
            digits: false,
        },
        (Chunk::TrailerStart, b'\r') => Chunk::EndLf,
        (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
        (Chunk::TrailerLf, b'\n') => Chunk::TrailerStart,
        (Chunk::TrailerStart | Chunk::Trailer, b'\n') => return State::Passthrough,
        (Chunk::TrailerStart | Chunk::Trailer, _) => Chunk::Trailer,
        (Chunk::EndLf, b'\n') => return State::Head,
        // Anything else is malformed: hyper refuses it and closes.
        _ => return State::Passthrough,
    })
}

/// A connection whose reads pass through [`Framing`]; writes go straight through.
pub(crate) struct Guarded<T> {
    inner: T,
    framing: Framing,
    out: Vec<u8>,
    taken: usize,
    closed: bool,
}

impl<T> Guarded<T> {
    pub(crate) fn new(inner: T) -> Guarded<T> {
        Guarded {
            inner,
            framing: Framing::new(),
            out: Vec::new(),
            taken: 0,
            closed: false,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.taken < this.out.len() || buf.remaining() == 0 {
                let n = buf.remaining().min(this.out.len() - this.taken);
                buf.put_slice(&this.out[this.taken..this.taken + n]);
                this.taken += n;
                if this.taken == this.out.len() {
                    this.out.clear();
                    this.taken = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.closed {
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0_u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.closed = true;
                this.framing.finish(&mut this.out);
            } else {
                this.framing.feed(read.filled(), &mut this.out);
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What hyper gets for `input` fed in pieces of `step` bytes.
    fn through(input: &[u8], step: usize) -> Vec<u8> {
        let mut framing = Framing::new();
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            framing.feed(piece, &mut out);
        }
        framing.finish(&mut out);
        out
    }

    fn unchanged(input: &[u8]) {
        for step in [1, 2, 7, input.len().max(1)] {
            assert_eq!(through(input, step), input, "fed {step} bytes at a time");
        }
    }

    #[test]
    fn well_framed_requests_pass_unchanged_in_any_pieces() {
        unchanged(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
        unchanged(b"\r\nPOST /f HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcdeGET / HTTP/1.1\r\n\r\n");
        unchanged(
            b"POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
              5;name=x\r\nabcde\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: y\r\n\r\n\
              GET / HTTP/1.1\n\n",
        );
        unchanged(b"GET / HTTP/1.1\r\nHost: a\r\n");
    }

    #[test]
    fn a_body_that_looks_like_headers_is_body() {
        let body = "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nabcdef\r\n";
        let request = format!(
            "POST /f HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}GET / HTTP/1.1\r\n\r\n",
            body.len()
        );
        unchanged(request.as_bytes());
        // And inside chunk data.
        let chunked = format!(
            "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        );
        unchanged(chunked.as_bytes());
    }

    #[test]
    fn both_lengths_in_either_order_and_any_case_are_refused() {
        for head in [
            &b"POST / HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 6\r\n\r\n",
            b"POST / HTTP/1.1\nTRANSFER-ENCODING: chunked\nContent-Length:6\n\n",
        ] {
            let request = [head, b"0\r\n\r\nGET /hidden HTTP/1.1\r\n\r\n"].concat();
            for step in [1, 5, request.len()] {
                let out = through(&request, step);
                assert!(
                    out.starts_with(REFUSED_HEAD),
                    "{}",
                    String::from_utf8_lossy(&out)
                );
                assert!(!out.starts_with(head));
            }
        }
        // Also behind a well-framed request on the same connection.
        let second = b"GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let out = through(second, 3);
        assert_eq!(&out[..18], b"GET / HTTP/1.1\r\n\r\n");
        assert!(out[18..].starts_with(REFUSED_HEAD));
    }
}
