#!/usr/bin/env bash
# Update SnapStore in place on the host: fetch, check out REF, rebuild, restart.
#
#   sudo /opt/snapstore/deploy/update.sh [REF]     # REF: branch, tag or commit (default: main)
#
# Reach the host with Session Manager (aws ssm start-session --target <InstanceId>)
# or SSH if the stack was deployed with adminCidr. The env file is not touched;
# after a DB password rotation run /usr/local/sbin/snapstore-write-env first.
set -euo pipefail

REF=${1:-main}
APP_DIR=${APP_DIR:-/opt/snapstore}
APP_USER=${APP_USER:-snapstore}

[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
case "$REF" in -*|*[!A-Za-z0-9._/-]*) echo "bad ref: $REF" >&2; exit 1 ;; esac

as_app() { runuser -u "$APP_USER" -- "$@"; }

as_app git -C "$APP_DIR" fetch --quiet --tags --prune origin
as_app git -C "$APP_DIR" checkout --quiet --detach "origin/$REF" 2>/dev/null \
  || as_app git -C "$APP_DIR" checkout --quiet --detach "$REF"
echo "[update] at $(as_app git -C "$APP_DIR" rev-parse --short HEAD)"

# Run the install script of the version just checked out.
exec bash "$APP_DIR/deploy/install.sh"
