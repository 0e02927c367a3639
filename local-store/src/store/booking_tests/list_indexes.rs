//! The bookings screen and the customer search read V32's indexes (trigram references and
//! phones, walks in the sort's order) and must answer exactly what the queries they replaced
//! answered: each is checked here against that query, kept as the oracle, over many searches,
//! filters, sorts and page sizes, with and without bookings whose departure or customer is not
//! on the desk.

use tourdesk_domain::entities::BookingSource;
use tourdesk_domain::ipc::{BookingFilter, BookingSort};

use super::*;

/// splitmix64, for a spread of rows that is the same on every run.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const DEPARTURES: usize = 6;
const CUSTOMERS: usize = 30;
const BOOKINGS: usize = 150;

fn cust_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-0000000c{i:04}")
}

/// Customers with names that tie (and differ only in case), some without a phone.
fn customers() -> Vec<Customer> {
    let first = ["Ana", "ana", "Bo", "Rui", "Zoe"];
    let last = ["Silva", "silva", "Lind", "Costa", "Ávila"];
    (0..CUSTOMERS)
        .map(|i| {
            let phone = format!("+3519{:08}", mix(i as u64) % 100_000_000);
            let mut c = customer(&cust_id(i), first[i % 5], last[(i / 5) % 5], &format!("p{i}@example.com"), &phone);
            if i % 7 == 3 {
                c.phone = None;
            }
            // Merged duplicates (V37's index holds `merged_into`): no search finds them, though
            // they still hold bookings.
            if i % 11 == 5 {
                c.merged_into = Some(cust_id(0));
            }
            c
        })
        .collect()
}

fn bookings(departures: &[Departure]) -> Vec<Booking> {
    let sources = [BookingSource::Website, BookingSource::Admin, BookingSource::Phone, BookingSource::Partner];
    (0..BOOKINGS)
        .map(|j| {
            let r = mix(j as u64 + 1000);
            let mut b = booking(
                &format!("00000000-0000-4000-8000-0000000b{j:04}"),
                &departures[(r % DEPARTURES as u64) as usize].id,
                &cust_id(((r >> 8) % CUSTOMERS as u64) as usize),
                1 + (j % 2) as u32,
                r,
            );
            // Equal creation times in pairs, so the tie-breaks decide.
            b.created_at -= Duration::minutes((j / 2) as i64 * 7 % 500);
            b.source = sources[j % 4];
            let total = b.pricing.total.amount;
            (b.status, b.payment_status, b.paid_amount) = match j % 6 {
                0 => (BookingStatus::Cancelled, PaymentStatus::Unpaid, usd(0)),
                1 => (BookingStatus::Pending, PaymentStatus::Unpaid, usd(0)),
                2 => (BookingStatus::Confirmed, PaymentStatus::Partial, usd(total / 2)),
                _ => (BookingStatus::Confirmed, PaymentStatus::Paid, usd(total)),
            };
            if j % 11 == 0 {
                b.refunded_amount = usd(500);
            }
            b
        })
        .collect()
}

/// The customer search as it was before V32: the same full-text part, then every customer whose
/// phone holds the digits or who has a booking whose reference holds the text, each read in full.
/// Two shapes are answered otherwise since: a whole e-mail address some customer has gives the
/// customers with it, and the start of a number typed with its `+` gives the numbers starting so,
/// in number order, instead of the full-text part; both written here as plainly as they say.
fn old_customer_search(s: &Store, q: &str, limit: u32) -> Vec<String> {
    let conn = s.conn();
    let q = q.trim();
    let mut hits: Vec<String> = Vec::new();
    if tourdesk_domain::validate::email("email", q).is_ok() {
        let exact: Vec<String> = conn
            .prepare(
                "SELECT c.id FROM customers c WHERE c.organization_id = ?1 AND lower(c.email) = lower(?2)
                   AND c.merged_into IS NULL ORDER BY c.last_name, c.first_name, c.id LIMIT ?3",
            )
            .unwrap()
            .query_map(params![ORG, q, limit], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if !exact.is_empty() {
            return exact;
        }
    }
    let plus = q.strip_prefix('+').filter(|rest| {
        rest.chars().any(|c| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c))
    });
    if let Some(rest) = plus {
        let start: String = rest.chars().filter(char::is_ascii_digit).collect();
        hits = conn
            .prepare(
                "SELECT c.id FROM customers c WHERE c.organization_id = ?1 AND substr(c.phone, 1, length(?2)) = ?2
                   AND c.merged_into IS NULL ORDER BY c.phone, c.id LIMIT ?3",
            )
            .unwrap()
            .query_map(params![ORG, format!("+{start}"), limit], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    } else if let Some(fts) = super::super::read::fts_query(q) {
        hits = conn
            .prepare(
                "SELECT c.id FROM customers_fts JOIN customers c ON c.rowid = customers_fts.rowid
                 WHERE customers_fts MATCH ?2 AND c.organization_id = ?1 AND c.merged_into IS NULL
                 ORDER BY rank, c.last_name, c.first_name, c.id LIMIT ?3",
            )
            .unwrap()
            .query_map(params![ORG, fts, limit], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    }
    let (digits, national) = super::super::read::phone_digits(q).unzip();
    let national = national.flatten();
    let reference = super::super::read::reference_fragment(q).map(|r| super::super::search::like_pattern(&r));
    if (digits.is_none() && reference.is_none()) || hits.len() >= limit as usize {
        return hits;
    }
    let more: Vec<String> = conn
        .prepare(
            "SELECT c.id FROM customers c
             WHERE c.organization_id = ?1 AND c.merged_into IS NULL
               AND (instr(c.phone, ?2) > 0 OR instr(c.phone, ?3) > 0
                    OR c.id IN (SELECT customer_id FROM bookings
                                WHERE organization_id = ?1 AND reference_number LIKE ?4 ESCAPE '\\'))
             ORDER BY c.last_name, c.first_name, c.id LIMIT ?5",
        )
        .unwrap()
        .query_map(params![ORG, digits, national, reference, limit], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for id in more {
        if hits.len() < limit as usize && !hits.contains(&id) {
            hits.push(id);
        }
    }
    hits
}

/// The bookings screen's query as it was before V32: every booking joined, filtered on its JSON
/// money and a `LIKE` over every reference, sorted in full. Answers the page's ids and the count.
fn old_list(s: &Store, f: &BookingFilter) -> (Vec<String>, u64) {
    let q = f.query.trim();
    let customers = if q.is_empty() { Vec::new() } else { old_customer_search(s, q, 500) };
    let mut args: Vec<rusqlite::types::Value> = vec![ORG.to_string().into()];
    let mut arg = |v: String| {
        args.push(v.into());
        format!("?{}", args.len())
    };
    let balance =
        "(b.total_minor - json_extract(b.paid_amount, '$.amount') + json_extract(b.refunded_amount, '$.amount'))";
    let mut wh = vec!["b.organization_id = ?1".to_string()];
    if !q.is_empty() {
        let reference = arg(super::super::search::like_pattern(&q.to_uppercase()));
        let ids = customers.iter().map(|c| arg(c.clone())).collect::<Vec<_>>().join(", ");
        wh.push(format!("(b.reference_number LIKE {reference} ESCAPE '\\' OR b.customer_id IN ({ids}))"));
    }
    if let Some(from) = f.from {
        wh.push(format!("s.local_date >= {}", arg(from.to_string())));
    }
    if let Some(to) = f.to {
        wh.push(format!("s.local_date <= {}", arg(to.to_string())));
    }
    if let Some(t) = &f.tour_id {
        wh.push(format!("b.tour_id = {}", arg(t.clone())));
    }
    if let Some(st) = f.status {
        wh.push(format!("b.status = {}", arg(st.as_str().into())));
    }
    if let Some(ps) = f.payment_status {
        wh.push(format!("b.payment_status = {}", arg(ps.as_str().into())));
    }
    if let Some(src) = f.source {
        wh.push(format!("b.source = {}", arg(src.as_str().into())));
    }
    if f.balance_due {
        wh.push(format!("b.status != 'cancelled' AND {balance} > 0"));
    }
    let keys: Vec<&str> = match f.sort {
        BookingSort::Departure => vec!["s.starts_at"],
        BookingSort::Booked => vec!["b.created_at"],
        BookingSort::Reference => vec!["b.reference_number"],
        BookingSort::Customer => vec!["c.last_name COLLATE NOCASE", "c.first_name COLLATE NOCASE"],
        BookingSort::Total => vec!["b.total_minor"],
        BookingSort::BalanceDue => vec![balance],
    };
    let dir = if f.descending { "DESC" } else { "ASC" };
    let order = keys.iter().map(|k| format!("{k} {dir}")).collect::<Vec<_>>().join(", ");
    let from = "FROM bookings b
        LEFT JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
        LEFT JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id";
    let wh = wh.join(" AND ");
    let limit = if f.limit == 0 { 200 } else { f.limit };
    let conn = s.conn();
    let ids = conn
        .prepare(&format!("SELECT b.id {from} WHERE {wh} ORDER BY {order}, b.created_at DESC, b.id LIMIT {limit}"))
        .unwrap()
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let count: i64 = conn
        .query_row(&format!("SELECT count(*) {from} WHERE {wh}"), rusqlite::params_from_iter(args.iter()), |r| r.get(0))
        .unwrap();
    (ids, count as u64)
}

/// Every search, filter, sort, direction and page size below answers what the old query did.
fn compare_everything(s: &Store, queries: &[String], departures: &[Departure]) -> usize {
    let mid = departures[2].local_date;
    let filters: Vec<BookingFilter> = vec![
        BookingFilter::default(),
        BookingFilter { status: Some(BookingStatus::Confirmed), ..Default::default() },
        BookingFilter { status: Some(BookingStatus::Cancelled), ..Default::default() },
        BookingFilter { payment_status: Some(PaymentStatus::Paid), ..Default::default() },
        BookingFilter { source: Some(BookingSource::Phone), ..Default::default() },
        BookingFilter { tour_id: Some(TOUR.into()), ..Default::default() },
        BookingFilter { balance_due: true, ..Default::default() },
        BookingFilter { from: Some(mid), ..Default::default() },
        BookingFilter { from: Some(mid), to: Some(mid), balance_due: true, ..Default::default() },
    ];
    let sorts = [
        BookingSort::Departure,
        BookingSort::Booked,
        BookingSort::Reference,
        BookingSort::Customer,
        BookingSort::Total,
        BookingSort::BalanceDue,
    ];
    let mut compared = 0;
    for query in queries {
        for base in &filters {
            for sort in sorts {
                for descending in [false, true] {
                    for limit in [3, 40, 0] {
                        let f = BookingFilter { query: query.clone(), sort, descending, limit, ..base.clone() };
                        let list = s.list_bookings(&f).unwrap();
                        let ids: Vec<String> = list.rows.iter().map(|r| r.booking.id.clone()).collect();
                        assert_eq!((ids, list.matches), old_list(s, &f), "{f:?}");
                        compared += 1;
                    }
                }
            }
        }
    }
    compared
}

#[test]
fn the_bookings_screen_and_customer_search_answer_what_the_queries_before_their_indexes_did() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    s.apply_pull(&pull(
        vec![bucket(ALL, 1, vec![put(EntityKind::Tour, &tour()), put(EntityKind::PricingTier, &adult())])],
        0,
        vec![],
    ))
    .unwrap();
    let departures: Vec<Departure> =
        (0..DEPARTURES).map(|i| departure(&format!("d-{i}"), (i as i64 * 5) % 11, 500, 0)).collect();
    let people = customers();
    let all = bookings(&departures);
    let mut rows: Vec<(EntityKind, Op, Value)> = departures.iter().map(|d| put(EntityKind::Departure, d)).collect();
    rows.extend(people.iter().map(|c| put(EntityKind::Customer, c)));
    rows.extend(all.iter().map(|b| put(EntityKind::Booking, b)));
    s.apply_pull(&pull(vec![bucket(ALL, 10, rows)], 0, vec![])).unwrap();

    // Customer search: runs of digits from the stored phones, parts of references, names, and
    // what is neither.
    let phone = people[1].phone.clone().unwrap();
    let reference = all[5].reference_number.to_string();
    let mut customer_queries: Vec<String> = vec![
        phone[4..9].to_string(),
        phone[phone.len() - 3..].to_string(),
        format!("0{}", &phone[4..12]),
        "351".into(),
        "12".into(),
        reference[reference.len() - 4..].to_string(),
        reference[3..10].to_lowercase(),
        reference.clone(),
        "BK-".into(),
        "silva".into(),
        "ana sil".into(),
        "avila".into(),
        "%%%".into(),
        "2_2".into(),
        // The start of a number with its `+`, as stored or spaced, and a whole e-mail address
        // (as stored, in capitals, one nobody has).
        "+3519".into(),
        "+351 9".into(),
        phone[..8].to_string(),
        "+44".into(),
        "+".into(),
        "p3@example.com".into(),
        " P7@Example.COM ".into(),
        "nobody@example.com".into(),
    ];
    customer_queries.extend((0..10).map(|d| format!("{d}{}", (d * 3 + 1) % 10).repeat(2)[..3].to_string()));
    for q in &customer_queries {
        for limit in [1, 5, 500] {
            let hits = s.search_customers(q, limit).unwrap();
            // Each hit is its customer's row, however it was found (those found by digits or a
            // reference are read by id after the choice).
            for h in &hits {
                let c = people.iter().find(|c| c.id == h.id).unwrap();
                assert_eq!(
                    (&h.first_name, &h.last_name, &h.email, &h.phone, h.pending),
                    (&c.first_name, &c.last_name, &c.email, &c.phone, false),
                    "{q:?}"
                );
            }
            let ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
            assert_eq!(ids, old_customer_search(&s, q, limit), "search_customers({q:?}, {limit})");
        }
    }
    // The phone index follows edits and erasures of the number.
    let mut edited = people[1].clone();
    edited.phone = Some("+4420700000000".into());
    s.apply_pull(&pull(vec![bucket(ALL, 400, vec![put(EntityKind::Customer, &edited)])], 0, vec![])).unwrap();
    for q in [&phone[4..9], "2070000", "0207 000 0000"] {
        let ids: Vec<String> = s.search_customers(q, 10).unwrap().into_iter().map(|h| h.id).collect();
        assert_eq!(ids, old_customer_search(&s, q, 10), "after the edit: {q:?}");
    }
    assert!(s.search_customers("2070000", 10).unwrap().iter().any(|h| h.id == edited.id));

    // The bookings screen, first with every booking's departure and customer on the desk (the
    // walks), then with a booking whose departure and one whose customer is not (the sorts).
    let queries: Vec<String> = vec![
        String::new(),
        "silva".into(),
        phone[5..9].to_string(),
        reference[reference.len() - 5..].to_lowercase(),
        reference.clone(),
        "20".into(),
        "%".into(),
        phone[..7].to_string(),
        "p3@example.com".into(),
    ];
    let compared = compare_everything(&s, &queries, &departures);
    let mut lost_departure = booking("00000000-0000-4000-8000-0000000b9001", "d-not-here", &cust_id(2), 1, 77);
    lost_departure.created_at -= Duration::days(3);
    let lost_customer = booking("00000000-0000-4000-8000-0000000b9002", "d-1", "c-not-here", 2, 78);
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            500,
            vec![put(EntityKind::Booking, &lost_departure), put(EntityKind::Booking, &lost_customer)],
        )],
        0,
        vec![],
    ))
    .unwrap();
    let compared = compared + compare_everything(&s, &queries, &departures);
    assert!(compared > 4_000, "{compared}");
    // A changed reference is found by its new text only (the trigram index follows it).
    let mut moved = all[7].clone();
    moved.reference_number = ReferenceNumber::generate(2031, 4242).unwrap();
    s.apply_pull(&pull(vec![bucket(ALL, 600, vec![put(EntityKind::Booking, &moved)])], 0, vec![])).unwrap();
    for q in [moved.reference_number.to_string(), all[7].reference_number.to_string()] {
        let f = BookingFilter { query: q, ..Default::default() };
        let list = s.list_bookings(&f).unwrap();
        let ids: Vec<String> = list.rows.iter().map(|r| r.booking.id.clone()).collect();
        assert_eq!((ids, list.matches), old_list(&s, &f), "{f:?}");
    }
}

/// A search's candidates are sorted by their departure's start or their customer's name, and the
/// customer search picks its customers by name: each lookup by id reads V37's or V38's index
/// alone, not the departure's or the customer's row.
#[test]
fn a_searchs_lookups_by_id_read_the_indexes_alone() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    let plan = |sql: &str| -> String {
        s.conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(params![ORG], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("; ")
    };
    let sorted = plan(
        "SELECT b.id FROM bookings b
           LEFT JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
           LEFT JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id
         WHERE +b.organization_id = ?1 AND b.rowid IN (SELECT rowid FROM bookings WHERE customer_id = 'x')
         ORDER BY s.starts_at, c.last_name COLLATE NOCASE, c.first_name COLLATE NOCASE, b.created_at DESC, b.id",
    );
    assert!(sorted.contains("COVERING INDEX schedules_start_by_id_idx"), "{sorted}");
    assert!(sorted.contains("COVERING INDEX customers_search_idx"), "{sorted}");
    let chosen = plan(
        "SELECT c.id FROM customers c INDEXED BY customers_search_idx
         WHERE c.organization_id = ?1 AND c.merged_into IS NULL AND (instr(c.phone, '123') > 0 OR c.id IN ('a', 'b'))
           AND c.id IN ('a', 'b') ORDER BY c.last_name, c.first_name, c.id LIMIT 500",
    );
    assert!(chosen.contains("COVERING INDEX customers_search_idx"), "{chosen}");
}
