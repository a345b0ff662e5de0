# `make gradescope CH=00` writes the Gradescope autograder zip. Its setup.sh, run once against
# a fake /autograder root (AUTOGRADER_ROOT, NN_NO_APT=1: no apt-get), builds the library, the
# kit and the checker and shuts the reference away from the user nobody; its run_autograder
# then grades
#   1. a correct submission (the solutions' lab files, loose): full marks on CPU
#   2. nn_tensor.c left as the stub, in a labs/00-foundations/ folder: those tests fail
#   3. a submission that does not compile: score 0 and the compiler's words
#   4. a hostile one: a header that would disable the checks, files named like shell
#      commands, nn_gemm.c as a symbolic link to the reference: the header and the names are
#      ignored, the link is not taken (the lab's unwritten file is graded instead)
# and five attacks of autograder/selftest (a sandbox escape, an include of the reference, a
# fake results.json, answers fitted to the public sizes, a main of its own), and each time
# leaves a whole results/results.json.
set -u
[ "${DEBUG:-}" != 1 ] || { echo "make grade cannot run a DEBUG=1 build (its sanitizers cannot run under the grader's limits); make test without DEBUG runs this"; exit 77; }
[ -d solutions ] || { echo "no solutions/ here (a student release): the autograder zip needs them"; exit 77; }
command -v zip >/dev/null && command -v unzip >/dev/null || { echo "no zip/unzip (apt-get install zip unzip)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 711 "$tmp" # the user nobody runs the student's code and must reach the fake root
out=$(tools/gradescope 00 "$tmp/ag.zip" 2>&1) || { echo "$out"; echo "tools/gradescope 00 failed"; exit 1; }
unzip -l "$tmp/ag.zip" | grep -q ' setup.sh$' && unzip -l "$tmp/ag.zip" | grep -q ' run_autograder$' ||
  { echo "the zip lacks setup.sh or run_autograder at its top"; exit 1; }
unzip -l "$tmp/ag.zip" | grep -q ' course/solutions/00-foundations/nn_tensor.c$' ||
  { echo "the zip lacks course/solutions/ (the checker's reference)"; exit 1; }

root=$tmp/root
mkdir -p "$root/source" "$root/results"
unzip -q "$tmp/ag.zip" -d "$root/source"
start=$SECONDS
AUTOGRADER_ROOT=$root NN_NO_APT=1 NO_CUDA=1 bash "$root/source/setup.sh" >"$tmp/setup.log" 2>&1 ||
  { tail -n 30 "$tmp/setup.log"; echo "setup.sh failed"; exit 1; }
setup_s=$((SECONDS - start))
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
  ! as_nobody cat "$root/source/course/solutions/00-foundations/nn_tensor.c" >/dev/null 2>&1 ||
    { echo "after setup.sh the user nobody can read the reference's source"; exit 1; }
  ! as_nobody cat "$root/source/course/build/libnn.a" >/dev/null 2>&1 ||
    { echo "after setup.sh the user nobody can read the reference library"; exit 1; }
  as_nobody cat "$root/source/course/build/grading/00-foundations/kit/stubs" >/dev/null ||
    { echo "after setup.sh the user nobody cannot read the kit it builds workers from"; exit 1; }
fi

# score, max and the names of the failed tests of a results.json
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r['tests']
print(r['score'], sum(x['max_score'] for x in t), ' '.join(x['name'] for x in t if x.get('status')=='failed'))" "$1"; }

grade() { # $1 name; the submission is in $tmp/$1/
  rm -rf "$root/submission" "$root/results/results.json"
  cp -a "$tmp/$1" "$root/submission"
  AUTOGRADER_ROOT=$root NO_CUDA=1 bash "$root/source/run_autograder" >"$tmp/$1.log" 2>&1
  [ -s "$root/results/results.json" ] || { tail -n 30 "$tmp/$1.log"; echo "$1: no results/results.json"; exit 1; }
  python3 -m json.tool "$root/results/results.json" >/dev/null 2>&1 || { echo "$1: results.json is not valid JSON"; exit 1; }
  cp "$root/results/results.json" "$tmp/$1.json"
  field "$tmp/$1.json"
}
stub_files=$(grep -l NN_LAB_STUB labs/00-foundations/*.c labs/00-foundations/*.cu)

mkdir -p "$tmp/good"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/good/"; done
read -r score max failed < <(grade good)
[ "$score" = "$max" ] && [ -z "$failed" ] || { tail -n 30 "$tmp/good.log"; echo "correct submission: score $score of $max, failed: $failed"; exit 1; }

mkdir -p "$tmp/half/labs/00-foundations"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/half/labs/00-foundations/"; done
cp labs/00-foundations/nn_tensor.c "$tmp/half/labs/00-foundations/"
read -r hscore hmax hfailed < <(grade half)
[ -n "$hfailed" ] && awk "BEGIN{exit !($hscore > 0 && $hscore < $hmax)}" ||
  { tail -n 30 "$tmp/half.log"; echo "nn_tensor.c stubbed: expected some but not all points, got $hscore of $hmax"; exit 1; }
grep -q 'nn_numel is not written yet' "$tmp/half.json" ||
  { echo "nn_tensor.c stubbed: results.json does not say nn_numel is not written"; exit 1; }

mkdir -p "$tmp/broken"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/broken/"; done
echo 'this is not C;' >>"$tmp/broken/nn_tensor.c"
read -r bscore bmax bfailed < <(grade broken)
[ "$bscore" = 0 ] || [ "$bscore" = 0.0 ] || { echo "a submission that does not compile scored $bscore"; exit 1; }
grep -q 'nn_tensor.c' "$tmp/broken.json" ||
  { echo "does not compile: results.json does not show the compiler's message about nn_tensor.c"; exit 1; }

mkdir -p "$tmp/hostile"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/hostile/"; done
printf '#define nn_numel(t) 120\n#define expect(...)\n' >"$tmp/hostile/nn_tensor.h"
for weird in '$(touch nn-gs-pwned-1).c' 'x;touch nn-gs-pwned-2;.c' '`touch nn-gs-pwned-3`.h'; do
  printf 'int x;\n' >"$tmp/hostile/$weird"
done
rm "$tmp/hostile/nn_gemm.c" && ln -s "$PWD/solutions/00-foundations/nn_gemm.c" "$tmp/hostile/nn_gemm.c"
read -r xscore xmax xfailed < <(grade hostile)
[ "$xfailed" = "gemm::blocked_matches_double_reference gemm::blocked_with_leading_dims_and_batches" ] ||
  { tail -n 30 "$tmp/hostile.log"; echo "hostile submission: expected only the GEMM tests (its nn_gemm.c a link) to fail, failed: $xfailed"; exit 1; }
grep -q 'nn_gemm.c: not in your submission; the unwritten lab file is graded instead' "$tmp/hostile.log" ||
  { echo "hostile submission: the grade does not say nn_gemm.c (a link) was not taken"; exit 1; }
pwned=$(find "$tmp" "$PWD" /tmp -maxdepth 4 -name 'nn-gs-pwned-*' -not -path "$tmp/hostile/*" 2>/dev/null)
[ -z "$pwned" ] || { echo "hostile submission: a file name ran as a command: $pwned"; exit 1; }
# Attacks from autograder/selftest on this path too: the reference's files are shut away by
# setup.sh here, and run_autograder takes the files.
. autograder/selftest/attack.sh
attacks=""
for name in sandbox_escape include_solution fake_results public_only define_main; do
  a=autograder/selftest/$name.attack
  arch=$(attack_field arch "$a")
  [ -z "$arch" ] || [ "$arch" = "$(uname -m)" ] || continue
  attack_submission "$a" 00-foundations "$tmp/$name" "$root/results/results.json" "$PWD" ||
    { echo "$name: the attack does not apply to solutions/"; exit 1; }
  read -r ascore amax afailed < <(grade "$name")
  want=$(attack_field fails "$a")
  [ "$want" != all ] || want=$(python3 -c "import json,sys; print(' '.join(t['name'] for t in json.load(open(sys.argv[1]))['tests'] if t.get('status')))" "$tmp/$name.json")
  [ "$afailed" = "$want" ] || { tail -n 20 "$tmp/$name.log"; echo "$name on the Gradescope path: failed '$afailed', expected '$want'"; exit 1; }
  python3 - "$tmp/$name.json" "$(attack_field feedback "$a")" "$(attack_field absent "$a")" <<'PY' || exit 1
import json, re, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[1]).read()
for t in r['tests']:
    if t.get('status') == 'failed' and 'gpu' not in t['tags'] and not re.search(sys.argv[2], t['extra_data']['feedback']):
        sys.exit(f"{sys.argv[1]}: {t['name']}: feedback {t['extra_data']['feedback']!r} does not match {sys.argv[2]!r}")
if sys.argv[3] and sys.argv[3] in text:
    sys.exit(f"{sys.argv[1]}: holds {sys.argv[3]!r}")
if 'FAKE' in text:
    sys.exit(f"{sys.argv[1]}: the fake results survived")
PY
  attacks="$attacks $name"
done
echo "gradescope: setup in ${setup_s} s; correct $score/$max, nn_tensor.c stubbed $hscore/$hmax (failed: $hfailed), not compiling $bscore, hostile $xscore/$xmax (nn_gemm.c a link, not taken); attacks contained:$attacks"
