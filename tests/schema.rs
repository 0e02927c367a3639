//! The PostgreSQL schema on its own: migrations apply (and re-apply), every tenant table is
//! covered by row-level security and an index led by organization_id, the policies isolate
//! tenants for the application role, and the key constraints refuse bad rows.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;
use tourdesk_sync_server::{Config, db};
use tourdesk_testkit::PgCluster;

const ORG_A: &str = "org-a";
const ORG_B: &str = "org-b";

async fn connect(url: &str) -> Client {
    tourdesk_testkit::connect(url).await.unwrap()
}

async fn migrate(url: &str) -> anyhow::Result<()> {
    let pool = db::connect(&Config { database_url: url.into(), ..Default::default() })?;
    db::migrate(&pool).await
}

/// A fresh, migrated database and a superuser connection to it.
async fn migrated(cluster: &PgCluster) -> (String, Client) {
    let url = cluster.fresh_database().await.unwrap();
    migrate(&url).await.unwrap();
    let client = connect(&url).await;
    (url, client)
}

/// An organization with one tour, variant, departure and customer, all ids prefixed by `org`.
async fn insert_org(c: &Client, org: &str) {
    c.batch_execute(&format!(
        "INSERT INTO organizations (id, name, slug, business_email) VALUES ('{org}', '{org}', '{org}', 'ops@{org}.test');
         INSERT INTO tours (id, organization_id, name, slug, duration_minutes, default_capacity, category, timezone)
             VALUES ('{org}-tour', '{org}', 'Old Town', 'old-town', 120, 12, 'walking', 'Europe/London');
         INSERT INTO tour_variants (id, organization_id, tour_id, name)
             VALUES ('{org}-variant', '{org}', '{org}-tour', 'Morning');
         INSERT INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
                                starts_at, ends_at, capacity)
             VALUES ('{org}-dep', '{org}', '{org}-tour', '{org}-variant', '2026-06-01', '09:00', 'Europe/London',
                     '2026-06-01 08:00Z', '2026-06-01 10:00Z', 12);
         INSERT INTO customers (id, organization_id, email, first_name, last_name)
             VALUES ('{org}-cust', '{org}', 'ann@example.com', 'Ann', 'Lee');"
    ))
    .await
    .unwrap();
}

/// A booking of `org` for its own customer and departure unless `customer` says otherwise.
fn booking_sql(org: &str, id: &str, reference: &str, status: &str, total_minor: i64, customer: &str) -> String {
    format!(
        "INSERT INTO bookings (id, organization_id, reference_number, customer_id, departure_id, tour_id, variant_id,
                               pricing, currency, subtotal_minor, total_minor, participant_count, status)
         VALUES ('{id}', '{org}', '{reference}', '{customer}', '{org}-dep', '{org}-tour', '{org}-variant',
                 '{{}}', 'EUR', {total_minor}, {total_minor}, 2, '{status}')"
    )
}

async fn sqlstate(c: &Client, sql: &str) -> Option<SqlState> {
    match c.execute(sql, &[]).await {
        Ok(_) => None,
        Err(e) => Some(e.code().cloned().unwrap_or_else(|| panic!("not a database error: {e}"))),
    }
}

async fn ids(c: &Client, table: &str) -> Vec<String> {
    let rows = c.query(&format!("SELECT id FROM {table} ORDER BY id"), &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_on_fresh_databases_and_rerun_as_no_ops() {
    let cluster = PgCluster::start().unwrap();
    let (one, two) = (cluster.fresh_database().await.unwrap(), cluster.fresh_database().await.unwrap());
    // Two databases of one cluster at once: both create the cluster-wide role, one loses the race.
    let (a, b) = tokio::join!(migrate(&one), migrate(&two));
    a.unwrap();
    b.unwrap();
    // A third database finds the role already there.
    let three = cluster.fresh_database().await.unwrap();
    migrate(&three).await.unwrap();
    // Running again applies nothing and fails nothing.
    migrate(&one).await.unwrap();
    migrate(&one).await.unwrap();

    let c = connect(&one).await;
    let versions: Vec<i32> = c
        .query("SELECT version FROM refinery_schema_history ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // V4 never landed; its number stays unused, since a late V4 would arrive below applied versions.
    assert_eq!(
        versions,
        [
            1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25, 28, 29, 32, 33, 34, 35,
            41, 42, 44, 45, 49, 50, 51, 52, 53, 54, 57, 60, 61, 62, 63, 64, 68
        ]
    );

    let role = c
        .query_one("SELECT rolcanlogin, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'tourdesk_app'", &[])
        .await
        .unwrap();
    assert_eq!((role.get::<_, bool>(0), role.get::<_, bool>(1), role.get::<_, bool>(2)), (false, false, false));

    let tables: BTreeSet<String> = c
        .query("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in [
        "organizations",
        "customers",
        "tours",
        "tour_variants",
        "pricing_tiers",
        "seasonal_pricing",
        "promotional_codes",
        "guides",
        "tour_guide_assignments",
        "schedules",
        "bookings",
        "booking_line_items",
        "schedule_guide_assignments",
        "communications",
        "audit_logs",
        "reviews",
        "abandoned_carts",
        "wishlists",
        "availability_alerts",
        "tour_faqs",
        "tour_inclusions",
        "cancellation_policies",
        "notification_preferences",
        "analytics_events",
        "check_ins",
        "promo_code_uses",
        "group_discounts",
        "early_bird_discounts",
        "tax_rules",
        "staff_devices",
        "staff_refresh_tokens",
        "customer_magic_links",
        "review_links",
        "stripe_events",
        "payments",
        "refunds",
        "payment_chases",
        "payment_issues",
        "ledger_entries",
    ] {
        assert!(tables.contains(t), "table {t} is missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_has_row_level_security_and_an_organization_index() {
    let cluster = PgCluster::start().unwrap();
    let (_, c) = migrated(&cluster).await;
    let rows = c
        .query(
            "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                    (SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname),
                    EXISTS (SELECT FROM pg_index i
                            JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = i.indkey[0]
                            WHERE i.indrelid = c.oid AND k.attname = 'organization_id')
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
             WHERE c.relkind = 'r'
               AND EXISTS (SELECT FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped)
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() >= 35, "only {} tenant tables", rows.len());
    let mut not_forced = Vec::new();
    for r in &rows {
        let (table, enabled, forced, policies, indexed): (String, bool, bool, i64, bool) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        assert!(enabled, "{table}: row-level security is off");
        assert!(policies >= 1, "{table}: no policy");
        assert!(indexed, "{table}: no index led by organization_id");
        if !forced {
            not_forced.push(table);
        }
    }
    // Since V10 nothing reads a tenant table before its tenant is set, so the owner is bound too.
    assert!(not_forced.is_empty(), "tables exempt from FORCE: {not_forced:?}");

    // Every tenant policy reads the per-transaction setting, for every command; the only other
    // policies let V10's lookup functions (running as tourdesk_lookup) read, and only read.
    let loose = c
        .query(
            "SELECT tablename::text FROM pg_policies
             WHERE schemaname = 'public' AND NOT (policyname = 'lookup' AND cmd = 'SELECT'
                                                  AND roles = '{tourdesk_lookup}' AND with_check IS NULL)
               AND (cmd <> 'ALL' OR qual NOT LIKE '%app.organization_id%'
                    OR with_check NOT LIKE '%app.organization_id%')",
            &[],
        )
        .await
        .unwrap();
    assert!(
        loose.is_empty(),
        "policies not keyed on app.organization_id: {:?}",
        loose.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()
    );

    // The tables without organization_id are covered too, or are deliberately global.
    let extra = c
        .query(
            "SELECT relname::text, relrowsecurity FROM pg_class
             WHERE relnamespace = 'public'::regnamespace
               AND relname IN ('organizations', 'sync_mutation_results', 'stripe_events') ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let extra: Vec<(String, bool)> = extra.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        extra,
        [("organizations".into(), true), ("stripe_events".into(), false), ("sync_mutation_results".into(), true)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pre_tenant_lookups_are_narrow_and_only_the_application_calls_them() {
    let cluster = PgCluster::start().unwrap();
    let (_, c) = migrated(&cluster).await;
    let rows = c
        .query(
            "SELECT p.proname::text, p.prosecdef, pg_get_userbyid(p.proowner)::text, coalesce(p.proconfig, '{}'),
                    has_function_privilege('tourdesk_app', p.oid, 'EXECUTE'),
                    coalesce(p.proacl::text[], '{}')
             FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'tourdesk\\_%'
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() >= 10, "only {} lookup functions", rows.len());
    for r in &rows {
        let (name, definer, owner, config, app, acl): (String, bool, String, Vec<String>, bool, Vec<String>) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        assert!(definer, "{name}: not SECURITY DEFINER");
        assert_eq!(owner, "tourdesk_lookup", "{name}");
        assert_eq!(config, ["search_path=public, pg_temp"], "{name}: search_path not fixed");
        assert!(app, "{name}: tourdesk_app cannot call it");
        assert!(acl.iter().all(|a| !a.starts_with('=')), "{name}: PUBLIC may call it: {acl:?}");
    }
    // The functions' role reads and nothing more, and nobody signs in as it.
    let role = c
        .query_one(
            "SELECT rolcanlogin, rolbypassrls, rolsuper, rolinherit,
                    (SELECT count(*) FROM information_schema.role_table_grants
                     WHERE grantee = 'tourdesk_lookup' AND privilege_type <> 'SELECT')
             FROM pg_roles WHERE rolname = 'tourdesk_lookup'",
            &[],
        )
        .await
        .unwrap();
    let (login, bypass, superuser, inherit, writes): (bool, bool, bool, bool, i64) =
        (role.get(0), role.get(1), role.get(2), role.get(3), role.get(4));
    assert_eq!((login, bypass, superuser, inherit, writes), (false, false, false, false, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_sees_and_writes_only_its_tenant() {
    let cluster = PgCluster::start().unwrap();
    let (url, admin) = migrated(&cluster).await;
    insert_org(&admin, ORG_A).await;
    insert_org(&admin, ORG_B).await;
    for (org, reference) in [(ORG_A, "BK-2026-AAAAAA"), (ORG_B, "BK-2026-BBBBBB")] {
        admin
            .batch_execute(&booking_sql(
                org,
                &format!("{org}-bk"),
                reference,
                "confirmed",
                9000,
                &format!("{org}-cust"),
            ))
            .await
            .unwrap();
    }
    admin
        .batch_execute(&format!(
            "INSERT INTO customers (id, organization_id, email, first_name, last_name)
                 VALUES ('{ORG_A}-cust2', '{ORG_A}', 'bo@example.com', 'Bo', 'Ng');
             CREATE ROLE schema_test_app LOGIN IN ROLE tourdesk_app;"
        ))
        .await
        .unwrap();
    let app_url = url.replacen("postgres@", "schema_test_app@", 1);
    assert_ne!(app_url, url);
    let mut app = connect(&app_url).await;

    // Nothing is visible before a tenant is set.
    for table in ["customers", "bookings", "tours", "schedules", "organizations"] {
        assert!(ids(&app, table).await.is_empty(), "{table} visible without a tenant");
    }

    let tx = app.transaction().await.unwrap();
    tx.execute("SELECT set_config('app.organization_id', $1, true)", &[&ORG_A]).await.unwrap();
    let visible = |rows: Vec<tokio_postgres::Row>| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>();
    assert_eq!(
        visible(tx.query("SELECT id FROM customers ORDER BY id", &[]).await.unwrap()),
        ["org-a-cust", "org-a-cust2"]
    );
    assert_eq!(visible(tx.query("SELECT id FROM bookings", &[]).await.unwrap()), ["org-a-bk"]);
    assert_eq!(visible(tx.query("SELECT id FROM organizations", &[]).await.unwrap()), [ORG_A]);
    // Asking for B's rows by id, as a query missing its tenant filter would, finds nothing.
    assert!(tx.query("SELECT 1 FROM bookings WHERE id = 'org-b-bk'", &[]).await.unwrap().is_empty());
    assert_eq!(
        tx.execute("UPDATE customers SET first_name = 'X' WHERE organization_id = 'org-b'", &[]).await.unwrap(),
        0
    );
    assert_eq!(tx.execute("DELETE FROM bookings WHERE id = 'org-b-bk'", &[]).await.unwrap(), 0);
    // Writing into another tenant, or moving a row there, is refused outright.
    tx.execute("SAVEPOINT s", &[]).await.unwrap();
    let err = tx
        .execute(
            "INSERT INTO customers (id, organization_id, email, first_name, last_name)
             VALUES ('sneaky', 'org-b', 'x@example.com', 'X', 'Y')",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{err}");
    tx.execute("ROLLBACK TO SAVEPOINT s", &[]).await.unwrap();
    let err =
        tx.execute("UPDATE customers SET organization_id = 'org-b' WHERE id = 'org-a-cust2'", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{err}");
    tx.execute("ROLLBACK TO SAVEPOINT s", &[]).await.unwrap();
    // Its own tenant's writes work.
    tx.execute(
        "INSERT INTO customers (id, organization_id, email, first_name, last_name)
         VALUES ('org-a-cust3', 'org-a', 'cy@example.com', 'Cy', 'Ro')",
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // The setting was local to that transaction: the same connection sees nothing again.
    assert!(ids(&app, "customers").await.is_empty());
    assert!(ids(&app, "bookings").await.is_empty());
    // TRUNCATE would ignore the policies, so the role does not have it.
    assert_eq!(sqlstate(&app, "TRUNCATE bookings CASCADE").await, Some(SqlState::INSUFFICIENT_PRIVILEGE));

    // B's rows are intact, and A's insert landed in A.
    let count: i64 =
        admin.query_one("SELECT count(*) FROM customers WHERE organization_id = 'org-b'", &[]).await.unwrap().get(0);
    assert_eq!(count, 1);
    let owner: String =
        admin.query_one("SELECT organization_id FROM customers WHERE id = 'org-a-cust3'", &[]).await.unwrap().get(0);
    assert_eq!(owner, ORG_A);
    drop(app);
    admin.batch_execute("DROP OWNED BY schema_test_app; DROP ROLE schema_test_app").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_constraints_refuse_bad_rows() {
    let cluster = PgCluster::start().unwrap();
    let (_, c) = migrated(&cluster).await;
    insert_org(&c, ORG_A).await;
    insert_org(&c, ORG_B).await;
    let check = Some(SqlState::CHECK_VIOLATION);
    let unique = Some(SqlState::UNIQUE_VIOLATION);

    // Money is never negative.
    assert_eq!(sqlstate(&c, &booking_sql(ORG_A, "bk-neg", "BK-2026-CCCCCC", "pending", -1, "org-a-cust")).await, check);
    // Statuses are the domain's snake_case strings and nothing else.
    assert_eq!(sqlstate(&c, &booking_sql(ORG_A, "bk-st", "BK-2026-CCCCCC", "paid", 100, "org-a-cust")).await, check);
    assert_eq!(sqlstate(&c, &booking_sql(ORG_A, "bk-st", "BK-2026-CCCCCC", "No_Show", 100, "org-a-cust")).await, check);
    // References are the domain's format (no look-alike letters such as O or I).
    assert_eq!(
        sqlstate(&c, &booking_sql(ORG_A, "bk-ref", "BK-2026-OOOOOO", "pending", 100, "org-a-cust")).await,
        check
    );
    assert_eq!(sqlstate(&c, &booking_sql(ORG_A, "bk-ok", "BK-2026-CCCCCC", "no_show", 100, "org-a-cust")).await, None);
    // A reference is unique within an organization, not across them.
    assert_eq!(
        sqlstate(&c, &booking_sql(ORG_A, "bk-dup", "BK-2026-CCCCCC", "pending", 100, "org-a-cust")).await,
        unique
    );
    assert_eq!(sqlstate(&c, &booking_sql(ORG_B, "bk-b", "BK-2026-CCCCCC", "pending", 100, "org-b-cust")).await, None);
    // A booking cannot point at another organization's customer.
    assert_eq!(
        sqlstate(&c, &booking_sql(ORG_B, "bk-x", "BK-2026-DDDDDD", "pending", 100, "org-a-cust")).await,
        Some(SqlState::FOREIGN_KEY_VIOLATION)
    );
    // A booking's tour and variant are its departure's.
    let other_tour = booking_sql(ORG_A, "bk-t", "BK-2026-EEEEEE", "pending", 100, "org-a-cust")
        .replace("'org-a-tour', 'org-a-variant'", "'org-a-tour2', 'org-a-variant'");
    c.batch_execute(
        "INSERT INTO tours (id, organization_id, name, slug, duration_minutes, default_capacity, category, timezone)
         VALUES ('org-a-tour2', 'org-a', 'New Town', 'new-town', 60, 8, 'walking', 'Europe/London')",
    )
    .await
    .unwrap();
    assert_eq!(sqlstate(&c, &other_tour).await, Some(SqlState::FOREIGN_KEY_VIOLATION));
    // Refunds never exceed what was paid.
    assert_eq!(
        sqlstate(&c, "UPDATE bookings SET paid_amount_minor = 100, refunded_amount_minor = 101 WHERE id = 'bk-ok'")
            .await,
        check
    );

    // Customer e-mail: unique per organization whatever the case, free across organizations.
    let customer = |org: &str, id: &str, email: &str| {
        format!(
            "INSERT INTO customers (id, organization_id, email, first_name, last_name)
             VALUES ('{id}', '{org}', '{email}', 'Ann', 'Lee')"
        )
    };
    assert_eq!(sqlstate(&c, &customer(ORG_A, "dup", "ANN@Example.COM")).await, unique);
    assert_eq!(sqlstate(&c, &customer(ORG_B, "b-other", "zed@example.com")).await, None);
    assert_eq!(sqlstate(&c, &customer(ORG_B, "b-dup", "Zed@Example.com")).await, unique);
    assert_eq!(sqlstate(&c, &customer(ORG_A, "a-zed", "Zed@Example.com")).await, None);

    // Stripe events are processed once: the second delivery of an id conflicts.
    let event = "INSERT INTO stripe_events (id, type, livemode, stripe_created_at, payload)
                 VALUES ('evt_1', 'payment_intent.succeeded', false, now(), '{}')";
    assert_eq!(sqlstate(&c, event).await, None);
    assert_eq!(sqlstate(&c, event).await, unique);

    // A replayed check-in (same nonce) counts once.
    let check_in =
        "INSERT INTO check_ins (id, organization_id, booking_id, departure_id, participant, kind, at, recorded_by)
                    VALUES ('nonce-1', 'org-a', 'bk-ok', 'org-a-dep', 0, 'checked_in', now(), 'guide')";
    assert_eq!(sqlstate(&c, check_in).await, None);
    assert_eq!(sqlstate(&c, check_in).await, unique);

    // Promotional codes: case-insensitive per organization, never used beyond max_uses.
    let promo = |id: &str, code: &str, max: &str, uses: i32| {
        format!(
            "INSERT INTO promotional_codes (id, organization_id, code, discount_type, discount_value, max_uses,
                                            current_uses, valid_from, valid_until)
             VALUES ('{id}', 'org-a', '{code}', 'percentage', 1000, {max}, {uses}, now(), now() + interval '1 day')"
        )
    };
    assert_eq!(sqlstate(&c, &promo("p1", "SUMMER", "2", 2)).await, None);
    assert_eq!(sqlstate(&c, &promo("p2", "summer", "NULL", 0)).await, unique);
    assert_eq!(sqlstate(&c, &promo("p3", "WINTER", "2", 3)).await, check);
    assert_eq!(
        sqlstate(&c, "UPDATE promotional_codes SET current_uses = current_uses + 1 WHERE id = 'p1'").await,
        check
    );
    // A percentage above 100 % is not a discount.
    assert_eq!(sqlstate(&c, &promo("p4", "HUGE", "NULL", 0).replace("1000", "10001")).await, check);
}
