#!/usr/bin/python3
"""bench/footprint: memory and startup of a VRRP-only node.

Three subjects, all in one run on the same machine:
  vigil       vigil-controld + the children it starts (vigil-vrrpd), out/vigil (NativeAOT)
  keepalived  keepalived's parent + VRRP child (Debian's 2.2.7), the same keepalived.conf
  floor       two minimal NativeAOT Grpc.AspNetCore servers (health + reflection on a Unix
              socket) started from one binary: the floor of a design of gRPC daemons
For each process: RSS and PSS from /proc/PID/smaps_rollup right after READY (+5 s) and after
DURATION seconds (default 600) of VRRP at advert_int 1. Startup to READY: READY=1 on
$NOTIFY_SOCKET (controld), the VRRP child's pid file (keepalived, which notifies only under
systemd) or READY on stdout (floor), median of STARTS launches.
Each node runs in namespaces of its own (a veth to a peer namespace); everything is stopped by
its own pid and the namespaces are deleted on exit. Writes bench/results/footprint.md.
"""
import os, signal, socket, statistics, subprocess, sys, tempfile, time, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.environ.get("VIGIL_OUT", os.path.join(ROOT, "out"))
FLOOR = os.environ["FOOTPRINT_FLOOR"]  # the published floor binary
# Optional second builds of both, measured in the same run (bench/footprint/run.sh publishes
# them without dehydration and PIE): out dir and floor binary.
VARIANT_OUT = os.environ.get("VARIANT_OUT")
VARIANT_FLOOR = os.environ.get("VARIANT_FLOOR")
VARIANT_NAME = os.environ.get("VARIANT_NAME", "variant")
DURATION = int(os.environ.get("DURATION", "600"))
STARTS = int(os.environ.get("STARTS", "5"))
CONF = os.path.join(HERE, "node.conf")
TAG = f"vgfp{os.getpid()}"
work = tempfile.mkdtemp(prefix="vigil-footprint.")
procs, namespaces = [], []

def sh(*cmd):
    subprocess.run(cmd, check=True)

def make_node(name):
    node, peer = f"{TAG}-{name}", f"{TAG}-{name}-peer"
    for ns in (node, peer):
        sh("ip", "netns", "add", ns); namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", node, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", peer)
    sh("ip", "-n", node, "addr", "add", "10.231.0.1/24", "dev", "eth0")
    sh("ip", "-n", peer, "addr", "add", "10.231.0.2/24", "dev", "eth0")
    for ns in (node, peer):
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
    return node

def notify_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s

def wait_ready_notify(sock, started, timeout=30):
    sock.settimeout(0.05)
    end = started + timeout
    while time.monotonic() < end:
        try:
            msg = sock.recv(4096).decode(errors="replace")
        except socket.timeout:
            continue
        if "READY=1" in msg.split("\n"):
            return time.monotonic() - started
    raise RuntimeError("no READY=1 within %d s" % timeout)

def start_vigil(ns, run_dir, sock_path, out=OUT):
    os.makedirs(run_dir, exist_ok=True)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    return subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(out, "vigil-controld"),
                             "-f", CONF, "--run-dir", run_dir],
                            env=env, stdout=open(run_dir + ".log", "a"), stderr=subprocess.STDOUT)

def start_keepalived(ns, run_dir, sock_path):
    os.makedirs(run_dir, exist_ok=True)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    return subprocess.Popen(["ip", "netns", "exec", ns, "keepalived", "--vrrp", "-n", "-l", "-D",
                             "-f", CONF, "-p", run_dir + "/keepalived.pid",
                             "-r", run_dir + "/vrrp.pid"],
                            env=env, stdout=open(run_dir + ".log", "a"), stderr=subprocess.STDOUT)

def start_floor(sock, binary=FLOOR):
    p = subprocess.Popen([binary, sock], stdout=subprocess.PIPE, text=True)
    return p

def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()

def descendants(pid):
    """pid and every process below it (ip netns exec execs, so pid is the daemon itself)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p); todo.extend(kids.get(p, []))
    return out

def comm(pid):
    exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    argv0 = os.path.basename(open(f"/proc/{pid}/cmdline").read().split("\0")[0])
    return argv0 if argv0 != exe else exe

def rollup(pid):
    vals = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "kB":
            vals[parts[0].rstrip(":")] = int(parts[1])
    return vals

def sample(pids):
    rows = []
    for p in pids:
        r = rollup(p)
        rows.append((comm(p), p, r["Rss"], r["Pss"], r.get("Pss_Anon", 0), r.get("Pss_File", 0)))
    return rows

def mb(kb):
    return f"{kb / 1024:.1f}"

def table(title, rows):
    lines = [f"| {title} | pid | RSS MB | PSS MB | PSS anon MB | PSS file MB |", "|---|---|---|---|---|---|"]
    for name, pid, rss, pss, anon, file in rows:
        lines.append(f"| {name} | {pid} | {mb(rss)} | {mb(pss)} | {mb(anon)} | {mb(file)} |")
    tot = [sum(r[i] for r in rows) for i in (2, 3, 4, 5)]
    lines.append(f"| **node** | | **{mb(tot[0])}** | **{mb(tot[1])}** | {mb(tot[2])} | {mb(tot[3])} |")
    return "\n".join(lines), tot

def wait_file(path, started, timeout=30):
    end = started + timeout
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return time.monotonic() - started
        time.sleep(0.002)
    raise RuntimeError(f"{path} not written within {timeout} s")

def wait_ready(kind, sock, run_dir, started):
    # keepalived sends READY=1 only when its parent is systemd: its READY here is its VRRP
    # child's pid file (written once the child runs, as its own notification would be).
    if kind == "keepalived":
        return wait_file(run_dir + "/vrrp.pid", started)
    return wait_ready_notify(sock, started)

def startup_times(kind, ns):
    times = []
    for i in range(STARTS):
        run_dir = f"{work}/{kind}-start{i}"
        sock_path = f"{work}/{kind}-notify{i}"
        with notify_socket(sock_path) as s:
            t0 = time.monotonic()
            p = (start_vigil if kind == "vigil" else start_keepalived)(ns, run_dir, sock_path)
            try:
                times.append(wait_ready(kind, s, run_dir, t0))
            finally:
                stop(p)
        time.sleep(0.5)
    return times

def floor_startup():
    times = []
    for i in range(STARTS):
        t0 = time.monotonic()
        p = start_floor(f"{work}/floor-start{i}.sock")
        try:
            assert p.stdout.readline().strip() == "READY"
            times.append(time.monotonic() - t0)
        finally:
            stop(p)
    return times

def main():
    vigil_ns, ka_ns = make_node("vigil"), make_node("ka")
    var_ns = make_node("var") if VARIANT_OUT else None
    starts = {"vigil": startup_times("vigil", vigil_ns),
              "keepalived": startup_times("keepalived", ka_ns),
              "floor": floor_startup()}

    def run_vigil(ns, name, out):
        sock = f"{work}/{name}-notify"
        with notify_socket(sock) as s:
            t0 = time.monotonic(); p = start_vigil(ns, f"{work}/{name}", sock, out); procs.append(p)
            wait_ready_notify(s, t0)
        return [p]
    def run_floors(binary, name):
        fs = [start_floor(f"{work}/{name}{i}.sock", binary) for i in (1, 2)]
        procs.extend(fs)
        for f in fs:
            assert f.stdout.readline().strip() == "READY"
        return fs
    def run_keepalived():
        t0 = time.monotonic(); ka = start_keepalived(ka_ns, f"{work}/ka", f"{work}/ka-notify"); procs.append(ka)
        wait_ready("keepalived", None, f"{work}/ka", t0)
        return [ka]
    # Each subject's processes, in table order; a sample takes them and their children (a
    # daemon's children are read at each sample: controld's, keepalived's).
    roots = {"vigil": run_vigil(vigil_ns, "vigil", OUT)}
    if VARIANT_OUT:
        roots[f"vigil {VARIANT_NAME}"] = run_vigil(var_ns, "var", VARIANT_OUT)
    roots["keepalived"] = run_keepalived()
    roots["floor"] = run_floors(FLOOR, "floor")
    if VARIANT_OUT:
        roots[f"floor {VARIANT_NAME}"] = run_floors(VARIANT_FLOOR, "vfloor")
    subjects = list(roots)
    time.sleep(5)

    def take():
        return {k: sample([d for p in roots[k] for d in descendants(p.pid)]) for k in subjects}
    at_start = take()
    print("sampled at start; waiting", DURATION, "s", flush=True)
    time.sleep(DURATION)
    at_end = take()
    adverts = subprocess.run(["ip", "netns", "exec", f"{TAG}-vigil-peer", "ip", "-s", "link", "show", "eth0"],
                             capture_output=True, text=True).stdout

    md = [f"# Footprint of a VRRP-only node ({datetime.date.today()})", "",
          "`bench/footprint/run.sh` (`make bench` runs it; `DURATION=600`). One VRRP instance, "
          "advert_int 1, state MASTER, one VIP (bench/footprint/node.conf, read unchanged by both). "
          "vigil: controld + vrrpd from out/ as `make build` publishes it (one NativeAOT multi-call binary). "
          "keepalived: Debian's 2.2.7 with `--vrrp` (parent + VRRP child). floor: two processes of one minimal "
          "NativeAOT Grpc.AspNetCore server (health + reflection on a Unix socket, bench/footprint/floor), "
          "the floor of this design. "
          + (f"`{VARIANT_NAME}`: the same two programs published with `{os.environ.get('VARIANT_FLAGS', '')}`. " if VARIANT_OUT else "")
          + "PSS counts a page shared by n processes as 1/n in each, so a node's PSS is what it adds to "
          "the machine. All in one run on this 2-core machine.", ""]
    summary = {}
    whens = ("after READY + 5 s", f"after {DURATION} s of VRRP")
    for when, data in zip(whens, (at_start, at_end)):
        md += [f"## {when}", ""]
        for kind in subjects:
            t, tot = table(kind, data[kind]); md += [t, ""]
            summary[(when, kind)] = tot
    md += ["## Ratios (node PSS)", "", "| when | vigil / floor x2 | vigil / keepalived |"
           + (f" vigil {VARIANT_NAME} / floor x2 | vigil {VARIANT_NAME} / floor {VARIANT_NAME} x2 |" if VARIANT_OUT else ""),
           "|---|---|---|" + ("---|---|" if VARIANT_OUT else "")]
    for when in whens:
        v, k, f = (summary[(when, x)][1] for x in ("vigil", "keepalived", "floor"))
        row = f"| {when} | {v / f:.2f} | {v / k:.2f} |"
        if VARIANT_OUT:
            vv, vf = summary[(when, f"vigil {VARIANT_NAME}")][1], summary[(when, f"floor {VARIANT_NAME}")][1]
            row += f" {vv / f:.2f} | {vv / vf:.2f} |"
        md.append(row)
    md += ["", f"## Startup to READY (median of {STARTS}, seconds)", "",
           "| subject | median | min | max |", "|---|---|---|---|"]
    for kind, ts in starts.items():
        md.append(f"| {kind} | {statistics.median(ts):.3f} | {min(ts):.3f} | {max(ts):.3f} |")
    fmed = statistics.median(starts["floor"])
    md += ["", f"vigil's startup is {statistics.median(starts['vigil']) / fmed:.1f}x the floor's and "
           f"{statistics.median(starts['vigil']) / statistics.median(starts['keepalived']):.1f}x keepalived's "
           "(vigil: controld reads the configuration, starts vrrpd, waits for its health and pushes the "
           "configuration before READY=1; keepalived's is its VRRP child's pid file).", ""]
    md += ["Peer's view of vigil's link at the end (adverts received):", "", "```", adverts.strip(), "```", ""]
    res = os.environ.get("FOOTPRINT_RESULT", os.path.join(ROOT, "bench", "results", "footprint.md"))
    open(res, "w").write("\n".join(md))
    print("\n".join(md))

try:
    main()
finally:
    for p in procs:
        stop(p)
    for ns in namespaces:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    subprocess.run(["rm", "-rf", work])
