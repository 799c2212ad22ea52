#!/usr/bin/env bash
# Creates .venv with Python 3.10 (Rasa 3.6 supports 3.8-3.10) and installs the pinned set.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  # A python3.10 on PATH may be a pyenv shim that fails unless 3.10 is active: test that it runs.
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    command -v python3.10; return
  fi
  local roots=()
  command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)/versions")
  roots+=("$HOME/.pyenv/versions")
  for root in "${roots[@]}"; do
    for candidate in $(ls -d "$root"/3.10.* 2>/dev/null | sort -V -r); do
      if "$candidate/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
        echo "$candidate/bin/python"; return
      fi
    done
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  PY=$(find_python) || {
    echo "Sam needs Python 3.10 (Rasa 3.6 runs on 3.8-3.10 only)." >&2
    echo "Install it, e.g. 'pyenv install 3.10' or your package manager's python3.10, then run make again." >&2
    exit 1
  }
  echo "Creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi
# Installing the pinned set takes 3-6 minutes on a fresh machine (Rasa brings TensorFlow): say so,
# and show that it is still going, instead of minutes of silence.
echo "Installing Sam's dependencies ($(grep -c '==' requirements.lock) pinned packages; 3-6 minutes the first time)..."
( while sleep 20; do echo "  still installing... ${SECONDS}s"; done ) &
TICKER=$!
trap 'kill $TICKER 2>/dev/null || true' EXIT
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
.venv/bin/python -m pip check
kill $TICKER 2>/dev/null || true
echo "Dependencies installed (${SECONDS}s)."

touch .venv/.installed
