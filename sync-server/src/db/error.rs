//! The database layer's one error type. Every `db::*` helper answers [`DbError`]; the edges map
//! it once: HTTP in `error.rs` (`From<DbError> for AppError`), the push loop in
//! `apply::classify`. Process startup (connecting, migrating, checking the role) stays on
//! `anyhow`: it is no request's answer.

use std::num::TryFromIntError;

use tokio_postgres::error::SqlState;
use tourdesk_domain::money::MoneyError;
use tourdesk_domain::reference::ReferenceError;

/// Why a database helper failed. The PostgreSQL and pool errors are kept whole as the
/// [`source`](std::error::Error::source), so their SQLSTATE and I/O cause stay inspectable.
/// Displayed like `anyhow`: `{}` names the failure, `{:#}` adds every cause under it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A statement failed, or the connection under it did (see [`DbError::is_transient`]).
    Postgres(#[from] tokio_postgres::Error),
    /// The pool could not hand out a connection in time.
    Pool(#[from] deadpool_postgres::PoolError),
    /// Data that does not fit its domain type: a stored row that does not read back as one, or
    /// a decided change that cannot be written as given. Our bug, never a retry: a 500.
    Corrupt(String),
    /// An upsert hit an id that exists in another organization. Ids are client-made UUIDs, so
    /// this is a forged or colliding id: refused, never written, never logged as a change.
    IdTaken(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Postgres(_) => f.write_str("PostgreSQL")?,
            DbError::Pool(_) => f.write_str("connection pool")?,
            DbError::Corrupt(why) => write!(f, "stored row is not valid: {why}")?,
            DbError::IdTaken(id) => write!(f, "id {id} is already in use")?,
        }
        if f.alternate() {
            let mut next = std::error::Error::source(self);
            while let Some(e) = next {
                write!(f, ": {e}")?;
                next = e.source();
            }
        }
        Ok(())
    }
}

impl DbError {
    /// A stored value that is not one of its type's: `what` and the value as found.
    pub fn bad_value(what: &str, v: &str) -> DbError {
        DbError::Corrupt(format!("stored {what} {v:?} is not valid"))
    }

    /// The PostgreSQL error underneath, if this is one.
    pub fn postgres(&self) -> Option<&tokio_postgres::Error> {
        match self {
            DbError::Postgres(e) => Some(e),
            _ => None,
        }
    }

    /// The SQLSTATE of a failed statement.
    pub fn code(&self) -> Option<&SqlState> {
        self.postgres().and_then(tokio_postgres::Error::code)
    }

    /// Whether a retry can fix this: a pool that could not hand out a connection, or a
    /// PostgreSQL error [`crate::error::pg_is_transient`] counts as such. The one rule for both
    /// edges: the push loop stops a batch on it, HTTP answers 503 with `Retry-After`.
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Postgres(e) => crate::error::pg_is_transient(e),
            DbError::Pool(_) => true,
            DbError::Corrupt(_) | DbError::IdTaken(_) => false,
        }
    }

    /// The error with every cause underneath it, `a: b: c` (its `{:#}`), for logs and 503 details.
    pub fn detail(&self) -> String {
        format!("{self:#}")
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Corrupt(format!("JSON: {e}"))
    }
}

impl From<TryFromIntError> for DbError {
    fn from(e: TryFromIntError) -> Self {
        DbError::Corrupt(format!("number out of range: {e}"))
    }
}

impl From<MoneyError> for DbError {
    fn from(e: MoneyError) -> Self {
        DbError::Corrupt(format!("money: {e}"))
    }
}

impl From<ReferenceError> for DbError {
    fn from(e: ReferenceError) -> Self {
        DbError::Corrupt(format!("booking reference: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_display_adds_the_causes_as_anyhow_does() {
        let pool = DbError::Pool(deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait));
        assert_eq!(pool.to_string(), "connection pool");
        assert!(pool.detail().starts_with("connection pool: "), "{}", pool.detail());
        assert!(pool.detail().len() > "connection pool: ".len());
        // Wrapped, each cause once.
        let wrapped = anyhow::Error::from(pool).context("a job");
        assert_eq!(format!("{wrapped:#}").matches("connection pool").count(), 1, "{wrapped:#}");
        assert_eq!(DbError::IdTaken("t-1".into()).detail(), "id t-1 is already in use");
    }
}
