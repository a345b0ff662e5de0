# A chapter uses only itself and the chapters before it, and the build enforces it
# (Makefile, chapter_includes): a file of chapter 01 that includes a chapter-02
# header does not compile, while the same include from chapter 02 does. A probe file
# is compiled with the -I flags make gives (make -n): to a library file of chapter 01,
# to a test of autograder/tests/01-*/, and to that test compiled for grading; the
# kit a student's chapter-01 files compile against (make grade CH=01) holds no later
# chapter's header.
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "$1"; exit 1; }
cc=${CC:-cc}

src=solutions; [ -d solutions ] || src=labs   # a student release has no solutions/
ch01=$(cd "$src" && ls -d 01-* | head -n 1); ch02=$(cd "$src" && ls -d 02-* | head -n 1)
[ -n "$ch01" ] && [ -n "$ch02" ] || fail "no chapters 01 and 02 in $src/"
header=nn_dense.h   # chapter 02's dense layer
[ -f "$src/$ch02/$header" ] || fail "$src/$ch02/ has no $header: pick another chapter-02 header here"
[ ! -f "$src/$ch01/$header" ] || fail "$header is in chapter 01 too"

# The -I flags of make's command that compiles $2, as a step of making $1 (a dry run,
# in a build folder of our own; nothing of the caller's make leaks in).
build=$tmp/build
dry_run() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u LAB -u LAB_DIR -u DEBUG \
    make --no-print-directory -n -B NN_DEPS_DONE=1 NN_QUIET=1 V=1 BUILD="$build" "$@" 2>&1
}
includes() {
  local out
  out=$(dry_run "$1") || { echo "make -n $1 failed: $(echo "$out" | tail -n 5)"; return 1; }
  out=$(echo "$out" | grep -F -- " $2 " | grep -F -- " -o ")
  [ -n "$out" ] || { echo "make -n $1 shows no command that compiles $2"; return 1; }
  echo "$out" | head -n 1 | grep -o -- '-I[^ ]*' | tr '\n' ' '
}

mkdir -p "$tmp/probe"
printf '#include "nn_tensor.h"\n#include "%s"\nint probe(void);\nint probe(void) { return (int)sizeof(nn_tensor); }\n' \
  "$header" >"$tmp/probe/probe.c"
# compile the probe with flags $2 (what $1 gets); $3: pass or fail expected
probe() {
  local out rc
  out=$($cc -std=c11 -fsyntax-only $2 "$tmp/probe/probe.c" 2>&1); rc=$?
  if [ "$3" = fail ]; then
    [ $rc -ne 0 ] || fail "$1 may include $header (chapter $ch02): its flags are $2"
    echo "$out" | grep -qF "$header" || fail "$1: the probe failed, but not over $header: $out"
    err=$(echo "$out" | grep -F "$header" | head -n 1 | sed "s|^[^ ]*probe\.c:[0-9:]* ||")
  else
    [ $rc -eq 0 ] || fail "$1 cannot include $header of its own chapter (flags $2): $out"
  fi
}

lib01=$(ls "$src/$ch01"/*.c | grep -v nocuda | head -n 1)
lib02=$(ls "$src/$ch02"/*.c | grep -v nocuda | head -n 1)
test01=$(ls autograder/tests/"$ch01"/test_*.c | head -n 1)
test02=$(ls autograder/tests/"$ch02"/test_*.c | head -n 1)
t01=${test01#autograder/tests/}; t02=${test02#autograder/tests/}

flags=$(includes "$build/obj/${lib01%.c}.o" "$lib01") || fail "$flags"
echo "$flags" | grep -qF -- "-I$src/00-" || fail "$lib01 does not see chapter 00: $flags"
probe "$lib01" "$flags" fail
flags=$(includes "$build/tests/${t01%.c}" "$test01") || fail "$flags"
probe "$test01" "$flags" fail
flags=$(includes "$build/grade-obj/${test01%.c}.o" "$test01") || fail "$flags"
probe "$test01 (for grading)" "$flags" fail
flags=$(includes "$build/obj/${lib02%.c}.o" "$lib02") || fail "$flags"
probe "$lib02" "$flags" pass
flags=$(includes "$build/tests/${t02%.c}" "$test02") || fail "$flags"
probe "$test02" "$flags" pass

# The grading kit of chapter 01: its include/ gets the headers of chapters 00 and 01 only.
out=$(dry_run grade-prepare CH="$ch01") ||
  fail "make -n grade-prepare CH=$ch01 failed: $(echo "$out" | tail -n 5)"
copy=$(echo "$out" | grep -E "^cp .*/kit/include/?\$") || fail "make -n grade-prepare CH=$ch01 copies no headers into the kit"
echo "$copy" | grep -qF "$src/$ch01/" || fail "the kit of chapter 01 lacks its own headers: $copy"
echo "$copy" | grep -qE "$src/(0[2-9]|[1-9][0-9])-" && fail "the kit of chapter 01 holds a later chapter's header: $copy"

echo "chapter includes: a file of $ch01 (library, test, graded test, kit) cannot include $header of $ch02 ($err); one of $ch02 can"
