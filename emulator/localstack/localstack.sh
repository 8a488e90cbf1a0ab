#!/usr/bin/env bash
# LocalStack (S3, KMS, SQS, EventBridge) without Docker, as emulator/README.md and
# ../shared/reference/second-emulators.md describe: localstack-core needs Python >= 3.12 in fact
# (its code uses PEP 695 syntax), so it runs in a Debian 13 (trixie) chroot with Debian's Python 3.13,
# built by debootstrap into a cache directory outside the repository and reused while its stamps
# match. Needs root (debootstrap, mount, chroot).
#
#   emulator/localstack/localstack.sh install      build or reuse the chroot and its venv
#   emulator/localstack/localstack.sh run PORT     run LocalStack on 127.0.0.1:PORT until SIGTERM/SIGINT
#                                                  or until the process that started it is gone
# One LocalStack per chroot at a time (its mounts are shared).
#
# Every failure names its step. `run` mounts proc, the device directory and a tmpfs inside the chroot
# and unmounts them on exit, whatever the exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${SSEGUARD_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sseguard}/localstack"
root="$cache/trixie"
venv=/opt/localstack
suite=trixie

fail() { echo "sseguard localstack: $*" >&2; exit 1; }
say() { echo "sseguard localstack: $*" >&2; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, mount and chroot); run it as root or under sudo"

# The Debian mirror the machine's own apt sources name (deb822 or one-line format).
mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# The CA bundle pip is configured with on this machine (a TLS-inspecting proxy's root may be in it).
ca_bundle() {
  local bundle
  bundle=$(pip3 config get global.cert 2>/dev/null || true)
  [ -n "$bundle" ] && [ -f "$bundle" ] || bundle=/etc/ssl/certs/ca-certificates.crt
  echo "$bundle"
}

mounted=()
mount_in_chroot() {
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc" && mounted+=("$root/proc"); }
  mountpoint -q "$root/dev" || { mount --bind /dev "$root/dev" && mounted+=("$root/dev"); }
  mountpoint -q "$root/tmp" || { mount -t tmpfs -o size=512m tmpfs "$root/tmp" && mounted+=("$root/tmp"); }
}
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || say "could not unmount ${mounted[$i]}"
  done
  mounted=()
}

install() {
  mkdir -p "$cache"
  if [ ! -f "$root/.sseguard-debootstrap-complete" ]; then
    command -v debootstrap >/dev/null || {
      say "installing debootstrap (apt-get)…"
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2 \
        || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2; } \
        || fail "step 1/3 (apt-get install debootstrap) failed"
    }
    rm -rf "$root"
    say "step 1/3: debootstrap $suite into $root from $(mirror) (about 1.5 min, 290 MB)…"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      "$suite" "$root" "$(mirror)" >"$cache/debootstrap.log" 2>&1 \
      || fail "step 1/3 (debootstrap $suite) failed; the last lines of $cache/debootstrap.log:
$(tail -n 15 "$cache/debootstrap.log")"
    touch "$root/.sseguard-debootstrap-complete"
  fi
  # pip inside the chroot trusts what pip on this machine trusts, and resolves names as it does.
  cp "$(ca_bundle)" "$root/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

  local want
  want=$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$root$venv/.sseguard-installed" 2>/dev/null || true)" != "$want" ]; then
    say "step 2/3: localstack-core into the chroot's venv (pip, pinned by emulator/localstack/constraints.txt)…"
    cp "$here/requirements.txt" "$root/tmp-requirements.txt"
    cp "$here/constraints.txt" "$root/tmp-constraints.txt"
    trap unmount_all EXIT
    mount_in_chroot
    chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
      PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
      /bin/sh -c "rm -rf $venv && python3 -m venv $venv && $venv/bin/pip install --quiet \
        -r /tmp-requirements.txt -c /tmp-constraints.txt" >&2 \
      || fail "step 2/3 (pip install localstack-core in the chroot) failed: see the pip output above"
    unmount_all
    trap - EXIT
    rm -f "$root/tmp-requirements.txt" "$root/tmp-constraints.txt"
    echo "$want" >"$root$venv/.sseguard-installed"
  fi
  say "step 3/3: ready ($root)"
}

run() {
  local port="${1:?usage: localstack.sh run PORT}"
  [ -f "$root/.sseguard-debootstrap-complete" ] && [ -f "$root$venv/.sseguard-installed" ] \
    || fail "not installed: run emulator/localstack/localstack.sh install first"
  local child= parent=$PPID
  cleanup() {
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
      kill -TERM "$child" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$child" 2>/dev/null || true
    fi
    # Anything LocalStack left running in the chroot keeps the mounts busy.
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    unmount_all
  }
  trap cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  mount_in_chroot
  # One LocalStack per chroot: its state directory and cache live in the chroot's /tmp (a fresh tmpfs).
  chroot "$root" /usr/bin/env -i PATH="$venv/bin:/usr/bin:/bin" HOME=/root \
    SERVICES=s3,kms,sqs,events,sts,iam \
    GATEWAY_LISTEN="127.0.0.1:$port" GATEWAY_SERVER=hypercorn LOCALSTACK_HOST="127.0.0.1:$port" \
    SQS_ENDPOINT_STRATEGY=off DNS_ADDRESS=0 S3_SKIP_KMS_KEY_VALIDATION=0 \
    DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 LOCALSTACK_TELEMETRY_DISABLED=1 \
    "$venv/bin/python" -m localstack.runtime.main &
  child=$!
  # Stop with the process that started this one, even when it died without stopping us.
  while kill -0 "$child" 2>/dev/null; do
    kill -0 "$parent" 2>/dev/null || { say "the process that started LocalStack ($parent) is gone: stopping it"; exit 1; }
    sleep 1
  done
  wait "$child"
}

case "${1:-}" in
  install) install ;;
  run) shift; run "$@" ;;
  *) fail "usage: localstack.sh install | run PORT" ;;
esac
