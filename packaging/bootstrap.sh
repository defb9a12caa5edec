#!/bin/sh
# Set up Network Studio in ./.venv on a fresh machine. Idempotent: a second
# run only checks. Usage: sh packaging/bootstrap.sh [--dev]
#   --dev  also install the test tools (pytest, pytest-qt, hypothesis, ...)
set -eu
cd "$(dirname "$0")/.."

# Qt needs a few system libraries that a bare Debian/Ubuntu lacks; Xvfb and the
# xcb libraries let the app and its screenshots run without a physical display.
QT_DEBS="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core \
libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0 \
libxcb-xinerama0 libxcb-image0 xvfb xauth"
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for p in $QT_DEBS; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        echo "Installing system libraries for Qt:$missing"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check "setuptools<81" wheel
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"
