#!/usr/bin/env bash
# Runs one pgbench script at CLIENTS clients for SECS seconds against the floor database and
# prints tps, the database's CPU per transaction (postmaster + every backend, counting backends
# that exited: the postmaster's reaped children's time) and the load average around it.
# Usage: run.sh LABEL SCRIPT [pgbench args...]   (env: PGHOST PGPORT PGDATABASE PGUSER CLIENTS SECS PGBIN DATA)
set -euo pipefail
label=$1 script=$2; shift 2
: "${PGHOST:=127.0.0.1}" "${PGPORT:=55432}" "${PGDATABASE:=demo}" "${PGUSER:=postgres}"
: "${CLIENTS:=64}" "${SECS:=20}" "${PGBIN:=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
: "${DATA:?DATA must name the cluster data directory (for postmaster.pid)}"
export PGHOST PGPORT PGDATABASE
pm=$(head -1 "$DATA/postmaster.pid")
# CPU seconds of the cluster: the postmaster's own and reaped children's, plus live children.
cpu() {
  python3 - "$pm" <<'PY'
import os, sys
pm = sys.argv[1]
def stat(pid):
    s = open(f"/proc/{pid}/stat").read()
    return s[s.rfind(")") + 2:].split()
tot = 0
f = stat(pm)
tot += sum(int(x) for x in f[11:15])          # utime stime cutime cstime
for p in os.listdir("/proc"):
    if not p.isdigit() or p == pm: continue
    try: f = stat(p)
    except OSError: continue
    if f[1] == pm: tot += int(f[11]) + int(f[12])
print(tot / os.sysconf("SC_CLK_TCK"))
PY
}
machine() { awk '/^cpu /{print $2+$3+$4+$6+$7+$8, $5}' /proc/stat; }  # busy, idle ticks
psql -X -q -U postgres -c "SELECT pg_stat_statements_reset()" >/dev/null 2>&1 || true
c0=$(cpu); m0=($(machine)); l0=$(cut -d' ' -f1-3 /proc/loadavg)
tf=$(mktemp)
out=$(/usr/bin/time -f "%U %S" -o "$tf" "$PGBIN/pgbench" -U "$PGUSER" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$script" "$@" 2>&1)
sleep 1
bench_cpu=$(awk '{print $1 + $2}' "$tf"); rm -f "$tf"
c1=$(cpu); m1=($(machine)); l1=$(cut -d' ' -f1-3 /proc/loadavg)
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
busy=$(( m1[0] - m0[0] )); idle=$(( m1[1] - m0[1] ))
python3 - "$label" "$tps" "$n" "${failed:-0}" "$c0" "$c1" "$busy" "$idle" "$l0" "$l1" "$bench_cpu" <<'PY'
import sys
label, tps, n, failed, c0, c1, busy, idle, l0, l1, bench = sys.argv[1:]
n = max(int(n or 0), 1)
pg_ms = (float(c1) - float(c0)) * 1e3 / n
print(f"{label:<34} tps {float(tps or 0):8.1f}  txns {n:7d}  failed {failed:>5}  "
      f"PG CPU {pg_ms:6.3f} ms/txn  pgbench CPU {float(bench) * 1e3 / n:6.3f} ms/txn  machine busy {100*int(busy)/max(int(busy)+int(idle),1):5.1f}%  "
      f"load {l0} -> {l1}")
PY
if [ -z "$tps" ]; then echo "$out" >&2; fi
