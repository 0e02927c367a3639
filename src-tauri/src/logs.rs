//! The desk's logs, for support: stderr as before, plus rotating files in the platform's log
//! directory (`desk.log`, rotated at 5 MiB, 5 old files kept: `desk.log.1` … `desk.log.5`), and
//! the last warnings and errors kept in memory for "Copy diagnostics".
//!
//! Nothing personal or secret reaches a file or the diagnostics: every line goes through
//! [`redact`] (e-mail addresses, phone numbers, passwords, tokens, secrets, `Authorization`
//! values). The code logs ids and counts, not customers' names; the redaction is the net under it.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const LOG_FILE: &str = "desk.log";
const MAX_BYTES: u64 = 5 * 1024 * 1024;
const KEEP: usize = 5;
const RECENT: usize = 20;

/// Replaces what must not be logged: e-mail addresses, phone numbers, and the values of
/// anything named like a password, token, secret, key or authorization.
pub fn redact(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        // A secret-looking name followed by `=`, `:` or `": "`: keep the name, hide the value.
        if let Some(value_start) = secret_name_at(&chars, i) {
            out.extend(&chars[i..value_start]);
            let end = if starts_with_ci(&chars, value_start, "bearer ") {
                value_end(&chars, value_start + 7)
            } else {
                value_end(&chars, value_start)
            };
            let quoted = chars.get(value_start) == Some(&'"');
            out.push_str(if quoted { "\"<redacted>\"" } else { "<redacted>" });
            i = end;
            continue;
        }
        // `Bearer xyz`
        if starts_with_ci(&chars, i, "bearer ") && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            out.push_str("Bearer <redacted>");
            i = value_end(&chars, i + 7);
            continue;
        }
        // An e-mail address: a word with an @ and a dot after it.
        if chars[i] == '@' {
            let start = out.trim_end_matches(is_email_char).len();
            let end = (i + 1..chars.len()).find(|&j| !is_email_char(chars[j])).unwrap_or(chars.len());
            let domain: String = chars[i + 1..end].iter().collect();
            if start < out.len() && domain.contains('.') {
                out.truncate(start);
                out.push_str("<email>");
                i = end;
                continue;
            }
        }
        // A phone number: 7 or more digits, possibly with +, spaces, dashes or brackets between.
        if (chars[i] == '+' || chars[i].is_ascii_digit()) && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let mut j = i;
            let mut digits = 0;
            while j < chars.len() && (chars[j].is_ascii_digit() || matches!(chars[j], '+' | ' ' | '-' | '(' | ')')) {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            // Spaces after the number belong to the text that follows.
            while j > i + 1 && chars[j - 1] == ' ' {
                j -= 1;
            }
            // A date, a time or a UUID fragment runs into a letter or another separator, so it
            // is not taken for a phone number.
            let looks_like_phone = digits >= 7
                && (chars[i] == '+' || chars[i..j].iter().any(|c| matches!(c, ' ' | '-' | '(')) || digits >= 9)
                && (j == chars.len() || !(chars[j].is_alphanumeric() || matches!(chars[j], ':' | '.' | 'T')));
            if looks_like_phone {
                out.push_str("<phone>");
            } else {
                out.extend(&chars[i..j]);
            }
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_email_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '%')
}

fn starts_with_ci(chars: &[char], at: usize, word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    chars.len() >= at + w.len() && chars[at..at + w.len()].iter().zip(&w).all(|(a, b)| a.to_ascii_lowercase() == *b)
}

const SECRET_WORDS: &[&str] =
    &["password", "passwd", "token", "secret", "authorization", "api_key", "apikey", "cookie"];

/// At `i`, a name containing a secret word, then `=`/`:` (maybe quoted): where the value starts.
fn secret_name_at(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    while j < chars.len() && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '-')) {
        j += 1;
    }
    if j == i {
        return None;
    }
    let name: String = chars[i..j].iter().collect::<String>().to_ascii_lowercase();
    if !SECRET_WORDS.iter().any(|w| name.contains(w)) {
        return None;
    }
    let mut k = j;
    if chars.get(k) == Some(&'"') {
        k += 1;
    }
    if !matches!(chars.get(k), Some('=' | ':')) {
        return None;
    }
    k += 1;
    while chars.get(k) == Some(&' ') {
        k += 1;
    }
    // `password: None` / `token: Some(..)` in Debug output are handled alike: the value goes.
    (k < chars.len()).then_some(k)
}

/// The end of a value starting at `i`: a quoted string, a bracketed group, or up to a separator.
fn value_end(chars: &[char], i: usize) -> usize {
    match chars.get(i) {
        Some('"') => {
            (i + 1..chars.len()).find(|&j| chars[j] == '"' && chars[j - 1] != '\\').map_or(chars.len(), |j| j + 1)
        }
        _ => {
            let mut depth = 0i32;
            let mut j = i;
            while j < chars.len() {
                match chars[j] {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' if depth > 0 => depth -= 1,
                    ')' | ']' | '}' | ',' | ' ' | ';' | '&' | '\n' if depth == 0 => break,
                    _ => {}
                }
                j += 1;
            }
            j
        }
    }
}

/// The file sink: opened once the app knows its log directory (until then, stderr only).
struct Rotating {
    dir: PathBuf,
    file: File,
    size: u64,
}

impl Rotating {
    fn open(dir: &Path) -> std::io::Result<Rotating> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(LOG_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(Rotating { dir: dir.to_path_buf(), file, size })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let name = |n: usize| self.dir.join(if n == 0 { LOG_FILE.to_string() } else { format!("{LOG_FILE}.{n}") });
        let _ = std::fs::remove_file(name(KEEP));
        for n in (0..KEEP).rev() {
            if name(n).exists() {
                std::fs::rename(name(n), name(n + 1))?;
            }
        }
        self.file = OpenOptions::new().create(true).append(true).open(name(0))?;
        self.size = 0;
        Ok(())
    }

    fn write_line(&mut self, text: &str) {
        if self.size + text.len() as u64 > MAX_BYTES && self.size > 0 && self.rotate().is_err() {
            return;
        }
        if self.file.write_all(text.as_bytes()).is_ok() {
            self.size += text.len() as u64;
        }
    }
}

fn sink() -> &'static Mutex<Option<Rotating>> {
    static SINK: OnceLock<Mutex<Option<Rotating>>> = OnceLock::new();
    SINK.get_or_init(|| Mutex::new(None))
}

fn recent() -> &'static Mutex<VecDeque<String>> {
    static RECENT_ERRORS: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    RECENT_ERRORS.get_or_init(|| Mutex::new(VecDeque::new()))
}

/// The last warnings and errors (redacted), oldest first.
pub fn recent_problems() -> Vec<String> {
    recent().lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
}

/// Where the log files go from now on.
pub fn open_dir(dir: &Path) -> std::io::Result<PathBuf> {
    let r = Rotating::open(dir)?;
    *sink().lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    Ok(dir.join(LOG_FILE))
}

/// The directory the logs are written to, once opened.
pub fn log_file() -> Option<PathBuf> {
    sink().lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|r| r.dir.join(LOG_FILE))
}

/// One formatted event for the file, redacted first.
struct FileWriter;

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = redact(&String::from_utf8_lossy(buf));
        if let Some(r) = sink().lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            r.write_line(&text);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps the last warnings and errors, redacted, for the diagnostics.
struct RecentWriter;

impl Write for RecentWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = redact(String::from_utf8_lossy(buf).trim_end());
        let mut r = recent().lock().unwrap_or_else(|p| p.into_inner());
        if r.len() == RECENT {
            r.pop_front();
        }
        r.push_back(text);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stderr (as `RUST_LOG` says, `info` by default), the log file (info and up) and the recent
/// problems (warnings and errors).
pub fn init() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    let stderr_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"));
    let file_filter = EnvFilter::new("info,tao=warn,wry=warn");
    let result = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(stderr_filter))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(|| FileWriter).with_filter(file_filter))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| RecentWriter)
                .with_filter(LevelFilter::WARN),
        )
        .try_init();
    if let Err(e) = result {
        eprintln!("logging was already set up: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_personal_data_never_reach_a_log_line() {
        let cases = [
            ("signing in as anna.berg@example.com", "signing in as <email>"),
            ("DeskConfig { email: Some(\"owner@demo.tourdesk.test\") }", "DeskConfig { email: Some(\"<email>\") }"),
            ("password=hunter2 next", "password=<redacted> next"),
            ("\"refresh_token\":\"abc.def\",\"x\":1", "\"refresh_token\":\"<redacted>\",\"x\":1"),
            ("access_token: Some(\"tok\") and more", "access_token: <redacted> and more"),
            ("authorization: Bearer eyJhbGciOi.xyz", "authorization: <redacted>"),
            ("sent with Bearer eyJhbGciOi.xyz ok", "sent with Bearer <redacted> ok"),
            ("customer phone +44 20 7946 0958 saved", "customer phone <phone> saved"),
            ("call 030-1234567", "call <phone>"),
            ("TOURDESK_STRIPE_SECRET_KEY=sk_live_abc", "TOURDESK_STRIPE_SECRET_KEY=<redacted>"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn ordinary_lines_stay_readable() {
        for line in [
            "2026-12-03T14:05:47.123Z  INFO tourdesk_desk: sync round pushed=3 pulled=120",
            "departure 6f1c2a7e-1b2c-4d5e-8f90-123456789abc full: 12 of 12 seats",
            "booking TD-8K3M2Q rejected: CAPACITY_EXCEEDED",
            "version 0.2.0 on stable for linux-x86_64",
            "no tokens were refused",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn files_rotate_and_keep_five() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut r = Rotating::open(dir.path()).expect("open");
        let line = "x".repeat(1024 * 1024) + "\n";
        for _ in 0..40 {
            r.write_line(&line);
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["desk.log", "desk.log.1", "desk.log.2", "desk.log.3", "desk.log.4", "desk.log.5"]);
        for n in &names {
            let len = std::fs::metadata(dir.path().join(n)).expect("meta").len();
            assert!(len <= MAX_BYTES, "{n} is {len} bytes");
        }
    }
}
