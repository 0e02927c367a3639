#!/usr/bin/env python3
"""Writes e_server_replay.sql: the statements the server sent for one website booking (captured
with log_statement=all into server_statements.json, keyed by the server's prepared-statement
names), with their round trips as the server makes them (pgbench pipelines), and the payment
intent's second transaction after it. Parameters become pgbench variables and the values the log
showed (JSON the same size; ids made unique per transaction from :n)."""
import json, re

S = json.load(open("server_statements.json"))
cid = "('flr-c-' || lpad(:n::text, 30, '0'))"
bid = "('flr-b-' || lpad(:n::text, 30, '0'))"
email = "('floor-' || :n || '@example.com')"
HLC = '"1796431126969-00000000-server"'
hlcs = "('{" + ", ".join('"%s": %s' % (k, HLC) for k in ["email", "phone", "source", "last_name", "first_name", "sms_opt_in", "source_detail", "marketing_consent", "reminders_opt_out", "preferred_currency", "preferred_language"]).replace('"email": "1796431126969', '"email": "\' || :n || \'') + "}')::jsonb"
log_inc = open("log.inc").read()
# The JSON texts of log.inc: a customer's, a booking's and a departure's row.
jsons = [j for j in re.findall(r"\('(\{.*?\})'\)::jsonb", log_inc) if '"actor"' not in j]
cust = next(j for j in jsons if '"tags"' in j)
book = next(j for j in jsons if '"pricing"' in j)
dep = next(j for j in jsons if '"capacity"' in j)
J = lambda t: "('%s')::jsonb" % t

def sub(sql, params):
    for k in sorted(params, reverse=True):
        sql = sql.replace("$%d" % k, params[k])
    return sql

org, dep_id = ":org", ":dep"
stmts = {
 "s12": {1: "'demo'"},
 "s13": {1: org, 2: bid},
 "s14": {1: org, 2: dep_id},
 "s15": {1: org, 2: dep_id},
 "s16": {1: org, 2: email},
 "s17": {1: cid, 2: org, 3: email, 4: "NULL::text", 5: "'Bench'", 6: "'Client'", 7: "'direct'", 8: "'website'", 9: "'en'",
         10: "'EUR'", 11: "false", 12: "NULL::timestamptz", 13: hlcs, 14: "'{}'::text[]", 15: "'{}'::jsonb", 16: "''",
         17: "0", 18: "'[]'::jsonb", 19: "now()", 20: "now()", 21: "false", 22: "NULL::text", 23: "NULL::timestamptz", 24: "false"},
 "s18": {1: org, 2: "ARRAY[:ref, 'BK-2026-ZZZZZ2', 'BK-2026-ZZZZZ3']"},
 "s19": {1: org, 2: ":tour"}, "s20": {1: org, 2: ":tour"}, "s21": {1: org, 2: ":tour"}, "s22": {1: org, 2: ":tour"},
 "s23": {1: org, 2: ":tour"}, "s24": {1: org, 2: ":tour"},
 "s25": {1: bid, 2: org, 3: ":ref", 4: cid, 5: dep_id, 6: ":tour", 7: ":variant",
         8: J('{"taxes": [], "total": {"amount": 3500, "currency": "EUR"}, "subtotal": {"amount": 3500, "currency": "EUR"}, "discounts": [], "line_items": [{"quantity": 1, "tier_name": "Adult", "unit_price": {"amount": 3500, "currency": "EUR"}, "total_price": {"amount": 3500, "currency": "EUR"}, "pricing_tier_id": "\' || :tier || \'"}], "promotional_code_id": null}'),
         9: "'EUR'", 10: "3500::bigint", 11: "3500::bigint", 12: "0::bigint", 13: "0::bigint", 14: "1", 15: "'[]'::jsonb", 16: "'pending'",
         17: "'unpaid'", 18: "'website'", 19: "NULL::text", 20: "NULL::text", 21: "NULL::text", 22: "NULL::jsonb", 23: "NULL::jsonb",
         24: "0", 25: "0", 26: "now()", 27: "NULL::timestamptz", 28: "NULL::timestamptz", 29: "now()", 30: "now() + interval '15 minutes'"},
 "s27": {1: org, 2: bid, 3: "ARRAY[:tier]", 4: "ARRAY['Adult']", 5: "ARRAY[1]", 6: "ARRAY[3500::bigint]", 7: "ARRAY[3500::bigint]", 8: "ARRAY['EUR']"},
 "s28": {1: org, 2: cid, 3: dep_id, 4: bid},
 "s29": {1: "('pay-' || %s)" % bid, 2: org, 3: bid, 4: "('intent-' || %s)" % bid, 5: "3500::bigint", 6: "'EUR'"},
 "s30": {1: org, 2: "9::bigint",
         3: "ARRAY['org:' || :org || ':' || 'all', 'schedule:' || :dep, 'org:' || :org || ':' || 'all', 'schedule:' || :dep, 'org:' || :org || ':' || 'all', 'schedule:' || :dep]",
         4: "ARRAY['customer', 'customer', 'booking', 'booking', 'departure', 'departure']",
         5: "ARRAY[%s, %s, %s, %s, :dep, :dep]" % (cid, cid, bid, bid), 6: "ARRAY['put', 'put', 'put', 'put', 'put', 'put']",
         7: "ARRAY[%s, %s, %s, %s, %s, %s]" % (J(cust), J(cust), J(book), J(book), J(dep), J(dep)),
         8: "'tourdesk_changes'", 9: "NULL::text", 10: "ARRAY['website', 'website', 'website']",
         11: "ARRAY['create_customer.v1', 'create_booking.v1', 'create_booking.v1']", 12: "ARRAY['customer', 'booking', 'departure']",
         13: "ARRAY[%s, %s, :dep]" % (cid, bid), 14: "ARRAY[NULL, NULL, %s]" % J(dep), 15: "ARRAY[%s, %s, %s]" % (J(cust), J(book), J(dep)),
         16: "('org:' || :org || ':' || 'audit')", 17: "'audit_log'", 18: "6::bigint", 19: dep_id, 20: "1", 21: "99999998",
         22: "(:local_date)::date", 23: "(:local_time)::time", 24: ":tz", 25: "(:starts)::timestamptz", 26: "(:ends)::timestamptz",
         27: "100000000", 28: "'open'", 29: "''", 30: "'{5,6}'::bigint[]", 31: "3::bigint"},
}
def st(name):
    return sub(S[name], stmts[name]).strip() + ";"

out = ["-- (e) The server's website booking as it is today, replayed: its statements (captured with",
       "-- log_statement=all, see README) in its round trips, then the payment intent's own transaction.",
       "\\set n random(1, 9000000000000000000)",
       "-- Bench scaffolding, before the transaction: a unique reference (a volatile call inside the",
       "-- server's reference check would run once per row it scans).",
       "SELECT floor_ref(nextval('floor_ref_seq')) AS ref \\gset",
       "BEGIN;",
       st("s12"),
       "\\startpipeline", "SET CONSTRAINTS ALL DEFERRED;", st("s13"), st("s14"), st("s15"), st("s16"), "\\endpipeline",
       st("s17"),
       "\\startpipeline", st("s18"), st("s19"), st("s20"), st("s21"), st("s22"), st("s23"), st("s24"), "\\endpipeline",
       "\\startpipeline", st("s25"), st("s27"), st("s28"), "\\endpipeline",
       st("s29"),
       "\\startpipeline", st("s30"), "COMMIT;", "BEGIN;", "\\endpipeline",
       "COMMIT;",
       "-- After Stripe answered: the intent's id on the payment row, in a transaction of its own.",
       "BEGIN;",
       "SELECT set_config('app.organization_id', :org, true);",
       """UPDATE payments SET stripe_payment_intent_id = 'pi_' || :n,
       status = CASE WHEN status = 'requires_payment_method' THEN coalesce('requires_payment_method', status) ELSE status END,
       updated_at = now()
WHERE organization_id = :org AND idempotency_key = ('intent-' || %s)
  AND (stripe_payment_intent_id IS NULL OR stripe_payment_intent_id = 'pi_' || :n);""" % bid,
       "COMMIT;"]
text = "\n".join(out) + "\n"
open("e_server_replay.sql", "w").write(text)
# (e68) The same after V68: the customer's e-mail lookup compares the stored `email_lower`, which
# its index serves under row-level security (`lower(email)` cannot be an index condition there).
old = "AND lower(cu.email) = lower("
assert text.count(old) == 1
open("e68_server_replay.sql", "w").write(
    text.replace(old, "AND cu.email_lower = lower(").replace("-- (e) The server's", "-- (e68) After V68, the server's", 1))
