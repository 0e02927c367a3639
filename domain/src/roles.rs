//! Staff roles and the spec's permission table ([`Role::can`]).
//!
//! Who asks it:
//! * Every mutator (through `require` in `mutation`, or directly), so the desk's optimistic run
//!   and the server's authoritative run reject the same intents with `NOT_AUTHORIZED`: a desk
//!   cannot do offline what the server would reject.
//! * The server asks it only through the domain: through those mutators, which it runs with the
//!   signed-in staff member's role (pushes), `Customer` (the public booking API) or `Owner` (its
//!   own hold-expiry job and the demo data); and through [`crate::accounts`] (`check_invite`,
//!   `check_staff_change`, `manages_all_devices`) for managing staff and for whose devices a
//!   member may list and revoke. No route checks a permission of its own, and what a device
//!   pulls is decided by role in [`crate::replication`], not here.
//! * The desk's UI, only to decide whether to offer an action (selling past capacity).

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
    /// Change the organization's settings: name, contact, currency, time zone, language, country.
    SettingsManage,
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
                    | GuidesWrite
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
            (Role::Admin, SettingsManage, true),
            (Role::Manager, SettingsManage, false),
            (Role::Guide, SettingsManage, false),
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
