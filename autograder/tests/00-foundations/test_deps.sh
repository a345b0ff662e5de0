# tools/deps as a user who cannot install: a missing required package stops the
# build with the exact apt-get line; a missing optional one is a note, not a stop.
# Shims on PATH play dpkg-query, id and sudo, so nothing is really installed.
set -u
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
cat >"$shim/dpkg-query" <<'SH'
#!/bin/sh
for p; do :; done  # the last argument is the package name
case " $NN_FAKE_MISSING " in *" $p "*) exit 1 ;; esac
echo "install ok installed"
SH
printf '#!/bin/sh\necho 1000\n' >"$shim/id"
printf '#!/bin/sh\nexit 1\n' >"$shim/sudo"
chmod +x "$shim"/*

out=$(PATH="$shim:$PATH" NN_FAKE_MISSING="libstb-dev libcriterion-dev" tools/deps --with-tests 2>&1)
rc=$?
[ $rc -eq 1 ] || { echo "$out"; echo "required packages missing: expected exit 1, got $rc"; exit 1; }
echo "$out" | grep -qx "  sudo apt-get install libstb-dev libcriterion-dev" ||
  { echo "$out"; echo "the exact apt-get line for the missing packages was not printed"; exit 1; }

out=$(PATH="$shim:$PATH" NN_FAKE_MISSING="libopenblas-dev gnuplot-nox" tools/deps 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "$out"; echo "only optional packages missing: expected exit 0, got $rc"; exit 1; }
echo "$out" | grep -q "goes on without them.*apt-get install libopenblas-dev gnuplot-nox" ||
  { echo "$out"; echo "no note naming the optional packages"; exit 1; }

out=$(PATH="$shim:$PATH" NN_FAKE_MISSING="" tools/deps --with-tests 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] || { echo "$out"; echo "nothing missing: expected silence and exit 0"; exit 1; }
echo "tools/deps: stops with the apt-get line, notes optional packages, silent when complete"
