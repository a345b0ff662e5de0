# The output the chapters quote (their measured blocks, tools/measured) is well formed,
# and the cheap blocks still match what their commands print now, numbers within each
# block's stated tolerance, times skipped. Then a planted stale number must be caught:
# the tool runs on a copy of a chapter whose quoted accuracy was changed.
set -u
# The blocks quote the default build (./build/nn, OpenBLAS): another build (NO_OPENBLAS=1,
# DEBUG=1) sums in another order or runs slower, and is not what the chapters show.
if [ "${NN_BUILD:-build}" != build ]; then
  echo "the measured blocks quote ./build/nn; this run tests ${NN_BUILD}"
  exit 77
fi
[ -x build/nn ] || { echo "build/nn is not built"; exit 1; }
out=$(tools/measured --check 2>&1) || { echo "$out"; exit 1; }
echo "$out"

# A copy of the repository's chapters and tools, with one number of a checked block changed.
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tools" "$tmp/build" && cp tools/measured "$tmp/tools/" && cp -r chapters "$tmp/"
ln -s "$PWD/build/nn" "$tmp/build/nn" && ln -s "$PWD/datasets" "$tmp/datasets"
python3 - "$tmp" <<'PY' || { echo "no checked block with a number to plant a stale value in"; exit 1; }
import glob, re, sys
for path in sorted(glob.glob(sys.argv[1] + "/chapters/*/README.md")):
    lines = open(path).read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("<!-- measured [check"):
            for j in range(i + 3, len(lines)):
                if lines[j] == "```":
                    break
                m = re.search(r"\b(\d{2,})\b(?!\s?(s\b|ms|images))", lines[j])
                if m:
                    lines[j] = lines[j][:m.start()] + str(int(m.group(1)) * 3 + 7) + lines[j][m.end():]
                    open(path, "w").write("\n".join(lines))
                    sys.exit(0)
sys.exit(1)
PY
planted=$("$tmp/tools/measured" --check 2>&1) && { echo "$planted"; echo "a planted stale number was not caught"; exit 1; }
echo "$planted" | grep -q "no longer prints what the text quotes" ||
  { echo "$planted"; echo "the planted stale number failed for another reason"; exit 1; }
echo "a planted stale number is caught: $(echo "$planted" | head -1 | cut -c1-120)"
