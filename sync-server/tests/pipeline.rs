//! Pipelined statements on a real PostgreSQL: when one fails, the ones sent after it fail with
//! "current transaction is aborted", and the server must classify the statement that failed
//! first — a deadlock is retried, a constraint becomes a rejection.
#![allow(clippy::unwrap_used)]

use tokio_postgres::error::SqlState;
use tourdesk_sync_server::{Config, db};
use tourdesk_testkit::PgCluster;

fn code(e: &db::DbError) -> Option<SqlState> {
    e.code().cloned()
}

#[tokio::test]
async fn the_cause_of_a_failed_pipeline_is_reported_whatever_the_order_of_its_results() {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.fresh_database().await.unwrap();
    let pool = db::connect(&Config { database_url: url, pool_size: 2, ..Config::default() }).unwrap();
    let mut conn = pool.get().await.unwrap();
    let tx = conn.transaction().await.unwrap();

    // Sent in this order: the division fails, the next statement is refused as aborted.
    let (failed, aborted) = tokio::join!(biased; tx.execute("SELECT 1 / 0", &[]), tx.execute("SELECT 1", &[]));
    assert_eq!(aborted.as_ref().unwrap_err().code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));

    // Handed over in the other order, the division is still the one reported.
    let e = db::all2(aborted, failed).unwrap_err();
    assert_eq!(code(&e), Some(SqlState::DIVISION_BY_ZERO), "{}", e.detail());
    tx.rollback().await.unwrap();

    let tx = conn.transaction().await.unwrap();
    let results = futures_util::future::join_all([
        tx.execute("SELECT 1", &[]),
        tx.execute("SELECT 'x'::int", &[]),
        tx.execute("SELECT 2", &[]),
    ])
    .await;
    let e = db::all(results.into_iter().rev().collect()).unwrap_err();
    assert_eq!(code(&e), Some(SqlState::INVALID_TEXT_REPRESENTATION), "{}", e.detail());
    tx.rollback().await.unwrap();

    // Nothing failed: the values come back in order.
    let tx = conn.transaction().await.unwrap();
    let (a, b) = tokio::join!(tx.query_one("SELECT 1::int", &[]), tx.query_one("SELECT 2::int", &[]));
    let (a, b) = db::all2(a, b).unwrap();
    assert_eq!((a.get::<_, i32>(0), b.get::<_, i32>(0)), (1, 2));
}

/// What PostgreSQL raises, as the push loop and HTTP see it through the typed `DbError`: a
/// serialization failure is retried (503 over HTTP), a unique violation is a conflict on the
/// field its constraint names (a 500 over HTTP, where no mutation should meet one).
#[tokio::test]
async fn classify_finds_the_postgres_error_inside_a_db_error() {
    use axum::response::IntoResponse;
    use tourdesk_domain::mutation::Rejection;
    use tourdesk_sync_server::AppError;
    use tourdesk_sync_server::apply::{Failure, classify};

    let cluster = PgCluster::start().unwrap();
    let url = cluster.fresh_database().await.unwrap();
    let pool = db::connect(&Config { database_url: url, pool_size: 2, ..Config::default() }).unwrap();
    let conn = pool.get().await.unwrap();
    let raise = |errcode: &str, constraint: &str| {
        format!("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{errcode}', CONSTRAINT = '{constraint}'; END $$")
    };

    let serialization = db::DbError::from(conn.batch_execute(&raise("serialization_failure", "")).await.unwrap_err());
    assert_eq!(serialization.code(), Some(&SqlState::T_R_SERIALIZATION_FAILURE));
    assert!(matches!(classify(&serialization), Failure::Transient(_)), "{}", serialization.detail());
    assert_eq!(AppError::from(serialization).into_response().status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);

    let unique =
        db::DbError::from(conn.batch_execute(&raise("unique_violation", "customers_email_key")).await.unwrap_err());
    match classify(&unique) {
        Failure::Rejected(Rejection::Conflict { field, .. }) => assert_eq!(field, "email"),
        _ => panic!("a unique violation is a conflict: {}", unique.detail()),
    }
    assert_eq!(AppError::from(unique).into_response().status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);

    // Found the same way when it comes back from a pipelined pair behind an aborted statement.
    let tx_conn = &mut pool.get().await.unwrap();
    let tx = tx_conn.transaction().await.unwrap();
    let sql = raise("unique_violation", "bookings_reference_number_key");
    let (failed, aborted) = tokio::join!(biased; tx.batch_execute(&sql), tx.execute("SELECT 1", &[]));
    match classify(&db::all2(aborted, failed).unwrap_err()) {
        Failure::Rejected(Rejection::Conflict { field, .. }) => assert_eq!(field, "reference_entropy"),
        _ => panic!("the pipeline's cause is classified"),
    }
}
