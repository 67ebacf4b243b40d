#!/usr/bin/env bash
# Build SnapStore in place and install/refresh its systemd unit and nginx site.
#
# Run as root on the host, from the checkout (default /opt/snapstore), after
# /etc/snapstore/snapstore.env exists. Idempotent: the first boot (EC2 user
# data) and every update (deploy/update.sh) run the same steps:
#   1. build as the service user: npm ci && npm run build && npm prune --omit=dev
#   2. install deploy/snapstore.service and deploy/nginx-snapstore.conf
#   3. enable and (re)start both, then wait for /healthz through nginx
#
# Environment: APP_DIR (default: the checkout this script lives in),
#              APP_USER (default snapstore), HEALTH_URL (default http://127.0.0.1/healthz).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APP_DIR=${APP_DIR:-$(dirname "$SCRIPT_DIR")}
APP_USER=${APP_USER:-snapstore}
ENV_FILE=/etc/snapstore/snapstore.env
UNIT_DST=/etc/systemd/system/snapstore.service
NGINX_DST=/etc/nginx/conf.d/snapstore.conf
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1/healthz}

log() { echo "[install] $*"; }
die() { echo "[install] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root"
[ -f "$APP_DIR/package.json" ] || die "$APP_DIR is not the SnapStore checkout"
[ -f "$ENV_FILE" ] || die "$ENV_FILE is missing (on EC2: /usr/local/sbin/snapstore-write-env)"
node_version=$(/usr/bin/node --version 2>/dev/null) || die "/usr/bin/node not found (install Node.js 20)"
case "$node_version" in v20.*) ;; *) die "/usr/bin/node is $node_version, need v20" ;; esac

# The service user: a system account without login; its home only holds the npm cache.
if ! id "$APP_USER" >/dev/null 2>&1; then
  log "creating user $APP_USER"
  useradd --system --user-group --home-dir "/var/lib/$APP_USER" --create-home --shell /sbin/nologin "$APP_USER"
fi
APP_HOME=$(getent passwd "$APP_USER" | cut -d: -f6)
install -d -o "$APP_USER" -g "$APP_USER" -m 0750 "$APP_HOME"

# The code belongs to the service user (npm never runs as root in it); the unit
# still mounts it read-only, only these two stay writable.
chown -R "$APP_USER:$APP_USER" "$APP_DIR"
install -d -o "$APP_USER" -g "$APP_USER" -m 0750 "$APP_DIR/uploads" "$APP_DIR/data"

log "building in $APP_DIR as $APP_USER"
# npm ci needs the dev dependencies (typescript) to build; prune them afterwards.
# shellcheck disable=SC2016 # "$1" is expanded by the inner bash
runuser -u "$APP_USER" -- env HOME="$APP_HOME" PATH=/usr/bin:/bin \
  npm_config_cache="$APP_HOME/.npm" npm_config_update_notifier=false \
  bash -c 'cd "$1" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund' \
  _ "$APP_DIR"
[ -f "$APP_DIR/dist/main.js" ] || die "build produced no dist/main.js"

log "installing $UNIT_DST"
install -m 0644 "$APP_DIR/deploy/snapstore.service" "$UNIT_DST"

log "installing $NGINX_DST"
install -m 0644 "$APP_DIR/deploy/nginx-snapstore.conf" "$NGINX_DST"
# The stock nginx.conf (Amazon Linux/Fedora/Debian) may mark its own port-80
# server as default_server; ours is the default, so drop that flag there.
for f in /etc/nginx/nginx.conf /etc/nginx/sites-enabled/default; do
  if [ -f "$f" ]; then
    sed -i -E 's/^([[:space:]]*listen[[:space:]]+(\[::\]:)?80)[[:space:]]+default_server/\1/' "$f"
  fi
done
# SELinux (permissive on AL2023 by default): if enforcing, let nginx proxy to :3000.
if command -v getenforce >/dev/null 2>&1 && [ "$(getenforce)" = Enforcing ]; then
  setsebool -P httpd_can_network_connect 1
fi
nginx -t

systemctl daemon-reload
systemctl enable nginx snapstore
systemctl restart snapstore
systemctl reload-or-restart nginx

log "waiting for $HEALTH_URL"
for _ in $(seq 1 45); do
  if curl -fsS -o /dev/null --max-time 3 "$HEALTH_URL"; then
    log "healthy: $(curl -sS --max-time 3 -o /dev/null -w '%{http_code}' "${HEALTH_URL%/healthz}/readyz") from /readyz"
    log "done ($(runuser -u "$APP_USER" -- git -C "$APP_DIR" rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    exit 0
  fi
  sleep 2
done
systemctl --no-pager status snapstore || true
journalctl -u snapstore -n 50 --no-pager || true
die "SnapStore did not become healthy at $HEALTH_URL"
