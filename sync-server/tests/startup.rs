//! The real binary refusing to start: one line on stderr naming the cause, exit code 1, and no
//! backtrace even with `RUST_BACKTRACE=1`.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use tourdesk_testkit::PgCluster;

/// Runs the server binary with only `vars` (and PATH) in its environment, backtraces asked for.
fn run_server(vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tourdesk-sync-server"));
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("RUST_BACKTRACE", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, no backtrace:\n{stderr}");
    assert!(!stderr.contains("backtrace") && !stderr.contains("Stack"), "{stderr}");
    lines[0].to_string()
}

#[test]
fn placeholder_stripe_settings_and_demo_data_refuse_the_start_outside_dev_mode() {
    let out = run_server(&[("TOURDESK_DEMO_DATA", "true"), ("TOURDESK_HOLD_SECOND", "60")]);
    let line = one_line_error(&out);
    assert!(line.starts_with("tourdesk-sync-server: configuration: refusing to start"), "{line}");
    for name in ["TOURDESK_STRIPE_SECRET_KEY", "TOURDESK_STRIPE_WEBHOOK_SECRET", "TOURDESK_DEMO_DATA"] {
        assert!(line.contains(name), "{name} not named: {line}");
    }
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("TOURDESK_HOLD_SECOND is ignored; did you mean TOURDESK_HOLD_SECONDS?"), "{stdout}");
}

#[test]
fn a_bad_value_is_one_line_naming_the_variable() {
    let line = one_line_error(&run_server(&[("TOURDESK_POOL_SIZE", "lots")]));
    assert!(line.contains("TOURDESK_POOL_SIZE") && line.contains("lots"), "{line}");
}

#[test]
fn an_unreachable_database_is_named_by_host_and_port_never_by_password() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let line = one_line_error(&run_server(&[
        ("TOURDESK_DEV_MODE", "true"),
        ("TOURDESK_DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/tourdesk"),
    ]));
    assert!(line.contains("PostgreSQL at 127.0.0.1:1/tourdesk"), "{line}");
    assert!(!line.contains("s3cret"), "{line}");
}

#[tokio::test]
async fn an_address_in_use_is_named() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || {
        let app = tourdesk_testkit::as_app(&db_url);
        run_server(&[
            ("TOURDESK_DEV_MODE", "true"),
            ("TOURDESK_DATABASE_URL", &app),
            ("TOURDESK_MIGRATE_DATABASE_URL", &db_url),
            ("TOURDESK_LISTEN", &addr),
        ])
    })
    .await
    .unwrap();
    let line = one_line_error(&out);
    let addr = taken.local_addr().unwrap().to_string();
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
    // Development mode got this far with the placeholder Stripe settings, saying so loudly.
    let stdout = String::from_utf8(out.stdout).unwrap();
    let warnings: Vec<&str> =
        stdout.lines().filter(|l| l.contains("DEVELOPMENT MODE, unsafe for production")).collect();
    assert!(warnings.iter().any(|l| l.contains("TOURDESK_STRIPE_SECRET_KEY")), "{stdout}");
    assert!(warnings.iter().any(|l| l.contains("TOURDESK_STRIPE_WEBHOOK_SECRET")), "{stdout}");
}
