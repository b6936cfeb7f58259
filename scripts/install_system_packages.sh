#!/bin/sh
# Debian packages the browser tests need (the grader's jail needs only the kernel).
# Installs them when run as root on a Debian-like system; otherwise says what is missing.
set -e
PACKAGES="chromium chromium-driver"
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium chromium-driver"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
else
    echo "WARNING: missing system packages:$missing" >&2
    echo "WARNING: install them (e.g. sudo apt-get install$missing); without chromium the browser tests are skipped" >&2
fi
