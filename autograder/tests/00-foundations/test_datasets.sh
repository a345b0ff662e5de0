# The bundled datasets are what datasets/README.md says: every file verifies against
# datasets/SHA256SUMS, every file under datasets/ (except README.md, SHA256SUMS and the
# git-ignored datasets/full/ of `make data`) is listed there, and every listed file is
# named in datasets/README.md.
set -u
cd datasets 2>/dev/null || { echo "no datasets/ folder (run from the repository root)"; exit 1; }
[ -f SHA256SUMS ] || { echo "datasets/SHA256SUMS is missing"; exit 1; }
[ -f README.md ] || { echo "datasets/README.md is missing"; exit 1; }

out=$(sha256sum -c --quiet SHA256SUMS 2>&1) ||
  { echo "$out"; echo "datasets/SHA256SUMS does not verify: the files above differ from what was committed"; exit 1; }

listed=$(sed 's/^[0-9a-f]\{64\} [ *]//' SHA256SUMS | LC_ALL=C sort)
present=$(find . -path ./full -prune -o -type f ! -name README.md ! -name SHA256SUMS -print |
          sed 's|^\./||' | LC_ALL=C sort)
unlisted=$(LC_ALL=C comm -13 <(echo "$listed") <(echo "$present"))
[ -z "$unlisted" ] ||
  { echo "$unlisted"; echo "files in datasets/ not listed in datasets/SHA256SUMS (add them, with their source in README.md): $(echo $unlisted)"; exit 1; }

missing=""
while IFS= read -r f; do
  grep -qF "\`$f\`" README.md || missing="$missing $f"
done <<<"$listed"
[ -z "$missing" ] || { echo "files in SHA256SUMS not named in datasets/README.md:$missing"; exit 1; }

echo "datasets: $(echo "$listed" | wc -l) files verify against SHA256SUMS, all listed and described in README.md"
