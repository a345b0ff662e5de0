# `nn summary SPEC` prints a model's per-layer shapes and parameter counts in
# Keras' or PyTorch's conventions: the example specs give their documented totals,
# and a spec with a mistake is refused with the file, the line and what was expected.
set -u
nn=${NN_BUILD:-build}/nn
[ -x "$nn" ] || { echo "$nn is not built"; exit 1; }
fail() { echo "$out"; echo "$1"; exit 1; }

out=$("$nn" summary docs/models/cnn_mnist.txt --framework keras 2>&1) || fail "nn summary --framework keras failed"
for want in "Total params: 34,826" "Trainable params: 34,826" "Non-trainable params: 0" \
            "(None, 26, 26, 32)" "(None, 5, 5, 64)" "(None, 1600)"; do
  echo "$out" | grep -qF "$want" || fail "cnn_mnist (keras): no '$want'"
done
for n in 320 18,496 16,010; do
  echo "$out" | grep -qE "[[:space:]]$n[[:space:]]" || fail "cnn_mnist: no layer with $n params"
done
out=$("$nn" summary docs/models/cnn_mnist.txt 2>&1) || fail "nn summary docs/models/cnn_mnist.txt failed"
echo "$out" | grep -qF "Total params: 34,826" || fail "cnn_mnist (the default, pytorch): total is not 34,826"
echo "$out" | grep -qF "(N, 32, 26, 26)" || fail "cnn_mnist: the default shapes are not the course's (N, C, H, W)"

out=$("$nn" summary docs/models/mlp_mnist.txt 2>&1) || fail "mlp_mnist failed"
echo "$out" | grep -qF "Total params: 407,050" || fail "mlp_mnist: total is not 401,920 + 5,130 = 407,050"
out=$("$nn" summary docs/models/lstm.txt -f keras 2>&1) || fail "lstm (keras) failed"
echo "$out" | grep -qE "LSTM.* 314,368 " || fail "lstm: Keras' LSTM(256) on 50 inputs is not 314,368"
out=$("$nn" summary docs/models/lstm.txt 2>&1) || fail "lstm (pytorch, the default) failed"
echo "$out" | grep -qE "LSTM.* 315,392 " || fail "lstm: PyTorch's LSTM(256) on 50 inputs is not 315,392"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'input 1 28 28\n# a typo on line 3\nconv2d 32 kernal=3\n' >"$tmp/bad.txt"
out=$("$nn" summary "$tmp/bad.txt" 2>&1) && fail "a spec with a typo exited 0"
echo "$out" | grep -qF "$tmp/bad.txt:3: conv2d: unknown option 'kernal'" || fail "the error does not name file:line and the option"
printf 'input 1 5 5\nconv2d 8 kernel=3\nconv2d 8 kernel=5\n' >"$tmp/big.txt"
out=$("$nn" summary "$tmp/big.txt" --framework pytorch 2>&1) && fail "a kernel larger than its input exited 0"
echo "$out" | grep -qF "$tmp/big.txt:3: Conv2d: kernel 5 is larger than the padded input 3" || fail "no file:line for the bad kernel"
out=$("$nn" summary docs/models/cnn_mnist.txt --framework jax 2>&1) && fail "--framework jax exited 0"
echo "$out" | grep -q "usage: nn summary" || fail "no usage line for a bad framework"
out=$("$nn" summary "$tmp/missing.txt" 2>&1) && fail "a missing file exited 0"
echo "nn summary: example totals and file:line errors as documented"
