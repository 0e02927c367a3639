//! A real SMTP server for tests: it listens on a loopback port, speaks enough of RFC 5321 for
//! lettre (and telnet), and keeps every accepted message in memory. A test can make it refuse
//! the next recipients with a chosen reply code, to exercise retries and bounces.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// Larger messages are refused (552), so a runaway client cannot exhaust the test's memory.
const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The envelope sender (MAIL FROM), without angle brackets.
    pub from: String,
    /// The envelope recipients (RCPT TO), without angle brackets.
    pub to: Vec<String>,
    /// The message as transmitted after DATA, dot-unstuffed, without the final line's CRLF.
    pub data: String,
    /// The Subject header, unfolded and with RFC 2047 encoded words decoded.
    pub subject: String,
    /// The body after its Content-Transfer-Encoding is undone, with CRLF turned into `\n`.
    pub text: String,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Message>>,
    arrived: Notify,
    reject: Mutex<Option<(u32, u16)>>,
    sessions: AtomicU32,
}

impl Shared {
    fn messages(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        // A test that panicked while holding the lock has failed already; its data is still fine.
        self.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The code to refuse the next recipient with, if a refusal is armed.
    fn take_rejection(&self) -> Option<u16> {
        let mut r = self.reject.lock().unwrap_or_else(PoisonError::into_inner);
        let (left, code) = (*r)?;
        *r = (left > 1).then_some((left - 1, code));
        Some(code)
    }
}

/// The server; it stops (dropping open connections) when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> anyhow::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                // Owned here, so aborting this task drops and aborts every session too.
                let mut sessions = JoinSet::new();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((stream, _)) => {
                                shared.sessions.fetch_add(1, Ordering::SeqCst);
                                sessions.spawn(session(stream, shared.clone()));
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        },
                        Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                    }
                }
            }
        });
        Ok(SmtpSink { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `smtp://127.0.0.1:PORT`, ready for a mailer's configuration.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.shared.messages().clone()
    }

    /// How many connections were accepted so far.
    pub fn sessions(&self) -> u32 {
        self.shared.sessions.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` messages arrived or `timeout` passed, and returns all of them.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Message> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so a message arriving in between still wakes us.
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let now = self.messages();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.messages();
            }
        }
    }

    /// Answers the next `n` RCPT TO commands with `code` (e.g. 451 to defer, 550 to bounce)
    /// instead of accepting them.
    pub fn reject_next(&self, n: u32, code: u16) {
        *self.shared.reject.lock().unwrap_or_else(PoisonError::into_inner) = (n > 0).then_some((n, code));
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn reply(w: &mut (impl AsyncWrite + Unpin), text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await?;
    w.write_all(b"\r\n").await?;
    w.flush().await
}

/// Reads one line including its terminator; `None` at end of stream or on an overlong line.
async fn read_line(r: &mut BufReader<impl tokio::io::AsyncRead + Unpin>) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let n = (&mut *r).take(MAX_LINE_BYTES as u64).read_until(b'\n', &mut line).await.ok()?;
    (n > 0 && line.ends_with(b"\n")).then_some(line)
}

/// The address inside `<…>` after `FROM:` or `TO:`, ignoring ESMTP parameters.
fn path_arg(args: &str) -> Option<String> {
    let start = args.find('<')?;
    let end = args[start..].find('>')? + start;
    Some(args[start + 1..end].to_string())
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    // The session ends on the first I/O error: the client is gone, there is nobody to tell.
    let _ = converse(&mut r, &mut w, &shared).await;
}

async fn converse(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    shared: &Shared,
) -> std::io::Result<()> {
    reply(w, "220 tourdesk-testkit ESMTP sink").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    while let Some(line) = read_line(r).await {
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, args) = line.split_once(' ').unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => reply(w, "250-tourdesk-testkit\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760").await?,
            "HELO" => reply(w, "250 tourdesk-testkit").await?,
            "MAIL" => match args.to_ascii_uppercase().starts_with("FROM:").then(|| path_arg(args)).flatten() {
                Some(a) => {
                    (from, to) = (Some(a), Vec::new());
                    reply(w, "250 2.1.0 OK").await?;
                }
                None => reply(w, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" => {
                let addr = args.to_ascii_uppercase().starts_with("TO:").then(|| path_arg(args)).flatten();
                match (from.is_some(), addr) {
                    (false, _) => reply(w, "503 5.5.1 MAIL first").await?,
                    (true, None) => reply(w, "501 5.5.4 syntax: RCPT TO:<address>").await?,
                    (true, Some(a)) => match shared.take_rejection() {
                        Some(code) => {
                            let class = code / 100;
                            reply(w, &format!("{code} {class}.0.0 <{a}> refused by the test")).await?;
                        }
                        None => {
                            to.push(a);
                            reply(w, "250 2.1.5 OK").await?;
                        }
                    },
                }
            }
            "DATA" if to.is_empty() => reply(w, "503 5.5.1 RCPT first").await?,
            "DATA" => {
                reply(w, "354 End data with <CR><LF>.<CR><LF>").await?;
                let Some(data) = read_data(r).await else {
                    reply(w, "552 5.3.4 message too big or cut off").await?;
                    (from, to) = (None, Vec::new());
                    continue;
                };
                let (subject, text) = parse_message(&data);
                let message =
                    Message { from: from.take().unwrap_or_default(), to: std::mem::take(&mut to), data, subject, text };
                shared.messages().push(message);
                shared.arrived.notify_waiters();
                reply(w, "250 2.0.0 OK queued").await?;
            }
            "RSET" => {
                (from, to) = (None, Vec::new());
                reply(w, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(w, "250 2.0.0 OK").await?,
            "VRFY" => reply(w, "252 2.1.5 cannot verify, but will accept").await?,
            "QUIT" => {
                reply(w, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(w, "500 5.5.2 command not recognized").await?,
        }
    }
    Ok(())
}

/// The lines up to the lone `.`, dot-unstuffed; `None` if the client vanished or sent too much.
async fn read_data(r: &mut BufReader<impl tokio::io::AsyncRead + Unpin>) -> Option<String> {
    let mut data = Vec::new();
    loop {
        let line = read_line(r).await?;
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(line);
        if data.len() > MAX_MESSAGE_BYTES {
            return None;
        }
    }
    // That CRLF is the first half of the end-of-data marker, not the last line of the body.
    if data.ends_with(b"\r\n") {
        data.truncate(data.len() - 2);
    }
    Some(String::from_utf8_lossy(&data).into_owned())
}

/// The decoded Subject and body text of a single-part message (what lettre sends for a plain
/// text body); a multipart body comes back as it is.
pub fn parse_message(data: &str) -> (String, String) {
    let (head, body) = data.split_once("\r\n\r\n").or_else(|| data.split_once("\n\n")).unwrap_or((data, ""));
    let mut subject = String::new();
    let mut encoding = String::from("7bit");
    for (name, value) in unfold_headers(head) {
        if name.eq_ignore_ascii_case("subject") {
            subject = decode_words(&value);
        } else if name.eq_ignore_ascii_case("content-transfer-encoding") {
            encoding = value.trim().to_ascii_lowercase();
        }
    }
    let bytes = match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => decode_base64(body).unwrap_or_else(|| body.as_bytes().to_vec()),
        _ => body.as_bytes().to_vec(),
    };
    (subject, String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

/// Header lines joined with their continuation lines (RFC 5322 folding), as (name, value).
fn unfold_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim_start().to_string()));
        }
    }
    headers
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); whitespace between two
/// encoded words is dropped, as the RFC says, and plain text is kept.
pub fn decode_words(value: &str) -> String {
    let mut out = Vec::new();
    let mut pending_space = String::new();
    let mut last_was_word = false;
    for token in value.split_inclusive([' ', '\t']) {
        let word = token.trim_end_matches([' ', '\t']);
        let space = &token[word.len()..];
        match decode_word(word) {
            Some(bytes) => {
                if !last_was_word {
                    out.extend_from_slice(pending_space.as_bytes());
                }
                out.extend(bytes);
                last_was_word = true;
            }
            None => {
                out.extend_from_slice(pending_space.as_bytes());
                out.extend_from_slice(word.as_bytes());
                last_was_word = false;
            }
        }
        pending_space = space.to_string();
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_word(word: &str) -> Option<Vec<u8>> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (_charset, enc, text) = (parts.next()?, parts.next()?, parts.next()?);
    match enc {
        "b" | "B" => decode_base64(text),
        "q" | "Q" => Some(decode_quoted_printable(&text.replace('_', " "))),
        _ => None,
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

/// Quoted-printable (RFC 2045): `=XX` is a byte, `=` at a line's end joins it with the next.
pub fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            let rest = &b[i + 1..];
            if rest.starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if rest.starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex =
                rest.get(..2).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_and_encoded_words_decode() {
        assert_eq!(decode_quoted_printable("caf=C3=A9 =\r\nna=3Dme"), "café na=me".as_bytes());
        assert_eq!(decode_words("=?utf-8?b?Q2Fmw6k=?= =?utf-8?q?_ol=C3=A9?= done"), "Café olé done");
        assert_eq!(decode_words("plain  words"), "plain  words");
    }

    #[test]
    fn a_folded_quoted_printable_message_is_read() {
        let data = "From: a@b.test\r\nSubject: =?utf-8?b?UmVzZXJ2YSBjb25maXJtYWRh?=\r\n \
                    =?utf-8?b?IMOp?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                    Ol=C3=A1\r\nline two=\r\n continued";
        let (subject, text) = parse_message(data);
        assert_eq!(subject, "Reserva confirmada é");
        assert_eq!(text, "Olá\nline two continued");
    }

    async fn expect(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, prefix: &str) -> String {
        let line = String::from_utf8(read_line(r).await.unwrap()).unwrap();
        assert!(line.starts_with(prefix), "expected {prefix:?}, got {line:?}");
        line
    }

    #[tokio::test]
    async fn a_raw_conversation_unstuffs_dots_and_honours_rejections() {
        let sink = SmtpSink::start().await.unwrap();
        let (r, mut w) = TcpStream::connect(sink.addr()).await.unwrap().into_split();
        let mut r = BufReader::new(r);
        expect(&mut r, "220 ").await;
        w.write_all(b"EHLO me\r\n").await.unwrap();
        expect(&mut r, "250-").await;
        while !expect(&mut r, "250").await.starts_with("250 ") {}
        sink.reject_next(1, 451);
        w.write_all(b"MAIL FROM:<a@b.test> BODY=8BITMIME\r\nRCPT TO:<c@d.test>\r\n").await.unwrap();
        expect(&mut r, "250 ").await;
        expect(&mut r, "451 4.").await;
        w.write_all(b"RCPT TO:<c@d.test>\r\nDATA\r\n").await.unwrap();
        expect(&mut r, "250 ").await;
        expect(&mut r, "354 ").await;
        w.write_all(b"Subject: hi\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n").await.unwrap();
        expect(&mut r, "250 ").await;
        expect(&mut r, "221 ").await;
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).await.unwrap();
        let got = sink.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].from.as_str(), got[0].to.as_slice()), ("a@b.test", ["c@d.test".to_string()].as_slice()));
        assert_eq!((got[0].subject.as_str(), got[0].text.as_str()), ("hi", ".leading dot"));
    }

    #[tokio::test]
    async fn wait_for_gives_up_after_its_timeout() {
        let sink = SmtpSink::start().await.unwrap();
        assert!(sink.wait_for(1, Duration::from_millis(50)).await.is_empty());
    }
}
