//! The website funnel and the reviews' average on the desk (issue 16 items 2 and 3), against the
//! real server and PostgreSQL:
//!
//! - the funnel the desk fetches (and keeps for offline) agrees with independent SQL over
//!   `analytics_events` for seeded events from two sources around Lisbon's autumn DST change
//!   (2026-10-25 is 25 hours long there), and offline the desk shows the kept copy;
//! - published review ratings reach an owner's desk (never a guide's), and the guide performance
//!   report's review average per guide agrees with independent SQL.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::json;
use tourdesk_domain::reports::funnel::{self, FunnelGrouping};
use tourdesk_domain::reports::{Cell, Grouping, ReportFilter, ReportKind};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, call, sign_in, synced_desk};

/// (event, UTC instant, tour, utm_source, utm_campaign, checkout)
type SeededEvent<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

const ZONE: &str = "Europe/Lisbon";

/// The funnel by source, counted straight from the events: pages by their own day in the zone,
/// checkouts by their first showing's day, booked and paid whenever they happened.
const FUNNEL_BY_SOURCE: &str = "WITH e AS (
         SELECT *, coalesce(lower(trim(utm_source)), '') AS src, (created_at AT TIME ZONE $4)::date AS day
         FROM analytics_events WHERE organization_id = $1),
     pages AS (
         SELECT src, count(*) AS visitors, count(*) FILTER (WHERE event_name = 'tour.viewed') AS tours,
                count(*) FILTER (WHERE event_name = 'availability.viewed') AS calendars
         FROM e WHERE event_name IN ('page.viewed', 'tour.viewed', 'availability.viewed') AND day BETWEEN $2 AND $3
         GROUP BY src),
     firsts AS (
         SELECT DISTINCT ON (session_id) session_id, src, day FROM e WHERE event_name = 'booking.started'
         ORDER BY session_id, created_at),
     checkouts AS (
         SELECT f.src, count(*) AS started,
                count(*) FILTER (WHERE EXISTS (SELECT FROM e x WHERE x.event_name IN ('booking.created', 'booking.completed')
                                                 AND coalesce(x.booking_id, x.session_id) = f.session_id)) AS booked,
                count(*) FILTER (WHERE EXISTS (SELECT FROM e x WHERE x.event_name = 'booking.completed'
                                                 AND x.booking_id = f.session_id)) AS paid
         FROM firsts f WHERE f.day BETWEEN $2 AND $3 GROUP BY f.src)
     SELECT coalesce(p.src, c.src), coalesce(p.visitors, 0), coalesce(p.tours, 0), coalesce(p.calendars, 0),
            coalesce(c.started, 0), coalesce(c.booked, 0), coalesce(c.paid, 0)
     FROM pages p FULL JOIN checkouts c ON c.src = p.src";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desks_funnel_matches_postgres_across_two_sources_and_a_dst_day_and_is_kept_for_offline() {
    let mut env = Env::start().await;
    let pg = env.pg().await;
    let org: String = pg
        .query_one("SELECT id FROM organizations WHERE slug = $1", &[&demo_data::DEMO_ORG_SLUG])
        .await
        .unwrap()
        .get(0);
    let zone: String = pg.query_one("SELECT timezone FROM organizations WHERE id = $1", &[&org]).await.unwrap().get(0);
    assert_eq!(zone, ZONE);
    let tours: Vec<String> = pg
        .query("SELECT id FROM tours WHERE organization_id = $1 ORDER BY id LIMIT 2", &[&org])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let (t1, t2) = (tours[0].as_str(), tours[1].as_str());
    // (event, UTC instant, tour, utm_source, utm_campaign, checkout). Lisbon's 2026-10-25 runs
    // from 2026-10-24T23:00Z (WEST) to 2026-10-26T00:00Z (WET): 25 hours.
    let events: [SeededEvent; 16] = [
        ("page.viewed", "2026-10-24T22:30:00Z", None, Some("google"), Some("Autumn"), None), // 24th 23:30
        ("page.viewed", "2026-10-24T23:30:00Z", None, Some("Google"), Some("Autumn"), None), // 25th 00:30
        ("tour.viewed", "2026-10-25T00:30:00Z", Some(t1), Some("google"), Some("autumn"), None), // 01:30 WEST
        ("tour.viewed", "2026-10-25T01:30:00Z", Some(t1), Some("newsletter"), Some("oct-news"), None), // 01:30 WET
        ("availability.viewed", "2026-10-25T10:00:00Z", Some(t1), Some("newsletter"), Some("oct-news"), None),
        ("booking.started", "2026-10-25T10:05:00Z", Some(t1), Some("newsletter"), Some("oct-news"), Some("k1")),
        ("booking.created", "2026-10-25T10:07:00Z", Some(t1), None, None, Some("k1")),
        // Paid two days later: still the 25th's checkout.
        ("booking.completed", "2026-10-27T09:00:00Z", Some(t1), None, None, Some("k1")),
        // 23:30 WET on the 25th; booked after midnight.
        ("booking.started", "2026-10-25T23:30:00Z", Some(t2), Some("google"), Some("autumn"), Some("k2")),
        ("booking.created", "2026-10-26T00:10:00Z", Some(t2), None, None, Some("k2")),
        // The 26th in Lisbon.
        ("tour.viewed", "2026-10-26T00:30:00Z", Some(t2), Some("google"), None, None),
        // Started on the 24th: neither it nor its payment on the 25th counts.
        ("booking.started", "2026-10-24T22:00:00Z", Some(t1), Some("google"), None, Some("k0")),
        ("booking.completed", "2026-10-25T12:00:00Z", Some(t1), None, None, Some("k0")),
        // First shown on the 24th, shown again on the 25th: the 24th's.
        ("booking.started", "2026-10-24T22:50:00Z", Some(t2), None, None, Some("k3")),
        ("booking.started", "2026-10-25T09:00:00Z", Some(t2), None, None, Some("k3")),
        // Another organization's-looking noise: a page on the 23rd.
        ("page.viewed", "2026-10-23T12:00:00Z", None, None, None, None),
    ];
    for (i, (name, at, tour, source, campaign, checkout)) in events.iter().enumerate() {
        let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
        let session = checkout.unwrap_or("anonymous");
        let booking = checkout.filter(|_| name.starts_with("booking.c"));
        pg.execute(
            "INSERT INTO analytics_events (organization_id, id, event_name, session_id, tour_id, utm_source,
                                           utm_campaign, booking_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[&org, &format!("ev-{i}"), name, &session, tour, source, campaign, &booking, &at],
        )
        .await
        .unwrap();
    }

    let (desk, client) = synced_desk(&env, "office", demo_data::DEMO_OWNER_EMAIL).await;
    let (from, to) = (d("2026-10-25"), d("2026-10-25"));
    let answer = client.funnel_or_kept(&desk, from, to).await.unwrap();
    assert_eq!(answer.offline_reason, None);
    assert_eq!(answer.report.zone, ZONE);

    let table = funnel::table(&answer.report, FunnelGrouping::Source);
    let desk_rows: Vec<Vec<String>> =
        table.rows.iter().map(|r| r[..7].iter().map(Cell::csv).collect::<Vec<_>>()).collect();
    let mut server: Vec<Vec<String>> = pg
        .query(FUNNEL_BY_SOURCE, &[&org, &from, &to, &ZONE])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let src: String = r.get(0);
            let mut row = vec![if src.is_empty() { "Direct or unknown".to_string() } else { src }];
            row.extend((1..7).map(|i| r.get::<_, i64>(i).to_string()));
            row
        })
        .collect();
    server.sort();
    assert_eq!(desk_rows, server, "the desk's funnel by source against PostgreSQL");
    // And by hand, so a shared mistake in both cannot pass: the 25th's two sources.
    assert_eq!(
        desk_rows,
        [
            ["google", "2", "1", "0", "1", "1", "0"].map(String::from).to_vec(),
            ["newsletter", "2", "1", "1", "1", "1", "1"].map(String::from).to_vec(),
        ]
    );
    let by_campaign = funnel::table(&answer.report, FunnelGrouping::Campaign);
    assert_eq!(by_campaign.rows[0][..2], [Cell::Text("google".into()), Cell::Text("autumn".into())]);
    let csv = funnel::table(&answer.report, FunnelGrouping::Tour).to_csv();
    assert!(csv.starts_with("Tour,Visitors,Tour views,Availability views,Checkouts started,Booked,Paid,"), "{csv}");
    assert!(csv.contains("No tour (listing and other pages),1,0,0,0,0,0,\r\n"), "{csv}");

    // Offline: the kept copy, saying why; a range never fetched is an error, not an empty funnel.
    env.stop_server().await;
    let kept = client.funnel_or_kept(&desk, from, to).await.unwrap();
    assert!(kept.offline_reason.is_some());
    assert_eq!((kept.report.as_of, &kept.report.cells), (answer.report.as_of, &answer.report.cells));
    assert!(client.funnel_or_kept(&desk, d("2026-10-01"), to).await.is_err());
}

/// Per guide: the published (approved) reviews of bookings on departures they led (not
/// cancelled, assignment not declined) in the range, and the average in tenths rounded half up.
const REVIEWS_BY_GUIDE: &str = "SELECT g.first_name || ' ' || g.last_name, count(*),
            ((20 * sum(r.rating) + count(*)) / (2 * count(*)))::bigint
     FROM reviews r
     JOIN bookings b ON b.organization_id = r.organization_id AND b.id = r.booking_id
     JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
     JOIN schedule_guide_assignments a ON a.organization_id = s.organization_id AND a.departure_id = s.id AND a.status <> 'declined'
     JOIN guides g ON g.organization_id = a.organization_id AND g.id = a.guide_id
     WHERE r.organization_id = $1 AND r.status = 'approved' AND s.status <> 'cancelled'
       AND s.local_date BETWEEN $2 AND $3
     GROUP BY 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_ratings_reach_office_desks_and_the_guide_report_averages_them_as_postgres_does() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let org: String = pg
        .query_one("SELECT id FROM organizations WHERE slug = $1", &[&demo_data::DEMO_ORG_SLUG])
        .await
        .unwrap()
        .get(0);
    // Bookings on led departures, two per departure where the demo has them.
    let rows = pg
        .query(
            "SELECT DISTINCT ON (b.id) b.id, b.customer_id, b.tour_id, s.local_date
             FROM bookings b
             JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
             JOIN schedule_guide_assignments a ON a.organization_id = s.organization_id AND a.departure_id = s.id
             WHERE b.organization_id = $1 AND a.status <> 'declined' AND s.status <> 'cancelled'
               AND b.customer_id IS NOT NULL
             ORDER BY b.id LIMIT 4",
            &[&org],
        )
        .await
        .unwrap();
    assert!(rows.len() >= 3, "the demo has bookings on led departures: {}", rows.len());
    let ratings = [5, 4, 4, 2];
    let mut ids = Vec::new();
    let (mut first, mut last) = (NaiveDate::MAX, NaiveDate::MIN);
    for (i, r) in rows.iter().enumerate() {
        let id = format!("review-{i}");
        let (booking, customer, tour): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let day: NaiveDate = r.get(3);
        (first, last) = (first.min(day), last.max(day));
        pg.execute(
            "INSERT INTO reviews (id, organization_id, tour_id, booking_id, customer_id, rating, title, content,
                                  display_name)
             VALUES ($1, $2, $3, $4, $5, $6, 'A day out', 'The guide knew every street.', 'Ana S.')",
            &[&id, &org, &tour, &booking, &customer, &ratings[i]],
        )
        .await
        .unwrap();
        ids.push(id);
    }

    // An office desk and a guide's device, synced before any moderation: nothing to average.
    let (desk, client) = synced_desk(&env, "office", demo_data::DEMO_OWNER_EMAIL).await;
    let (guide_desk, guide_client) = synced_desk(&env, "guide", demo_data::DEMO_GUIDE_EMAIL).await;
    let filter = ReportFilter {
        kind: ReportKind::Guides,
        from: first,
        to: last,
        tour_id: None,
        source: None,
        currency: None,
        group: Grouping::Day,
    };
    let t = desk.report(&filter).unwrap();
    assert!(t.rows.iter().all(|r| r[5] == Cell::Count(0) && r[6] == Cell::Stars(None)), "{:?}", t.rows);

    // The owner approves all but the last; the first is approved, then rejected (unpublished).
    let owner = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let moderate = |id: String, decision: &'static str| {
        let (base, owner) = (env.base_url(), owner.clone());
        async move {
            let path = format!("/api/v1/reviews/{id}/moderation");
            let (status, body) = call(&base, "POST", &path, Some(&owner), Some(json!({ "decision": decision }))).await;
            assert!(status.is_success(), "{status}: {body}");
        }
    };
    for id in &ids[..ids.len() - 1] {
        moderate(id.clone(), "approve").await;
    }
    moderate(ids[0].clone(), "reject").await;
    moderate(ids[ids.len() - 1].clone(), "reject").await;

    client.sync_once(&desk).await.unwrap();
    let t = desk.report(&filter).unwrap();
    let on_desk: BTreeMap<String, (Cell, Cell)> = t
        .rows
        .iter()
        .filter(|r| r[5] != Cell::Count(0))
        .map(|r| (r[0].display(), (r[5].clone(), r[6].clone())))
        .collect();
    let server: BTreeMap<String, (Cell, Cell)> = pg
        .query(REVIEWS_BY_GUIDE, &[&org, &first, &last])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<_, String>(0), (Cell::Count(r.get(1)), Cell::Stars(Some(r.get(2))))))
        .collect();
    assert!(!server.is_empty(), "some guide has a published review");
    assert_eq!(on_desk, server, "review count and average per guide, desk against PostgreSQL");
    assert!(t.notes.is_empty(), "{:?}", t.notes);

    // The desk holds ratings, never the review's words; a guide's device holds none.
    guide_client.sync_once(&guide_desk).await.unwrap();
    let count = |name: &str| {
        let c = rusqlite::Connection::open(env.desk_path(name)).unwrap();
        c.query_row("SELECT count(*) FROM review_ratings", [], |r| r.get::<_, i64>(0)).unwrap()
    };
    assert_eq!(count("office"), i64::try_from(ids.len()).unwrap(), "every moderated review, published or not");
    assert_eq!(count("guide"), 0, "a guide's device learns no ratings");
    let c = rusqlite::Connection::open(env.desk_path("office")).unwrap();
    let published: i64 =
        c.query_row("SELECT count(*) FROM review_ratings WHERE published = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(published, i64::try_from(ids.len()).unwrap() - 2);
    let columns: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('review_ratings')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!columns.iter().any(|c| c == "content" || c == "title" || c == "display_name"), "{columns:?}");
}
