#!/usr/bin/env bash
# Print the path of a working Python X.Y (the Lambda runtime's version), or say how to get one.
#
#   bash tools/find_python.sh 3.13            # search
#   bash tools/find_python.sh 3.13 CANDIDATE  # check CANDIDATE (a name on PATH or a path) instead
#
# Search order: a python3.13 on PATH that really runs (a pyenv shim for a version that is not
# selected exits 127, so each one on PATH is tried), then pyenv's own builds
# ($(pyenv root)/versions/3.13*/bin/python3.13, newest first), which need not be the global version.
# Used by the Makefile (PYTHON), tools/check_template.sh (sam build) and .ci/run.
set -uo pipefail

want="${1:?usage: find_python.sh X.Y [CANDIDATE]}"
candidate="${2:-}"

# The interpreter's own path if it runs and is Python $want, else nothing.
probe() {
  "$1" -c "import sys; print(sys.executable) if '%d.%d' % sys.version_info[:2] == '$want' else sys.exit(1)" 2>/dev/null
}

if [[ -n "$candidate" ]]; then
  probe "$candidate" && exit 0
  got=$("$candidate" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null) || got="does not run"
  echo "Python $want is needed: PYTHON=$candidate is $([[ $got == "does not run" ]] && echo "not a working interpreter" || echo "Python $got")." >&2
  echo "Leave PYTHON unset to let the Makefile find python$want, or pass one: make PYTHON=/path/to/python$want" >&2
  exit 1
fi

while IFS= read -r exe; do
  probe "$exe" && exit 0
done < <(type -aP "python$want" 2>/dev/null)

if command -v pyenv >/dev/null 2>&1; then
  pyenv_root=$(pyenv root 2>/dev/null)
else
  pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
fi
if [[ -n "$pyenv_root" && -d "$pyenv_root/versions" ]]; then
  while IFS= read -r exe; do
    probe "$exe" && exit 0
  done < <(ls -d "$pyenv_root/versions/$want"*/bin/"python$want" 2>/dev/null | sort -rV)
fi

cat >&2 <<EOF
Python $want is needed (the functions run on the python$want Lambda runtime; .venv, ruff, mypy, the tests
and sam build use it), but none was found: no working python$want on PATH, none in ${pyenv_root:-pyenv}/versions/$want*.
Get one, then run make again:
  pyenv install $want            (no need to make it the global or local version)
  apt-get install python$want python$want-venv   (where the distribution has it)
or point make at one: make PYTHON=/path/to/python$want
EOF
exit 1
