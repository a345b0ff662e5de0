# The grader (autograder/grader.c, `make grade`) against hostile and broken submissions.
#
# A submission here is solutions/00-foundations/ with one solution region replaced by an
# attack from autograder/selftest/*.attack (a crash, an endless loop, exit(0), abort(),
# an output flood, a 64 GB malloc, a fake results.json, a fork loop). Each is graded with
#   make grade CH=00 SUBMISSION=<its folder> BUILD=<ours> RESULTS=<ours> GRADE_FLAGS=--time-limit 4
# and must come out as: the attacked tests failed, with the reason in their feedback;
# every other graded test passed (a gpu test: passed, or skipped without a GPU); the
# grader exited 0; results.json whole (it parses, and has every graded test); the last
# line "N passed, N failed, N skipped" agrees with it; no process of the tests left.
# The untouched stubs (labs/) and the solutions are graded the same way.
#
# One submission folder and one build are reused, so each attack recompiles one file.
set -u
build=${NN_BUILD:-build}/selftest
ch=00-foundations
manifest=autograder/tests/$ch/GRADED
limit=4

[ -d solutions/$ch ] && [ -d autograder/selftest ] || { echo "no solutions/$ch or autograder/selftest/ (a student release?): the selftest builds its submissions from them"; exit 77; }
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq): the selftest reads results.json with it"; exit 77; }
[ -f /usr/include/jansson.h ] || { echo "libjansson-dev is not installed: the grader cannot be built"; exit 77; }

work=$(mktemp -d /tmp/nn-selftest-XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 711 "$work"
mkdir -p "$work/out" "$build/submission"
chmod 777 "$work/out" # an attack may write here, as the test's user: the grader must win
results=$work/out/results.json
sub=$build/submission/$ch

# The make of the caller (DEBUG=1, BUILD=..., -j) must not leak into ours.
clean_make() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DEBUG -u BUILD -u LAB -u LAB_DIR -u CH \
      -u SUBMISSION -u SOLUTIONS -u RESULTS -u GRADE_FLAGS make --no-print-directory "$@"
}

# Makes $sub a copy of folder $1, rewriting only the files that differ (make sees which).
sync_from() {
  mkdir -p "$sub"
  for f in "$1"/*; do
    cmp -s "$f" "$sub/${f##*/}" || cp "$f" "$sub/${f##*/}"
  done
}

# The solution region of function $2 in file $1 replaced by the lines of file $3.
# Function names are found as tools/mklabs finds them.
replace_region() {
  awk -v fn="$2" -v body="$3" '
    function fname(line,   s, n, w) {
      s = line; sub(/\(.*/, "", s); n = split(s, w, /[^A-Za-z0-9_]+/)
      return w[n] != "" ? w[n] : w[n - 1]
    }
    /^[A-Za-z_][^;#]*[A-Za-z0-9_]+\(/ && !/;[ \t]*$/ && !/^(typedef|static const|#)/ { cur = fname($0) }
    /\/\* BEGIN SOLUTION \*\// && cur == fn {
      print; while ((getline l < body) > 0) print l; skip = 1; done = 1; next
    }
    skip && /\/\* END SOLUTION \*\// { skip = 0 }
    skip { next }
    { print }
    END { exit done ? 0 : 1 }
  ' "$1"
}

# Graded tests: "suite::name gpu|cpu", from the manifest.
graded=$(sed 's/#.*//' "$manifest" | awk 'NF { print $2, ($4 ~ /(^|,)gpu(,|$)/ ? "gpu" : "cpu") }')
n_graded=$(echo "$graded" | wc -l)

# Processes still running any program of our build (the tests, their forks).
strays() {
  local here n=0
  here=$(cd "$build" && pwd -P)
  for exe in /proc/[0-9]*/exe; do
    case $(readlink "$exe" 2>/dev/null) in "$here"/*) n=$((n + 1)) ;; esac
  done
  echo $n
}

problems=()
rows=()
scenarios=0

# grade NAME FAILS FEEDBACK: grade $sub; FAILS are the tests that must fail (or "all"),
# FEEDBACK a fixed string each of their feedback lines must contain (gpu tests: any).
grade() {
  local name=$1 fails=$2 feedback=$3 log=$work/$1.log rc
  scenarios=$((scenarios + 1))
  rm -f "$results"
  clean_make grade CH=00 SUBMISSION="$sub" BUILD="$build" RESULTS="$results" NN_QUIET=1 \
    GRADE_FLAGS="--time-limit $limit" -j2 >"$log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    problems+=("$name: make grade exited $rc: $(tail -n 3 "$log" | tr '\n' ' ')")
    return
  fi
  if ! jq -e '.tests | type == "array"' "$results" >/dev/null 2>&1; then
    problems+=("$name: $results is not a whole results.json: $(head -c 200 "$results" 2>&1)")
    return
  fi
  local p=0 f=0 s=0 id kind got fb want
  while read -r id kind; do
    got=$(jq -r --arg id "$id" '[.tests[] | select(.name == $id)] | if length == 1 then .[0].extra_data.result else "missing" end' "$results")
    fb=$(jq -r --arg id "$id" '.tests[] | select(.name == $id) | .extra_data.feedback' "$results")
    case $got in passed) p=$((p + 1)) ;; failed) f=$((f + 1)) ;; skipped) s=$((s + 1)) ;; esac
    if [ "$fails" = all ] || [[ " $fails " == *" $id "* ]]; then
      want=failed
    else
      want=passed
    fi
    rows+=("$(printf '%-13s %-48s %-8s %s' "$name" "$id" "$got" "${fb:0:150}")")
    if [ "$kind" = gpu ] && [ "$got" = skipped ]; then
      [[ $fb == *gpu* ]] || problems+=("$name: $id skipped without saying it needs a GPU: $fb")
      continue
    fi
    if [ "$got" != "$want" ]; then
      problems+=("$name: $id is $got, expected $want ($fb)")
    elif [ "$want" = failed ] && [ "$kind" = cpu ] && [[ $fb != *"$feedback"* ]]; then
      problems+=("$name: $id failed, but its feedback does not say '$feedback': $fb")
    fi
  done <<<"$graded"
  [ "$(jq '.tests | length' "$results")" -eq "$n_graded" ] ||
    problems+=("$name: results.json has $(jq '.tests | length' "$results") tests, the manifest $n_graded")
  local last
  last=$(tail -n 1 "$log")
  [ "$last" = "$p passed, $f failed, $s skipped" ] ||
    problems+=("$name: the last line is '$last', results.json says $p passed, $f failed, $s skipped")
  local left
  left=$(strays)
  [ "$left" -eq 0 ] || problems+=("$name: $left processes of the tests are still running")
}

# attack FILE: solutions/, with the attack's region in place.
attack() {
  local a=$1 name file fn fails feedback body=$work/body.c src
  name=$(basename "$a" .attack)
  file=$(sed -n 's/^file: //p' "$a")
  fn=$(sed -n 's/^function: //p' "$a")
  fails=$(sed -n 's/^fails: //p' "$a")
  feedback=$(sed -n 's/^feedback: //p' "$a")
  sed '1,/^---$/d' "$a" | sed "s|@RESULTS@|$results|g" >"$body"
  sync_from "solutions/$ch"
  src=$work/$file
  { printf '#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n'
    replace_region "solutions/$ch/$file" "$fn" "$body"; } >"$src" ||
    { problems+=("$name: no solution region of $fn in solutions/$ch/$file"); return; }
  cp "$src" "$sub/$file"
  grade "$name" "$fails" "$feedback"
  if [ "$name" = fake_results ]; then
    [ -f "$results.by-the-test" ] || problems+=("$name: the test could not write beside $results, so the overwrite went untested")
    ! grep -q FAKE "$results" || problems+=("$name: the fake results.json survived in $results")
    if [ -f results.json ] && grep -q "FAKE RESULTS" results.json; then
      # As root the tests run as nobody, who cannot write here; as a user they run as
      # that user and can: then put back what was there.
      [ "$(id -u)" != 0 ] || problems+=("$name: the test, run as nobody, could write ./results.json")
      if [ -f "$work/results.json.orig" ]; then cp "$work/results.json.orig" results.json; else rm -f results.json; fi
    fi
  fi
}

[ -f results.json ] && cp results.json "$work/results.json.orig"
stale=0 # 1 once the stale-socket scenario (root only) has run
start=$SECONDS

sync_from "solutions/$ch"
grade solutions "" ""
# Stale Criterion sockets: a runner killed earlier leaves /tmp/criterion_<pid>.sock, and
# a later runner with that pid cannot bind it (as nobody it cannot even remove root's):
# its test aborts. Plant root's files for the next 400 pids, then grade again: the
# grader must clear the file of each test's pid (the build is done: few pids go by).
if [ "$(id -u)" = 0 ] && [ -r /proc/sys/kernel/ns_last_pid ]; then
  next=$(( $(cat /proc/sys/kernel/ns_last_pid) + 1 ))
  planted=()
  for ((p = next; p < next + 400; p++)); do
    f=/tmp/criterion_$p.sock
    [ -e "$f" ] || { : >"$f" && planted+=("$f"); }
  done
  grade stale_sockets "" ""
  stale=1
  rm -f "${planted[@]}"
fi
for a in autograder/selftest/*.attack; do attack "$a"; done
sync_from "labs/$ch"
grade stubs all "is not written yet"

# An instructor's mistake is an error, not a silent zero: a test that does not exist.
mkdir -p "$work/tests/$ch"
{ cat "$manifest"; echo "test_tensor  tensor::no_such_test  1  unit,cpu"; } >"$work/tests/$ch/GRADED"
out=$("$build/grade" --chapter "$ch" --bin-dir "$build/tests" --results "$work/out/bad.json" \
      --tests-dir "$work/tests" 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *"has no test tensor::no_such_test"* ]] && [ ! -e "$work/out/bad.json" ] ||
  problems+=("bad manifest: expected exit 2 and 'has no test tensor::no_such_test', got $rc: $out")

printf '%-13s %-48s %-8s %s\n' attack test status feedback
printf '%s\n' "${rows[@]}"
echo
if [ ${#problems[@]} -gt 0 ]; then
  printf 'PROBLEM: %s\n' "${problems[@]}"
  mkdir -p "$build/logs" && cp "$work"/*.log "$build/logs/"
  echo "grader selftest: ${#problems[@]} problems in $scenarios submissions (make grade logs in $build/logs)"
  exit 1
fi
echo "grader selftest: $scenarios submissions (solutions, stubs, $((scenarios - 2 - stale)) attacks$([ $stale = 1 ] && echo ', stale sockets')) graded as expected in $((SECONDS - start)) s; no test process left"
