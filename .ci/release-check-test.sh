#!/usr/bin/env bash
# Proves .ci/release-check.sh on a throw-away repository shaped like this
# one (a root module, a nested module that requires it, an example with a
# replace, a go.work), walking it through a release history:
#
#   no tags          -> passes, says there is nothing to compare yet
#   replace added    -> fails
#   v0.1.0 tagged, nested module still on the placeholder -> fails
#   pinned to v0.1.0 -> passes, built against v0.1.0
#   nested module uses API newer than v0.1.0 -> warning, passes
#   API broken after v0.1.0 -> warning (v0), passes
#   v1.0.0 and v1.1.0 tagged, API broken after v1.1.0 -> fails, names the change
#   compatible addition after v1.1.0 -> passes, lists it
#   HEAD tagged v1.2.0 -> compares with v1.1.0, not with itself
#   nested module's release commit using API missing from its pin -> fails
#
#   bash .ci/release-check-test.sh   # needs git, go and apidiff on PATH
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/.ci" "$repo/sub" "$repo/examples/app"
cp "$HERE/gomod.sh" "$HERE/release-check.sh" "$repo/.ci/"
cd "$repo"
git init -q -b main .
git config user.email ci@example.com
git config user.name CI
export GOFLAGS=-buildvcs=false GOPROXY=off GOTOOLCHAIN=local

cat >go.mod <<'EOF'
module example.com/lib

go 1.26
EOF
cat >lib.go <<'EOF'
package lib

// A is part of the first release.
func A() int { return 1 }
EOF
cat >sub/go.mod <<'EOF'
module example.com/lib/sub

go 1.26

require example.com/lib v0.0.0-00010101000000-000000000000
EOF
cat >sub/sub.go <<'EOF'
package sub

import "example.com/lib"

// S uses the root module.
func S() int { return lib.A() }
EOF
cat >examples/app/go.mod <<'EOF'
module example.com/lib/examples/app

go 1.26

require example.com/lib v0.0.0-00010101000000-000000000000

replace example.com/lib => ../..
EOF
cat >examples/app/main.go <<'EOF'
package main

import "example.com/lib"

func main() { println(lib.A()) }
EOF
cat >go.work <<'EOF'
go 1.26

use (
	.
	./examples/app
	./sub
)
EOF
git add -A && git commit -qm "first"

pass=0
run() { # run NAME WANT(0|1) PATTERN...: the check's exit and output
  local name="$1" want="$2"; shift 2
  local out rc=0
  out="$(bash .ci/release-check.sh 2>&1)" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, want $want; output:"; echo "$out"; exit 1
  fi
  local p
  for p in "$@"; do
    if ! grep -qE -- "$p" <<<"$out"; then
      echo "FAIL $name: output lacks /$p/; output:"; echo "$out"; exit 1
    fi
  done
  pass=$((pass + 1))
  echo "ok   $name"
}
commit() { git add -A && git commit -qm "$1"; }

run "no tags" 0 "example.com/lib has no previous release tag; nothing to compare yet" \
  "example.com/lib has no release tag yet; sub requires the placeholder" "passed \(2 released modules: \. sub\)"

printf '\nreplace example.com/lib => ../\n' >>sub/go.mod
run "replace in a released module" 1 "sub/go.mod carries a replace" "replace example.com/lib => ../"
git checkout -q sub/go.mod

git tag v0.1.0
run "tagged SDK, placeholder pin" 1 "sub requires example.com/lib v0.0.0-00010101000000-000000000000, which is not a release tag"

(cd sub && go mod edit -require=example.com/lib@v0.1.0) && commit "pin v0.1.0"
run "pinned to v0.1.0" 0 "ok: sub pins example.com/lib v0.1.0" "ok: sub builds against v0.1.0" \
  "apidiff: example.com/lib is compatible with v0.1.0"

printf '\n// B arrives after v0.1.0.\nfunc B() int { return 2 }\n' >>lib.go
sed -i 's/return lib.A()/return lib.A() + lib.B()/' sub/sub.go && commit "sub uses B"
run "nested module ahead of its pin" 0 "warning: sub does not build against v0.1.0 yet" "undefined: lib.B" \
  "apidiff: other changes since v0.1.0" "B: added"
git tag sub/v0.1.0
run "nested module's release commit ahead of its pin" 1 "FAIL sub does not build against v0.1.0, the version it pins"
git tag -d sub/v0.1.0 >/dev/null

sed -i 's/^func A() int/func A(n int) int/; s/return 1 }/return n }/' lib.go
sed -i 's/lib.A()/lib.A(1)/' sub/sub.go examples/app/main.go && commit "break A before v1"
run "breaking change before v1" 0 "warning: apidiff: example.com/lib breaks the API of v0.1.0" "A: changed from func\(\) int to func\(int\) int"

git tag v1.0.0
echo "// C arrives in v1.1.0." >>lib.go && echo "func C() {}" >>lib.go && commit "C"
git tag v1.1.0
sed -i '/^func C() {}$/d' lib.go && commit "remove C"
run "breaking change after v1" 1 "FAIL apidiff: example.com/lib breaks the API of v1.1.0" "C: removed"

echo "func C() {}" >>lib.go && echo "// D is new." >>lib.go && echo "func D() {}" >>lib.go && commit "restore C, add D"
run "compatible change after v1" 0 "apidiff: example.com/lib is compatible with v1.1.0" "D: added"

git tag v1.2.0
run "release commit compares with the previous tag" 0 "HEAD is the release v1.2.0" \
  "apidiff: example.com/lib is compatible with v1.1.0"

echo "release-check-test: $pass passed, 0 failed"
