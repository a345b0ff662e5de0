# tools/fetch-data offline (NN_DATA_MIRROR), never touching the network: a good mirror gives
# verified files; a corrupt file fails with the hash message and leaves nothing that looks
# finished; a set missing from the mirror fails with a clear message.
# The mirror is built from ../shared/datasets (full Fashion-MNIST and its MANIFEST.sha256).
set -u
shared=../shared/datasets
if [ ! -f "$shared/fashion-mnist/train-images-idx3-ubyte.gz" ] || [ ! -f "$shared/MANIFEST.sha256" ]; then
  echo "no ../shared/datasets to build a mirror from"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"

# No network: curl and wget on PATH fail loudly if fetch-data ever calls them.
mkdir "$tmp/bin"
for t in curl wget; do printf '#!/bin/sh\necho "NETWORK USED: %s $*" >&2; exit 99\n' "$t" >"$tmp/bin/$t"; done
chmod +x "$tmp/bin/curl" "$tmp/bin/wget"
run() { PATH="$tmp/bin:$PATH" SETS=fashion-mnist "$@" tools/fetch-data 2>&1; }

# 1. good mirror: the shared layout (fashion-mnist/ + MANIFEST.sha256), used as it is
mkdir -p "$tmp/m1/fashion-mnist"
for f in $files; do ln -s "$(cd "$shared" && pwd)/fashion-mnist/$f" "$tmp/m1/fashion-mnist/$f"; done
cp "$shared/MANIFEST.sha256" "$tmp/m1/"
out=$(run env NN_DATA_MIRROR="$tmp/m1" NN_DATA_DIR="$tmp/d1")
rc=$?
echo "$out" | grep -q "NETWORK USED" && { echo "$out"; echo "fetch-data used the network although NN_DATA_MIRROR was set"; exit 1; }
[ $rc -eq 0 ] || { echo "$out"; echo "good mirror: expected exit 0, got $rc"; exit 1; }
for f in $files; do
  [ -f "$tmp/d1/fashion-mnist/$f" ] || { echo "$out"; echo "good mirror: $f did not arrive"; exit 1; }
  cmp -s "$tmp/d1/fashion-mnist/$f" "$shared/fashion-mnist/$f" || { echo "good mirror: $f differs from the mirror's copy"; exit 1; }
done
ls "$tmp/d1/fashion-mnist" | grep -q '\.part$' && { echo "good mirror: a .part file was left"; exit 1; }
(cd "$tmp/d1/fashion-mnist" && sha256sum -c --quiet SHA256SUMS) || { echo "good mirror: SHA256SUMS of the result does not verify"; exit 1; }
echo "$out" | grep -qi "manifest" || { echo "$out"; echo "good mirror: no note that the files were verified against the mirror's manifest"; exit 1; }
# idempotent: a second run copies nothing
out=$(run env NN_DATA_MIRROR="$tmp/m1" NN_DATA_DIR="$tmp/d1")
[ $? -eq 0 ] && ! echo "$out" | grep -q "copied" || { echo "$out"; echo "second run: expected nothing copied and exit 0"; exit 1; }

# 2. one byte flipped in a copy: fails with the hash message, leaves neither the file nor a .part
mkdir -p "$tmp/m2/fashion-mnist"
for f in $files; do cp "$shared/fashion-mnist/$f" "$tmp/m2/fashion-mnist/$f"; done
cp "$shared/MANIFEST.sha256" "$tmp/m2/"
bad=$tmp/m2/fashion-mnist/train-labels-idx1-ubyte.gz
chmod u+w "$bad"
b=$(od -An -tu1 -j1000 -N1 "$bad" | tr -d ' ')
printf "$(printf '\\%03o' $(( b ^ 1 )))" | dd of="$bad" bs=1 seek=1000 conv=notrunc 2>/dev/null
cmp -s "$bad" "$shared/fashion-mnist/train-labels-idx1-ubyte.gz" && { echo "could not corrupt the test copy"; exit 1; }
out=$(run env NN_DATA_MIRROR="$tmp/m2" NN_DATA_DIR="$tmp/d2")
rc=$?
[ $rc -ne 0 ] || { echo "$out"; echo "corrupt mirror file: expected a non-zero exit"; exit 1; }
actual=$(sha256sum "$bad" | cut -d' ' -f1)
echo "$out" | grep -q "sha256 mismatch.*train-labels-idx1-ubyte.gz" &&
  echo "$out" | grep -q "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845" &&
  echo "$out" | grep -q "$actual" ||
  { echo "$out"; echo "corrupt mirror file: no message naming the file, the expected and the actual sha256"; exit 1; }
left=$(ls "$tmp/d2/fashion-mnist" 2>/dev/null | grep '^train-labels-idx1-ubyte\.gz')
[ -z "$left" ] || { echo "$out"; echo "corrupt mirror file: left behind: $left"; exit 1; }

# 3. a set the mirror lacks: clear message, non-zero exit, the other set still done
out=$(PATH="$tmp/bin:$PATH" SETS="cifar-10 fashion-mnist" NN_DATA_MIRROR="$tmp/m1" NN_DATA_DIR="$tmp/d3" tools/fetch-data 2>&1)
rc=$?
[ $rc -ne 0 ] || { echo "$out"; echo "set missing from the mirror: expected a non-zero exit"; exit 1; }
echo "$out" | grep -q "cifar-10: not in the mirror" && echo "$out" | grep -q "FAILED: cifar-10" ||
  { echo "$out"; echo "set missing from the mirror: no clear message naming cifar-10"; exit 1; }
echo "$out" | grep -q "ready in .*fashion-mnist" && [ -f "$tmp/d3/fashion-mnist/train-images-idx3-ubyte.gz" ] ||
  { echo "$out"; echo "set missing from the mirror: the sets that are in it were not fetched"; exit 1; }
echo "$out" | grep -q "NETWORK USED" && { echo "$out"; echo "fetch-data used the network although NN_DATA_MIRROR was set"; exit 1; }
# 4. nsmc from the nsmc-mini sample: not the official files, so served only as dir/nsmc/ with a
#    MANIFEST.sha256 (the hashes of ../shared/datasets/MANIFEST.sha256); served flat it is refused,
#    naming the official sha256 pinned for NSMC's ratings_train.txt.
mini=$shared/text/nsmc-mini
if [ -f "$mini/ratings_train.txt" ] && [ -f "$mini/ratings_test.txt" ]; then
  mkdir -p "$tmp/m4/nsmc"
  for f in ratings_train.txt ratings_test.txt; do ln -s "$(cd "$mini" && pwd)/$f" "$tmp/m4/nsmc/$f"; done
  awk '$2 ~ /^text\/nsmc-mini\/ratings_/ { sub(/^text\/nsmc-mini\//, "", $2); print $1 "  " $2 }' \
    "$shared/MANIFEST.sha256" >"$tmp/m4/nsmc/MANIFEST.sha256"
  out=$(PATH="$tmp/bin:$PATH" SETS=nsmc NN_DATA_MIRROR="$tmp/m4" NN_DATA_DIR="$tmp/d4" tools/fetch-data 2>&1)
  [ $? -eq 0 ] || { echo "$out"; echo "nsmc from a mirror with a manifest: expected exit 0"; exit 1; }
  for f in ratings_train.txt ratings_test.txt; do
    cmp -s "$tmp/d4/nsmc/$f" "$mini/$f" || { echo "$out"; echo "nsmc: $f did not arrive intact"; exit 1; }
  done
  echo "$out" | grep -q "NOT the official sha256" || { echo "$out"; echo "nsmc-mini: no note that it is not the official file"; exit 1; }
  out=$(PATH="$tmp/bin:$PATH" SETS=nsmc NN_DATA_MIRROR="$mini" NN_DATA_DIR="$tmp/d5" tools/fetch-data 2>&1)
  [ $? -ne 0 ] && echo "$out" | grep -q "e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940" ||
    { echo "$out"; echo "nsmc-mini served flat: expected a refusal naming the official sha256"; exit 1; }
  [ ! -f "$tmp/d5/nsmc/ratings_train.txt" ] || { echo "nsmc-mini served flat: the file was kept"; exit 1; }
  echo "$out" | grep -q "NETWORK USED" && { echo "$out"; echo "fetch-data used the network although NN_DATA_MIRROR was set"; exit 1; }
fi
echo "tools/fetch-data: mirror copy verified, corrupt file refused and removed, missing set reported"
