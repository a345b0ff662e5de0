# tools/check-labs (make check-labs): labs/ is what tools/mklabs makes from
# solutions/, every graded test passes on solutions/ and fails on the lab stubs
# (a test that passes on a stub asserts nothing and is reported as vacuous). The mutation
# stage (tools/mutants, minutes a chapter) is make check-labs' and CI's, not make test's.
set -u
[ -d solutions ] || { echo "no solutions/ here (a student release): nothing to check"; exit 77; }
[ "${DEBUG:-}" != 1 ] || { echo "make grade cannot run a DEBUG=1 build (its sanitizers cannot run under the grader's limits); make test without DEBUG runs this"; exit 77; }
out=$(BUILD=${NN_BUILD:-build} tools/check-labs --no-mutants 2>&1); rc=$?
echo "$out"
exit $rc
