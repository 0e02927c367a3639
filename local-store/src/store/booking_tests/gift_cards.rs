//! Gift cards sold and spent offline on the desk, and the cash drawer.

use tourdesk_domain::gift_card::{CardState, GiftCard, MovementKind};
use tourdesk_domain::ledger::EntryKind;

use super::*;

const CARD: &str = "00000000-0000-4000-8000-0000000a0001";

fn issue(amount: i64, method: &str) -> Mutation {
    Mutation::decode(
        "issue_gift_card.v1",
        &json!({"id": CARD, "code": "ABCD-EFGH-JKMN-PQRS", "amount": amount, "currency": "USD",
                "payment_method": method, "recipient_name": "Rui", "at": Utc::now().to_rfc3339()}),
    )
    .unwrap()
}

fn redeem(nonce: &str, booking_id: &str, code: &str, amount: i64) -> Mutation {
    Mutation::decode(
        "redeem_gift_card.v1",
        &json!({"nonce": nonce, "booking_id": booking_id, "code": code, "amount": amount, "currency": "USD",
                "at": Utc::now().to_rfc3339()}),
    )
    .unwrap()
}

#[test]
fn a_card_sold_offline_pays_a_booking_in_part_and_shows_its_movements() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    unpaid(&s);
    s.mutate(&issue(6_000, "cash")).unwrap();
    let list = s.gift_cards(Utc::now()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].display_code.as_str(), list[0].card.balance), ("ABCD-EFGH-JKMN-PQRS", 6_000));
    assert!(list[0].pending && list[0].state == CardState::Active);

    // Refused here, nothing queued: more than the card holds, more than the booking owes, another
    // currency, an unknown code.
    let n = "00000000-0000-4000-8000-0000000e0009";
    assert_eq!(field_of(s.mutate(&redeem(n, B1, "abcd efgh jkmn pqrs", 6_001))), "amount");
    assert_eq!(field_of(s.mutate(&redeem(n, B1, "ZZZZ-ZZZZ-ZZZZ", 100))), "code");
    assert_eq!(s.pending_count().unwrap(), 1);

    s.mutate(&redeem("00000000-0000-4000-8000-0000000e0001", B1, "abcd-efgh-jkmn-pqrs", 4_000)).unwrap();
    let m = s.booking_money(B1).unwrap().unwrap();
    assert_eq!(
        (m.status, m.payment_status, m.balance_due),
        (BookingStatus::Pending, PaymentStatus::Partial, usd(6_000))
    );
    assert_eq!(m.entries[0].entry.kind, EntryKind::GiftCardRedemption);
    assert_eq!(m.entries[0].entry.reference.as_deref(), Some("••••-PQRS"));
    let detail = s.gift_card(CARD, Utc::now()).unwrap().unwrap();
    assert_eq!(detail.line.card.balance, 2_000);
    let moves: Vec<_> = detail
        .movements
        .iter()
        .map(|l| (l.movement.kind, l.movement.amount, l.movement.balance_after, l.booking_reference.is_some()))
        .collect();
    assert_eq!(moves, [(MovementKind::Issue, 6_000, 6_000, false), (MovementKind::Redemption, 4_000, 2_000, true)]);
    assert_eq!(field_of(s.mutate(&redeem(n, B1, "ABCDEFGHJKMNPQRS", 2_001))), "amount", "only 20.00 left");

    // The server refuses the redemption (another desk spent the card first): the card and the
    // booking go back to the server's figures and the refusal is in the inbox.
    let card_now: GiftCard = GiftCard { balance: 1_000, ..detail.line.card.clone() };
    s.apply_pull(&pull(
        vec![bucket(ALL, 40, vec![put(EntityKind::GiftCard, &card_now)])],
        2,
        vec![
            MutationResult { id: 1, status: OutcomeStatus::Applied, code: None, detail: None },
            rejected(2, "INVALID", "amount: is more than the USD 10.00 left on this gift card"),
        ],
    ))
    .unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);
    assert_eq!(s.gift_card(CARD, Utc::now()).unwrap().unwrap().line.card.balance, 1_000);
    let m = s.booking_money(B1).unwrap().unwrap();
    assert_eq!((m.paid, m.balance_due), (usd(0), usd(10_000)), "the refused redemption left the booking");
    assert!(m.entries.is_empty());
    let inbox = s.rejections().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].name, "redeem_gift_card.v1");
    assert!(inbox[0].detail.as_deref().unwrap_or("").contains("left on this gift card"));
}

#[test]
fn the_cash_drawer_adds_up_the_days_cash_and_terminal_takings() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    unpaid(&s);
    s.mutate(&issue(2_500, "card_terminal")).unwrap();
    s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0001", B1, 3_000, "USD")).unwrap();
    s.mutate(&redeem("00000000-0000-4000-8000-0000000e0002", B1, "ABCDEFGHJKMNPQRS", 1_000)).unwrap();
    let now = Utc::now();
    let day = s.cash_drawer(now.date_naive(), now - Duration::hours(1), now + Duration::hours(1)).unwrap();
    assert_eq!(day.lines.len(), 1);
    let l = &day.lines[0];
    assert_eq!(l.user_name, "Olivia (you)");
    assert_eq!(
        (l.line.cash_payments, l.line.gift_cards_terminal, l.cash_total, l.terminal_total),
        (3_000, 2_500, 3_000, 2_500)
    );
    assert_eq!(l.line.count, 2, "the redemption moved no money");
    let yesterday = s.cash_drawer(now.date_naive(), now - Duration::days(2), now - Duration::days(1)).unwrap();
    assert!(yesterday.lines.is_empty());
}

fn given_back(nonce: &str, method: &str, amount: i64) -> Mutation {
    Mutation::decode(
        "record_refund.v1",
        &json!({"nonce": nonce, "booking_id": B1, "method": method, "amount": amount, "currency": "USD",
                "at": Utc::now().to_rfc3339()}),
    )
    .unwrap()
}

/// Issue 13: cash handed back (`record_refund.v1`) comes out of the drawer of whoever gave it,
/// offline at once; money sent back by bank transfer never was in the drawer and stays out.
#[test]
fn cash_given_back_comes_out_of_the_drawer_and_a_transfer_back_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    cancelled_with_cash_to_give_back(&s);
    s.mutate(&given_back("00000000-0000-4000-8000-0000000f0001", "cash", 4_000)).unwrap();
    s.mutate(&given_back("00000000-0000-4000-8000-0000000f0002", "bank_transfer", 2_000)).unwrap();
    let stored: Vec<(String, Option<String>)> = s
        .conn()
        .prepare("SELECT id, method FROM ledger_entries WHERE kind = 'refund' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        stored,
        [
            ("00000000-0000-4000-8000-0000000f0001".into(), Some("cash".into())),
            ("00000000-0000-4000-8000-0000000f0002".into(), Some("bank_transfer".into()))
        ]
    );
    let now = Utc::now();
    let day = s.cash_drawer(now.date_naive(), now - Duration::hours(1), now + Duration::hours(1)).unwrap();
    assert_eq!(day.lines.len(), 1);
    let l = &day.lines[0];
    assert_eq!((l.line.cash_payments, l.line.cash_refunds, l.cash_taken, l.cash_total), (10_000, 4_000, 10_000, 6_000));
    assert_eq!((l.line.terminal_refunds, l.terminal_total), (0, 0));
    assert_eq!(l.line.count, 2, "the payment and the cash given back; the transfer is not drawer money");
}

/// A desk of the previous schema (V33) kept refunds given back by hand with no method; V34 reads
/// it back from the note the mutation started it with, so the drawer counts the cash given back
/// before the upgrade.
#[test]
fn a_v33_database_learns_how_its_refunds_went_back_from_their_notes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.sqlite3");
    let now = Utc::now();
    let at = (now - Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        embedded::migrations::runner().set_target(refinery::Target::Version(33)).run(&mut conn).unwrap();
        let session = serde_json::to_string(&session(Role::Owner, "u-staff")).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('client_id', 'c-v33'), ('session', ?1)", [&session])
            .unwrap();
        let mut put = conn
            .prepare(
                "INSERT INTO ledger_entries (id, organization_id, booking_id, departure_id, kind, amount, currency,
                     note, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'USD', ?7, 'u-staff', ?8)",
            )
            .unwrap();
        for (id, kind, amount, note) in [
            ("e-paid", "cash", 10_000, Some("at the counter")),
            ("e-cash", "refund", 3_000, Some("Given back in cash · counted twice")),
            ("e-term", "refund", 1_000, Some("Given back on the card terminal")),
            ("e-bank", "refund", 500, Some("Given back by bank transfer · IBAN on file")),
            ("card-refund-b1", "refund", 700, None),
            ("e-gift", "refund", 300, Some("back to the gift card: the seat hold ran out before the rest was paid")),
        ] {
            put.execute(rusqlite::params![id, ORG, B1, D1, kind, amount, note, at]).unwrap();
        }
    }
    let s = Store::open(&path).unwrap();
    let methods: Vec<(String, Option<String>)> = s
        .conn()
        .prepare("SELECT id, method FROM ledger_entries ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let of = |id: &str| methods.iter().find(|(i, _)| i == id).unwrap().1.clone();
    assert_eq!(
        [of("e-paid"), of("e-cash"), of("e-term"), of("e-bank"), of("card-refund-b1"), of("e-gift")],
        [None, Some("cash".into()), Some("card_terminal".into()), Some("bank_transfer".into()), None, None]
    );
    let day = s.cash_drawer(now.date_naive(), now - Duration::hours(1), now + Duration::hours(1)).unwrap();
    let l = &day.lines[0];
    assert_eq!(
        (l.line.cash_refunds, l.cash_total, l.line.terminal_refunds, l.terminal_total),
        (3_000, 7_000, 1_000, -1_000)
    );
}
