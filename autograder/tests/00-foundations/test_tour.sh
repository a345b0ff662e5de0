# `make` ends with `build/nn tour`: on the bundled data it must finish, write its
# pictures, and tell the student where to go next. (How long it took is printed, not
# judged: no test asserts wall-clock time on a shared machine.)
set -u
nn=${NN_BUILD:-build}/nn
[ -x "$nn" ] || { echo "$nn is not built"; exit 1; }
rm -rf build/tour
start=$(date +%s)
out=$("$nn" tour 2>&1)
rc=$? secs=$(( $(date +%s) - start ))
echo "$out"
[ $rc -eq 0 ] || { echo "nn tour exited with status $rc"; exit 1; }
for f in build/tour/gemm.dat build/tour/gemm.gp build/tour/digits.png; do
  [ -s "$f" ] || { echo "nn tour did not write $f"; exit 1; }
done
if command -v gnuplot >/dev/null; then
  [ -s build/tour/gemm.png ] || { echo "gnuplot is installed but build/tour/gemm.png is missing"; exit 1; }
fi
echo "$out" | grep -q "Where to go next" || { echo "the tour does not say where to go next"; exit 1; }
echo "nn tour: finished in $secs s"
