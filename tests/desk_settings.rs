//! The desk's settings area against the real server: `SyncClient::staff_call`, the one online
//! call the desk's settings commands make, as an owner and as a manager. Refusals come back with
//! the server's code, words and field; two-step sign-in is enrolled with a code computed from the
//! secret as an authenticator app would; devices are listed and signed out; report e-mails are
//! scheduled, changed and stopped.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tourdesk_domain::accounts::{
    InviteRequest, MfaEnrolment, MfaRequest, OrganizationChange, OrganizationSettings, RecoveryCodes, StaffChange,
    StaffList, StaffMember, StaffStatus,
};
use tourdesk_domain::protocol::{DeviceInfo, DeviceList};
use tourdesk_domain::roles::Role;
use tourdesk_local_store::sync::Method;
use tourdesk_local_store::{Store, SyncClient, SyncError};
use tourdesk_sync_server::{demo_data, mfa};
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{Env, Fakes};

const NO_BODY: Option<&()> = None;

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A signed-in desk of `email`.
async fn desk(env: &Env, name: &str, email: &str) -> (Store, SyncClient) {
    let (store, client) = (env.desk(name), env.client(email));
    client.sign_in(&store).await.unwrap();
    (store, client)
}

fn refused(e: SyncError) -> (u16, String, String, Option<String>) {
    match e {
        SyncError::Refused { status, code, message, field } => (status, code, message, field),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_manages_the_organization_staff_mfa_and_devices_from_the_desk() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let (owner_store, owner) = desk(&env, "owner", demo_data::DEMO_OWNER_EMAIL).await;
    let (manager_store, manager) = desk(&env, "manager", demo_data::DEMO_MANAGER_EMAIL).await;

    // Organization settings: read, changed, refused at their field, refused to a manager.
    let before: OrganizationSettings =
        owner.staff_call(&owner_store, Method::GET, "/api/v1/organization", NO_BODY).await.unwrap();
    assert_eq!(before.slug, demo_data::DEMO_ORG_SLUG);
    let change = OrganizationChange {
        timezone: Some("Europe/Lisbon".into()),
        country_code: Some("pt".into()),
        ..Default::default()
    };
    let after: OrganizationSettings =
        owner.staff_call(&owner_store, Method::PATCH, "/api/v1/organization", Some(&change)).await.unwrap();
    assert_eq!((after.timezone.as_str(), after.country_code.as_deref()), ("Europe/Lisbon", Some("PT")));
    assert_eq!(after.name, before.name, "what was not sent is kept");
    let bad = OrganizationChange { timezone: Some("Lisbon".into()), ..Default::default() };
    let e =
        owner.staff_call::<OrganizationSettings, _>(&owner_store, Method::PATCH, "/api/v1/organization", Some(&bad));
    let (status, code, _, field) = refused(e.await.unwrap_err());
    assert_eq!((status, code.as_str(), field.as_deref()), (422, "INVALID", Some("timezone")));
    let rename = OrganizationChange { name: Some("Taken Over".into()), ..Default::default() };
    let e = manager.staff_call::<OrganizationSettings, _>(
        &manager_store,
        Method::PATCH,
        "/api/v1/organization",
        Some(&rename),
    );
    let (status, _, message, _) = refused(e.await.unwrap_err());
    assert_eq!((status, message.as_str()), (403, "only owners and admins change the organization's settings"));
    let read: OrganizationSettings =
        manager.staff_call(&manager_store, Method::GET, "/api/v1/organization", NO_BODY).await.unwrap();
    assert_eq!(read, after, "every member reads them");

    // Staff: invite (the server mails the link), list, re-send, suspend; a manager is refused.
    let invite = InviteRequest { email: "Nina@Example.com".into(), name: "Nina Novak".into(), role: Role::Guide };
    let nina: StaffMember =
        owner.staff_call(&owner_store, Method::POST, "/api/v1/staff/invites", Some(&invite)).await.unwrap();
    assert_eq!((nina.email.as_str(), nina.status), ("nina@example.com", StaffStatus::Invited));
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert!(mails.iter().any(|m| m.to.iter().any(|t| t == "nina@example.com")), "the invitation was mailed");
    let e = owner.staff_call::<StaffMember, _>(&owner_store, Method::POST, "/api/v1/staff/invites", Some(&invite));
    let (status, code, message, _) = refused(e.await.unwrap_err());
    assert_eq!((status, code.as_str()), (409, "ALREADY_STAFF"), "{message}");
    let list: StaffList = owner.staff_call(&owner_store, Method::GET, "/api/v1/staff", NO_BODY).await.unwrap();
    assert!(list.staff.iter().any(|m| m.id == nina.id && m.status == StaffStatus::Invited), "{list:?}");
    let path = format!("/api/v1/staff/{}/invite", nina.id);
    let again: StaffMember = owner.staff_call(&owner_store, Method::POST, &path, NO_BODY).await.unwrap();
    assert_eq!(again.id, nina.id);
    smtp.wait_for(2, Duration::from_secs(10)).await;
    let e = manager.staff_call::<StaffList, _>(&manager_store, Method::GET, "/api/v1/staff", NO_BODY);
    let (status, code, message, _) = refused(e.await.unwrap_err());
    assert_eq!((status, code.as_str(), message.as_str()), (403, "FORBIDDEN", "only owners and admins manage staff"));
    let path = format!("/api/v1/staff/{}", nina.id);
    let suspend = StaffChange { role: None, suspended: Some(true) };
    let e = manager.staff_call::<StaffMember, _>(&manager_store, Method::PATCH, &path, Some(&suspend));
    assert_eq!(refused(e.await.unwrap_err()).0, 403);
    let suspended: StaffMember = owner.staff_call(&owner_store, Method::PATCH, &path, Some(&suspend)).await.unwrap();
    assert_eq!(suspended.status, StaffStatus::Suspended);

    // Two-step sign-in: the password again, then a code from the secret, then recovery codes once.
    let wrong = MfaRequest { password: Some("not my password".into()), code: None };
    let e = owner.staff_call::<MfaEnrolment, _>(&owner_store, Method::POST, "/api/v1/auth/mfa/enrol", Some(&wrong));
    assert_eq!(refused(e.await.unwrap_err()).3.as_deref(), Some("password"));
    let enrol = MfaRequest { password: Some(demo_data::DEMO_PASSWORD.into()), code: None };
    let enrolment: MfaEnrolment =
        owner.staff_call(&owner_store, Method::POST, "/api/v1/auth/mfa/enrol", Some(&enrol)).await.unwrap();
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/"));
    let bad_code = MfaRequest { password: None, code: Some("000000".into()) };
    let e =
        owner.staff_call::<RecoveryCodes, _>(&owner_store, Method::POST, "/api/v1/auth/mfa/confirm", Some(&bad_code));
    assert_eq!(refused(e.await.unwrap_err()).3.as_deref(), Some("code"), "a wrong code is refused at its field");
    let code = mfa::code_at(&enrolment.secret, unix_now()).unwrap();
    let confirm = MfaRequest { password: None, code: Some(code) };
    let codes: RecoveryCodes =
        owner.staff_call(&owner_store, Method::POST, "/api/v1/auth/mfa/confirm", Some(&confirm)).await.unwrap();
    assert_eq!(codes.codes.len(), 10);
    let list: StaffList = owner.staff_call(&owner_store, Method::GET, "/api/v1/staff", NO_BODY).await.unwrap();
    let me = list.staff.iter().find(|m| m.email == demo_data::DEMO_OWNER_EMAIL).unwrap();
    assert!(me.mfa_enabled, "the staff list says it is on");
    let off = MfaRequest { password: Some(demo_data::DEMO_PASSWORD.into()), code: Some(codes.codes[0].clone()) };
    let () = owner.staff_call(&owner_store, Method::POST, "/api/v1/auth/mfa/disable", Some(&off)).await.unwrap();

    // Devices: the manager sees their own, the owner everyone's with this desk marked; the owner
    // signs the manager's desk out.
    let mine: DeviceList =
        manager.staff_call(&manager_store, Method::GET, "/api/v1/auth/devices", NO_BODY).await.unwrap();
    assert!(!mine.devices.is_empty() && mine.devices.iter().all(|d| d.user_name == mine.devices[0].user_name));
    let managers_desk = mine.devices.iter().find(|d| d.current).unwrap().clone();
    let all: DeviceList = owner.staff_call(&owner_store, Method::GET, "/api/v1/auth/devices", NO_BODY).await.unwrap();
    assert!(all.devices.iter().any(|d| d.id == managers_desk.id && !d.current));
    assert_eq!(all.devices.iter().filter(|d| d.current).count(), 1, "this desk, once");
    let path = format!("/api/v1/auth/devices/{}/revoke", managers_desk.id);
    let owners_desk = all.devices.iter().find(|d| d.current).unwrap();
    let other = format!("/api/v1/auth/devices/{}/revoke", owners_desk.id);
    let e = manager.staff_call::<DeviceInfo, _>(&manager_store, Method::POST, &other, NO_BODY);
    assert_eq!(refused(e.await.unwrap_err()).0, 403, "a manager does not sign the owner's desk out");
    let revoked: DeviceInfo = owner.staff_call(&owner_store, Method::POST, &path, NO_BODY).await.unwrap();
    assert!(revoked.revoked_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_offline_not_a_refusal() {
    let mut env = Env::start().await;
    let (store, owner) = desk(&env, "owner", demo_data::DEMO_OWNER_EMAIL).await;
    env.stop_server().await;
    let e = owner.staff_call::<OrganizationSettings, _>(&store, Method::GET, "/api/v1/organization", NO_BODY).await;
    assert!(matches!(e, Err(SyncError::Offline(_))), "{e:?}");
}

/// The desk's "Scheduled e-mails" screen: its commands' calls (`list_report_schedules`,
/// `save_report_schedule`, `delete_report_schedule`) as an owner, refused at their field, and a
/// manager (no reports permission) refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_schedules_changes_and_stops_a_report_email_from_the_desk() {
    use tourdesk_domain::reports::schedule::{ReportSchedule, ScheduleInput};
    const PATH: &str = "/api/v1/report-schedules";
    let env = Env::start().await;
    let (owner_store, owner) = desk(&env, "owner", demo_data::DEMO_OWNER_EMAIL).await;
    let (manager_store, manager) = desk(&env, "manager", demo_data::DEMO_MANAGER_EMAIL).await;
    let staff: StaffList = owner.staff_call(&owner_store, Method::GET, "/api/v1/staff", NO_BODY).await.unwrap();
    let id_of = |email: &str| staff.staff.iter().find(|m| m.email == email).unwrap().id.clone();
    let (owner_id, manager_id) = (id_of(demo_data::DEMO_OWNER_EMAIL), id_of(demo_data::DEMO_MANAGER_EMAIL));

    let none: Vec<ReportSchedule> = owner.staff_call(&owner_store, Method::GET, PATH, NO_BODY).await.unwrap();
    assert!(none.is_empty(), "{none:?}");
    let input = ScheduleInput {
        kind: "daily_sales".into(),
        recipient_user_ids: vec![manager_id.clone(), owner_id.clone()],
        recipient_roles: vec![],
        send_hour: 7,
    };
    let made: ReportSchedule = owner.staff_call(&owner_store, Method::POST, PATH, Some(&input)).await.unwrap();
    let mut both = vec![owner_id.clone(), manager_id.clone()];
    both.sort();
    assert_eq!((made.kind.as_str(), &made.recipient_user_ids, made.send_hour), ("daily_sales", &both, 7));

    // Changed: another report, fewer people, a role, another hour; the list shows it so.
    let change = ScheduleInput {
        kind: "weekly_sales".into(),
        recipient_user_ids: vec![owner_id.clone()],
        recipient_roles: vec!["admin".into()],
        send_hour: 18,
    };
    let path = format!("{PATH}/{}", made.id);
    let changed: ReportSchedule = owner.staff_call(&owner_store, Method::PUT, &path, Some(&change)).await.unwrap();
    assert_eq!((changed.id.as_str(), changed.kind.as_str(), changed.send_hour), (made.id.as_str(), "weekly_sales", 18));
    let listed: Vec<ReportSchedule> = owner.staff_call(&owner_store, Method::GET, PATH, NO_BODY).await.unwrap();
    assert_eq!(listed, vec![changed.clone()]);
    assert_eq!(listed[0].recipient_roles, ["admin"]);

    // Refusals at their field: an hour that is not one, somebody who is not staff.
    let bad_hour = ScheduleInput { send_hour: 24, ..change.clone() };
    let e = owner.staff_call::<ReportSchedule, _>(&owner_store, Method::PUT, &path, Some(&bad_hour));
    let (status, _, _, field) = refused(e.await.unwrap_err());
    assert_eq!((status, field.as_deref()), (422, Some("send_hour")));
    let stranger = ScheduleInput { recipient_user_ids: vec!["not-a-member".into()], ..change.clone() };
    let e = owner.staff_call::<ReportSchedule, _>(&owner_store, Method::POST, PATH, Some(&stranger));
    assert_eq!(refused(e.await.unwrap_err()).3.as_deref(), Some("recipient_user_ids"));
    let unknown = format!("{PATH}/nope");
    let e = owner.staff_call::<ReportSchedule, _>(&owner_store, Method::PUT, &unknown, Some(&change));
    assert_eq!(refused(e.await.unwrap_err()).0, 404);
    // A manager does not read the organization's money, so schedules none.
    let e = manager.staff_call::<Vec<ReportSchedule>, _>(&manager_store, Method::GET, PATH, NO_BODY);
    assert_eq!(refused(e.await.unwrap_err()).0, 403);
    let e = manager.staff_call::<(), _>(&manager_store, Method::DELETE, &path, NO_BODY);
    assert_eq!(refused(e.await.unwrap_err()).0, 403);

    // Stopped: gone from the list, and a second stop finds nothing.
    let () = owner.staff_call(&owner_store, Method::DELETE, &path, NO_BODY).await.unwrap();
    let after: Vec<ReportSchedule> = owner.staff_call(&owner_store, Method::GET, PATH, NO_BODY).await.unwrap();
    assert!(after.is_empty(), "{after:?}");
    let e = owner.staff_call::<(), _>(&owner_store, Method::DELETE, &path, NO_BODY);
    assert_eq!(refused(e.await.unwrap_err()).0, 404);
}
