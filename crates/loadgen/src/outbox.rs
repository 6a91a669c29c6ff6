//! The applicant's mailbox: the outbox folder the server writes `.eml` files to.
//!
//! One thread lists the folder, every [`SCAN_EVERY`], and only while a session waits for a
//! code. Each new file is read and decoded once (the server writes it under a hidden name and
//! renames it, so a listed `.eml` is complete); the verification code in it is kept under its
//! recipient until that session takes it. Nothing is rescanned per session.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;

const SCAN_EVERY: Duration = Duration::from_millis(20);
const CHECK_EVERY: Duration = Duration::from_millis(5);

#[derive(Default)]
struct Shared {
    /// Recipient → code, for codes read but not yet taken.
    codes: Mutex<HashMap<String, String>>,
    /// Sessions waiting for a code now.
    waiting: AtomicUsize,
    stop: AtomicBool,
    /// Files that could not be read or decoded (named in the report).
    unreadable: Mutex<Vec<String>>,
    /// Remove each e-mail once read (long runs: the folder and `seen` stay small).
    remove_read: bool,
}

pub struct Outbox {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Outbox {
    /// Starts watching `dir`. Files already there are read on the first scan.
    pub fn watch(dir: &Path) -> anyhow::Result<Outbox> {
        Outbox::start(dir, false)
    }

    /// Like [`Outbox::watch`], and removes each e-mail once it has been read, so that the
    /// folder does not grow during a long run (the soak).
    pub fn watch_and_remove(dir: &Path) -> anyhow::Result<Outbox> {
        Outbox::start(dir, true)
    }

    fn start(dir: &Path, remove_read: bool) -> anyhow::Result<Outbox> {
        let shared = Arc::new(Shared {
            remove_read,
            ..Shared::default()
        });
        let watcher = Arc::clone(&shared);
        let dir = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("outbox-watch".to_owned())
            .spawn(move || scan_loop(&dir, &watcher))
            .context("cannot start the outbox thread")?;
        Ok(Outbox {
            shared,
            thread: Some(thread),
        })
    }

    /// Waits (up to `timeout`) for the verification code sent to `recipient`.
    pub async fn code_for(&self, recipient: &str, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        let recipient = recipient.to_ascii_lowercase();
        self.shared.waiting.fetch_add(1, Ordering::SeqCst);
        let found = loop {
            let code = lock(&self.shared.codes).remove(&recipient);
            if let Some(code) = code {
                break Some(code);
            }
            if Instant::now() >= deadline {
                break None;
            }
            tokio::time::sleep(CHECK_EVERY).await;
        };
        self.shared.waiting.fetch_sub(1, Ordering::SeqCst);
        match found {
            Some(code) => Ok(code),
            None => {
                let unreadable = lock(&self.shared.unreadable).join("; ");
                bail!(
                    "no verification e-mail within {timeout:?}{}",
                    if unreadable.is_empty() {
                        String::new()
                    } else {
                        format!(" (unreadable outbox files: {unreadable})")
                    }
                )
            }
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves a map that is still consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn scan_loop(dir: &Path, shared: &Shared) {
    let mut seen: HashSet<OsString> = HashSet::new();
    while !shared.stop.load(Ordering::SeqCst) {
        if shared.waiting.load(Ordering::SeqCst) > 0 {
            scan(dir, &mut seen, shared);
        }
        std::thread::sleep(SCAN_EVERY);
    }
}

/// Reads the `.eml` files not seen before.
fn scan(dir: &Path, seen: &mut HashSet<OsString>, shared: &Shared) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return; // The folder appears with the first e-mail.
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_mail = name
            .to_str()
            .is_some_and(|n| n.ends_with(".eml") && !n.starts_with('.'));
        if !is_mail || seen.contains(&name) {
            continue;
        }
        let path: PathBuf = entry.path();
        let read = std::fs::read_to_string(&path);
        if shared.remove_read && read.is_ok() && std::fs::remove_file(&path).is_ok() {
            // Gone: its name cannot be listed again, so it need not be remembered.
        } else {
            seen.insert(name);
        }
        match read
            .map_err(anyhow::Error::from)
            .and_then(|raw| verification_code(&raw))
        {
            Ok(Some(pair)) => found.push(pair),
            Ok(None) => {} // Another kind of e-mail (an application's confirmation).
            Err(e) => lock(&shared.unreadable).push(format!("{}: {e:#}", path.display())),
        }
    }
    if !found.is_empty() {
        lock(&shared.codes).extend(found);
    }
}

/// The recipient and the 6-digit code of a verification e-mail; `None` for other e-mails.
pub fn verification_code(raw: &str) -> anyhow::Result<Option<(String, String)>> {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let text = if head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        let compact: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .context("body is not base64")?;
        String::from_utf8(bytes).context("body is not UTF-8")?
    } else {
        body.to_owned()
    };
    let Some(code) = code_in(&text) else {
        return Ok(None);
    };
    let to = recipient(head).context("verification e-mail without a To header")?;
    Ok(Some((to, code)))
}

fn code_in(text: &str) -> Option<String> {
    let (_, after) = text.split_once("確認コード：")?;
    let code: String = after.chars().take(6).collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// The address of the `To:` header (`a@b`, or `Name <a@b>`).
fn recipient(head: &str) -> Option<String> {
    let value = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("to").then_some(value.trim())
    })?;
    let address = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    Some(address.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_code_and_recipient_of_a_base64_message() {
        let body = base64::engine::general_purpose::STANDARD
            .encode("お申し込みの確認コード：048213\r\n有効期限は10分です。".as_bytes());
        let raw = format!(
            "From: no-reply@demo.example\r\nTo: bench.ab12.7@example.jp\r\nSubject: x\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n{}\r\n",
            &body[..20],
            &body[20..]
        );
        assert_eq!(
            verification_code(&raw).unwrap(),
            Some(("bench.ab12.7@example.jp".to_owned(), "048213".to_owned()))
        );
    }

    #[test]
    fn other_messages_carry_no_code() {
        let raw = "To: <a@example.jp>\r\n\r\n受付番号 1234-5678-9012";
        assert_eq!(verification_code(raw).unwrap(), None);
        assert_eq!(
            recipient("To: Hanako <A@Example.jp>").unwrap(),
            "a@example.jp"
        );
    }
}
