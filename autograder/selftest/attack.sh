# attack.sh: sourced by the grader's selftests (test_grader_selftest.sh, test_gradescope.sh).
# An attack file (autograder/selftest/*.attack) is a header of "field: value" lines, a line
# "---", and a body:
#   file:      the lab file it changes (nn_tensor.c)
#   function:  the solution region it replaces with the body (mode function, the default);
#   mode:      append (the body after the solution file) or replace (the body is the file)
#   preamble:  autograder/selftest/NAME.inc put first (raw_syscall: system calls by hand)
#   arch:      the machine it needs (uname -m), else it is skipped
#   fails:     the tests that must fail ("all": every one)
#   feedback:  an ERE their feedback must match
#   absent:    a string results.json must not hold
#   flags:     more grader options (--total-limit 10)
# In the body, @RESULTS@ and @REPO@ are replaced by the selftest's results.json and the
# repository's absolute path.

attack_field() { sed -n "s/^$1: //p" "$2"; }

# attack_submission ATTACK CHAPTER OUT RESULTS REPO: OUT/ gets the chapter's stub files from
# solutions/, with the attack's file changed. Fails if the attack's region is not there.
attack_submission() {
  local a=$1 ch=$2 out=$3 results=$4 repo=$5 file fn mode preamble body
  file=$(attack_field file "$a") fn=$(attack_field function "$a") mode=$(attack_field mode "$a")
  preamble=$(attack_field preamble "$a")
  body=$(mktemp)
  sed '1,/^---$/d' "$a" | sed -e "s|@RESULTS@|$results|g" -e "s|@REPO@|$repo|g" >"$body"
  rm -rf "$out" && mkdir -p "$out"
  for f in $(grep -l NN_LAB_STUB "labs/$ch"/*.c "labs/$ch"/*.cu); do cp "solutions/$ch/${f##*/}" "$out/"; done
  {
    printf '#include <dlfcn.h>\n#include <signal.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n'
    [ -z "$preamble" ] || cat "autograder/selftest/$preamble.inc"
    case ${mode:-function} in
      append) cat "solutions/$ch/$file" "$body" ;;
      replace) cat "$body" ;;
      *) attack_replace_region "solutions/$ch/$file" "$fn" "$body" ;;
    esac
  } >"$out/$file.new"
  local rc=$?
  mv "$out/$file.new" "$out/$file"
  rm -f "$body"
  return $rc
}

# The solution region of function $2 in file $1 replaced by the lines of file $3
# (function names are found as tools/mklabs finds them).
attack_replace_region() {
  awk -v fn="$2" -v body="$3" '
    function fname(line,   s, n, w) {
      s = line; sub(/\(.*/, "", s); n = split(s, w, /[^A-Za-z0-9_]+/)
      return w[n] != "" ? w[n] : w[n - 1]
    }
    /^[A-Za-z_][^;#]*[A-Za-z0-9_]+\(/ && !/;[ \t]*$/ && !/^(typedef|static const|#)/ { cur = fname($0) }
    /\/\* BEGIN SOLUTION \*\// && cur == fn {
      print; while ((getline l < body) > 0) print l; skip = 1; done = 1; next
    }
    skip && /\/\* END SOLUTION \*\// { skip = 0 }
    skip { next }
    { print }
    END { exit done ? 0 : 1 }
  ' "$1"
}
