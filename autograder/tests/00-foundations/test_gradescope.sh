# `make gradescope CH=00` writes the Gradescope autograder zip. Its run_autograder,
# run against a fake /autograder root (AUTOGRADER_ROOT), grades
#   1. a correct submission (the solutions' lab files, loose): full marks on CPU
#   2. a submission with nn_tensor.c left as the stub: those tests fail, the rest pass
#   3. a submission that does not compile: score 0 and the compiler's words
# and each time leaves a whole results/results.json.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v zip >/dev/null && command -v unzip >/dev/null || { echo "no zip/unzip (apt-get install zip unzip)"; exit 77; }
out=$(tools/gradescope 00 "$tmp/ag.zip" 2>&1) || { echo "$out"; echo "tools/gradescope 00 failed"; exit 1; }
unzip -l "$tmp/ag.zip" | grep -q ' setup.sh$' && unzip -l "$tmp/ag.zip" | grep -q ' run_autograder$' ||
  { echo "the zip lacks setup.sh or run_autograder at its top"; exit 1; }
unzip -l "$tmp/ag.zip" | grep -q ' course/solutions/' && { echo "the zip contains solutions/"; exit 1; }

# score and max of a results.json, and the names of the failed tests
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r['tests']
print(r['score'], sum(x['max_score'] for x in t), ' '.join(x['name'] for x in t if x.get('status')=='failed'))" "$1"; }

grade() { # $1 name; the submission is in $tmp/$1/submission
  root=$tmp/$1
  mkdir -p "$root/source" "$root/results"
  unzip -q "$tmp/ag.zip" -d "$root/source"
  AUTOGRADER_ROOT=$root NO_CUDA=1 bash "$root/source/run_autograder" >"$root/log" 2>&1
  [ -s "$root/results/results.json" ] || { tail -n 30 "$root/log"; echo "$1: no results/results.json"; exit 1; }
  python3 -m json.tool "$root/results/results.json" >/dev/null 2>&1 || { echo "$1: results.json is not valid JSON"; exit 1; }
  field "$root/results/results.json"
}
stub_files=$(grep -l NN_LAB_STUB labs/00-foundations/*)

mkdir -p "$tmp/good/submission"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/good/submission/"; done
read -r score max failed < <(grade good)
[ "$score" = "$max" ] && [ -z "$failed" ] || { tail -n 30 "$tmp/good/log"; echo "correct submission: score $score of $max, failed: $failed"; exit 1; }

mkdir -p "$tmp/half/submission/labs/00-foundations"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/half/submission/labs/00-foundations/"; done
cp labs/00-foundations/nn_tensor.c "$tmp/half/submission/labs/00-foundations/"
read -r hscore hmax hfailed < <(grade half)
[ -n "$hfailed" ] && awk "BEGIN{exit !($hscore > 0 && $hscore < $hmax)}" ||
  { tail -n 30 "$tmp/half/log"; echo "nn_tensor.c stubbed: expected some but not all points, got $hscore of $hmax"; exit 1; }
grep -q 'nn_numel is not written yet' "$tmp/half/results/results.json" ||
  { echo "nn_tensor.c stubbed: results.json does not say nn_numel is not written"; exit 1; }

mkdir -p "$tmp/broken/submission"
for f in $stub_files; do cp "solutions/00-foundations/$(basename "$f")" "$tmp/broken/submission/"; done
echo 'this is not C;' >>"$tmp/broken/submission/nn_tensor.c"
read -r bscore bmax bfailed < <(grade broken)
[ "$bscore" = 0 ] || [ "$bscore" = 0.0 ] || { echo "a submission that does not compile scored $bscore"; exit 1; }
grep -q 'nn_tensor.c' "$tmp/broken/results/results.json" ||
  { echo "does not compile: results.json does not show the compiler's message about nn_tensor.c"; exit 1; }
echo "gradescope: correct $score/$max, nn_tensor.c stubbed $hscore/$hmax (failed: $hfailed), not compiling $bscore"
