//! The pricing half of the catalogue across the tiers: every catalogue mutation made on a desk
//! is replayed by the server with its audit row and reaches the desks its scope names (promo
//! codes office desks only); the server refuses what the domain refuses; and, for random
//! catalogues, the quote a desk computes from its replica is the server's quote.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tourdesk_domain::catalogue::QuoteInput;
use tourdesk_domain::pricing::{LineRequest, PromoOutcome};
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data::{self, DEMO_GUIDE_EMAIL, DEMO_MANAGER_EMAIL, DEMO_OWNER_EMAIL};
use tourdesk_tests::{Env, call, m, push_raw, sign_in};

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn count(env: &Env, sql: &str, id: &str) -> i64 {
    env.pg().await.query_one(sql, &[&id]).await.unwrap().get(0)
}

async fn audit_actions(env: &Env, entity_id: &str) -> Vec<String> {
    let rows = env
        .pg()
        .await
        .query("SELECT action FROM audit_logs WHERE entity_id = $1 ORDER BY id", &[&entity_id])
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalogue_mutation_replays_on_the_server_audited_and_reaches_desks_by_role() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    // The demo data's code and default policy reach the desk like any edited row.
    assert!(desk.promo_codes().unwrap().iter().any(|p| p.code == demo_data::DEMO_PROMO_CODE));
    let flexible = desk.cancellation_policies().unwrap().into_iter().find(|p| p.is_default).unwrap();
    let tour = desk.tours().unwrap().into_iter().find(|t| t.tour.slug == "kyoto-temples-at-dawn").unwrap().tour;

    let (season, gone_season, promo, tax, policy, own, faq, gone_faq, inc, gone_inc) =
        (id(), id(), id(), id(), id(), id(), id(), id(), id(), id());
    let season_args = |id: &str| {
        json!({"id": id, "tour_id": tour.id, "name": "Cherry blossom", "start_date": "2027-03-20",
               "end_date": "2027-04-10", "adjustment": {"type": "percentage", "value": 2500}, "priority": 1})
    };
    let steps = vec![
        m("upsert_season.v1", season_args(&season)),
        m("upsert_season.v1", season_args(&gone_season)),
        m("delete_season.v1", json!({"id": gone_season})),
        m(
            "upsert_promo_code.v1",
            json!({"id": promo, "code": "sakura15", "discount": {"type": "percentage", "value": 1500},
                   "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z",
                   "max_uses": 100, "max_uses_per_customer": 1, "applicable_tour_ids": [tour.id],
                   "min_booking_value": {"amount": 10000, "currency": "JPY"}}),
        ),
        m("set_promo_code_status.v1", json!({"id": promo, "status": "inactive"})),
        m("upsert_tax_rate.v1", json!({"id": tax, "name": "Consumption tax", "rate": 1000, "inclusive": true})),
        m(
            "upsert_cancellation_policy.v1",
            json!({"id": policy, "name": "Moderate", "description": "Half back up to a day before", "is_default": true,
                   "rules": [{"hours_before_tour": 24, "refund_percentage": 50}]}),
        ),
        m(
            "upsert_cancellation_policy.v1",
            json!({"id": own, "tour_id": tour.id, "name": "Temple rules",
                   "rules": [{"hours_before_tour": 72, "refund_percentage": 100}]}),
        ),
        m(
            "upsert_tour_faq.v1",
            json!({"id": faq, "tour_id": tour.id, "question": "Shoes?", "answer": "Easy to remove."}),
        ),
        m("upsert_tour_faq.v1", json!({"id": gone_faq, "tour_id": tour.id, "question": "Q?", "answer": "A."})),
        m("delete_tour_faq.v1", json!({"id": gone_faq})),
        m("upsert_tour_inclusion.v1", json!({"id": inc, "tour_id": tour.id, "kind": "inclusion", "text": "Green tea"})),
        m("upsert_tour_inclusion.v1", json!({"id": gone_inc, "tour_id": tour.id, "kind": "exclusion", "text": "x"})),
        m("delete_tour_inclusion.v1", json!({"id": gone_inc})),
        m(
            "update_tour.v1",
            json!({"id": tour.id, "full_description": "Three temples before the crowds.",
                   "meeting_point_address": "Gion, Kyoto", "meeting_point_lat": 35.0037, "meeting_point_lng": 135.7788,
                   "meeting_point_instructions": "By the red gate", "tags": ["temples"], "languages": ["en", "ja"],
                   "accessibility_info": "Steps", "what_to_bring": ["Socks"], "highlights": ["Sunrise at Kiyomizu"]}),
        ),
    ];
    for s in &steps {
        desk.mutate(s).unwrap_or_else(|e| panic!("{}: {e}", s.name()));
    }
    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (steps.len() as u64, 0), "{:?}", desk.rejections().unwrap());
    assert_eq!(desk.pending_count().unwrap(), 0);

    // In PostgreSQL, with an audit row per decision naming the mutation.
    let pg = env.pg().await;
    let one = |sql: &'static str, id: String| {
        let pg = &pg;
        async move { pg.query_one(sql, &[&id]).await.unwrap() }
    };
    let r =
        one("SELECT adjustment_type, adjustment_value, priority FROM seasonal_pricing WHERE id = $1", season.clone())
            .await;
    assert_eq!((r.get::<_, String>(0), r.get::<_, i64>(1), r.get::<_, i32>(2)), ("percentage".into(), 2500, 1));
    let r = one(
        "SELECT code, status, current_uses, applicable_tour_ids FROM promotional_codes WHERE id = $1",
        promo.clone(),
    )
    .await;
    assert_eq!(
        (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, i32>(2), r.get::<_, Vec<String>>(3)),
        ("SAKURA15".into(), "inactive".into(), 0, vec![tour.id.clone()])
    );
    let r = one("SELECT rate_basis_points, inclusive, tour_id FROM tax_rules WHERE id = $1", tax.clone()).await;
    assert_eq!((r.get::<_, i32>(0), r.get::<_, bool>(1), r.get::<_, Option<String>>(2)), (1000, true, None));
    let r = one("SELECT is_default FROM cancellation_policies WHERE id = $1", flexible.id.clone()).await;
    assert!(!r.get::<_, bool>(0), "the old default stepped down in the same decision");
    let r = one("SELECT is_default FROM cancellation_policies WHERE id = $1", policy.clone()).await;
    assert!(r.get::<_, bool>(0));
    let r = one("SELECT cancellation_policy_id FROM tours WHERE id = $1", tour.id.clone()).await;
    assert_eq!(r.get::<_, Option<String>>(0), Some(own.clone()), "the server's refunds follow the tour's own policy");
    let r = one("SELECT answer FROM tour_faqs WHERE id = $1", faq.clone()).await;
    assert_eq!(r.get::<_, String>(0), "Easy to remove.");
    let r = one("SELECT type, text FROM tour_inclusions WHERE id = $1", inc.clone()).await;
    assert_eq!((r.get::<_, String>(0), r.get::<_, String>(1)), ("inclusion".into(), "Green tea".into()));
    for (table, gone) in [("seasonal_pricing", &gone_season), ("tour_faqs", &gone_faq), ("tour_inclusions", &gone_inc)]
    {
        let sql = format!("SELECT count(*) FROM {table} WHERE id = $1");
        assert_eq!(pg.query_one(&sql, &[gone]).await.unwrap().get::<_, i64>(0), 0, "{table}");
    }
    assert_eq!(audit_actions(&env, &season).await, vec!["upsert_season.v1"]);
    assert_eq!(audit_actions(&env, &gone_season).await, vec!["upsert_season.v1", "delete_season.v1"]);
    assert_eq!(audit_actions(&env, &promo).await, vec!["upsert_promo_code.v1", "set_promo_code_status.v1"]);
    assert_eq!(audit_actions(&env, &tax).await, vec!["upsert_tax_rate.v1"]);
    assert_eq!(audit_actions(&env, &policy).await, vec!["upsert_cancellation_policy.v1"]);
    assert_eq!(audit_actions(&env, &flexible.id).await, vec!["upsert_cancellation_policy.v1"]);
    assert_eq!(audit_actions(&env, &own).await, vec!["upsert_cancellation_policy.v1"]);
    assert_eq!(audit_actions(&env, &faq).await, vec!["upsert_tour_faq.v1"]);
    assert_eq!(audit_actions(&env, &gone_faq).await, vec!["upsert_tour_faq.v1", "delete_tour_faq.v1"]);
    assert_eq!(audit_actions(&env, &inc).await, vec!["upsert_tour_inclusion.v1"]);
    assert_eq!(audit_actions(&env, &gone_inc).await, vec!["upsert_tour_inclusion.v1", "delete_tour_inclusion.v1"]);
    let before: Option<Value> = pg
        .query_one(
            "SELECT before FROM audit_logs WHERE entity_id = $1 AND action = 'set_promo_code_status.v1'",
            &[&promo],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(before.unwrap()["status"], "active", "the audit row keeps the row as it was");

    // Every desk of the organization: the manager's office desk has the codes, the guide's
    // device the catalogue but not one code.
    let manager = env.desk("manager");
    env.client(DEMO_MANAGER_EMAIL).sync_once(&manager).await.unwrap();
    let guide = env.desk("guide");
    env.client(DEMO_GUIDE_EMAIL).sync_once(&guide).await.unwrap();
    for (who, d) in [("owner", &desk), ("manager", &manager), ("guide", &guide)] {
        let view = d.tour_pricing(&tour.id).unwrap();
        assert_eq!(view.seasons.iter().map(|s| &s.id).collect::<Vec<_>>(), vec![&season], "{who}");
        assert_eq!(view.faqs.len(), 1, "{who}");
        assert_eq!(view.inclusions.len(), 1, "{who}");
        assert_eq!(view.own_policy.as_ref().map(|p| &p.id), Some(&own), "{who}");
        assert_eq!(view.default_policy.as_ref().map(|p| &p.id), Some(&policy), "{who}");
        assert!(view.taxes.iter().any(|t| t.id == tax), "{who}");
    }
    assert!(manager.promo_codes().unwrap().iter().any(|p| p.id == promo));
    assert!(guide.promo_codes().unwrap().is_empty(), "a guide's device holds no promo code");

    // The public API shows the tour's page as the desk edited it: details, published FAQs and
    // what is (not) included, in order.
    let path = format!("/api/v1/orgs/{}/tours/{}", demo_data::DEMO_ORG_SLUG, tour.slug);
    let (s, detail) = call(&env.base_url(), "GET", &path, None, None).await;
    assert_eq!(s, 200, "{detail}");
    assert_eq!(detail["full_description"], "Three temples before the crowds.");
    assert_eq!(
        detail["meeting_point"],
        json!({"name": tour.meeting_point, "address": "Gion, Kyoto", "lat": 35.0037, "lng": 135.7788,
               "instructions": "By the red gate"})
    );
    assert_eq!(detail["languages"], json!(["en", "ja"]));
    assert_eq!(detail["highlights"], json!(["Sunrise at Kiyomizu"]));
    assert_eq!(detail["what_to_bring"], json!(["Socks"]));
    assert_eq!(detail["faqs"], json!([{"question": "Shoes?", "answer": "Easy to remove."}]));
    assert_eq!(detail["included"], json!([{"text": "Green tea", "icon": null}]));
    assert_eq!(detail["not_included"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_what_the_domain_refuses_and_records_nothing() {
    let env = Env::start().await;
    // A manager's device, behind the desk's back (its own desk would not even queue it).
    let token = sign_in(&env, DEMO_MANAGER_EMAIL).await;
    let tax = id();
    let req = PushRequest {
        client_id: id(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope {
            id: 1,
            name: "upsert_tax_rate.v1".into(),
            args: json!({"id": tax, "name": "VAT", "rate": 2300, "inclusive": true}),
            hlc: "0".into(),
        }],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    assert_eq!(resp.results[0].status, OutcomeStatus::Rejected);
    assert_eq!(resp.results[0].code.as_deref(), Some("NOT_AUTHORIZED"));
    assert_eq!(count(&env, "SELECT count(*) FROM tax_rules WHERE id = $1", &tax).await, 0);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &tax).await, 0);

    // Two office desks create the same code offline: the first to reach the server has it, the
    // second is refused on `code` and its optimistic row goes once the verdict arrives.
    let (a, b) = (env.desk("a"), env.desk("b"));
    let client = env.client(DEMO_OWNER_EMAIL);
    client.sync_once(&a).await.unwrap();
    let client_b = env.client(DEMO_OWNER_EMAIL);
    client_b.sync_once(&b).await.unwrap();
    let code = |id: &str| {
        m(
            "upsert_promo_code.v1",
            json!({"id": id, "code": "TWICE", "discount": {"type": "percentage", "value": 500},
                   "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"}),
        )
    };
    let (first, second) = (id(), id());
    a.mutate(&code(&first)).unwrap();
    b.mutate(&code(&second)).unwrap();
    assert!(b.promo_codes().unwrap().iter().any(|p| p.id == second), "shown at once, pending");
    client.sync_once(&a).await.unwrap();
    let report = client_b.sync_once(&b).await.unwrap();
    assert_eq!(report.rejected, 1);
    let refused = b.rejections().unwrap();
    assert_eq!(refused[0].code.as_deref(), Some("CONFLICT"), "{refused:?}");
    assert!(refused[0].detail.as_deref().unwrap_or("").contains("TWICE"), "{refused:?}");
    client_b.sync_once(&b).await.unwrap();
    let codes: Vec<String> = b.promo_codes().unwrap().into_iter().filter(|p| p.code == "TWICE").map(|p| p.id).collect();
    assert_eq!(codes, vec![first.clone()], "the refused row is gone, the server's arrived");
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &second).await, 0);
}

// ---------------------------------------------------------------------------------------------
// The desk's quote is the server's.

#[derive(Debug, Clone)]
struct SeasonSpec {
    from_offset: i64,
    len: i64,
    percent_bp: Option<i64>,
    fixed: i64,
    priority: i32,
}

#[derive(Debug, Clone)]
struct TaxSpec {
    rate_bp: i64,
    inclusive: bool,
    active: bool,
}

#[derive(Debug, Clone)]
struct PromoSpec {
    percent_bp: Option<i64>,
    fixed: i64,
    min_value: Option<i64>,
    /// 0: every tour, 1: this tour, 2: another tour.
    target: u8,
    /// 0: valid now, 1: expired, 2: not yet valid.
    window: u8,
    inactive: bool,
}

#[derive(Debug, Clone)]
struct Case {
    currency: &'static str,
    tiers: Vec<i64>,
    seasons: Vec<SeasonSpec>,
    taxes: Vec<TaxSpec>,
    promo: Option<PromoSpec>,
    requests: Vec<(Vec<u32>, u8)>,
    /// Group discounts by threshold (participants), early-bird ones by days before: each a
    /// percentage (basis points) or else a fixed amount.
    groups: std::collections::BTreeMap<u32, (Option<i64>, i64)>,
    early_birds: std::collections::BTreeMap<u32, (Option<i64>, i64)>,
}

fn season_spec() -> impl Strategy<Value = SeasonSpec> {
    (-6i64..=3, 0i64..=8, prop::option::of(-5000i64..=10_000), -3000i64..=3000, 0i32..=3).prop_map(
        |(from_offset, len, percent_bp, fixed, priority)| SeasonSpec {
            from_offset,
            len,
            percent_bp: percent_bp.filter(|p| *p != 0),
            fixed: if fixed == 0 { 1 } else { fixed },
            priority,
        },
    )
}

fn case() -> impl Strategy<Value = Case> {
    let tax = (0i64..=2500, any::<bool>(), prop::bool::weighted(0.8))
        .prop_map(|(rate_bp, inclusive, active)| TaxSpec { rate_bp, inclusive, active });
    let promo = (
        prop::option::of(1i64..=10_000),
        1i64..=8000,
        prop::option::of(0i64..=30_000),
        0u8..3,
        prop::sample::select(vec![0u8, 0, 0, 0, 1, 2]),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(percent_bp, fixed, min_value, target, window, inactive)| PromoSpec {
            percent_bp,
            fixed,
            min_value,
            target,
            window,
            inactive,
        });
    (
        prop::sample::select(vec!["USD", "EUR", "JPY"]),
        prop::collection::vec(100i64..=20_000, 1..=3),
        prop::collection::vec(season_spec(), 0..=3),
        prop::collection::vec(tax, 0..=2),
        prop::option::weighted(0.9, promo),
        // A request uses the case's code half the time, so that 24 cases apply one with near
        // certainty (the coverage check below; at 1 in 3 about one run in ten applied none).
        prop::collection::vec((prop::collection::vec(0u32..=4, 3), prop::sample::select(vec![0u8, 1, 1, 2])), 1..=3),
        // Requests have 1 to 12 participants and the departure is months ahead: some rules
        // apply, some do not.
        prop::collection::btree_map(2u32..=8, (prop::option::of(1i64..=10_000), 1i64..=5000), 0..=2),
        prop::collection::btree_map(1u32..=400, (prop::option::of(1i64..=10_000), 1i64..=5000), 0..=2),
    )
        .prop_map(|(currency, tiers, seasons, taxes, promo, requests, groups, early_birds)| Case {
            currency,
            tiers,
            seasons,
            taxes,
            promo,
            requests,
            groups,
            early_birds,
        })
}

/// What both quotes must agree on, in plain numbers.
#[derive(Debug, PartialEq)]
struct Priced {
    lines: Vec<(String, u32, i64, i64)>,
    subtotal: i64,
    discounts: Vec<i64>,
    taxes: Vec<(String, i64, bool, i64)>,
    total: i64,
    currency: String,
    season: Option<String>,
    promo: String,
}

fn from_server(v: &Value) -> Priced {
    let price = &v["price"];
    let money = |m: &Value| m["amount_minor"].as_i64().unwrap();
    Priced {
        lines: price["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["tier_id"].as_str().unwrap().to_string(),
                    l["quantity"].as_u64().unwrap() as u32,
                    money(&l["unit_price"]),
                    money(&l["total"]),
                )
            })
            .collect(),
        subtotal: money(&price["subtotal"]),
        discounts: price["discounts"].as_array().unwrap().iter().map(|d| money(&d["amount"])).collect(),
        taxes: price["taxes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["rate_bps"].as_i64().unwrap(),
                    t["inclusive"].as_bool().unwrap(),
                    money(&t["amount"]),
                )
            })
            .collect(),
        total: money(&price["total"]),
        currency: price["total"]["currency"].as_str().unwrap().to_string(),
        season: v["season"].as_str().map(Into::into),
        promo: v["promo"]["status"].as_str().unwrap().to_string(),
    }
}

fn from_desk(q: &tourdesk_domain::pricing::Quote) -> Priced {
    let s = &q.snapshot;
    Priced {
        lines: s
            .line_items
            .iter()
            .map(|l| (l.pricing_tier_id.clone(), l.quantity, l.unit_price.amount, l.total_price.amount))
            .collect(),
        subtotal: s.subtotal.amount,
        discounts: s.discounts.iter().map(|d| d.amount.amount).collect(),
        taxes: s.taxes.iter().map(|t| (t.name.clone(), t.rate.basis_points(), t.inclusive, t.amount.amount)).collect(),
        total: s.total.amount,
        currency: s.total.currency.to_string(),
        season: q.season.as_ref().map(|s| s.name.clone()),
        promo: match q.promo {
            PromoOutcome::NotRequested => "not_requested".into(),
            PromoOutcome::Applied { .. } => "applied".into(),
            PromoOutcome::Refused { .. } => "refused".into(),
        },
    }
}

struct World<'a> {
    env: &'a Env,
    desk: Store,
    client: tourdesk_local_store::SyncClient,
    other_tour: String,
    /// Quotes compared with a season, a tax, an applied code; bookings the server accepted.
    seasons: AtomicUsize,
    taxes: AtomicUsize,
    promos: AtomicUsize,
    booked: AtomicUsize,
}

async fn run_case(w: &World<'_>, n: usize, c: &Case) -> Result<(), TestCaseError> {
    let (tour, variant) = (id(), id());
    let date = NaiveDate::from_ymd_opt(2027, 6, 15).unwrap() + Duration::days(n as i64);
    let money = |amount: i64| json!({"amount": amount, "currency": c.currency});
    let mut steps = vec![
        m(
            "create_tour.v1",
            json!({"id": tour, "name": format!("Quote walk {n}"), "duration_minutes": 60, "default_capacity": 30,
                   "category": "walking", "timezone": "Europe/Lisbon"}),
        ),
        m("create_variant.v1", json!({"id": variant, "tour_id": tour, "name": "Group"})),
    ];
    let tiers: Vec<String> = c.tiers.iter().map(|_| id()).collect();
    for (i, (tier, price)) in tiers.iter().zip(&c.tiers).enumerate() {
        steps.push(m(
            "upsert_pricing_tier.v1",
            json!({"id": tier, "tour_id": tour, "name": format!("Tier {i}"), "base_price": money(*price),
                   "sort_order": i, "is_default": i == 0}),
        ));
    }
    // Published once it has something to sell (the domain's publish rule).
    steps.push(m("update_tour.v1", json!({"id": tour, "status": "active"})));
    for (i, s) in c.seasons.iter().enumerate() {
        let start = date + Duration::days(s.from_offset);
        let adjustment = match s.percent_bp {
            Some(p) => json!({"type": "percentage", "value": p}),
            None => json!({"type": "fixed", "value": money(s.fixed)}),
        };
        steps.push(m(
            "upsert_season.v1",
            json!({"id": id(), "tour_id": tour, "name": format!("Season {i}"), "start_date": start,
                   "end_date": start + Duration::days(s.len), "adjustment": adjustment, "priority": s.priority}),
        ));
    }
    for (i, t) in c.taxes.iter().enumerate() {
        steps.push(m(
            "upsert_tax_rate.v1",
            json!({"id": id(), "tour_id": tour, "name": format!("Tax {i}"), "rate": t.rate_bp,
                   "inclusive": t.inclusive, "active": t.active, "sort_order": i}),
        ));
    }
    let discount = |(bp, fixed): &(Option<i64>, i64)| match bp {
        Some(bp) => json!({"type": "percentage", "value": bp}),
        None => json!({"type": "fixed", "value": money(*fixed)}),
    };
    for (threshold, d) in &c.groups {
        steps.push(m(
            "upsert_group_discount.v1",
            json!({"id": id(), "tour_id": tour, "min_participants": threshold, "discount": discount(d)}),
        ));
    }
    for (threshold, d) in &c.early_birds {
        steps.push(m(
            "upsert_early_bird_discount.v1",
            json!({"id": id(), "tour_id": tour, "min_days_before": threshold, "discount": discount(d)}),
        ));
    }
    let code = format!("CASE{n}");
    if let Some(p) = &c.promo {
        let now = Utc::now();
        let (from, until) = match p.window {
            0 => (now - Duration::days(2), now + Duration::days(2)),
            1 => (now - Duration::days(5), now - Duration::days(1)),
            _ => (now + Duration::days(1), now + Duration::days(5)),
        };
        let targets: Vec<&String> = match p.target {
            0 => vec![],
            1 => vec![&tour],
            _ => vec![&w.other_tour],
        };
        let discount = match p.percent_bp {
            Some(bp) => json!({"type": "percentage", "value": bp}),
            None => json!({"type": "fixed", "value": money(p.fixed)}),
        };
        steps.push(m(
            "upsert_promo_code.v1",
            json!({"id": id(), "code": code, "discount": discount,
                   "min_booking_value": p.min_value.map(money), "valid_from": from, "valid_until": until,
                   "applicable_tour_ids": targets, "status": if p.inactive { "inactive" } else { "active" }}),
        ));
    }
    steps.push(m(
        "generate_departures.v1",
        json!({"tour_id": tour, "variant_id": variant, "from": date, "until": date,
               "pattern": {"type": "recurring", "days_of_week": [0, 1, 2, 3, 4, 5, 6], "start_times": ["10:00:00"]}}),
    ));
    for s in &steps {
        w.desk.mutate(s).map_err(|e| TestCaseError::fail(format!("{}: {e}", s.name())))?;
    }
    let report = w.client.sync_once(&w.desk).await.map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(report.rejected, 0, "{:?}", w.desk.rejections().unwrap());
    let departure = w.desk.departures(&tour).unwrap().remove(0).departure;

    for (quantities, promo) in &c.requests {
        let lines: Vec<LineRequest> = tiers
            .iter()
            .zip(quantities)
            .filter(|(_, q)| **q > 0)
            .map(|(t, q)| LineRequest { tier_id: t.clone(), quantity: *q, ages: vec![] })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let promo_code = match promo {
            0 => None,
            1 => Some(code.to_lowercase()),
            _ => Some("NO-SUCH-CODE".to_string()),
        };
        let input = QuoteInput {
            departure_id: departure.id.clone(),
            lines: lines.clone(),
            promo_code: promo_code.clone(),
            customer_id: None,
        };
        let desk = w.desk.quote(&input, Utc::now());
        let body = json!({"departure_id": departure.id, "promo_code": promo_code,
            "lines": lines.iter().map(|l| json!({"tier_id": l.tier_id, "quantity": l.quantity})).collect::<Vec<_>>()});
        let (status, server) = call(
            &w.env.base_url(),
            "POST",
            &format!("/api/v1/orgs/{}/quotes", demo_data::DEMO_ORG_SLUG),
            None,
            Some(body),
        )
        .await;
        let q = match desk {
            Ok(q) => q,
            Err(e) => {
                prop_assert!(!status.is_success(), "desk refused ({}), server priced {}", e, server);
                continue;
            }
        };
        prop_assert!(status.is_success(), "desk priced {:?}, server said {} {}", q, status, server);
        prop_assert_eq!(from_desk(&q), from_server(&server), "case {}: {:?}", n, c);
        for (seen, counter) in [
            (q.season.is_some(), &w.seasons),
            (!q.snapshot.taxes.is_empty(), &w.taxes),
            (matches!(q.promo, PromoOutcome::Applied { .. }), &w.promos),
        ] {
            if seen {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
        // Booked on the desk at the total it showed: the server charges the same (no
        // PRICE_CHANGED), the code's use included.
        if w.booked.load(Ordering::SeqCst) < n {
            let customer = id();
            let code = matches!(q.promo, PromoOutcome::Applied { .. }).then(|| promo_code.clone()).flatten();
            let customer_m = m(
                "create_customer.v1",
                json!({"id": customer, "first_name": "Walk", "last_name": format!("In {n}"),
                       "hlc": tourdesk_domain::hlc::Hlc::at(Utc::now(), 1, "test").to_string()}),
            );
            let booking = id();
            let book = m(
                "create_booking.v1",
                json!({"id": booking, "tour_id": tour, "departure_id": departure.id, "customer_id": customer,
                       "lines": lines.iter().map(|l| json!({"tier_id": l.tier_id, "quantity": l.quantity})).collect::<Vec<_>>(),
                       "promo_code": code, "reference_year": 2027, "reference_entropy": n as u64 * 7919,
                       "expected_total": q.snapshot.total}),
            );
            w.desk.mutate(&customer_m).map_err(|e| TestCaseError::fail(e.to_string()))?;
            w.desk.mutate(&book).map_err(|e| TestCaseError::fail(format!("booking: {e}")))?;
            let report = w.client.sync_once(&w.desk).await.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(report.rejected, 0, "{:?}", w.desk.rejections().unwrap());
            let total: i64 = w
                .env
                .pg()
                .await
                .query_one("SELECT total_minor FROM bookings WHERE id = $1", &[&booking])
                .await
                .unwrap()
                .get(0);
            prop_assert_eq!(total, q.snapshot.total.amount);
            w.booked.store(n, Ordering::SeqCst);
        }
    }
    Ok(())
}

#[test]
fn the_desk_quote_equals_the_server_quote_for_random_catalogues() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let env = rt.block_on(Env::start());
    let desk = env.desk("office");
    let client = env.client(DEMO_OWNER_EMAIL);
    rt.block_on(client.sync_once(&desk)).unwrap();
    let other_tour = desk.tours().unwrap()[0].tour.id.clone();
    let world = World {
        env: &env,
        desk,
        client,
        other_tour,
        seasons: AtomicUsize::new(0),
        taxes: AtomicUsize::new(0),
        promos: AtomicUsize::new(0),
        booked: AtomicUsize::new(0),
    };
    let cases: u32 = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let n = AtomicUsize::new(0);
    let result = runner.run(&case(), |c| {
        let n = n.fetch_add(1, Ordering::SeqCst) + 1;
        rt.block_on(run_case(&world, n, &c))
    });
    let seen = [&world.seasons, &world.taxes, &world.promos].map(|c| c.load(Ordering::SeqCst));
    drop(world);
    rt.block_on(async move {
        let mut env = env;
        env.stop_server().await;
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The comparison meant something: quotes with a season, with taxes and with a code applied.
    if cases >= 16 {
        assert!(seen.iter().all(|n| *n > 0), "seasons, taxes, applied codes: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_reorders_faqs_and_inclusions_offline_and_every_store_shows_that_order() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let tours = desk.tours().unwrap();
    let tour = tours.iter().find(|t| t.tour.slug == "kyoto-temples-at-dawn").unwrap().tour.clone();
    let other = tours.iter().find(|t| t.tour.id != tour.id).unwrap().tour.clone();
    let (f1, f2, f3, i1, i2, stranger) = (id(), id(), id(), id(), id(), id());
    let faq = |id: &str, t: &str, q: &str, order: i32| {
        m("upsert_tour_faq.v1", json!({"id": id, "tour_id": t, "question": q, "answer": "Yes.", "sort_order": order}))
    };
    let steps = vec![
        faq(&f1, &tour.id, "One?", 0),
        faq(&f2, &tour.id, "Two?", 1),
        faq(&f3, &tour.id, "Three?", 2),
        faq(&stranger, &other.id, "Elsewhere?", 0),
        m(
            "upsert_tour_inclusion.v1",
            json!({"id": i1, "tour_id": tour.id, "kind": "inclusion", "text": "Tea", "sort_order": 0}),
        ),
        m(
            "upsert_tour_inclusion.v1",
            json!({"id": i2, "tour_id": tour.id, "kind": "inclusion", "text": "Cake", "sort_order": 1}),
        ),
    ];
    for s in &steps {
        desk.mutate(s).unwrap();
    }
    client.sync_once(&desk).await.unwrap();

    // Offline: "Three?" moves to the top, "Cake" above "Tea".
    desk.mutate(&m("reorder_tour_faqs.v1", json!({"tour_id": tour.id, "ids": [f3, f1, f2]}))).unwrap();
    desk.mutate(&m("reorder_tour_inclusions.v1", json!({"tour_id": tour.id, "ids": [i2, i1]}))).unwrap();
    // Another tour's question is refused, naming its place in the list, and nothing is queued.
    let e = desk.mutate(&m("reorder_tour_faqs.v1", json!({"tour_id": tour.id, "ids": [f1, stranger]}))).unwrap_err();
    assert!(format!("{e:?}").contains("ids[1]"), "{e:?}");
    let view = desk.tour_pricing(&tour.id).unwrap();
    assert_eq!(view.faqs.iter().map(|f| &f.id).collect::<Vec<_>>(), vec![&f3, &f1, &f2]);
    assert_eq!(desk.pending_count().unwrap(), 2);

    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (2, 0), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    let rows =
        pg.query("SELECT id FROM tour_faqs WHERE tour_id = $1 ORDER BY sort_order, id", &[&tour.id]).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>(),
        vec![f3.clone(), f1.clone(), f2.clone()]
    );
    assert_eq!(audit_actions(&env, &f3).await, vec!["upsert_tour_faq.v1", "reorder_tour_faqs.v1"]);

    let manager = env.desk("manager");
    env.client(DEMO_MANAGER_EMAIL).sync_once(&manager).await.unwrap();
    let view = manager.tour_pricing(&tour.id).unwrap();
    assert_eq!(view.faqs.iter().map(|f| &f.id).collect::<Vec<_>>(), vec![&f3, &f1, &f2]);
    assert_eq!(view.inclusions.iter().map(|i| &i.id).collect::<Vec<_>>(), vec![&i2, &i1]);

    let path = format!("/api/v1/orgs/{}/tours/{}", demo_data::DEMO_ORG_SLUG, tour.slug);
    let (s, detail) = call(&env.base_url(), "GET", &path, None, None).await;
    assert_eq!(s, 200, "{detail}");
    let questions: Vec<&str> =
        detail["faqs"].as_array().unwrap().iter().map(|f| f["question"].as_str().unwrap()).collect();
    assert_eq!(questions, vec!["Three?", "One?", "Two?"]);
    assert_eq!(detail["included"], json!([{"text": "Cake", "icon": null}, {"text": "Tea", "icon": null}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discounts_and_a_chosen_policy_replay_audited_reach_a_second_desk_and_price_alike() {
    let env = Env::start().await;
    let (a, b) = (env.desk("a"), env.desk("b"));
    let (client_a, client_b) = (env.client(DEMO_OWNER_EMAIL), env.client(DEMO_OWNER_EMAIL));
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();
    let tour = a.tours().unwrap().into_iter().find(|t| t.tour.slug == "kyoto-temples-at-dawn").unwrap().tour;
    let other = a.tours().unwrap().into_iter().find(|t| t.tour.id != tour.id).unwrap().tour;
    let (shared, others_own, group, early) = (id(), id(), id(), id());
    let steps = vec![
        m(
            "upsert_cancellation_policy.v1",
            json!({"id": shared, "name": "Strict", "rules": [{"hours_before_tour": 48, "refund_percentage": 30}]}),
        ),
        m(
            "upsert_cancellation_policy.v1",
            json!({"id": others_own, "tour_id": other.id, "name": "Other's own",
                   "rules": [{"hours_before_tour": 1, "refund_percentage": 100}]}),
        ),
        m(
            "upsert_group_discount.v1",
            json!({"id": group, "tour_id": tour.id, "min_participants": 4,
                   "discount": {"type": "percentage", "value": 1000}}),
        ),
        m(
            "upsert_early_bird_discount.v1",
            json!({"id": early, "tour_id": tour.id, "min_days_before": 1,
                   "discount": {"type": "fixed", "value": {"amount": 500, "currency": "JPY"}}}),
        ),
        m("set_tour_cancellation_policy.v1", json!({"tour_id": tour.id, "cancellation_policy_id": shared})),
    ];
    for s in &steps {
        a.mutate(s).unwrap_or_else(|e| panic!("{}: {e}", s.name()));
    }
    let report = client_a.sync_once(&a).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (steps.len() as u64, 0), "{:?}", a.rejections().unwrap());

    // In PostgreSQL, each with its audit row.
    let pg = env.pg().await;
    let r = pg
        .query_one(
            "SELECT min_participants, discount_type, discount_value FROM group_discounts WHERE id = $1",
            &[&group],
        )
        .await
        .unwrap();
    assert_eq!((r.get::<_, i32>(0), r.get::<_, String>(1), r.get::<_, i64>(2)), (4, "percentage".into(), 1000));
    let r = pg
        .query_one(
            "SELECT min_days_before, discount_value, discount_currency FROM early_bird_discounts WHERE id = $1",
            &[&early],
        )
        .await
        .unwrap();
    assert_eq!((r.get::<_, i32>(0), r.get::<_, i64>(1), r.get::<_, Option<String>>(2)), (1, 500, Some("JPY".into())));
    let r = pg.query_one("SELECT cancellation_policy_id FROM tours WHERE id = $1", &[&tour.id]).await.unwrap();
    assert_eq!(r.get::<_, Option<String>>(0), Some(shared.clone()));
    assert_eq!(audit_actions(&env, &group).await, vec!["upsert_group_discount.v1"]);
    assert_eq!(audit_actions(&env, &early).await, vec!["upsert_early_bird_discount.v1"]);
    assert!(audit_actions(&env, &tour.id).await.contains(&"set_tour_cancellation_policy.v1".to_string()));

    // The second desk receives all of it.
    client_b.sync_once(&b).await.unwrap();
    let view = b.tour_pricing(&tour.id).unwrap();
    assert_eq!(view.group_discounts.iter().map(|g| &g.id).collect::<Vec<_>>(), vec![&group]);
    assert_eq!(view.early_bird_discounts.iter().map(|e| &e.id).collect::<Vec<_>>(), vec![&early]);
    assert_eq!(view.chosen_policy_id.as_deref(), Some(shared.as_str()));
    assert!(view.shared_policies.iter().any(|p| p.id == shared));
    assert!(!view.shared_policies.iter().any(|p| p.id == others_own), "another tour's own policy is not shared");
    let on_b = b.tours().unwrap().into_iter().find(|t| t.tour.id == tour.id).unwrap().tour;
    assert_eq!(on_b.cancellation_policy_id.as_deref(), Some(shared.as_str()));

    // Its quote applies both discounts, as the server's does.
    let departure = b
        .departures(&tour.id)
        .unwrap()
        .into_iter()
        .map(|d| d.departure)
        .find(|d| d.starts_at > Utc::now() + Duration::days(2))
        .unwrap();
    let tier = b.pricing_catalog(&tour.id).unwrap().unwrap().tiers[0].id.clone();
    let lines = vec![LineRequest { tier_id: tier.clone(), quantity: 4, ages: vec![] }];
    let input = QuoteInput { departure_id: departure.id.clone(), lines, promo_code: None, customer_id: None };
    let desk_quote = b.quote(&input, Utc::now()).unwrap();
    assert_eq!(desk_quote.snapshot.discounts.len(), 2, "{desk_quote:?}");
    let body = json!({"departure_id": departure.id, "lines": [{"tier_id": tier, "quantity": 4}]});
    let path = format!("/api/v1/orgs/{}/quotes", demo_data::DEMO_ORG_SLUG);
    let (status, server) = call(&env.base_url(), "POST", &path, None, Some(body)).await;
    assert!(status.is_success(), "{server}");
    assert_eq!(from_desk(&desk_quote), from_server(&server));

    // Refusals, each naming its field (or, for a conflict, the clash), with nothing written: a policy that is not
    // there (or another organization's: the tenant's view has none of it), another tour's own
    // policy, and a threshold another rule of the tour already has.
    let token = sign_in(&env, DEMO_OWNER_EMAIL).await;
    let push = |name: &str, args: Value| PushRequest {
        client_id: id(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope { id: 1, name: name.into(), args, hlc: "0".into() }],
    };
    let other_org = id();
    pg.execute(
        "INSERT INTO organizations (id, name, slug, business_email) VALUES ($1, 'Other', 'other-cat', 'o@other.test')",
        &[&other_org],
    )
    .await
    .unwrap();
    let foreign = id();
    pg.execute(
        "INSERT INTO cancellation_policies (id, organization_id, name, rules, is_default) VALUES ($1, $2, 'Theirs', '[]', false)",
        &[&foreign, &other_org],
    )
    .await
    .unwrap();
    for (name, args, field) in [
        (
            "set_tour_cancellation_policy.v1",
            json!({"tour_id": tour.id, "cancellation_policy_id": foreign}),
            "cancellation_policy_id",
        ),
        (
            "set_tour_cancellation_policy.v1",
            json!({"tour_id": tour.id, "cancellation_policy_id": others_own}),
            "cancellation_policy_id",
        ),
        (
            "upsert_group_discount.v1",
            json!({"id": id(), "tour_id": tour.id, "min_participants": 4,
                   "discount": {"type": "percentage", "value": 500}}),
            // A conflict's detail is its message; its field is `min_participants`.
            "already starts at 4 participants",
        ),
        (
            "upsert_early_bird_discount.v1",
            json!({"id": id(), "tour_id": tour.id, "min_days_before": 0,
                   "discount": {"type": "percentage", "value": 500}}),
            "min_days_before",
        ),
    ] {
        let resp = push_raw(&env.base_url(), &token, &push(name, args.clone())).await;
        assert_eq!(resp.results[0].status, OutcomeStatus::Rejected, "{name} {args}");
        let detail = resp.results[0].detail.clone().unwrap_or_default();
        assert!(detail.contains(field), "{name}: {detail}");
    }
    let r = pg.query_one("SELECT cancellation_policy_id FROM tours WHERE id = $1", &[&tour.id]).await.unwrap();
    assert_eq!(r.get::<_, Option<String>>(0), Some(shared.clone()), "unchanged");
    assert_eq!(env.scalar("SELECT count(*) FROM group_discounts WHERE tour_id = $1", &[&tour.id]).await, 1);

    // Back to the fallback from the second desk: the first desk receives that too, and the
    // rule is deleted.
    b.mutate(&m("set_tour_cancellation_policy.v1", json!({"tour_id": tour.id, "cancellation_policy_id": null})))
        .unwrap();
    b.mutate(&m("delete_group_discount.v1", json!({"id": group}))).unwrap();
    let report = client_b.sync_once(&b).await.unwrap();
    assert_eq!(report.rejected, 0, "{:?}", b.rejections().unwrap());
    client_a.sync_once(&a).await.unwrap();
    let view = a.tour_pricing(&tour.id).unwrap();
    assert_eq!(view.chosen_policy_id, None);
    assert!(view.group_discounts.is_empty());
    assert_eq!(audit_actions(&env, &group).await, vec!["upsert_group_discount.v1", "delete_group_discount.v1"]);
}
