#!/usr/bin/env bash
# Benchmark of reconcile passes on a generated GitOps repository with N requests and M commits:
#   1. the first pass (all N requests are new: sized, one commit, pushed);
#   2. one request changed on top: the pass time, and how much of it is git rather than sizing.
# Usage: bash examples/bench-gitops.sh [N=10000] [M=10000]   (uses .build/release/provisio)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; m="${2:-10000}"
bin="${PROVISIO:-.build/release/provisio}"
[ -x "$bin" ] || swift build -c release --product provisio >&2
dir="$(mktemp -d)"
[ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || trap 'rm -rf "$dir"' EXIT
git init -q --bare -b main "$dir/gitops.git"
python3 - "$n" "$m" > "$dir/stream" <<'PY'
import sys
n, m = int(sys.argv[1]), int(sys.argv[2])
def request(i, qps):
    return (f"apiVersion: provisio/v1alpha1\nkind: ProvisionRequest\nmetadata:\n  name: svc-{i}\nspec:\n"
            f"  gitRepo: https://git.example.com/acme/svc-{i}\n"
            f"  description: Go/Gin API number {i}, {qps} QPS at peak, P99 under 100 ms, production.\n"
            f"  target: {{kubernetes: {{namespace: team-{i % 50}}}}}\n")
out = sys.stdout
t = 1700000000
for c in range(1, m + 1):
    out.write(f"commit refs/heads/main\nmark :{c}\ncommitter Team <team@example.com> {t + c} +0000\n")
    msg = f"change {c}"
    out.write(f"data {len(msg)}\n{msg}\n")
    if c > 1:
        out.write(f"from :{c - 1}\n")
    # Requests spread over the first commits; the rest touch a notes file.
    per = max(1, n // m) if m < n else 1
    start = (c - 1) * per
    for i in range(start, min(n, start + per) if c < m else n):
        body = request(i, 100 + i % 900)
        out.write(f"M 100644 inline apps/svc-{i}/provision.yaml\ndata {len(body.encode())}\n{body}")
    note = f"note {c}\n"
    out.write(f"M 100644 inline NOTES.md\ndata {len(note)}\n{note}\n")
PY
git --git-dir "$dir/gitops.git" fast-import --quiet < "$dir/stream"
echo "repository: $n requests, $(git --git-dir "$dir/gitops.git" rev-list --count main) commits"
state="$dir/state"
echo "first pass (all $n requests new):"
/usr/bin/time -f "  wall %e s, max RSS %M KB" "$bin" reconcile --once --offline --repo "$dir/gitops.git" --state-dir "$state" | tail -2
git clone -q "$dir/gitops.git" "$dir/team"
for i in 1 2 3; do
  sed -i "s/P99 under [0-9]* ms/P99 under $((90 - i)) ms/" "$dir/team/apps/svc-$i/provision.yaml"
  git -C "$dir/team" -c user.name=Team -c user.email=team@example.com commit -qam "svc-$i: tighter latency"
  git -C "$dir/team" push -q origin main
  echo "one changed request (pass $i after the first):"
  /usr/bin/time -f "  wall %e s, max RSS %M KB" "$bin" reconcile --once --offline --repo "$dir/gitops.git" --state-dir "$state" --verbose 2>&1 |
    sed -n -e 's/.*timing=\(.*\) \[.*/  seconds since the pass began: \1/p' -e '/^pass /p' -e '/wall/p'
  git -C "$dir/team" pull -q --rebase origin main
done
