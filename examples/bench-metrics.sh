#!/usr/bin/env bash
# Benchmark of the metrics route: one workload with 14 days of history in a real Prometheus
# (Debian's prometheus + promtool), all three agents end to end per request, and the VM trace evaluation.
# Usage: bash examples/bench-metrics.sh [DAYS=14] [ITERATIONS=50]   (uses .build/release/provisio)
set -euo pipefail
cd "$(dirname "$0")/.."
days="${1:-14}"; iterations="${2:-50}"
bin="${PROVISIO:-.build/release/provisio}"
[ -x "$bin" ] || swift build -c release --product provisio >&2
dir="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

"$bin" history demo --days "$days" --workload invoicer --out "$dir/history.om"
promtool tsdb create-blocks-from openmetrics --max-block-duration=360h "$dir/history.om" "$dir/data" >/dev/null
printf 'global: {}\nscrape_configs: []\n' > "$dir/prometheus.yml"
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=3650d \
  --web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done

mkdir -p "$dir/repo/apps/invoicer"
touch "$dir/repo/.provisio.yaml"
cat > "$dir/repo/apps/invoicer/provision.yaml" <<'YAML'
apiVersion: provisio/v1alpha1
kind: ProvisionRequest
metadata: {name: invoicer}
spec:
  gitRepo: https://git.example.com/shop/invoicer.git
  description: Go HTTP API that renders invoices, production
  target: {kubernetes: {namespace: shop}}
  history: {prometheus: {namespace: shop, workload: invoicer}}
YAML
echo "metrics route, $days days of history, one workload ($iterations runs; the context stage includes the Prometheus queries):"
PROVISIO_PROMETHEUS_URL="http://127.0.0.1:$port" "$bin" benchmark --state-dir "$dir/state" --iterations "$iterations" \
  "$dir/repo/apps/invoicer/provision.yaml" | head -2

traces=../shared/traces/bitbrains-rnd
if [ -f "$traces/2013-07.csv.xz" ]; then
  echo
  echo "VM right-sizing on the Bitbrains traces:"
  /usr/bin/time -f "eval vm-traces: %e s, %M KB max RSS" "$bin" eval vm-traces "$traces/2013-07.csv.xz" "$traces/2013-08.csv.xz"
fi
