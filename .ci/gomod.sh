#!/usr/bin/env bash
# Runs the go command on one module of this repository on its own, as a
# consumer's go command sees it (GOWORK=off), except that the repository's
# other modules come from the work tree rather than from a published version.
#
# The released modules carry no `replace` (RELEASING.md), and go.work ties
# them together for development. Workspace mode builds and tests everything,
# but `go mod tidy` and `go get` in a nested module ignore go.work and try to
# download the SDK at the version redisstore requires, which before the next
# release may not exist. This script runs them on a scratch copy of go.mod
# that adds the missing `replace` lines, then copies the result back without
# them.
#
#   bash .ci/gomod.sh list                     # each module's directory
#   bash .ci/gomod.sh tidy [DIR...]            # go mod tidy (default: every module)
#   bash .ci/gomod.sh check [DIR...]           # fail when a go.mod/go.sum is not tidy
#   bash .ci/gomod.sh go DIR ARGS...           # e.g.: go redisstore get example.com/m@v1.2.3
#   bash .ci/gomod.sh exec DIR CMD...          # CMD with GOFLAGS=-modfile=<the scratch go.mod>
#   bash .ci/gomod.sh localize DIR             # write the replaces into DIR/go.mod (throw-away copies only)
#
# `check` is what proves, in CI, that each module's own go.mod lists all it
# needs: workspace mode would hide a requirement that only another module of
# the workspace lists.
set -euo pipefail
ROOT="$(cd "${GOMOD_ROOT:-$(dirname "$0")/..}" && pwd)"
cd "$ROOT"

# Every go.mod in the tree (not under .cache or testdata), as a directory
# relative to the root: "." for the root module.
modules() {
  find . -name go.mod -not -path './.cache/*' -not -path '*/testdata/*' |
    sed -e 's#^\./##' -e 's#/\?go\.mod$##' -e 's#^$#.#' | sort
}

module_path() { awk '$1 == "module" { print $2; exit }' "$1/go.mod"; }

# Module path and version of each requirement, one "path version" a line.
requires() {
  GOWORK=off go mod edit -print "$1/go.mod" | awk '
    /^require \($/ { inblock = 1; next }
    inblock && /^\)$/ { inblock = 0; next }
    inblock && NF >= 2 { print $1, $2; next }
    /^require [^(]/ { print $2, $3 }'
}

# Module paths replaced in a go.mod (either form of the directive).
replaced() {
  GOWORK=off go mod edit -print "$1/go.mod" | awk '
    /^replace \($/ { inblock = 1; next }
    inblock && /^\)$/ { inblock = 0; next }
    inblock && NF >= 3 { print $1; next }
    /^replace [^(]/ { print $2 }'
}

# scratch DIR OUT: OUT/go.mod and OUT/go.sum are DIR's, plus a replace for
# each requirement on another module of this repository that DIR does not
# replace itself: by that module's directory in the tree, or, with
# GOMOD_FROM=DIR2, in the tree DIR2 (release-check.sh uses that to build a
# module against the released version it pins). Prints the paths it added.
scratch() {
  local dir="$1" out="$2" path version other from="${GOMOD_FROM:-$ROOT}"
  cp "$dir/go.mod" "$out/go.mod"
  if [ -f "$dir/go.sum" ]; then cp "$dir/go.sum" "$out/go.sum"; else : >"$out/go.sum"; fi
  local own
  own="$(replaced "$dir")"
  while read -r path version; do
    for other in $(modules); do
      [ "$other" = "$dir" ] && continue
      if [ "$(module_path "$other")" = "$path" ] && ! grep -qxF "$path" <<<"$own"; then
        GOWORK=off go mod edit -modfile="$out/go.mod" -replace="$path=$from/$other"
        echo "$path"
      fi
    done
  done < <(requires "$dir")
}

# in_module DIR CMD...: runs `go CMD...` in DIR on the scratch go.mod.
# With WRITE_BACK=1 the changed go.mod/go.sum (less the added replaces) are
# copied back.
in_module() {
  local dir="$1"; shift
  local tmp added rc=0
  tmp="$(mktemp -d)"
  added="$(scratch "$dir" "$tmp")"
  # -modfile must come before the first non-flag argument: after `mod tidy`,
  # or after `get`, `build`, ...
  local n=1
  [ "$1" = mod ] && n=2
  (cd "$dir" && GOWORK=off go "${@:1:n}" -modfile="$tmp/go.mod" "${@:n+1}") || rc=$?
  if [ "$rc" = 0 ] && [ "${WRITE_BACK:-0}" = 1 ]; then
    local p
    for p in $added; do GOWORK=off go mod edit -modfile="$tmp/go.mod" -dropreplace="$p"; done
    cp "$tmp/go.mod" "$dir/go.mod"
    if [ -s "$tmp/go.sum" ]; then cp "$tmp/go.sum" "$dir/go.sum"; else rm -f "$dir/go.sum"; fi
  fi
  rm -rf "$tmp"
  return "$rc"
}

cmd="${1:-}"; shift || true
case "$cmd" in
list) modules ;;
tidy | check)
  dirs=("$@")
  [ ${#dirs[@]} -gt 0 ] || mapfile -t dirs < <(modules)
  failed=()
  for d in "${dirs[@]}"; do
    if [ "$cmd" = tidy ]; then
      WRITE_BACK=1 in_module "$d" mod tidy || failed+=("$d")
    else
      if ! out="$(in_module "$d" mod tidy -diff 2>&1)"; then
        echo "gomod.sh: $d: go.mod/go.sum are not tidy on their own (run: bash .ci/gomod.sh tidy $d):" >&2
        echo "$out" >&2
        failed+=("$d")
      else
        echo "gomod.sh: $d: tidy on its own"
      fi
    fi
  done
  [ ${#failed[@]} -eq 0 ] || { echo "gomod.sh: $cmd failed in: ${failed[*]}" >&2; exit 1; }
  ;;
exec)
  # exec DIR CMD...: CMD in DIR with GOWORK=off and GOFLAGS=-modfile=<scratch>,
  # for tools that run the go command themselves (apidiff). Nothing is
  # written back.
  [ $# -ge 2 ] || { echo "usage: bash .ci/gomod.sh exec DIR CMD..." >&2; exit 2; }
  dir="$1"; shift
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  scratch "$dir" "$tmp" >/dev/null
  flags="$(go env GOFLAGS)"
  (cd "$dir" && GOWORK=off GOFLAGS="${flags:+$flags }-modfile=$tmp/go.mod" "$@")
  ;;
localize)
  # localize DIR: adds the replace lines to DIR/go.mod itself, for a
  # throw-away copy of the tree (tools such as apidiff load packages through
  # go/packages, which does not take -modfile).
  [ $# -eq 1 ] || { echo "usage: bash .ci/gomod.sh localize DIR" >&2; exit 2; }
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  scratch "$1" "$tmp" >/dev/null
  cp "$tmp/go.mod" "$1/go.mod"
  ;;
go)
  [ $# -ge 2 ] || { echo "usage: bash .ci/gomod.sh go DIR ARGS..." >&2; exit 2; }
  dir="$1"; shift
  WRITE_BACK=1 in_module "$dir" "$@"
  ;;
*)
  sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
