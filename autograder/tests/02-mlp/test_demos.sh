# Chapter 02's demos do what the chapter text says: a 2-2-1 network learns XOR
# where the perceptron cannot, the 784-512-10 MLP reaches 96 % on the MNIST
# sample (its time is printed, not judged: no test asserts wall-clock time), the
# checkpoint and the pictures are written, and a bad option prints the usage.
set -u
nn=${NN_BUILD:-build}/nn
[ -x "$nn" ] || { echo "$nn is not built"; exit 1; }
rm -rf build/ch02
out=$("$nn" xor 2>&1) || { echo "$out"; echo "nn xor failed"; exit 1; }
echo "$out" | grep -q "accuracy 100%" && echo "$out" | grep -q "gets 50% right" ||
  { echo "$out"; echo "nn xor: expected the network at 100 % and the perceptron at 50 %"; exit 1; }
start=$(date +%s)
out=$("$nn" mnist 2>&1) || { echo "$out"; echo "nn mnist failed"; exit 1; }
secs=$(( $(date +%s) - start ))
acc=$(echo "$out" | sed -n 's/.*test: loss [0-9.]*  accuracy \([0-9.]*\)%.*/\1/p')
[ -n "$acc" ] && awk "BEGIN { exit !($acc >= 96) }" || { echo "$out"; echo "nn mnist: test accuracy '$acc'%, expected >= 96%"; exit 1; }
[ -s build/ch02/best.ckpt ] || { echo "nn mnist did not leave build/ch02/best.ckpt (ModelCheckpoint)"; exit 1; }
[ -s build/ch02/mnist_loss.dat ] || { echo "nn mnist did not write build/ch02/mnist_loss.dat"; exit 1; }
if command -v gnuplot >/dev/null; then
  [ -s build/ch02/mnist_loss.png ] || { echo "gnuplot is here but build/ch02/mnist_loss.png is missing"; exit 1; }
fi
out=$("$nn" mnist --epochs 2>&1) && { echo "nn mnist --epochs (no number) exited 0"; exit 1; }
echo "$out" | grep -q "usage: nn mnist" || { echo "$out"; echo "no usage line for a bad option"; exit 1; }
echo "chapter 02 demos: XOR 100 %, MNIST $acc % in $secs s"
