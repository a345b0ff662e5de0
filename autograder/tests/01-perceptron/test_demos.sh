# Chapter 01's demos run from a fresh build and show what the chapter text says:
# XOR fails and AND/OR converge, scaled logistic regression reaches 95 % on breast
# cancer, softmax regression 90 % on iris and 93 % on digits, the pictures are
# written, and nn sentiment either runs (NSMC present) or says how to get NSMC.
set -u
nn=${NN_BUILD:-build}/nn
[ -x "$nn" ] || { echo "$nn is not built"; exit 1; }
rm -rf build/ch01
out=$("$nn" perceptron 2>&1) || { echo "$out"; echo "nn perceptron failed"; exit 1; }
echo "$out" | grep -q "AND  converged" && echo "$out" | grep -q "OR   converged" && echo "$out" | grep -q "XOR  FAILED" ||
  { echo "$out"; echo "nn perceptron: expected AND and OR to converge and XOR to fail"; exit 1; }
out=$("$nn" logreg 2>&1) || { echo "$out"; echo "nn logreg failed"; exit 1; }
acc=$(echo "$out" | awk '/logistic regression  standard/ { sub("%", "", $4); print $4 }')
awk "BEGIN { exit !($acc >= 95) }" || { echo "$out"; echo "nn logreg: scaled logistic regression $acc%, expected >= 95%"; exit 1; }
echo "$out" | grep -q "mean .*% +- " || { echo "$out"; echo "nn logreg: no cross-validation summary"; exit 1; }
out=$("$nn" softmax 2>&1) || { echo "$out"; echo "nn softmax failed"; exit 1; }
iris=$(echo "$out" | sed -n 's/^iris: .*test accuracy \([0-9.]*\)%.*/\1/p')
digits=$(echo "$out" | sed -n 's/^digits: .*test accuracy \([0-9.]*\)%.*/\1/p')
awk "BEGIN { exit !($iris >= 90 && $digits >= 93) }" ||
  { echo "$out"; echo "nn softmax: iris $iris%, digits $digits%; expected >= 90 and >= 93"; exit 1; }
for f in build/ch01/boundary.dat build/ch01/roc.dat build/ch01/logreg_loss.dat; do
  [ -s "$f" ] || { echo "the demos did not write $f"; exit 1; }
done
if command -v gnuplot >/dev/null; then
  for f in build/ch01/boundary.png build/ch01/roc.png; do [ -s "$f" ] || { echo "gnuplot is here but $f is missing"; exit 1; }; done
fi
mini=../shared/datasets/text/nsmc-mini
if [ -f "$mini/ratings_train.txt" ]; then
  out=$(NN_NSMC_DIR=$mini "$nn" sentiment 2>&1) || { echo "$out"; echo "nn sentiment failed on $mini"; exit 1; }
  echo "$out" | grep -q "char bigrams, TF-IDF" && echo "$out" | grep -q "most positive: 최고" ||
    { echo "$out"; echo "nn sentiment: no TF-IDF row or token list"; exit 1; }
fi
out=$(NN_NSMC_DIR=/nonexistent "$nn" sentiment 2>&1) && { echo "nn sentiment without data exited 0"; exit 1; }
echo "$out" | grep -q "make data" || { echo "$out"; echo "nn sentiment without data does not say to run make data"; exit 1; }
echo "chapter 01 demos: logistic $acc%, iris $iris%, digits $digits%"
