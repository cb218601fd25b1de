#!/usr/bin/env bash
# Benchmark of the LLM reasoner on this machine with a real llama.cpp llama-server: per-request latency (all
# three agents) with the tiny random-weight model and with SmolLM2-135M-Instruct, the share of the model's
# answers caught by validation (the example requests plus the hostile descriptions of the tests), and the
# MCP server's tool-call latency from the official Python client.
# Usage: bash examples/bench-llm.sh [ITERATIONS=3]   (uses .build/release/provisio; builds llama-server once)
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-3}"
bin="${PROVISIO:-.build/release/provisio}"
[ -x "$bin" ] || swift build -c release --product provisio >&2
server="$(bash .ci/llama-server.sh)"
smol="$(dirname "$(dirname "$server")")/smollm2/SmolLM2-135M-Instruct.gguf"
dir="$(mktemp -d)"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
python3 Tests/fixtures/tiny-gguf.py "$dir/tiny.gguf"

# The requests: the examples, and one per hostile description.
cp -r examples/gitops-repo "$dir/repo"
n=0
grep -v '^#' Tests/fixtures/hostile-descriptions.txt | while IFS= read -r line; do
  n=$((n + 1)); mkdir -p "$dir/repo/apps/hostile-$n"
  python3 - "$line" "$dir/repo/apps/hostile-$n/provision.yaml" "hostile-$n" <<'PY'
import json, sys
text, out, name = sys.argv[1:]
open(out, "w").write(f"""apiVersion: provisio/v1alpha1
kind: ProvisionRequest
metadata: {{name: {name}}}
spec:
  gitRepo: https://git.example.com/shop/{name}.git
  description: {json.dumps(text)}
  tier: production
""")
PY
done

for model in tiny smollm2; do
  file="$dir/tiny.gguf"; [ "$model" = smollm2 ] && file="$smol"
  port=$((20000 + RANDOM % 20000))
  "$server" -m "$file" --host 127.0.0.1 --port "$port" -c 8192 -np 1 -t "$(nproc)" --jinja \
    --chat-template-file Tests/fixtures/chatml-tools.jinja >"$dir/server-$model.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  llm=(--llm-url "http://127.0.0.1:$port/v1" --llm-model "$model" --state-dir "$dir/state-$model")
  echo "== $model: per request, all three agents (examples)"
  "$bin" benchmark "$dir"/repo/apps/{order-service,catalog-service,fastapi-backend}/provision.yaml --iterations "$iterations" "${llm[@]}" | grep -v '^retrieval'
  echo "== $model: answers caught by validation (examples + hostile descriptions)"
  "$bin" plan "$dir"/repo/apps/*/provision.yaml --offline --output json "${llm[@]}" >"$dir/plans-$model.json" 2>/dev/null || true
  python3 - "$dir/plans-$model.json" "$model" <<'PY'
import json, sys, collections
data = json.load(open(sys.argv[1]))
plans = data if isinstance(data, list) else data.get("plans", data.get("requests", []))
label = "llm (%s)" % sys.argv[2]
for agent, get in (("agent 2", lambda p: p["draft"]["reasoner"]), ("agent 3", lambda p: p["final"].get("reasoner", ""))):
    used = sum(1 for p in plans if get(p) == label)
    reasons = collections.Counter()
    for p in plans:
        r = get(p)
        if r != label:
            r = r.replace("embedded (fallback: ", "")
            reasons["fails the checks" if r.startswith("the model's plan") else "cut off" if "cut off" in r else "not valid JSON" if "JSON" in r or "has no" in r else r[:40]] += 1
    caught = len(plans) - used
    print("  %s: %d answers, %d used, %d caught (%.0f%%): %s" % (agent, len(plans), used, caught, 100.0 * caught / max(1, len(plans)), dict(reasons)))
status = collections.Counter(p["final"]["status"] for p in plans)
print("  final status:", dict(status))
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done

echo "== MCP tool calls (official Python client, stdio)"
python3 examples/bench-mcp.py "$bin" mcp --state-dir "$dir/state-mcp" --offline
