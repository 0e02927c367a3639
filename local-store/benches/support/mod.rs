//! What the desk benches share: an empty replica signed in as a manager, and rows turned into
//! the change records a pull delivers.

use std::path::Path;

use tourdesk_domain::protocol::{ChangeRecord, EntityKind, Op};
use tourdesk_domain::roles::Role;
use tourdesk_local_store::{Session, Store};

pub const ORG: &str = "org-1";

/// A new replica at `dir/desk.sqlite3`, signed in as a manager of [`ORG`].
pub fn manager_store(dir: &Path, user_id: &str) -> Store {
    let store = Store::open(&dir.join("desk.sqlite3")).unwrap();
    store
        .save_session(&Session {
            user_id: user_id.into(),
            user_name: "Bench".into(),
            role: Role::Manager,
            organization_id: ORG.into(),
            organization_name: "Bench".into(),
            organization_defaults: Default::default(),
        })
        .unwrap();
    store
}

/// `row` as the put of a pull page, at `seq`.
pub fn record<T: serde::Serialize>(kind: EntityKind, seq: u64, row: &T) -> ChangeRecord {
    let row = serde_json::to_value(row).unwrap();
    ChangeRecord { seq, entity: kind, id: row["id"].as_str().unwrap().into(), op: Op::Put, row }
}
