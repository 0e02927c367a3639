//! `tourdesk-scratch`, which `cargo xtask api-fuzz` runs the real server against: it prints where
//! its database and fake Stripe are, they answer, and closing its stdin stops it cleanly.
//!
//! Being an integration test of this package also makes `cargo test --workspace` build the
//! binary, with the workspace's feature selection, so `cargo xtask test` compiles nothing extra
//! for the fuzzing step.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn scratch_prints_a_database_and_a_stripe_that_answer_and_stops_when_its_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tourdesk-scratch"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).lines().take(3).collect::<Result<Vec<_>, _>>().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let vars: Vec<(&str, &str)> = lines.iter().map(|l| l.split_once('=').unwrap()).collect();
    assert!(vars.iter().all(|(k, v)| k.starts_with("TOURDESK_") && !v.is_empty()), "{vars:?}");
    let mut databases = 0;
    for (name, value) in &vars {
        if value.starts_with("postgres") {
            let c = tourdesk_testkit::connect(value).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.query_one("SELECT 1", &[]).await.unwrap().get::<_, i32>(0), 1);
            databases += 1;
        } else if let Some(addr) = value.strip_prefix("http://") {
            // The fake Stripe listens (what it answers is tested with the gateway).
            tokio::net::TcpStream::connect(addr.trim_end_matches('/')).await.unwrap();
        }
    }
    assert!(databases >= 1, "{vars:?}");
    drop(child.stdin.take());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
}
