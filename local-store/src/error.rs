use tourdesk_domain::mutation::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not migrate the local database: {0}")]
    Migration(#[from] refinery::Error),
    #[error("{0}")]
    Rejected(#[from] Rejection),
    #[error("this desk has not signed in yet; connect to the server once so it knows your organization")]
    NotSignedIn,
    #[error("{0}")]
    IdentityChange(String),
    #[error("{0} changes made on this desk have not reached the server yet; signing out now would discard them")]
    PendingChanges(u64),
    #[error(
        "this desk's database is older than what the server has already received from it (server has \
         change {server_last}, this desk would number its next one {local_next}); it was probably restored \
         from a backup or copied. Nothing was discarded; ask an administrator to re-register this desk."
    )]
    Forked { server_last: u64, local_next: u64 },
    /// A report or list could not be written as a file (the message says why).
    #[error("{0}")]
    Export(String),
    #[error("local data is corrupt: {0}")]
    Corrupt(String),
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
