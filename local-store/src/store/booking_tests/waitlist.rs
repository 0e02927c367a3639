//! The waitlist on the desk: entries added and removed offline (pending until the server's row
//! comes back), the server's status changes applied from a pull, places in the queue and
//! statuses in words, filters, and refusals that queue nothing.

use tourdesk_domain::entities::WaitlistEntry;
use tourdesk_domain::ipc::WaitlistFilter;
use tourdesk_domain::waitlist::WaitlistStatus;

use super::*;

const W_ANA: &str = "00000000-0000-4000-8000-0000000e0001";
const W_BO: &str = "00000000-0000-4000-8000-0000000e0002";

fn add(id: &str, customer_id: &str, quantity: u32) -> Mutation {
    Mutation::decode(
        "add_to_waitlist.v1",
        &json!({"id": id, "tour_id": TOUR, "departure_id": D1, "customer_id": customer_id,
                "lines": [{"tier_id": ADULT, "quantity": quantity}]}),
    )
    .unwrap()
}

fn remove(id: &str) -> Mutation {
    Mutation::decode("remove_from_waitlist.v1", &json!({"id": id})).unwrap()
}

fn applied(id: u64) -> MutationResult {
    MutationResult { id, status: OutcomeStatus::Applied, code: None, detail: None }
}

/// The entry as the server holds it after the desk's `add_to_waitlist.v1`.
fn server_entry(s: &Store, id: &str) -> WaitlistEntry {
    let conn = s.conn();
    rows::waitlist_entry(&conn, ORG, id).unwrap().unwrap()
}

fn full_store(dir: &tempfile::TempDir, role: Role) -> Store {
    let s = store(dir, role);
    seed(&s, 2);
    s.apply_pull(&pull(vec![bucket(ALL, 20, vec![put(EntityKind::Departure, &departure(D1, 0, 2, 2))])], 0, vec![]))
        .unwrap();
    s
}

#[test]
fn entries_added_offline_show_at_once_in_queue_order_and_settle_with_the_servers_rows() {
    let dir = tempfile::tempdir().unwrap();
    let s = full_store(&dir, Role::Manager);
    assert!(s.waitlist(&WaitlistFilter::default()).unwrap().is_empty());
    assert_eq!(s.mutate(&add(W_ANA, ANA, 2)).unwrap(), 1);
    assert_eq!(s.mutate(&add(W_BO, BO, 1)).unwrap(), 2);

    let rows = s.waitlist(&WaitlistFilter::default()).unwrap();
    let seen: Vec<_> = rows
        .iter()
        .map(|r| (r.customer_name.as_str(), r.entry.party_size, r.place, r.status_words.as_str(), r.pending))
        .collect();
    assert_eq!(seen, [("Ana Silva", 2, Some(1), "Waiting", true), ("Bo Lind", 1, Some(2), "Waiting", true)]);
    assert_eq!((rows[0].tour_name.as_str(), rows[0].timezone.as_str()), (tour().name.as_str(), "UTC"));
    assert!(rows.iter().all(|r| r.removable));
    assert_eq!(s.departure_waitlist(D1).unwrap().len(), 2);
    assert!(s.departure_waitlist(D2).unwrap().is_empty());

    // The server accepts both, and its offers job has offered Ana the seats meanwhile.
    let until = Utc::now().with_nanosecond(0).unwrap() + Duration::days(1);
    let ana = WaitlistEntry {
        status: WaitlistStatus::Offered,
        offered_at: Some(Utc::now().with_nanosecond(0).unwrap()),
        offer_expires_at: Some(until),
        offer_booking_id: Some(B3.into()),
        ..server_entry(&s, W_ANA)
    };
    let bo = server_entry(&s, W_BO);
    s.apply_pull(&pull(
        vec![bucket(ALL, 30, vec![put(EntityKind::WaitlistEntry, &ana), put(EntityKind::WaitlistEntry, &bo)])],
        2,
        vec![applied(1), applied(2)],
    ))
    .unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);
    let rows = s.waitlist(&WaitlistFilter::default()).unwrap();
    let seen: Vec<_> = rows.iter().map(|r| (r.entry.id.as_str(), r.place, r.pending, r.removable)).collect();
    assert_eq!(seen, [(W_BO, Some(1), false, true), (W_ANA, None, false, false)], "Bo is next in line");
    assert_eq!(
        rows[1].status_words,
        tourdesk_domain::waitlist::status_in_words(WaitlistStatus::Offered, Some(until), "UTC")
    );
    assert!(rows[1].status_words.starts_with("Offered until "));

    let only = |status| s.waitlist(&WaitlistFilter { tour_id: None, status: Some(status) }).unwrap();
    assert_eq!(only(WaitlistStatus::Offered).len(), 1);
    assert_eq!(only(WaitlistStatus::Waiting)[0].entry.id, W_BO);
    assert!(only(WaitlistStatus::Booked).is_empty());
    let of_tour = |t: &str| s.waitlist(&WaitlistFilter { tour_id: Some(t.into()), status: None }).unwrap().len();
    assert_eq!((of_tour(TOUR), of_tour("another-tour")), (2, 0));
}

#[test]
fn removal_works_offline_and_a_refused_one_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = full_store(&dir, Role::Owner);
    s.mutate(&add(W_ANA, ANA, 2)).unwrap();
    s.mutate(&add(W_BO, BO, 1)).unwrap();
    let booked = WaitlistEntry { status: WaitlistStatus::Booked, ..server_entry(&s, W_ANA) };
    let bo = server_entry(&s, W_BO);
    s.apply_pull(&pull(
        vec![bucket(ALL, 30, vec![put(EntityKind::WaitlistEntry, &booked), put(EntityKind::WaitlistEntry, &bo)])],
        2,
        vec![applied(1), applied(2)],
    ))
    .unwrap();

    let err = s.mutate(&remove(W_ANA)).unwrap_err();
    assert!(
        matches!(&err, StoreError::Rejected(Rejection::Conflict { message, .. }) if message == "the entry was booked"),
        "{err:?}"
    );
    assert_eq!(s.pending_count().unwrap(), 0, "a refusal queues nothing");
    assert_eq!(server_entry(&s, W_ANA).status, WaitlistStatus::Booked, "and changes nothing");

    assert_eq!(s.mutate(&remove(W_BO)).unwrap(), 3);
    let row = s.departure_waitlist(D1).unwrap().into_iter().find(|r| r.entry.id == W_BO).unwrap();
    assert_eq!((row.status_words.as_str(), row.pending, row.place, row.removable), ("Removed", true, None, false));

    // The server refuses it (the offers job got there first): the entry comes back as the
    // server has it, and the refusal waits in the inbox.
    s.apply_pull(&pull(vec![], 3, vec![rejected(3, "CONFLICT", "the customer has been offered seats")])).unwrap();
    let row = s.departure_waitlist(D1).unwrap().into_iter().find(|r| r.entry.id == W_BO).unwrap();
    assert_eq!((row.status_words.as_str(), row.pending), ("Waiting", false));
    let rejections = s.rejections().unwrap();
    assert!(rejections.iter().any(|r| r.name == "remove_from_waitlist.v1"), "{rejections:?}");
}

#[test]
fn a_guide_may_not_touch_the_waitlist() {
    let dir = tempfile::tempdir().unwrap();
    let s = full_store(&dir, Role::Guide);
    let err = s.mutate(&add(W_ANA, ANA, 2)).unwrap_err();
    assert!(matches!(err, StoreError::Rejected(ref r) if r.code() == "NOT_AUTHORIZED"), "{err:?}");
    assert_eq!(s.pending_count().unwrap(), 0);
}
