#!/usr/bin/env bash
# Benchmark: a team pushes a changed request and the forge calls provisio's webhook; how long until
# provisio's commit is on the remote? Also the daemon's idle memory (RSS).
# Usage: bash examples/bench-webhook.sh [RUNS=20]
# Measures the binary as installed on a node (README: Running on a Proxmox node): a release build with the
# Swift runtime linked in, in .build-static/ (the first build takes a few minutes). $PROVISIO overrides it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
bin="${PROVISIO:-$PWD/.build-static/release/provisio}"
[ -x "$bin" ] || swift build -c release --product provisio --static-swift-stdlib --scratch-path .build-static >&2
dir="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
secret="bench-webhook-secret"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
git init -q --bare -b main "$dir/remote.git"
git clone -q "$dir/remote.git" "$dir/team" 2>/dev/null
cd "$dir/team"
git checkout -q -b main
g() { git -c user.name=Team -c user.email=team@example.com -c commit.gpgsign=false "$@"; }
mkdir -p apps/orders
request() {
  printf 'apiVersion: provisio/v1alpha1\nkind: ProvisionRequest\nmetadata: {name: orders}\nspec:\n  gitRepo: https://git.example.com/shop/orders\n  description: Go/Gin API, %s QPS at peak, production.\n  target: {kubernetes: {namespace: shop}}\n' "$1" > apps/orders/provision.yaml
}
request 100
g add -A && g commit -qm "orders" && g push -q origin main
cd - >/dev/null
# A long interval: only the webhook starts passes.
PROVISIO_WEBHOOK_SECRET="$secret" PROVISIO_INTERVAL=3600 "$bin" run --config /nonexistent --repo "$dir/remote.git" \
  --state-dir "$dir/state" --port "$port" >"$dir/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
# Wait for the first pass (startup) to push its commit.
for _ in $(seq 300); do [ "$(git --git-dir "$dir/remote.git" log -1 --format=%an main)" = provisio ] && break; sleep 0.1; done
sleep 1
echo "idle RSS after the first pass: $(awk '/VmRSS/ {print $2 " " $3}' /proc/$pid/status)"
times=()
for i in $(seq "$runs"); do
  cd "$dir/team"
  g pull -q --rebase origin main
  request $((200 + i))
  g commit -qam "orders: load $i" && g push -q origin main
  cd - >/dev/null
  body="{\"ref\":\"refs/heads/main\",\"after\":\"$(git --git-dir "$dir/remote.git" rev-parse main)\"}"
  sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)"
  start=$(date +%s%N)
  curl -sf -o /dev/null -X POST -H "Content-Type: application/json" -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: $sig" \
    --data "$body" "http://127.0.0.1:$port/hooks/git"
  for _ in $(seq 2000); do
    [ "$(git --git-dir "$dir/remote.git" log -1 --format=%an main)" = provisio ] && break
    sleep 0.005
  done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
p50=$(echo "$sorted" | awk -v n="$runs" 'NR == int((n + 1) / 2)')
max=$(echo "$sorted" | tail -1)
echo "webhook → provisio's commit on the remote, $runs pushes: p50 ${p50} ms, max ${max} ms"
echo "idle RSS after the runs: $(sleep 2; awk '/VmRSS/ {print $2 " " $3}' /proc/$pid/status)"
