#!/usr/bin/env bash
# Checks that the modules meant for release can be released (RELEASING.md).
# Every module is released except those under examples/, which are copied,
# not required, and keep their `replace` lines.
#
# For each released module:
#  1. its go.mod carries no `replace` (a consumer's go command ignores it, so
#     a release that needs one does not build for anybody else);
#  2. each requirement on another module of this repository names a release
#     tag of that module, or, while that module has no tag yet, the
#     placeholder v0.0.0-00010101000000-000000000000 (and says so);
#  3. once a pinned tag exists, the module builds and vets against that
#     tag's code, which is what a consumer gets. While the module is between
#     releases this is a warning (it may use changes the next release of its
#     dependency brings); on a commit that carries the module's release tag
#     it is a failure;
#  4. its exported API is compared with its previous release tag (apidiff):
#     with none yet it says so; incompatible changes fail from v1.0.0 on and
#     are listed as a warning before v1 (semantic versioning allows them, the
#     CHANGELOG must name them).
#
# Tags: vX.Y.Z for the root module, DIR/vX.Y.Z for the module in DIR.
#
#   bash .ci/release-check.sh        # needs apidiff on PATH for step 4
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
GOMOD="$ROOT/.ci/gomod.sh"
PLACEHOLDER=v0.0.0-00010101000000-000000000000
SEMVER_RE='v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?'

command -v apidiff >/dev/null || { echo "release-check: apidiff is not on PATH (go install golang.org/x/exp/cmd/apidiff)" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

tag_prefix() { if [ "$1" = . ]; then echo ""; else echo "$1/"; fi; }

# Release tags of the module in DIR reachable from HEAD, newest first, as
# full tag names.
tags_of() {
  local prefix
  prefix="$(tag_prefix "$1")"
  git tag -l "${prefix}v*" --merged HEAD --sort=-v:refname |
    grep -E "^${prefix//./\\.}${SEMVER_RE}\$" || true
}

module_path() { awk '$1 == "module" { print $2; exit }' "$1/go.mod"; }

# extract TAG: the repository at TAG, once, in $tmp; prints its directory.
extract() {
  local out="$tmp/tree/${1//\//_}"
  if [ ! -d "$out" ]; then
    mkdir -p "$out"
    git archive "$1" | tar -x -C "$out"
  fi
  echo "$out"
}

failed=0
fail() { echo "FAIL $*" >&2; failed=1; }
warn() { echo "warning: $*" >&2; }

mapfile -t all < <(bash "$GOMOD" list)
released=()
for m in "${all[@]}"; do
  case "$m" in examples | examples/*) ;; *) released+=("$m") ;; esac
done

# Module path -> directory, for the modules of this repository.
declare -A dir_of
for m in "${all[@]}"; do dir_of["$(module_path "$m")"]="$m"; done

for m in "${released[@]}"; do
  path="$(module_path "$m")"
  echo "== $path ($m)"
  mapfile -t mytags < <(tags_of "$m")
  head_tagged=""
  if [ ${#mytags[@]} -gt 0 ] && [ "$(git rev-parse "${mytags[0]}^{commit}")" = "$(git rev-parse HEAD)" ]; then
    head_tagged="${mytags[0]}"
    echo "HEAD is the release ${head_tagged}"
  fi

  # 1. No replace.
  reps="$(GOWORK=off go mod edit -print "$m/go.mod" | awk '/^replace /{ r = 1 } r { print } /^\)$/{ r = 0 }')"
  if [ -n "$reps" ]; then
    fail "$m/go.mod carries a replace; a released module must require published versions:"
    echo "$reps" >&2
  else
    echo "ok: no replace"
  fi

  # 2. and 3. Requirements on this repository's modules.
  pinned_ok=1
  while read -r req version; do
    dep="${dir_of[$req]:-}"
    [ -n "$dep" ] || continue
    mapfile -t deptags < <(tags_of "$dep")
    prefix="$(tag_prefix "$dep")"
    if [ ${#deptags[@]} -eq 0 ]; then
      if [ "$version" = "$PLACEHOLDER" ]; then
        echo "ok: $req has no release tag yet; $m requires the placeholder $PLACEHOLDER until it does"
      else
        fail "$m requires $req $version, but $req has no release tag"
      fi
      pinned_ok=0
      continue
    fi
    if ! git rev-parse -q --verify "refs/tags/${prefix}${version}" >/dev/null; then
      fail "$m requires $req $version, which is not a release tag of it (tags: ${deptags[*]}); pin one, e.g. ${deptags[0]#"$prefix"}"
      pinned_ok=0
      continue
    fi
    echo "ok: $m pins $req $version"
  done < <(GOWORK=off go mod edit -print "$m/go.mod" | awk '
      /^require \($/ { b = 1; next } b && /^\)$/ { b = 0; next }
      b && NF >= 2 { print $1, $2; next } /^require [^(]/ { print $2, $3 }')

  if [ "$pinned_ok" = 1 ] && [ -z "$reps" ]; then
    # Build against the pinned tags: each repository module this one needs
    # comes from the tree at the tag it pins. The pins may differ per
    # dependency, so the first one's tree serves only when they agree.
    pins="$(GOWORK=off go mod edit -print "$m/go.mod" | awk '
        /^require \($/ { b = 1; next } b && /^\)$/ { b = 0; next }
        b && NF >= 2 { print $1, $2; next } /^require [^(]/ { print $2, $3 }' |
      while read -r req version; do
        dep="${dir_of[$req]:-}"
        if [ -n "$dep" ]; then echo "$(tag_prefix "$dep")$version"; fi
      done | sort -u)"
    if [ -n "$pins" ]; then
      if [ "$(wc -l <<<"$pins")" -gt 1 ]; then
        warn "$m pins tags from different commits ($(tr '\n' ' ' <<<"$pins")); built against the work tree only"
      else
        from="$(extract "$pins")"
        if out="$(GOMOD_FROM="$from" bash "$GOMOD" exec "$m" go vet ./... 2>&1)"; then
          echo "ok: $m builds against $pins"
        elif [ -n "$head_tagged" ]; then
          fail "$m does not build against $pins, the version it pins:"; echo "$out" >&2
        else
          warn "$m does not build against $pins yet (release that first, RELEASING.md):"; echo "$out" >&2
        fi
      fi
    fi
  fi

  # 4. API compatibility with the previous release.
  base=""
  for t in "${mytags[@]}"; do
    [ "$t" = "$head_tagged" ] && continue
    base="$t"; break
  done
  if [ -z "$base" ]; then
    echo "apidiff: $path has no previous release tag; nothing to compare yet"
    continue
  fi
  # apidiff loads packages through go/packages, which ignores -modfile: it
  # runs on throw-away copies (the tag's tree and the work tree's files)
  # whose go.mod gets the replace lines.
  basedir="$(extract "$base")"
  headdir="$tmp/head"
  if [ ! -d "$headdir" ]; then
    mkdir -p "$headdir"
    git ls-files -z --cached --others --exclude-standard | tar --null -T - -c 2>/dev/null | tar -x -C "$headdir"
  fi
  if ! (GOMOD_ROOT="$basedir" bash "$GOMOD" localize "$m" && cd "$basedir/$m" &&
    GOWORK=off apidiff -m -w "$tmp/old.export" "$path") ||
    ! (GOMOD_ROOT="$headdir" bash "$GOMOD" localize "$m" && cd "$headdir/$m" &&
      GOWORK=off apidiff -m -w "$tmp/new.export" "$path"); then
    fail "apidiff could not load $path"
    continue
  fi
  incompatible="$(apidiff -m -incompatible "$tmp/old.export" "$tmp/new.export")"
  compatible="$(apidiff -m "$tmp/old.export" "$tmp/new.export" | grep -v -x -F -f <(echo "$incompatible") || true)"
  major="${base#"$(tag_prefix "$m")"}"; major="${major%%.*}"
  if [ -z "$incompatible" ]; then
    echo "apidiff: $path is compatible with $base"
  elif [ "$major" = v0 ]; then
    warn "apidiff: $path breaks the API of $base (allowed before v1; name it in the CHANGELOG and raise the minor version):"
    echo "$incompatible" >&2
  else
    fail "apidiff: $path breaks the API of $base (needs a new major version, a new module path):"
    echo "$incompatible" >&2
  fi
  [ -z "$compatible" ] || { echo "apidiff: other changes since $base:"; echo "$compatible"; }
done

if [ "$failed" != 0 ]; then
  echo "release-check: FAILED" >&2
  exit 1
fi
echo "release-check: passed (${#released[@]} released modules: ${released[*]})"
