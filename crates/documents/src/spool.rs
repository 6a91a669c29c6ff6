//! An upload on its way in (issue 16): kept in a temporary file, never in memory, so that N
//! slow uploads cost N small buffers instead of N × 10 MB.
//!
//! The file has no name (`O_TMPFILE`: no other process can open it, and it is gone when
//! dropped or when the process dies), and what it holds is sealed: every 64 KiB chunk is
//! encrypted (XChaCha20Poly1305, [`madoguchi_seal::DraftCipher`]) under a key made for this
//! upload alone and kept only in memory, with the chunk's index as associated data, so the
//! disk never holds an identity document in clear. Bytes past the limit are dropped, not kept:
//! the spool remembers only that the file was too large.

use std::io::SeekFrom;

use madoguchi_seal::{DraftCipher, DraftSecret};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use zeroize::Zeroizing;

/// Plaintext sealed per chunk.
const CHUNK: usize = 64 * 1024;

/// A spool could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("the temporary file of an upload: {0}")]
    Io(#[from] std::io::Error),
    #[error("the temporary file of an upload could not be sealed or opened")]
    Seal,
}

/// One uploaded file, spooled.
pub struct Spool {
    file: tokio::fs::File,
    cipher: DraftCipher,
    pending: Zeroizing<Vec<u8>>,
    chunks: u64,
    len: u64,
    limit: u64,
    over: bool,
}

impl Spool {
    /// An empty spool that keeps at most `limit` bytes.
    pub fn new(limit: u64) -> Result<Spool, SpoolError> {
        let file = tempfile::tempfile()?;
        let secret = DraftSecret::generate().map_err(|_| SpoolError::Seal)?;
        Ok(Spool {
            file: tokio::fs::File::from_std(file),
            cipher: secret.cipher(),
            pending: Zeroizing::new(Vec::with_capacity(CHUNK)),
            chunks: 0,
            len: 0,
            limit,
            over: false,
        })
    }

    /// Adds the next bytes of the upload (dropped once it is over the limit).
    pub async fn push(&mut self, mut bytes: &[u8]) -> Result<(), SpoolError> {
        if self.over {
            return Ok(());
        }
        if self.len + bytes.len() as u64 > self.limit {
            self.over = true;
            self.pending.clear();
            self.chunks = 0;
            self.len = 0;
            self.file.set_len(0).await?;
            return Ok(());
        }
        self.len += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = CHUNK - self.pending.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = later;
            if self.pending.len() == CHUNK {
                self.seal_pending().await?;
            }
        }
        Ok(())
    }

    /// Whether the upload went past the limit.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Bytes kept.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole upload, opened (for the checks that need all of it at once).
    pub async fn read_all(mut self) -> Result<Zeroizing<Vec<u8>>, SpoolError> {
        self.seal_pending().await?;
        self.file.flush().await?;
        self.file.seek(SeekFrom::Start(0)).await?;
        let mut out = Zeroizing::new(Vec::with_capacity(usize::try_from(self.len).unwrap_or(0)));
        for index in 0..self.chunks {
            let size = self.file.read_u32().await?;
            let mut sealed = vec![0u8; size as usize];
            self.file.read_exact(&mut sealed).await?;
            let plain = self
                .cipher
                .decrypt(&sealed, &index.to_be_bytes())
                .map_err(|_| SpoolError::Seal)?;
            out.extend_from_slice(&plain);
        }
        Ok(out)
    }

    async fn seal_pending(&mut self) -> Result<(), SpoolError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let sealed = self
            .cipher
            .encrypt(&self.pending, &self.chunks.to_be_bytes())
            .map_err(|_| SpoolError::Seal)?;
        let size = u32::try_from(sealed.len()).map_err(|_| SpoolError::Seal)?;
        self.file.write_u32(size).await?;
        self.file.write_all(&sealed).await?;
        self.pending.clear();
        self.chunks += 1;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[tokio::test]
    async fn what_goes_in_comes_out_whatever_the_pieces() {
        let data = pattern(3 * CHUNK + 1234);
        for piece in [1, 1000, CHUNK, CHUNK + 1, data.len()] {
            let mut spool = Spool::new(10 * CHUNK as u64).unwrap();
            for part in data.chunks(piece) {
                spool.push(part).await.unwrap();
            }
            assert_eq!(spool.len(), data.len() as u64);
            assert!(!spool.is_over());
            assert_eq!(*spool.read_all().await.unwrap(), data, "pieces of {piece}");
        }
        let empty = Spool::new(10).unwrap();
        assert!(empty.read_all().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn past_the_limit_nothing_is_kept() {
        let mut spool = Spool::new(100).unwrap();
        let mut big = Spool::new(CHUNK as u64 + 10).unwrap();
        big.push(&pattern(CHUNK + 5)).await.unwrap();
        big.push(&pattern(CHUNK)).await.unwrap();
        assert!(big.is_over());
        assert!(big.read_all().await.unwrap().is_empty());
        spool.push(&pattern(60)).await.unwrap();
        spool.push(&pattern(60)).await.unwrap();
        assert!(spool.is_over());
        assert_eq!(spool.len(), 0);
        spool.push(&pattern(10)).await.unwrap();
        assert!(spool.is_over());
        assert!(spool.read_all().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_file_holds_no_clear_text() {
        use std::io::{Read as _, Seek as _};
        let secret = b"MYNUMBER-CARD-FRONT-".repeat(5000);
        let mut spool = Spool::new(1 << 20).unwrap();
        spool.push(&secret).await.unwrap();
        spool.seal_pending().await.unwrap();
        spool.file.flush().await.unwrap();
        let mut file = spool.file.try_clone().await.unwrap().into_std().await;
        file.rewind().unwrap();
        let mut on_disk = Vec::new();
        file.read_to_end(&mut on_disk).unwrap();
        assert!(on_disk.len() > secret.len());
        assert!(
            !on_disk.windows(20).any(|w| w == b"MYNUMBER-CARD-FRONT-"),
            "sealed on disk"
        );
    }
}
