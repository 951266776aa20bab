#!/usr/bin/env bash
# Docker for the compose stack, without any registry (nothing can be pulled here):
#   .ci/docker.sh install   Debian's docker.io, docker-compose and debootstrap, when missing
#   .ci/docker.sh daemon    start dockerd when none answers (its pid in build/dockerd.pid)
#   .ci/docker.sh image     the image darkweb-sandbox:latest: a base from a local debootstrap
#                           root file system (built once, kept as sandbox-base:bookworm), and
#                           the project from a wheelhouse made here (build/wheelhouse)
#   .ci/docker.sh           all three
# Runs as root. Prints how long each step took. Exit 3: Docker cannot run on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

BASE=sandbox-base:bookworm
IMAGE=${SANDBOX_IMAGE:-darkweb-sandbox:latest}
WHEELS=build/wheelhouse
SUITE=bookworm

say() { printf 'docker.sh: %s\n' "$*" >&2; }
pip() { # pip, without the warnings about this machine's missing find-links folders
    python3 -m pip "$@" 2> >(grep -v "is ignored" >&2)
}
timed() { # timed LABEL CMD...: run CMD, print its wall time
    local label=$1 start=$SECONDS
    shift
    "$@"
    say "$label in $((SECONDS - start)) s"
}

install() {
    local need=()
    command -v dockerd >/dev/null || [[ -x /usr/sbin/dockerd ]] || need+=(docker.io)
    command -v docker-compose >/dev/null || need+=(docker-compose)
    command -v debootstrap >/dev/null || need+=(debootstrap)
    command -v iptables >/dev/null || need+=(iptables)
    ((${#need[@]})) || return 0
    if ((EUID != 0)); then
        say "missing ${need[*]} and not root to apt-get install them"
        exit 3
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

daemon() {
    docker info >/dev/null 2>&1 && return 0
    local dockerd
    dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
    [[ -x $dockerd ]] || { say "no dockerd (run: .ci/docker.sh install)"; exit 3; }
    mkdir -p build
    # No systemd in CI containers: run it directly, detached, logging beside the wheels.
    setsid "$dockerd" >build/dockerd.log 2>&1 </dev/null &
    # Whoever asked for the daemon (tests/test_compose.py) stops it by this pid when done.
    echo $! >build/dockerd.pid
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && return 0
        kill -0 $! 2>/dev/null || break
        sleep 0.5
    done
    say "dockerd did not start; its log (build/dockerd.log) ends:"
    tail -n 15 build/dockerd.log >&2 || true
    exit 3
}

mirror() { # the Debian mirror apt already uses (deb822 or one-line sources)
    local url
    url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v s="$SUITE" '$1 == "deb" && $0 ~ " "s" " { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')
    if [[ -z $url ]]; then
        url=$(awk -v s="$SUITE" '
            /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print u; exit } }
        ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    fi
    [[ -n $url ]] || { say "no Debian mirror for $SUITE in apt's sources"; exit 3; }
    echo "$url"
}

base() {
    docker image inspect "$BASE" >/dev/null 2>&1 && return 0
    local root
    local url
    url=$(mirror) || exit 3
    root=$(mktemp -d /tmp/sandbox-rootfs.XXXXXX)
    debootstrap --variant=minbase --include=python3,python3-venv "$SUITE" "$root" "$url" >/dev/null
    # Nothing in the image needs apt's caches or the docs.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar -C "$root" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
    rm -rf "$root"
}

wheelhouse() {
    local pyv stamp
    pyv=$(docker run --rm --network none "$BASE" python3 -c 'import platform; print(platform.python_version())')
    stamp="$(sha256sum pyproject.toml | cut -c1-16) $pyv"
    mkdir -p "$WHEELS"
    # The project's own wheel changes with every edit; its dependencies only with pyproject.toml.
    pip wheel -q --no-deps -w "$WHEELS" .
    [[ -f $WHEELS/.deps && $(cat "$WHEELS/.deps") == "$stamp" ]] && return 0
    # Wheels of every dependency (sdists built here), then whatever the image's Python (older
    # than this one, perhaps) needs instead: binary wheels chosen for its version.
    pip wheel -q -w "$WHEELS" .
    pip download -q --only-binary=:all: --python-version "$pyv" --find-links "$WHEELS" \
        -d "$WHEELS" "$WHEELS"/darkweb_sandbox-*.whl
    echo "$stamp" >"$WHEELS/.deps"
}

image() {
    daemon
    timed "base image $BASE" base
    timed "wheelhouse $WHEELS" wheelhouse
    timed "image $IMAGE" docker build -q -t "$IMAGE" . >/dev/null
}

case "${1:-all}" in
install) timed "install" install ;;
daemon) daemon ;;
image) image ;;
all) timed "install" install && image ;;
*) say "usage: $0 [install|daemon|image]" && exit 2 ;;
esac
