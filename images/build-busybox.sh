#!/usr/bin/env bash
# Builds the task image that tests, the benchmark and the quickstart use, without any registry:
# a rootfs holding Debian's busybox-static and its applet links, imported as gofer/busybox:latest.
set -euo pipefail
IMAGE="${GOFER_BUSYBOX_IMAGE:-gofer/busybox:latest}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi
if [ ! -x /bin/busybox ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  else
    echo "build-busybox: /bin/busybox is missing; install busybox-static and retry" >&2
    exit 1
  fi
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,tmp,etc,root}
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
echo "build-busybox: imported $IMAGE" >&2
