# `make handout` writes a student release: no solutions/, no hidden tests, no
# solution region in any source; it builds from labs/ and grades on its own:
# `make grade CH=00` in the release fails every graded CPU test (the stubs) and
# still writes a whole results.json.
set -u
tmp=$(mktemp -d)
chmod 755 "$tmp"   # make grade runs the tests as the user nobody when root
trap 'rm -rf "$tmp"' EXIT
out=$(tools/handout "$tmp/release" 2>&1) || { echo "$out"; echo "tools/handout failed"; exit 1; }
rel=$tmp/release
for gone in solutions autograder/hidden autograder/selftest .ci tools/mutants; do
  [ ! -e "$rel/$gone" ] || { echo "the student release contains $gone"; exit 1; }
done
# The planted bugs quote the solutions' lines (BEFORE ==> AFTER): never in a release.
mutants=$(find "$rel" -name MUTANTS -o -name PLANTED)
[ -z "$mutants" ] || { echo "the student release contains the mutation stage's planted bugs: $mutants"; exit 1; }
for kept in labs/00-foundations/nn_gemm.c chapters/00-foundations/README.md autograder/grader.c tools/cuda-emu/nvcc \
            datasets/mnist-10k/train-images-idx3-ubyte.gz Makefile README.md; do
  [ -f "$rel/$kept" ] || { echo "the student release lacks $kept"; exit 1; }
done
leak=$(grep -rl --include='*.c' --include='*.h' --include='*.cu' 'BEGIN SOLUTION \*/' "$rel")
[ -z "$leak" ] || { echo "solution regions in the release: $leak"; exit 1; }
grep -q 'acc\[i\]\[0\] += a\[i\] \* b_lo' -r "$rel" && { echo "the blocked GEMM's micro-kernel body is in the release"; exit 1; }
[ -s "$rel.tar.gz" ] || { echo "no $rel.tar.gz"; exit 1; }

graded=$(grep -v '^#' autograder/tests/00-foundations/GRADED | awk 'NF && $4 !~ /gpu/' | wc -l)
log=$tmp/grade.log
(cd "$rel" && NO_CUDA=1 NN_NO_INSTALL=1 make --no-print-directory grade CH=00) >"$log" 2>&1
rc=$?
[ $rc -eq 0 ] || { tail -n 30 "$log"; echo "make grade CH=00 in the release exited $rc"; exit 1; }
summary=$(tail -n 1 "$log")
failed=$(echo "$summary" | sed -n 's/^0 passed, \([0-9]*\) failed, [0-9]* skipped$/\1/p')
[ -n "$failed" ] && [ "$failed" -ge "$graded" ] ||
  { tail -n 30 "$log"; echo "on the stubs expected '0 passed, >= $graded failed', got: $summary"; exit 1; }
python3 -m json.tool "$rel/results.json" >/dev/null 2>&1 || { echo "results.json in the release is not valid JSON"; exit 1; }
grep -q 'is not written yet' "$log" || { tail -n 30 "$log"; echo "the feedback does not say which lab function is missing"; exit 1; }
echo "handout: $(find "$rel" -type f | wc -l) files, no solutions; make grade CH=00 there: $summary"
