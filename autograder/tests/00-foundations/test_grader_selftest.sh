# The grader (`make grade`, autograder/grader.c) against hostile and broken submissions.
#
# A submission is a folder with chapter 00's stub files (nn_tensor.c, nn_gemm.c, nn_gemm.cu),
# taken from solutions/ and changed by one attack from autograder/selftest/*.attack:
#   - the object check: constructor, destructor, main, strcmp, the harness's answer function,
#     an ifunc, exit, atexit, signal, dlsym;
#   - the build: #include of /etc/shadow, /dev/zero, the reference's source; .incbin;
#   - the worker's sandbox, by raw system calls no symbol check sees: open files (the
#     reference, /tmp, /var/tmp, /dev/shm, results.json), fork, exec, sockets, memfd, TIOCSTI,
#     ptrace, signals to the parent, io_uring; exit_group; answers forged on the pipe;
#   - the verdict: answers fitted to the public sizes, a crash, an endless loop, abort,
#     an output flood, a 64 GB malloc, sleeps that add up past the total limit.
# Each attack file says which tests must fail and what their feedback must say (an ERE);
# `absent:` a string that must not reach results.json. Besides: a submission whose files are
# a symbolic link or a FIFO, one with a header and files named like shell commands, the
# untouched stubs (labs/), an instructor's hidden test (HIDDEN_DIR), a bad manifest.
# Every run must end with: the grader exited 0; results.json whole (it parses, and has every
# graded test); the last line "N passed, N failed, N skipped" agrees with it; no process of
# the grading left; nothing left in /tmp, /var/tmp, /dev/shm; and the honest submission, graded
# again at the end, keeps full marks.
set -u
build=${NN_BUILD:-build}
ch=00-foundations
manifest=autograder/tests/$ch/GRADED
limit=4

[ "${DEBUG:-}" != 1 ] || { echo "make grade cannot run a DEBUG=1 build (its sanitizers cannot run under the grader's limits); make test without DEBUG runs this"; exit 77; }
[ -d solutions/$ch ] && [ -d autograder/selftest ] || { echo "no solutions/$ch or autograder/selftest/ (a student release?): the selftest builds its submissions from them"; exit 77; }
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq): the selftest reads results.json with it"; exit 77; }
[ -f /usr/include/jansson.h ] && [ -f /usr/include/seccomp.h ] || { echo "libjansson-dev or libseccomp-dev is not installed: the grader cannot be built"; exit 77; }

repo=$(pwd -P)
work=$(mktemp -d /tmp/nn-selftest-XXXXXX)
trap 'rm -rf "$work"; rm -f /tmp/nn-selftest-escape /var/tmp/nn-selftest-escape /dev/shm/nn-selftest-escape' EXIT
chmod 711 "$work"
mkdir -p "$work/out" "$work/submission" "$work/tmp"
chmod 711 "$work/tmp" # the grader's work folders go here (TMPDIR), where nobody must reach them
chmod 777 "$work/out" # an attack may try to write here: the grader must win
results=$work/out/results.json
sub=$work/submission
stubs=$(grep -l NN_LAB_STUB labs/$ch/*.c labs/$ch/*.cu | xargs -n1 basename)

# The make of the caller (DEBUG=1, BUILD=..., -j) must not leak into ours.
clean_make() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DEBUG -u BUILD -u LAB -u LAB_DIR -u CH -u HIDDEN_DIR \
      -u SUBMISSION -u SOLUTIONS -u RESULTS -u GRADE_FLAGS make --no-print-directory "$@"
}

# $sub holds exactly the stub files of folder $1.
submission_from() {
  rm -rf "$sub" && mkdir -p "$sub"
  for f in $stubs; do cp "$1/$f" "$sub/$f"; done
}

# Graded tests: "suite::name gpu|cpu", from the manifest.
graded=$(sed 's/#.*//' "$manifest" | awk 'NF { print $2, ($4 ~ /(^|,)gpu(,|$)/ ? "gpu" : "cpu") }')
n_graded=$(echo "$graded" | wc -l)

# Processes of the grading still alive: workers (their program was in the grader's work
# folder, which our TMPDIR places in $work/tmp).
strays() {
  local n=0 exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case $exe in "$work"/tmp/nn-grade-*) n=$((n + 1)) ;; esac
  done
  echo $n
}
leftovers() { ls -d "$work"/tmp/* /tmp/nn-selftest-escape /var/tmp/nn-selftest-escape /dev/shm/nn-selftest-escape 2>/dev/null; }

problems=()
rows=()
scenarios=0

# grade NAME FAILS FEEDBACK [ABSENT] [FLAGS] [EXTRA_TESTS]: grade $sub. FAILS are the tests
# that must fail (or "all"), FEEDBACK an ERE each of their feedback lines must match (gpu
# tests: any), ABSENT a string results.json must not hold, FLAGS more grader options.
# make's variables for the run come from $grade_vars (HIDDEN_DIR=...).
grade_vars=""
also_fails=""
grade() {
  local name=$1 fails="$2 $also_fails" feedback=$3 absent=${4:-} flags=${5:-} log=$work/$1.log rc
  scenarios=$((scenarios + 1))
  rm -f "$results"
  local t0=$SECONDS
  # shellcheck disable=SC2086
  TMPDIR=$work/tmp clean_make grade CH=00 SUBMISSION="$sub" BUILD="$build" RESULTS="$results" NN_QUIET=1 $grade_vars \
    GRADE_FLAGS="--time-limit $limit $flags" >"$log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    problems+=("$name: make grade exited $rc: $(tail -n 3 "$log" | tr '\n' ' ')")
    return
  fi
  if ! jq -e '.tests | type == "array"' "$results" >/dev/null 2>&1; then
    problems+=("$name: $results is not a whole results.json: $(head -c 200 "$results" 2>&1)")
    return
  fi
  local p=0 f=0 s=0 id kind got fb want expected_graded=$n_graded
  local all_graded=$graded
  [ -n "$grade_vars" ] && all_graded=$(printf '%s\n%s' "$graded" "$hidden_graded") && expected_graded=$((n_graded + 1))
  while read -r id kind; do
    got=$(jq -r --arg id "$id" '[.tests[] | select(.name == $id)] | if length == 1 then .[0].extra_data.result else "missing" end' "$results")
    fb=$(jq -r --arg id "$id" '.tests[] | select(.name == $id) | .extra_data.feedback' "$results")
    case $got in passed) p=$((p + 1)) ;; failed) f=$((f + 1)) ;; skipped) s=$((s + 1)) ;; esac
    if [ "${fails% }" = all ] || [[ " $fails " == *" $id "* ]]; then want=failed; else want=passed; fi
    rows+=("$(printf '%-17s %-48s %-8s %s' "$name" "$id" "$got" "${fb:0:140}")")
    if [ "$kind" = gpu ] && [ "$got" = skipped ]; then
      [[ $fb == *gpu* ]] || problems+=("$name: $id skipped without saying it needs a GPU: $fb")
      continue
    fi
    if [ "$got" != "$want" ]; then
      problems+=("$name: $id is $got, expected $want ($fb)")
    elif [ "$want" = failed ] && [ "$kind" = cpu ] && [[ " $also_fails " != *" $id "* ]] && ! printf '%s' "$fb" | grep -Eq -- "$feedback"; then
      problems+=("$name: $id failed, but its feedback does not match '$feedback': $fb")
    fi
  done <<<"$all_graded"
  [ "$(jq '.tests | length' "$results")" -eq "$expected_graded" ] ||
    problems+=("$name: results.json has $(jq '.tests | length' "$results") tests, expected $expected_graded")
  [ -z "$absent" ] || ! grep -qF -- "$absent" "$results" ||
    problems+=("$name: results.json holds '$absent', which must not reach it")
  local last
  last=$(tail -n 1 "$log")
  [ "$last" = "$p passed, $f failed, $s skipped" ] ||
    problems+=("$name: the last line is '$last', results.json says $p passed, $f failed, $s skipped")
  [ "$(strays)" -eq 0 ] || problems+=("$name: $(strays) processes of the grading are still running")
  [ -z "$(leftovers)" ] || problems+=("$name: left behind: $(leftovers | tr '\n' ' ')")
  [ $((SECONDS - t0)) -lt 120 ] || problems+=("$name: grading took $((SECONDS - t0)) s")
}

# shellcheck source=../../selftest/attack.sh
. autograder/selftest/attack.sh

# attack FILE: the stub files of solutions/, with the attack in place.
attack() {
  local a=$1 name arch
  name=$(basename "$a" .attack)
  arch=$(attack_field arch "$a")
  if [ -n "$arch" ] && [ "$arch" != "$(uname -m)" ]; then
    rows+=("$(printf '%-17s (skipped: its raw system calls are for %s)' "$name" "$arch")")
    return
  fi
  attack_submission "$a" "$ch" "$sub" "$results" "$repo" ||
    { problems+=("$name: no solution region of $(attack_field function "$a") in solutions/$ch/$(attack_field file "$a")"); return; }
  grade "$name" "$(attack_field fails "$a")" "$(attack_field feedback "$a")" "$(attack_field absent "$a")" \
    "$(attack_field flags "$a")"
  if [ "$name" = fake_results ]; then
    ! grep -q FAKE "$results" || problems+=("$name: the fake results.json survived in $results")
    [ ! -e "$results.by-the-test" ] || problems+=("$name: the worker wrote $results.by-the-test")
    ! grep -qs "FAKE RESULTS" results.json || problems+=("$name: the worker wrote ./results.json")
  fi
}

start=$SECONDS
[ -f results.json ] && cp results.json "$work/results.json.orig"

submission_from "solutions/$ch"
grade solutions "" ""
for a in autograder/selftest/*.attack; do attack "$a"; done
submission_from "labs/$ch"
grade stubs all "is not written yet"

# The shape of a submission: only the stub files, by name, as regular files.
submission_from "solutions/$ch"
rm "$sub/nn_tensor.c" && ln -s "$repo/solutions/$ch/nn_tensor.c" "$sub/nn_tensor.c"
grade symlink all "nn_tensor.c is a symbolic link"
submission_from "solutions/$ch"
rm "$sub/nn_gemm.c" && mkfifo "$sub/nn_gemm.c"
grade fifo all "nn_gemm.c is not a regular file"
submission_from "solutions/$ch"
printf '#define nn_numel(t) 120\n#define cr_assert(...)\n' >"$sub/nn_tensor.h"
for weird in '$(touch nn-pwned-1).c' 'x;touch nn-pwned-2;.c' '`touch nn-pwned-3`.cu'; do
  printf 'int x;\n' >"$sub/$weird" || problems+=("odd_names: could not make the file '$weird'")
done
grade odd_names "" ""
pwned=$(find "$work" "$repo" /tmp -maxdepth 4 -name 'nn-pwned-*' -not -path "$sub/*" 2>/dev/null)
[ -z "$pwned" ] || problems+=("odd_names: a file name ran as a command: $pwned")
submission_from "solutions/$ch"
rm "$sub/nn_tensor.c"
grade missing_file "tensor::new_is_zero_filled_with_its_shape tensor::reshape_keeps_data_and_infers_minus_one tensor::fill_and_copy" "is not written yet"
grep -q "nn_tensor.c: not in your submission; the unwritten lab file is graded instead" "$work/missing_file.log" ||
  problems+=("missing_file: the grade does not say that nn_tensor.c was missing")

# An instructor's hidden test: graded with the others, shown after publication, and on the
# drawn sizes too (the public_only attack fails it).
hidden=$work/hidden
mkdir -p "$hidden/$ch"
cat >"$hidden/$ch/test_hidden_tensor.c" <<'EOF'
#include "graded.h"
#include "nn_tensor.h"
GRADED_TEST(hidden, numel_of_a_5d_like_shape) {
  int s[4] = {nn_grade_size(g, 7, 1, 30), nn_grade_size(g, 11, 1, 30), 13, nn_grade_size(g, 3, 1, 30)};
  nn_tensor t = nn_tensor_new(4, s, NN_CPU);
  long n = nn_numel(&t);
  answer(g, "nn_numel", &n, 1);
  expect(g, n == (long)s[0] * s[1] * s[2] * s[3], "nn_numel is %ld, expected %ld", n, (long)s[0] * s[1] * s[2] * s[3]);
  nn_tensor_free(&t);
}
EOF
printf 'test_hidden_tensor  hidden::numel_of_a_5d_like_shape  3  unit,cpu\n' >"$hidden/$ch/GRADED"
hidden_graded="hidden::numel_of_a_5d_like_shape cpu"
grade_vars="HIDDEN_DIR=$hidden"
submission_from "solutions/$ch"
grade hidden_solutions "" ""
[ "$(jq -r '.tests[] | select(.name == "hidden::numel_of_a_5d_like_shape") | .visibility' "$results")" = after_published ] ||
  problems+=("hidden_solutions: the hidden test is not 'after_published' in results.json")
also_fails=hidden::numel_of_a_5d_like_shape
attack autograder/selftest/public_only.attack
also_fails=""
grade_vars=""

# The honest submission, after all of that: full marks still.
submission_from "solutions/$ch"
grade honest_again "" ""

# An instructor's mistake is an error, not a silent zero: a test that does not exist.
mkdir -p "$work/tests/$ch"
{ cat "$manifest"; echo "test_tensor  tensor::no_such_test  1  unit,cpu"; } >"$work/tests/$ch/GRADED"
out=$("$build/grade" --chapter "$ch" --kit "$repo/$build/grading/$ch/kit" --submission "$sub" \
      --checker "$build/grading/$ch/checker" --results "$work/out/bad.json" --tests-dir "$work/tests" 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *"has no graded test tensor::no_such_test"* ]] && [ ! -e "$work/out/bad.json" ] ||
  problems+=("bad manifest: expected exit 2 and 'has no graded test tensor::no_such_test', got $rc: $out")
if [ -f "$work/results.json.orig" ]; then cp "$work/results.json.orig" results.json; fi

printf '%-17s %-48s %-8s %s\n' attack test status feedback
printf '%s\n' "${rows[@]}"
echo
if [ ${#problems[@]} -gt 0 ]; then
  printf 'PROBLEM: %s\n' "${problems[@]}"
  mkdir -p "$build/logs" && cp "$work"/*.log "$build/logs/"
  echo "grader selftest: ${#problems[@]} problems in $scenarios submissions (make grade logs in $build/logs)"
  exit 1
fi
echo "grader selftest: $scenarios submissions graded as expected in $((SECONDS - start)) s (solutions twice, stubs, $(ls autograder/selftest/*.attack | wc -l) attacks, 4 odd submissions, a hidden test); nothing left running or behind"
