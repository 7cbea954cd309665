#!/bin/sh
# install-deps.sh - install the Debian packages sweepd needs to build, test and demo.
#
# Does nothing when every package is already installed. Uses sudo when not
# run as root. Extra package names given as arguments are installed too
# (make bench passes the Python peers: python3-sklearn, python3-optuna, ...).
#
# Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
set -eu

PKGS="build-essential pkg-config libzmq3-dev libczmq-dev libsqlite3-dev \
libcjson-dev libuv1-dev libcmocka-dev libopenblas-dev iproute2 procps"

missing=""
for p in $PKGS "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: missing packages:$missing; run as root or install sudo" >&2
        exit 1
    fi
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
