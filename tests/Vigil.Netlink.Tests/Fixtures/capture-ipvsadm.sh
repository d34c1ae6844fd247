#!/usr/bin/env bash
# Regenerates the captures of ipvsadm's generic netlink requests (and the kernel's answers) used
# by the IPVS byte-for-byte and decoder tests. The development kernel has no IPVS, so this runs
# ipvsadm under strace inside a QEMU VM booting Debian's kernel (Vm/ipvs-vm.sh), one command
# after the other against the same IPVS table, and also saves `ipvsadm -Ln` style listings.
# Usage (root): tests/Vigil.Netlink.Tests/Fixtures/capture-ipvsadm.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/vigil-ipvsadm-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/capture.sh" <<'INNER'
set -u
out=/tmp/out/ipvs
mkdir -p $out
ip link add d0 type dummy
ip addr add 10.0.0.254/24 dev d0
ip -6 addr add 2001:db8::fe/64 dev d0 nodad
ip link set d0 up
cap() {
  name=$1; shift
  {
    echo "# command: $*"
    echo "# kernel: $(uname -r)"
    echo "# ipvsadm: $(ipvsadm --version 2>&1)"
    strace -f -e trace=sendmsg,recvmsg -e write=all -e read=all -xx -s 65536 "$@" 2>&1 >/dev/null
  } > $out/$name.strace
}
cap svc-add-tcp-rr ipvsadm -A -t 10.0.0.1:80 -s rr
cap dest-add-dr ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 3
cap dest-add-nat-thresholds ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 5 -x 100 -y 10
cap dest-add-tun-gue ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.4:80 -i --tun-type gue --tun-port 6080 --tun-nocsum
cap svc-add-udp-persistent ipvsadm -A -u 10.0.0.1:53 -s wrr -p 300 -M 255.255.255.0
cap svc-add-fwmark ipvsadm -A -f 5 -s wlc
cap dest-add-fwmark ipvsadm -a -f 5 -r 10.0.0.5 -g
cap svc-add-v6 ipvsadm -A -t [2001:db8::1]:443 -s sh -b sh-fallback,sh-port
cap dest-add-v6 ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -g
cap svc-add-onepacket ipvsadm -A -u 10.0.0.1:5000 -s rr -o
cap list ipvsadm -Ln
ipvsadm -Ln > $out/list.txt
ipvsadm -Ln --stats > $out/list-stats.txt
ipvsadm -S -n > $out/save.txt
cap list-service ipvsadm -Ln -t 10.0.0.1:80
cap svc-edit ipvsadm -E -t 10.0.0.1:80 -s wrr
cap dest-edit ipvsadm -e -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 0
cap dest-del ipvsadm -d -t 10.0.0.1:80 -r 10.0.0.2:80
cap svc-del ipvsadm -D -u 10.0.0.1:5000
cap zero ipvsadm -Z
cap timeouts-set ipvsadm --set 900 120 300
cap timeouts-get ipvsadm -L --timeout
cap daemon-start ipvsadm --start-daemon master --mcast-interface d0 --syncid 7
cap daemon-start-backup ipvsadm --start-daemon backup --mcast-interface d0 --syncid 3 --sync-maxlen 1400 --mcast-group 224.0.0.82 --mcast-port 8849 --mcast-ttl 2
cap daemon-list ipvsadm -L --daemon
ipvsadm -L --daemon > $out/daemon-list.txt
cap daemon-stop ipvsadm --stop-daemon master
cap svc-add-pe ipvsadm -A -u 10.0.0.1:5060 -s rr -p 60 --pe sip
cap flush ipvsadm -C
INNER
"$here/../Vm/ipvs-vm.sh" "$work" capture.sh || { echo "VM run failed; console:"; tail -40 "$work/console.log"; exit 1; }
mkdir -p "$here/ipvs"
cp "$work"/ipvs/* "$here/ipvs/"
ls "$here/ipvs"
