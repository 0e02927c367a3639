//! Staff roles and the spec's permission table. Checked by the server on every route and by
//! every mutator, so a desk cannot do offline what the server would refuse.

use crate::status::string_enum;

string_enum!(
    /// Who is acting. The first four are staff roles; `Customer` is the public booking site acting
    /// for a customer, who has no account and never appears in `staff_users`.
    Role { Owner => "owner", Admin => "admin", Manager => "manager", Guide => "guide", Customer => "customer" }
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
    /// Invite, promote, suspend staff; see and revoke everyone's devices.
    StaffManage,
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
            // Book and cancel their own booking; which booking is "own" is decided by the caller
            // (reference + e-mail, or a magic link), and operator-side cancellations are refused.
            Role::Customer => matches!(p, ToursRead | SchedulesRead | BookingsWrite),
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
            (Role::Admin, StaffManage, true),
            (Role::Manager, StaffManage, false),
            (Role::Guide, ToursRead, true),
            (Role::Guide, BookingsWrite, false),
            (Role::Customer, BookingsWrite, true),
            (Role::Customer, CustomersWrite, false),
            (Role::Customer, BookingsRead, false),
            (Role::Customer, Overbook, false),
        ];
        for (role, p, want) in cases {
            assert_eq!(role.can(p), want, "{role} {p:?}");
        }
    }
}
