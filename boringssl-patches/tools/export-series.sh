#!/bin/bash
# Writes boringssl-patches/ from a git working copy of the patched tree, one commit per patch on
# top of a root commit holding the pristine source (see the README, "Refreshing"). Each commit's
# subject is the patch's file name and its body the DEP-3 header. Usage:
#   boringssl-patches/tools/export-series.sh PATH-TO-GIT-WORKING-COPY
# Making that working copy: unpack the pinned crate (tar --strip-components=3), `git init`,
# commit everything, then per series entry `patch -p1 -F0`, `git add -A` and commit with the
# patch's name as subject and its header (the lines before `---`) as body.
set -euo pipefail
series_dir=$(cd "$(dirname "$0")/.." && pwd)
tree=$1
base=$(git -C "$tree" rev-list --max-parents=0 HEAD)
: > "$series_dir/series.new"
for c in $(git -C "$tree" rev-list --reverse "$base..HEAD"); do
  name=$(git -C "$tree" log -1 --format=%s "$c")
  {
    git -C "$tree" log -1 --format=%b "$c" | sed -e '${/^$/d}'
    echo '---'
    git -C "$tree" diff --no-color --no-renames -U3 "$c^" "$c" | grep -v -e '^diff --git ' -e '^index '
  } > "$series_dir/$name"
  echo "$name" >> "$series_dir/series.new"
done
mv "$series_dir/series.new" "$series_dir/series"
