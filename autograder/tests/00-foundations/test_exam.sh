# nn exam: a seeded sheet's key, fed back on stdin, scores full marks; wrong answers
# are each rejected; shapes are accepted as "(32, 26, 26)", "32x26x26" and "32 26 26";
# the same seed gives the same sheet; a bad --topic says which topics there are and
# exits 2; every topic, in both frameworks, generates problems. About 30 runs of
# build/nn, so it stays under 5 s even where loading CUDA's libraries is slow.
set -u
nn=${NN_BUILD:-build}/nn
[ -x "$nn" ] || { echo "$nn is not built"; exit 1; }
fail() { echo "nn exam: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args="--seed 42 --count 30 --topic all"

"$nn" exam $args --answers --format lines >"$tmp/key" || fail "--answers --format lines exited $?"
[ "$(wc -l <"$tmp/key")" -eq 30 ] || { cat "$tmp/key"; fail "the key has $(wc -l <"$tmp/key") lines, expected 30"; }

# the key, fed back: every answer correct
"$nn" exam $args <"$tmp/key" >"$tmp/out" 2>&1 || { tail -20 "$tmp/out"; fail "the session exited $?"; }
[ "$(grep -c '^result [0-9]* correct$' "$tmp/out")" -eq 30 ] ||
  { grep '^result' "$tmp/out" | grep -v correct; fail "the key fed back was not all correct"; }
grep -qx 'score 30/30' "$tmp/out" || { tail -12 "$tmp/out"; fail "no 'score 30/30' line after the key"; }

# shapes written as 32x26x26 and as 32 26 26 are the same answers
sed -E '/^\(/ { s/[(),]//g; s/ +/x/g }' "$tmp/key" >"$tmp/key_x"
sed -E '/^\(/ { s/[(),]//g }' "$tmp/key" >"$tmp/key_sp"
grep -q x "$tmp/key_x" || fail "seed 42 has no shape question; the format test tests nothing"
for k in key_x key_sp; do
  "$nn" exam $args <"$tmp/$k" | grep -qx 'score 30/30' || { head -5 "$tmp/$k"; fail "shapes written as in $k were not accepted"; }
done

# every number of every answer changed (x -> x + 1 + |x|): each answer rejected
awk '{ out = ""; s = $0
       while (match(s, /-?[0-9]+(\.[0-9]+)?(e-?[0-9]+)?/)) {
         x = substr(s, RSTART, RLENGTH) + 0; y = x + 1 + (x < 0 ? -x : x)
         out = out substr(s, 1, RSTART - 1) y; s = substr(s, RSTART + RLENGTH) }
       print out s }' "$tmp/key" >"$tmp/wrong"
"$nn" exam $args <"$tmp/wrong" >"$tmp/out" 2>&1 || fail "the session with wrong answers exited $?"
[ "$(grep -c '^result [0-9]* wrong expected=.* got=' "$tmp/out")" -eq 30 ] ||
  { grep '^result' "$tmp/out" | grep -v wrong; fail "a wrong answer was accepted"; }
grep -qx 'score 0/30' "$tmp/out" || fail "no 'score 0/30' line after 30 wrong answers"
# a wrong shape names both: result N wrong expected=(...) got=(...)
grep -q '^result [0-9]* wrong expected=(.*) got=(.*)$' "$tmp/out" || fail "a wrong shape does not show expected= and got="

# the same seed, the same sheet; another seed, another
"$nn" exam $args --print >"$tmp/a" && "$nn" exam $args --print >"$tmp/b" || fail "--print failed"
cmp -s "$tmp/a" "$tmp/b" || fail "the same seed printed two different sheets"
"$nn" exam --seed 43 --count 30 --topic all --print >"$tmp/c"
cmp -s "$tmp/a" "$tmp/c" && fail "seeds 42 and 43 printed the same sheet"
grep -q '^## 30\. ' "$tmp/a" || fail "the sheet has no problem 30"
"$nn" exam $args --answers | grep -q '^\*\*Answer: ' || fail "--answers has no answers"

# a bad topic: exit 2, the topics listed
"$nn" exam --topic convolution >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "--topic convolution exited $rc, expected 2"
for t in conv pool rnn attention activation loss optimizer metrics rl all; do
  grep -q "$t" "$tmp/out" || { cat "$tmp/out"; fail "the bad-topic message does not list $t"; }
done

# every topic, both frameworks, generates problems; Keras' key scores full marks too
for fw in pytorch keras; do
  for t in conv pool rnn attention activation loss optimizer metrics rl; do
    n=$("$nn" exam --seed 7 --count 4 --topic $t --framework $fw --answers --format lines | grep -c .)
    [ "$n" -eq 4 ] || fail "--topic $t --framework $fw gave $n answers, expected 4"
  done
done
"$nn" exam $args --framework keras --answers --format lines >"$tmp/k" || fail "--framework keras exited $?"
"$nn" exam $args --framework keras <"$tmp/k" | grep -qx 'score 30/30' || fail "--framework keras: its key does not score 30/30"
"$nn" exam --list | grep -q '^[0-9]* families, [0-9]* variants$' || fail "--list has no summary line"

# a NUL byte in an answer must not shift the later answers onto other problems
"$nn" exam $args --answers --format lines >"$tmp/key" || fail "--answers --format lines failed"
{ printf 'x\0y\n'; tail -n +2 "$tmp/key"; } | "$nn" exam $args >"$tmp/out" 2>&1
grep -qx 'score 29/30' "$tmp/out" || { tail -5 "$tmp/out"; fail "a NUL byte in answer 1 cost more than that answer"; }
# the input ends early: the topics' lines add up to the total, the rest "not answered"
head -n 5 "$tmp/key" | "$nn" exam $args >"$tmp/out" 2>&1
grep -qx 'score 5/30' "$tmp/out" && grep -q '^  not answered 0/25$' "$tmp/out" ||
  { tail -12 "$tmp/out"; fail "after 5 answers and the end of input: expected score 5/30 and 'not answered 0/25'"; }
# the framework names nn summary takes
"$nn" exam --seed 7 --count 2 --framework TF --print >/dev/null || fail "--framework TF (Keras) was refused"
"$nn" exam --seed 99999999999999999999 --count 1 --print >/dev/null 2>&1 && fail "a seed beyond 2^64 was accepted"
echo "nn exam: key 30/30, wrong answers 0/30, sheets reproducible, every topic in both frameworks"
