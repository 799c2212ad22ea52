#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/browser), installed by `make test` when missing.
# Playwright drives it; it never downloads a browser of its own. Without it the browser tests are
# skipped (with the reason), not failed.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
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

