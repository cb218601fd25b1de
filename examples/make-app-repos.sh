#!/usr/bin/env bash
# Turns each folder under examples/apps/ into a local git repository under DIR/<name>,
# so the example requests (gitRepo https://github.com/acme/<name>) can be inspected offline
# with --rewrite-repo https://github.com/acme/=file://DIR/.
set -euo pipefail
dir="${1:?usage: make-app-repos.sh DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$dir"
for app in "$here"/apps/*/; do
  name="$(basename "$app")"
  rm -rf "$dir/$name"
  cp -R "$app" "$dir/$name"
  git -C "$dir/$name" init -q -b main
  git -C "$dir/$name" add -A
  GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
    git -C "$dir/$name" -c user.name=acme -c user.email=dev@acme.example -c commit.gpgsign=false \
    commit -q -m "Initial commit"
done
