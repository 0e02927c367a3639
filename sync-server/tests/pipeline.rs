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
