# The code shown in chapters/*/README.md is woven from solutions/ by tools/weave;
# a block that no longer matches its source (or names a missing anchor) fails.
set -u
out=$(tools/weave --check 2>&1); rc=$?
echo "$out"
exit $rc
