#!/usr/bin/env bash
# The README's two commands, tried as a newcomer would: from a clone in a fresh private directory
# (mode 700, like a home directory or `mktemp -d`), `npm start` until /readyz answers, a complaint
# opened over HTTP, Ctrl-C, then `npm test`; after each, no Pledge, Temporal, Java or Postgres
# process may be left. Usage: scripts/fresh-clone-check.sh [repo]   (default: this clone's HEAD)
set -euo pipefail
source_repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
private=$(mktemp -d)
chmod 700 "$private"
clone="$private/pledge"
start_log="$private/npm-start.log"
api="http://127.0.0.1:${PORT:-3000}"

say() { printf '\n== %s\n' "$*"; }
now() { date +%s; }

servers() {
  ps -eo pid,args | grep -E "temporal server start-dev|temporal-test-server|io\.temporal\.testserver|bin/postgres|alertmanager|vitest|$private" \
    | grep -vE "grep -E|fresh-clone-check" || true
}
# Servers already running before the check (another project's, a bench) are not this check's.
before=$(servers | awk '{print $1}')
leftovers() {
  servers | awk -v before=" $(echo $before) " 'index(before, " " $1 " ") == 0'
}

cleanup() {
  local pgid=${start_pid:-}
  [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true
  relocated=$(sed -n 's/^  the cluster lives in \([^ ]*\) .*/\1/p' "$start_log" 2>/dev/null | head -1)
  [ -n "$relocated" ] && rm -rf "$relocated"
  rm -rf "$private"
}
trap cleanup EXIT

say "clone into $private (mode $(stat -c %a "$private"))"
git clone -q "$source_repo" "$clone"
cd "$clone"

say "npm start (in its own process group, as a terminal would run it)"
started=$(now)
setsid npm start >"$start_log" 2>&1 &
start_pid=$!
ready=""
for _ in $(seq 1 600); do
  if curl -fsS "$api/readyz" >/dev/null 2>&1; then ready=yes; break; fi
  if ! kill -0 "$start_pid" 2>/dev/null; then break; fi
  sleep 1
done
if [ -z "$ready" ]; then
  echo "npm start did not serve /readyz; its output:"; tail -40 "$start_log"; exit 1
fi
echo "/readyz answered after $(( $(now) - started )) s"
for _ in $(seq 1 120); do grep -q "Pledge is running" "$start_log" && break; sleep 1; done
grep -q "Pledge is running" "$start_log" || { echo "npm start never printed its summary"; tail -40 "$start_log"; exit 1; }

status=$(curl -sS -o "$private/complaint.json" -w '%{http_code}' -X POST "$api/v1/complaints" \
  -H 'Authorization: Bearer dev-agent-key' -H 'Content-Type: application/json' -H "Idempotency-Key: fresh-clone-$(now)" \
  -d '{"customerId":"cust-000003","channel":"web","category":"network-quality","summary":"Fresh clone check: no signal since this morning"}')
echo "POST /v1/complaints -> $status $(head -c 160 "$private/complaint.json")"
[ "$status" = 201 ] || { tail -40 "$start_log"; exit 1; }

say "Ctrl-C"
kill -INT -- "-$start_pid"
for _ in $(seq 1 60); do kill -0 "$start_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$start_pid" 2>/dev/null; then echo "npm start did not stop within 60 s of Ctrl-C"; exit 1; fi
start_pid=""
sleep 1
left=$(leftovers)
if [ -n "$left" ]; then echo "left running after npm start stopped:"; echo "$left"; exit 1; fi
echo "npm start stopped; nothing left running"

say "npm test"
started=$(now)
test_status=0
npm test 2>&1 | tee "$private/npm-test.log" || test_status=$?
echo "npm test took $(( $(now) - started )) s"
left=$(leftovers)
if [ -n "$left" ]; then echo "left running after npm test:"; echo "$left"; test_status=1; fi
[ -z "$left" ] && echo "npm test finished; nothing left running"
# The run's record reads the plain count, alone on the last line: npm test's own closing line.
count=$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed$' "$private/npm-test.log" | tail -1)
echo "${count:-tests: 0 passed, 0 failed}"
exit "$test_status"
