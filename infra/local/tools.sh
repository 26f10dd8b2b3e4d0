#!/usr/bin/env bash
# The Python tools of the infrastructure checks, installed from PyPI into
# virtual environments of their own (outside the repository, shared by every
# checkout on the machine): `ansible` holds ansible-core and ansible-lint,
# `checkov` holds checkov (its dependency tree conflicts with ansible-lint's,
# hence two). Versions are pinned here so that every machine lints alike.
# Idempotent: an environment whose pins are already installed is left alone.
#
# Usage: tools.sh ansible|checkov   (prints the environment's bin folder)
set -euo pipefail

TOOLS_DIR=${RILL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rill-tools}
ANSIBLE_PINS="ansible-core==2.18.19 ansible-lint==25.9.2"
CHECKOV_PINS="checkov==3.2.495"

die() { echo "tools.sh: $*" >&2; exit 1; }

python_for_venv() {
    local py
    for py in python3.11 python3; do
        command -v "$py" >/dev/null && "$py" -c 'import venv, ensurepip' 2>/dev/null &&
            { command -v "$py"; return 0; }
    done
    # Debian's python3 needs python3-venv for ensurepip.
    local sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null ||
        die "no Python with venv and ensurepip, and python3-venv could not be installed"
    command -v python3
}

ensure() {
    local name=$1 pins=$2 env=$TOOLS_DIR/$1
    if [ -x "$env/bin/python" ] && [ "$(cat "$env/.pins" 2>/dev/null)" = "$pins" ]; then
        echo "$env/bin"; return 0
    fi
    mkdir -p "$TOOLS_DIR"
    rm -rf "$env"   # a half-made or outdated one; .pins is written last
    echo "tools.sh: installing $pins into $env" >&2
    "$(python_for_venv)" -m venv "$env" >&2 || die "cannot create a venv at $env"
    # shellcheck disable=SC2086
    "$env/bin/pip" install -q --disable-pip-version-check $pins >"$TOOLS_DIR/$name.pip.log" 2>&1 ||
        { tail -20 "$TOOLS_DIR/$name.pip.log" >&2; die "pip could not install $pins"; }
    echo "$pins" >"$env/.pins"
    echo "$env/bin"
}

case "${1:-}" in
    ansible) ensure ansible "$ANSIBLE_PINS" ;;
    checkov) ensure checkov "$CHECKOV_PINS" ;;
    *) echo "usage: $0 ansible|checkov" >&2; exit 2 ;;
esac
