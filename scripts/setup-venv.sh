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
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
.venv/bin/python -m pip check

# Debian's Chromium for the browser tests (tests/browser). Playwright drives it; it never downloads
# a browser of its own. Without it the browser tests are skipped (with the reason), not failed.
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests (apt-get, takes 1-2 minutes)..."
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
      && [ -x /usr/bin/chromium ]; then
    echo "Chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  else
    echo "Could not install Debian's Chromium (no apt-get, no root rights, or no package source)." >&2
    echo "The browser tests will be skipped. To run them: sudo apt-get install chromium" >&2
  fi
fi
touch .venv/.installed
