#!/usr/bin/env bash
# `make image-test`: builds the Dockerfile with podman and checks the image
# as a container engine runs it: the first start prints the keys, the
# health check (the binary's -healthcheck) passes, everything lands in the
# /data volume, and it runs as a non-root user.
#
# This machine cannot pull base images (no registry access), so the build
# stage runs on a builder image assembled from this machine's Go toolchain,
# make and a static busybox (BUILDER_IMAGE); the final stage is the
# Dockerfile's own FROM scratch. In this sandbox crun can set neither
# rlimits nor cgroups: podman runs with runc, keeping the limits this
# process has (--ulimit host; for a build, the same values spelled out).
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in podman runc busybox make tar; do
	command -v "$tool" >/dev/null || { echo "image-test: $tool is not installed (apt-get install podman runc busybox-static)"; exit 1; }
done
[ "$(uname -m)" = x86_64 ] || { echo "image-test: the builder image is assembled for x86_64 Debian only"; exit 1; }

PODMAN="podman --runtime runc"
TAG=cli-proxy-api:image-test
BUILDER=localhost/cpa-builder:image-test
NAME=cpa-image-test-$$
VOLUME=cpa-image-test-$$
VERSION=${VERSION:-image-test}
work=$(mktemp -d)
cleanup() {
	$PODMAN rm -f "$NAME" >/dev/null 2>&1 || true
	$PODMAN volume rm -f "$VOLUME" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== builder image from this machine's Go ($(go env GOROOT))"
goroot=$(go env GOROOT)
mkdir -p "$work/root/bin" "$work/root/tmp" "$work/root/root"
chmod 1777 "$work/root/tmp"
cp "$(command -v busybox)" "$work/root/bin/busybox"
for applet in sh mkdir rm cp mv cat date env ls; do ln -s busybox "$work/root/bin/$applet"; done
# make and the C library it links (copied, not linked: they are symlinks here).
for f in /usr/bin/make /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libdl.so.2 \
	/lib64/ld-linux-x86-64.so.2 /etc/ssl/certs/ca-certificates.crt; do
	mkdir -p "$work/root$(dirname "$f")"
	cp -L "$f" "$work/root$f"
done
tar -c -C / "${goroot#/}" -C "$work/root" bin tmp root usr lib lib64 etc |
	$PODMAN import --change "ENV PATH=$goroot/bin:/usr/bin:/bin" --change "ENV HOME=/root" - "$BUILDER" >/dev/null

# Whether this machine lets podman start a container at all: in some
# sandboxes runc may set no rlimit (seen here: the same limits worked in one
# session and were refused in the next). Then nothing can be built or run,
# and the image is checked only by tests/packaging (the Dockerfile's build
# command is the Makefile's, the entrypoint and health check run without
# a container).
if ! probe=$($PODMAN run --rm --ulimit host --network none "$BUILDER" /bin/sh -c true 2>&1); then
	echo "image-test: SKIPPED: podman cannot start a container on this machine:"
	echo "$probe" | tail -3 | sed 's/^/    /'
	exit 0
fi

echo "== podman build"
start=$(date +%s)
# The limits this process has: raising any is refused here.
limits="--ulimit nofile=$(ulimit -Sn):$(ulimit -Hn) --ulimit nproc=$(ulimit -Su):$(ulimit -Hu)"
$PODMAN build $limits --network host --format docker --build-arg BUILDER_IMAGE="$BUILDER" \
	--build-arg VERSION="$VERSION" --build-arg COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo none)" \
	--build-arg DATE=2026-01-01T00:00:00Z -t "$TAG" .

echo "== built in $(( $(date +%s) - start )) s"
echo "== run: first start, keys, health check"
$PODMAN volume create "$VOLUME" >/dev/null
# No network but the container's own loopback, where the health check
# (run inside the container) reaches the server: no port of this machine is
# used. The checks are run here, not by a systemd timer (there is none).
# podman says it cannot reach systemd for health-check timers: expected.
quiet() { "$@" 2> >(grep -v 'systemd connection' >&2); }
quiet $PODMAN run -d --ulimit host --network none --health-interval disable --name "$NAME" -v "$VOLUME:/data" "$TAG" >/dev/null
i=0
until $PODMAN healthcheck run "$NAME" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 60 ] || [ "$($PODMAN inspect -f '{{.State.Running}}' "$NAME")" != true ]; then
		echo "image-test: the container never became healthy"; $PODMAN logs "$NAME"; exit 1
	fi
	sleep 1
done
logs=$($PODMAN logs "$NAME" 2>&1)
echo "$logs" | grep -q "management key: cpa-mgmt-" || { echo "image-test: no keys in the log"; echo "$logs"; exit 1; }
echo "$logs" | grep -q "CLI Proxy API $VERSION " || { echo "image-test: the banner lacks version $VERSION"; echo "$logs"; exit 1; }
[ "$($PODMAN inspect -f '{{.Config.User}}' "$TAG")" = 65532:65532 ] || { echo "image-test: not the non-root user"; exit 1; }
$PODMAN exec "$NAME" /cli-proxy-api version | grep -q "cli-proxy-api $VERSION " || { echo "image-test: version not stamped"; exit 1; }

echo "== restart: no new keys, data kept in the volume"
data=$($PODMAN volume inspect -f '{{.Mountpoint}}' "$VOLUME")
for f in config.yaml usage.db .cli-proxy-api; do
	[ -e "$data/$f" ] || { echo "image-test: $f is not in the /data volume"; ls -la "$data"; exit 1; }
done
[ "$(stat -c %u "$data/config.yaml")" = 65532 ] || { echo "image-test: config.yaml not owned by the image's user"; exit 1; }
quiet $PODMAN restart "$NAME" >/dev/null
i=0
until $PODMAN healthcheck run "$NAME" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 60 ] || { echo "image-test: unhealthy after a restart"; $PODMAN logs "$NAME"; exit 1; }
	sleep 1
done
[ "$($PODMAN logs "$NAME" 2>&1 | grep -c 'management key: ')" = 1 ] || { echo "image-test: keys printed again"; exit 1; }
quiet $PODMAN stop "$NAME" >/dev/null
$PODMAN healthcheck run "$NAME" >/dev/null 2>&1 && { echo "image-test: healthy while stopped"; exit 1; }
echo "image-test: ok"
