#!/usr/bin/env bash
# Boots Debian's kernel (which has IPVS, unlike the development machines' kernel) under QEMU with
# the host's root filesystem shared read-only over 9p, and runs a script inside it, chrooted into
# the host's files (so the host's ipvsadm, strace and .NET run there unchanged).
#   ipvs-vm.sh OUTDIR SCRIPT
# OUTDIR (host directory) is shared read-write and appears in the VM as /tmp/out (the rest of the
# VM's /tmp shows the host's /tmp, writable through an overlay kept in memory); SCRIPT must be
# inside it and is run as `sh /tmp/out/SCRIPT`. Its exit status is written to OUTDIR/exit-status.
# The console (kernel messages and the script's stdout/stderr) is written to OUTDIR/console.log.
# Follows /work/shared/recipes/ipvs-vm.md. Needs: qemu-system-x86 linux-image-amd64 busybox-static.
set -euo pipefail
out=$(cd "$1" && pwd)
script=$2
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[[ -n "$kernel" ]] || { echo "no /boot/vmlinuz-*: install linux-image-amd64" >&2; exit 3; }
version=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$version/kernel
[[ -d "$moddir" ]] || { echo "no modules in $moddir: install linux-image-amd64" >&2; exit 3; }
busybox=/bin/busybox   # busybox-static's binary: the initramfs has no libc
[[ -x "$busybox" ]] || { echo "busybox (static) missing: install busybox-static" >&2; exit 3; }
qemu=$(command -v qemu-system-x86_64 || true)
[[ -n "$qemu" ]] || { echo "qemu-system-x86_64 missing: install qemu-system-x86" >&2; exit 3; }

# Load order matters: insmod does not resolve dependencies.
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache
9pnet 9pnet_virtio 9p crc32c_generic libcrc32c nf_defrag_ipv4 nf_defrag_ipv6 nf_conntrack
ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_sed ip_vs_nq ip_vs_mh ip_vs_fo ip_vs_ovf
veth macvlan ipvlan dummy overlay"

cache=${VIGIL_VM_CACHE:-/tmp/vigil-netlink-vm}/$version
initrd=$cache/initrd.gz
if [[ ! -s "$initrd" ]]; then
  # Built aside and renamed into place, so parallel runs never see half an initramfs.
  mkdir -p "$(dirname "$cache")"
  build=$(mktemp -d "$cache.build.XXXXXX")
  root=$build/root
  mkdir -p "$root"/{bin,proc,sys,dev,host,modules}
  cp "$busybox" "$root/bin/busybox"
  for l in sh mount insmod chroot cat echo poweroff mkdir sleep; do ln -s busybox "$root/bin/$l"; done
  for m in $modules; do
    f=$(find "$moddir" -name "$m.ko*" | head -1)
    [[ -n "$f" ]] || { echo "module $m not found under $moddir" >&2; exit 3; }
    case "$f" in
      *.ko.xz) xz -dc "$f" > "$root/modules/$m.ko" ;;
      *.ko.zst) zstd -qdc "$f" > "$root/modules/$m.ko" ;;
      *) cp "$f" "$root/modules/$m.ko" ;;
    esac
  done
  cat > "$root/init" <<INIT
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(echo $modules); do insmod /modules/\$m.ko || echo "insmod \$m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro host /host
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
# /tmp stays the host's /tmp (a checkout or build output may live there), made writable by an
# overlay whose writes go to memory.
mkdir -p /rw && mount -t tmpfs rw /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host/tmp,upperdir=/rw/upper,workdir=/rw/work /host/tmp || mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
mkdir -p /host/tmp/out /host/run/netns
mount -t 9p -o trans=virtio,version=9p2000.L out /host/tmp/out
echo VIGIL-VM-READY
chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 /bin/sh /tmp/out/\$(cat /host/tmp/out/.script)
echo \$? > /host/tmp/out/exit-status
echo VIGIL-VM-DONE
poweroff -f
INIT
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$build/initrd.gz")
  mkdir -p "$cache" && mv -f "$build/initrd.gz" "$initrd" && rm -rf "$build"
fi

echo "$script" > "$out/.script"
rm -f "$out/exit-status"
# TCG: KVM boots hang on these machines (recipe). -no-reboot + poweroff ends QEMU.
timeout "${VIGIL_VM_TIMEOUT:-600}" "$qemu" -m 1024 -smp 1 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1 no_timer_check" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$out",mount_tag=out,security_model=none \
  > "$out/console.log" 2>&1 < /dev/null || true
[[ -f "$out/exit-status" ]] || { echo "the VM did not finish the script; console:" >&2; tail -50 "$out/console.log" >&2; exit 4; }
exit "$(cat "$out/exit-status")"
