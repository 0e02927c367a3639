//! Staff roles and the seed's permission table. Checked by the server on every route and by
//! every mutator, so a desk cannot do offline what the server would refuse.

use crate::status::string_enum;

string_enum!(
    Role { Owner => "owner", Admin => "admin", Manager => "manager", Guide => "guide" }
);

/// What an action touches. `Own` scopes (a guide's own departures) are decided by the caller,
/// who knows the assignment; this table only says whether the role may try at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ToursRead,
    ToursWrite,
    SchedulesRead,
    SchedulesWrite,
    BookingsRead,
    BookingsWrite,
    CustomersRead,
    CustomersWrite,
    GuidesRead,
    GuidesWrite,
    ReportsRead,
    /// Selling past capacity; audited.
    Overbook,
}

impl Role {
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(p, Overbook),
            Role::Manager => matches!(
                p,
                ToursRead
                    | SchedulesRead
                    | SchedulesWrite
                    | BookingsRead
                    | BookingsWrite
                    | CustomersRead
                    | GuidesRead
                    | Overbook
            ),
            // Guides read reference data and their own departures; "own" is enforced by replication.
            Role::Guide => matches!(p, ToursRead | SchedulesRead | BookingsRead),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn permission_table() {
        let cases = [
            (Role::Owner, ToursWrite, true),
            (Role::Admin, ToursWrite, true),
            (Role::Admin, Overbook, false),
            (Role::Manager, ToursWrite, false),
            (Role::Manager, BookingsWrite, true),
            (Role::Manager, Overbook, true),
            (Role::Guide, ToursRead, true),
            (Role::Guide, BookingsWrite, false),
        ];
        for (role, p, want) in cases {
            assert_eq!(role.can(p), want, "{role} {p:?}");
        }
    }
}
