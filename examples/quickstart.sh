#!/usr/bin/env bash
# The quick start: builds provisio and sizes every request in examples/gitops-repo with the
# embedded reasoner (no LLM, no network), printing the three agents' outputs and the files.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${PROVISIO_QUICKSTART_DIR:-${TMPDIR:-/tmp}/provisio-quickstart}"
bash examples/make-app-repos.sh "$work/apps" >/dev/null
swift build -c release --product provisio >&2
exec .build/release/provisio plan \
  --state-dir "$work/state" \
  --rewrite-repo "https://github.com/acme/=file://$work/apps/" \
  "$@" examples/gitops-repo/apps/*/provision.yaml
