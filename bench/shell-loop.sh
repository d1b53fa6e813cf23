#!/usr/bin/env bash
# The baseline gitwatch is measured against: the cron job most users write today.
# Usage: shell-loop.sh REPOS_FILE STATE_DIR CHECKOUT_DIR   (REPOS_FILE: "name url" per line)
# Per repo: git ls-remote, compare with a state file, and on change fetch, check out and run the step.
set -u
repos=$1 state=$2 checkouts=$3
mkdir -p "$state" "$checkouts"
while read -r name url; do
  head=$(git ls-remote "$url" refs/heads/main | cut -f1)
  [ -n "$head" ] || { echo "$name: check failed" >&2; continue; }
  last=$(cat "$state/$name" 2>/dev/null || true)
  [ "$head" = "$last" ] && continue
  dir=$checkouts/$name
  [ -d "$dir/.git" ] || git init -q "$dir"
  git -C "$dir" fetch -q "$url" "$head" &&
    git -C "$dir" checkout -q --force --detach "$head" &&
    (cd "$dir" && true) &&
    echo "$head" > "$state/$name"
done < "$repos"
