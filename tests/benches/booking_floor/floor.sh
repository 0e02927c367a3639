#!/usr/bin/env bash
# The floor of a website booking on this machine: runs (a)-(d) in turn, ROUNDS times, at CLIENTS
# clients for SECS seconds each, and prints one line per run (see run.sh). Needs DATA (the
# cluster's data directory) and the pgbench -D arguments that setup.sql prints, in DEFS.
set -euo pipefail
cd "$(dirname "$0")"
: "${ROUNDS:=2}" "${DEFS:?DEFS must hold the -D arguments setup.sql prints}"
./make.sh && python3 make_replay.py
for r in $(seq "$ROUNDS"); do
  PGUSER=postgres ./run.sh "a bare UPDATE (owner)" a_bare_update.sql $DEFS
  for s in b_rows c_rows_then_departure d1_pipelined d2_one_statement e_server_replay ${EXTRA:-}; do
    PGUSER=tourdesk_server ./run.sh "$s" "$s.sql" $DEFS
  done
done
