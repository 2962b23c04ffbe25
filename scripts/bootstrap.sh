#!/usr/bin/env bash
# Creates .venv from pyproject.toml when it is missing or stale, and, when run as root on
# Debian/Ubuntu, installs the system libraries Qt needs. Safe to run again: it does nothing
# when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt itself, then what its xcb platform (the window on a Linux desktop) loads: without these the
# window does not open ("could not load the Qt platform plugin xcb").
QT_LIBS="python3-venv libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core poppler-utils"
QT_LIBS="$QT_LIBS libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0"
QT_LIBS="$QT_LIBS libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0"
# PyInstaller (the desktop bundle, scripts/ci_bundle.py) reads binaries with objdump.
QT_LIBS="$QT_LIBS binutils"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for pkg in $QT_LIBS; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    echo "bootstrap: installing system libraries:$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "bootstrap: Python 3.11 or newer is needed" >&2; exit 1; }

stamp=.venv/.installed-from
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: creating .venv with $PY"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi
