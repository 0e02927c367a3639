#!/usr/bin/env bash
# Writes the pgbench scripts b/c/d*.sql from rows.inc (the rows a booking writes) and log.inc (the
# change log numbered from the organization's counter): pgbench has no include.
set -euo pipefail
cd "$(dirname "$0")"
hot='UPDATE schedules SET booked_count = booked_count + 1, updated_at = now()
WHERE organization_id = :org AND id = :dep AND booked_count + 1 <= capacity;'
head='\set n random(1, 9000000000000000000)'
tenant="SELECT set_config('app.organization_id', :org, true);"
{
  echo "-- (b) The rows a website booking writes (customer, booking, line item, payment row, 3 audit rows,"
  echo "-- 9 change-log rows numbered from the organization's counter), no departure lock: one statement a round trip."
  echo "$head"; echo "BEGIN;"; echo "$tenant"; cat rows.inc log.inc; echo "COMMIT;"
} > b_rows.sql
{
  echo "-- (b0) Only the customer, booking, line item and payment rows: (b) without audit rows, change log"
  echo "-- and counter, to say what those cost."
  echo "$head"; echo "BEGIN;"; echo "$tenant"; cat rows.inc; echo "COMMIT;"
} > b0_rows_without_log.sql
{
  echo "-- (c) (b) and the departure's conditional seat UPDATE last, just before COMMIT: one statement a round trip."
  echo "$head"; echo "BEGIN;"; echo "$tenant"; cat rows.inc log.inc; echo "$hot"; echo "COMMIT;"
} > c_rows_then_departure.sql
{
  echo "-- (d1) (c) pipelined: every statement and COMMIT in one round trip (pgbench -M prepared pipeline)."
  echo "$head"; echo '\startpipeline'; echo "BEGIN;"; echo "$tenant"; cat rows.inc log.inc; echo "$hot"; echo "COMMIT;"; echo '\endpipeline'
} > d1_pipelined.sql
# (d2): one statement. The data-modifying CTEs run in one snapshot; foreign keys are checked at its end.
python3 - <<'PY'
import re
rows = [s.strip() for s in open("rows.inc").read().split(";\n") if s.strip()]
log = open("log.inc").read().strip().rstrip(";")
names = ["cu", "bk", "li", "pa"]
head, rest = log.split("\ncounter AS (", 1)
audited = head[len("WITH "):].rstrip(",")
ctes = ",\n".join(f"{n} AS (\n{s}\nRETURNING 1)" for n, s in zip(names, rows)) + ",\n" + audited
log_select = rest.split("\n", 1)[1]  # the counter CTE is re-made below
stmt = ("WITH " + ctes + ",\n"
        "seats AS (UPDATE schedules SET booked_count = booked_count + 1, updated_at = now()\n"
        "    WHERE organization_id = :org AND id = :dep AND booked_count + 1 <= capacity RETURNING booked_count),\n"
        "counter AS (UPDATE org_sync SET seq = seq + 9 WHERE organization_id = :org AND EXISTS (SELECT 1 FROM seats) RETURNING seq)\n"
        + log_select + ";\n")
with open("d2_one_statement.sql", "w") as f:
    f.write("-- (d2) (c) as one statement of data-modifying CTEs (departure, then counter, last), sent with BEGIN,\n"
            "-- the tenant and COMMIT in one round trip.\n")
    f.write("\\set n random(1, 9000000000000000000)\n\\startpipeline\nBEGIN;\n")
    f.write("SELECT set_config('app.organization_id', :org, true);\n")
    f.write(stmt)
    f.write("COMMIT;\n\\endpipeline\n")
PY
