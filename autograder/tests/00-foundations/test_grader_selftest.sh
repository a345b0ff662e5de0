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
stubs=$(grep -l NN_LAB_STUB labs/$ch/*.c labs/$ch/*.cu | xargs -n1 basename)
jobs_at_once=$(nproc 2>/dev/null || echo 2) # submissions graded at once, from one build (at most 4)
[ "$jobs_at_once" -le 4 ] || jobs_at_once=4

# The make of the caller (DEBUG=1, BUILD=..., -j) must not leak into ours.
clean_make() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DEBUG -u BUILD -u LAB -u LAB_DIR -u CH -u HIDDEN_DIR \
      -u SUBMISSION -u SOLUTIONS -u RESULTS -u GRADE_FLAGS make --no-print-directory "$@"
}

# Each scenario has a folder: submission/ (what is graded), out/ (results.json: an attack may
# try to write there, so anyone may), tmp/ (the grader's TMPDIR: its work folder goes there,
# which nobody must reach), and the problems and rows its checks found.
scenario_dir() {
  local d=$work/s/$1
  mkdir -p "$d/submission" "$d/out" "$d/tmp" && chmod 711 "$work/s" "$d" "$d/tmp" && chmod 777 "$d/out"
  echo "$d"
}

# $1/submission holds exactly the stub files of folder $2.
submission_from() {
  rm -rf "$1/submission" && mkdir -p "$1/submission"
  for f in $stubs; do cp "$2/$f" "$1/submission/$f"; done
}

# Graded tests: "suite::name gpu|cpu", from the manifest.
graded=$(sed 's/#.*//' "$manifest" | awk 'NF { print $2, ($4 ~ /(^|,)gpu(,|$)/ ? "gpu" : "cpu") }')
n_graded=$(echo "$graded" | wc -l)
hidden_graded="hidden::numel_of_a_5d_like_shape cpu"

# grade NAME FAILS FEEDBACK [ABSENT] [FLAGS] [MAKEVARS] [ALSO_FAILS]: grade $work/s/NAME/submission.
# FAILS are the tests that must fail (or "all"), FEEDBACK an ERE each of their feedback lines
# must match (gpu tests: any), ABSENT a string results.json must not hold, FLAGS more grader
# options, MAKEVARS more make variables (HIDDEN_DIR=... adds the hidden test), ALSO_FAILS
# tests that must fail whatever their feedback. What it finds goes to the scenario's folder.
grade() {
  local name=$1 fails="$2 ${7:-}" feedback=$3 absent=${4:-} flags=${5:-} vars=${6:-} also=${7:-}
  local d=$work/s/$1 rc
  local results=$d/out/results.json log=$d/log problems=$d/problems rows=$d/rows
  : >"$problems" && : >"$rows"
  # shellcheck disable=SC2086
  TMPDIR=$d/tmp clean_make grade CH=00 SUBMISSION="$d/submission" BUILD="$build" RESULTS="$results" NN_QUIET=1 \
    $vars GRADE_FLAGS="--time-limit $limit $flags" >"$log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "$name: make grade exited $rc: $(tail -n 3 "$log" | tr '\n' ' ')" >>"$problems"
    return
  fi
  if ! jq -e '.tests | type == "array"' "$results" >/dev/null 2>&1; then
    echo "$name: $results is not a whole results.json: $(head -c 200 "$results" 2>&1)" >>"$problems"
    return
  fi
  local p=0 f=0 s=0 id kind got fb want all_graded=$graded expected_graded=$n_graded
  [ -z "$vars" ] || all_graded=$(printf '%s\n%s' "$graded" "$hidden_graded") expected_graded=$((n_graded + 1))
  while read -r id kind; do
    got=$(jq -r --arg id "$id" '[.tests[] | select(.name == $id)] | if length == 1 then .[0].extra_data.result else "missing" end' "$results")
    fb=$(jq -r --arg id "$id" '.tests[] | select(.name == $id) | .extra_data.feedback' "$results")
    case $got in passed) p=$((p + 1)) ;; failed) f=$((f + 1)) ;; skipped) s=$((s + 1)) ;; esac
    if [ "${fails% }" = all ] || [[ " $fails " == *" $id "* ]]; then want=failed; else want=passed; fi
    printf '%-17s %-48s %-8s %s\n' "$name" "$id" "$got" "${fb:0:140}" >>"$rows"
    if [ "$kind" = gpu ] && [ "$got" = skipped ]; then
      [[ $fb == *gpu* ]] || echo "$name: $id skipped without saying it needs a GPU: $fb" >>"$problems"
      continue
    fi
    if [ "$got" != "$want" ]; then
      echo "$name: $id is $got, expected $want ($fb)" >>"$problems"
    elif [ "$want" = failed ] && [ "$kind" = cpu ] && [[ " $also " != *" $id "* ]] &&
         ! printf '%s' "$fb" | grep -Eq -- "$feedback"; then
      echo "$name: $id failed, but its feedback does not match '$feedback': $fb" >>"$problems"
    fi
  done <<<"$all_graded"
  [ "$(jq '.tests | length' "$results")" -eq "$expected_graded" ] ||
    echo "$name: results.json has $(jq '.tests | length' "$results") tests, expected $expected_graded" >>"$problems"
  [ -z "$absent" ] || ! grep -qF -- "$absent" "$results" ||
    echo "$name: results.json holds '$absent', which must not reach it" >>"$problems"
  local last strays=0 exe
  last=$(tail -n 1 "$log")
  [ "$last" = "$p passed, $f failed, $s skipped" ] ||
    echo "$name: the last line is '$last', results.json says $p passed, $f failed, $s skipped" >>"$problems"
  for proc in /proc/[0-9]*; do # processes still running a program of its work folder
    exe=$(readlink "$proc/exe" 2>/dev/null) || continue
    case $exe in "$d"/tmp/*) strays=$((strays + 1)) ;; esac
  done
  [ "$strays" -eq 0 ] || echo "$name: $strays processes of the grading are still running" >>"$problems"
  [ -z "$(ls -A "$d/tmp")" ] || echo "$name: left behind in its TMPDIR: $(ls -A "$d/tmp" | tr '\n' ' ')" >>"$problems"
  if [ "$name" = fake_results ]; then
    ! grep -q FAKE "$results" || echo "$name: the fake results.json survived in $results" >>"$problems"
    [ ! -e "$results.by-the-test" ] || echo "$name: the worker wrote $results.by-the-test" >>"$problems"
    ! grep -qs "FAKE RESULTS" results.json || echo "$name: the worker wrote ./results.json" >>"$problems"
  fi
}

# Runs a grade in the background, at most jobs_at_once at a time; order keeps the report's order.
order=()
soon() {
  order+=("$1")
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_at_once" ]; do wait -n; done
  grade "$@" &
}

# shellcheck source=../../selftest/attack.sh
. autograder/selftest/attack.sh

# attack FILE [MAKEVARS] [ALSO_FAILS]: the stub files of solutions/, with the attack in place.
skipped_attacks=()
attack() {
  local a=$1 name arch d
  name=$(basename "$a" .attack)${2:+_hidden}
  arch=$(attack_field arch "$a")
  if [ -n "$arch" ] && [ "$arch" != "$(uname -m)" ]; then
    skipped_attacks+=("$name (its raw system calls are for $arch)")
    return
  fi
  d=$(scenario_dir "$name")
  if ! attack_submission "$a" "$ch" "$d/submission" "$d/out/results.json" "$repo"; then
    echo "$name: no solution region of $(attack_field function "$a") in solutions/$ch/$(attack_field file "$a")" >>"$work/problems"
    return
  fi
  soon "$name" "$(attack_field fails "$a")" "$(attack_field feedback "$a")" "$(attack_field absent "$a")" \
    "$(attack_field flags "$a")" "${2:-}" "${3:-}"
}

start=$SECONDS
[ -f results.json ] && cp results.json "$work/results.json.orig"

# The honest submission first, alone: it builds the kit and the checker the others share.
d=$(scenario_dir solutions) && submission_from "$d" "solutions/$ch"
order+=(solutions) && grade solutions "" ""
for a in autograder/selftest/*.attack; do attack "$a"; done
d=$(scenario_dir stubs) && submission_from "$d" "labs/$ch"
soon stubs all "is not written yet"

# The shape of a submission: only the stub files, by name, as regular files.
d=$(scenario_dir symlink) && submission_from "$d" "solutions/$ch"
rm "$d/submission/nn_tensor.c" && ln -s "$repo/solutions/$ch/nn_tensor.c" "$d/submission/nn_tensor.c"
soon symlink all "nn_tensor.c is a symbolic link"
d=$(scenario_dir fifo) && submission_from "$d" "solutions/$ch"
rm "$d/submission/nn_gemm.c" && mkfifo "$d/submission/nn_gemm.c"
soon fifo all "nn_gemm.c is not a regular file"
d=$(scenario_dir odd_names) && submission_from "$d" "solutions/$ch"
printf '#define nn_numel(t) 120\n#define cr_assert(...)\n' >"$d/submission/nn_tensor.h"
for weird in '$(touch nn-pwned-1).c' 'x;touch nn-pwned-2;.c' '`touch nn-pwned-3`.cu'; do
  printf 'int x;\n' >"$d/submission/$weird" || echo "odd_names: could not make the file '$weird'" >>"$work/problems"
done
soon odd_names "" ""
d=$(scenario_dir missing_file) && submission_from "$d" "solutions/$ch"
rm "$d/submission/nn_tensor.c"
soon missing_file "tensor::new_is_zero_filled_with_its_shape tensor::reshape_keeps_data_and_infers_minus_one tensor::fill_and_copy" "is not written yet"
wait

# An instructor's hidden test: graded with the others, shown after publication, and on the
# drawn sizes too (the public_only attack fails it). One at a time: the kit changes.
hidden=$work/hidden
mkdir -p "$hidden/$ch"
cat >"$hidden/$ch/test_hidden_tensor.c" <<'C'
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
C
printf 'test_hidden_tensor  hidden::numel_of_a_5d_like_shape  3  unit,cpu\n' >"$hidden/$ch/GRADED"
d=$(scenario_dir hidden_solutions) && submission_from "$d" "solutions/$ch"
order+=(hidden_solutions) && grade hidden_solutions "" "" "" "" "HIDDEN_DIR=$hidden"
[ "$(jq -r '.tests[] | select(.name == "hidden::numel_of_a_5d_like_shape") | .visibility' "$d/out/results.json")" = after_published ] ||
  echo "hidden_solutions: the hidden test is not 'after_published' in results.json" >>"$work/problems"
attack autograder/selftest/public_only.attack "HIDDEN_DIR=$hidden" hidden::numel_of_a_5d_like_shape
wait

# The honest submission, after all of that: full marks still.
d=$(scenario_dir honest_again) && submission_from "$d" "solutions/$ch"
order+=(honest_again) && grade honest_again "" ""
grep -q "nn_tensor.c: not in your submission; the unwritten lab file is graded instead" "$work/s/missing_file/log" ||
  echo "missing_file: the grade does not say that nn_tensor.c was missing" >>"$work/problems"
pwned=$(find "$work" "$repo" /tmp -maxdepth 4 -name 'nn-pwned-*' -not -path "$work/s/odd_names/submission/*" 2>/dev/null)
[ -z "$pwned" ] || echo "odd_names: a file name ran as a command: $pwned" >>"$work/problems"
for f in /tmp/nn-selftest-escape /var/tmp/nn-selftest-escape /dev/shm/nn-selftest-escape; do
  [ ! -e "$f" ] || echo "sandbox_escape: $f was left behind" >>"$work/problems"
done

# An instructor's mistake is an error, not a silent zero: a test that does not exist.
mkdir -p "$work/tests/$ch"
{ cat "$manifest"; echo "test_tensor  tensor::no_such_test  1  unit,cpu"; } >"$work/tests/$ch/GRADED"
out=$("$build/grade" --chapter "$ch" --kit "$repo/$build/grading/$ch/kit" --submission "$work/s/honest_again/submission" \
      --checker "$build/grading/$ch/checker" --results "$work/bad.json" --tests-dir "$work/tests" 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *"has no graded test tensor::no_such_test"* ]] && [ ! -e "$work/bad.json" ] ||
  echo "bad manifest: expected exit 2 and 'has no graded test tensor::no_such_test', got $rc: $out" >>"$work/problems"
if [ -f "$work/results.json.orig" ]; then cp "$work/results.json.orig" results.json; fi

printf '%-17s %-48s %-8s %s\n' attack test status feedback
for name in "${order[@]}"; do cat "$work/s/$name/rows" 2>/dev/null; done
for skipped in "${skipped_attacks[@]}"; do echo "skipped: $skipped"; done
echo
problems=$(for name in "${order[@]}"; do cat "$work/s/$name/problems" 2>/dev/null; done; cat "$work/problems" 2>/dev/null)
if [ -n "$problems" ]; then
  printf '%s\n' "$problems" | sed 's/^/PROBLEM: /'
  mkdir -p "$build/logs" && for name in "${order[@]}"; do cp "$work/s/$name/log" "$build/logs/$name.log" 2>/dev/null; done
  echo "grader selftest: $(printf '%s\n' "$problems" | wc -l) problems in ${#order[@]} submissions (make grade logs in $build/logs)"
  exit 1
fi
echo "grader selftest: ${#order[@]} submissions graded as expected in $((SECONDS - start)) s (solutions twice, stubs, $(ls autograder/selftest/*.attack | wc -l) attacks, 4 odd submissions, a hidden test), $jobs_at_once at a time; nothing left running or behind"
