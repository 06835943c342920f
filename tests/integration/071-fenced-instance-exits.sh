#!/bin/bash
# Two instances on one store: the earlier is fenced and must stop.  A
# runs with a 1 MiB memtable under a create/rename/remove churn whose
# client records every op and every acknowledged COMMIT; then B starts on
# the same store with its own cache directory.  A's next write finds the
# newer manifest: A must log that it is fenced and exit with status 1
# (a fenced writer that keeps serving hands its clients a frozen, stale
# namespace and EROFS forever).  B must then hold every op A's COMMITs
# acknowledged: the churn directory as seen through B is exactly the
# state after some prefix of A's ops, no shorter than the last ack.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
export ITDIR
ITDIR=$(cd "$(dirname "$0")" && pwd)
cat >"$T/churn.py" <<'PY'
import hashlib, json, os, random, struct, sys, time
sys.path.insert(0, os.environ["ITDIR"])
import nfsraw as nr
import rpcpoke as rp

UNSTABLE = 0


class C(nr.Client):
    def lookup(self, d, name):
        r = self.call(rp.NFS_PROG, 3, 3, nr.opaque(d) + nr.opaque(name), "LOOKUP")
        st = r.u32()
        if st != 0:
            return None, None, st
        fh = r.opaque()
        a = r.post_op_attr()
        return fh, a, 0

    def mkdir(self, d, name):
        sattr = struct.pack(">II", 1, 0o755) + struct.pack(">5I", 0, 0, 0, 0, 0)
        r = self.nfs(9, nr.opaque(d) + nr.opaque(name) + sattr, "MKDIR")
        r.u32()
        return r.opaque()

    def remove(self, d, name, proc=12):
        self.nfs(proc, nr.opaque(d) + nr.opaque(name), "REMOVE")

    def rename(self, d1, n1, d2, n2):
        self.nfs(14, nr.opaque(d1) + nr.opaque(n1) + nr.opaque(d2) + nr.opaque(n2), "RENAME")

    def readdir(self, d):
        cookie, verf, out = 0, b"\0" * 8, []
        for _ in range(100000):
            r = self.nfs(16, nr.opaque(d) + struct.pack(">Q", cookie) + verf + struct.pack(">I", 8192), "READDIR")
            r.post_op_attr()
            verf = r.take(8)
            while r.u32():
                r.u64()
                name = r.opaque()
                cookie = r.u64()
                out.append(name)
            if r.u32():
                return out
        raise nr.Fail("READDIR never ended")


def walk(c, fh, path, out):
    for name in c.readdir(fh):
        if name in (b".", b".."):
            continue
        sub, a, st = c.lookup(fh, name)
        if st:
            raise nr.Fail("LOOKUP %s/%s after READDIR listed it: %d" % (path, name.decode(), st))
        p = path + "/" + name.decode()
        if a["type"] == 2:
            out[p] = "d"
            walk(c, sub, p, out)
        else:
            data = c.read(sub, 0, 65536) if a["size"] else b""
            out[p] = "f:%d:%s" % (a["size"], hashlib.sha1(data).hexdigest()[:12])


def content(i):
    return (("file %d " % i) * 40).encode()[: 100 + i % 300]


def run(port, top, logf, seed, nops):
    rng = random.Random(seed)
    c = C(port)
    log = open(logf, "a")

    def note(s):
        log.write(s + "\n")
        log.flush()
        os.fsync(log.fileno())

    root = c.mount_root()
    topfh = c.mkdir(root, top.encode())
    dirs = {"": topfh}
    files = {}  # path -> fh
    pad = "x" * 150
    # first the directories
    for i in range(6):
        name = "d%d%s" % (i, pad)
        note("OP mkdir /%s" % name)
        dirs["/" + name] = c.mkdir(topfh, name.encode())
        note("DONE")
    for n in range(nops):
        k = rng.random()
        dname = rng.choice(list(dirs))
        if k < 0.45 or len(files) < 5:
            name = "f%d%s" % (n, pad)
            p = dname + "/" + name
            note("OP create %s %d" % (p, n))
            fh = c.create(dirs[dname], name.encode())
            c.write(fh, 0, content(n))
            files[p] = fh
            note("DONE")
        elif k < 0.7:
            src = rng.choice(sorted(files))
            name = "r%d%s" % (n, pad)
            p = dname + "/" + name
            sd, sn = src.rsplit("/", 1)
            note("OP rename %s %s" % (src, p))
            c.rename(dirs[sd], sn.encode(), dirs[dname], name.encode())
            files[p] = files.pop(src)
            note("DONE")
        elif k < 0.9:
            src = rng.choice(sorted(files))
            sd, sn = src.rsplit("/", 1)
            note("OP remove %s" % src)
            c.remove(dirs[sd], sn.encode())
            del files[src]
            note("DONE")
        elif k < 0.93 and len(dirs) < 30:
            name = "s%d%s" % (n, pad)
            p = dname + "/" + name
            note("OP mkdir %s" % p)
            dirs[p] = c.mkdir(dirs[dname], name.encode())
            note("DONE")
        else:
            fh = files[rng.choice(sorted(files))]
            note("OP commit")
            c.commit(fh)
            note("ACK")


def model_states(logf):
    """Yields (index, acked, state) for the state after each op prefix."""
    state, ops = {}, []
    lines = open(logf).read().split("\n")
    cur, lastack, i = None, 0, 0
    seq = []  # list of ops, with done flag
    for ln in lines:
        if ln.startswith("OP "):
            seq.append([ln[3:].split(" "), False])
        elif ln == "DONE" or ln == "ACK":
            seq[-1][1] = True
            if ln == "ACK":
                lastack = len(seq)
    return seq, lastack


def apply(state, op, contents):
    if op[0] == "mkdir":
        state[op[1]] = "d"
    elif op[0] == "create":
        d = content(int(op[2]))
        state[op[1]] = "f:%d:%s" % (len(d), hashlib.sha1(d).hexdigest()[:12])
    elif op[0] == "rename":
        state[op[2]] = state.pop(op[1])
    elif op[0] == "remove":
        del state[op[1]]


def check(port, top, logf):
    c = C(port)
    root = c.mount_root()
    fh, a, st = c.lookup(root, top.encode())
    got = {}
    if st == 0:
        walk(c, fh, "", got)
    seq, lastack = model_states(logf)
    state = {}
    ok_at = []
    if st == 0 and got == state:
        ok_at.append(0)
    for i, (op, done) in enumerate(seq):
        apply(state, op, None)
        if got == state:
            ok_at.append(i + 1)
    good = [k for k in ok_at if k >= lastack]
    print("ops %d, last ack after op %d, recovered %d entries, matches prefixes %s"
          % (len(seq), lastack, len(got), ok_at[-3:]))
    if not good:
        # say how it differs from the acked state
        state = {}
        for op, _ in seq[:lastack]:
            apply(state, op, None)
        miss = sorted(set(state) - set(got))[:5]
        extra = sorted(set(got) - set(state))[:5]
        diff = sorted(p for p in set(got) & set(state) if got[p] != state[p])[:5]
        print("FAIL: not a prefix at or after the last ack; vs acked state: missing %s extra %s differ %s"
              % (miss, extra, [(p, got[p], state[p]) for p in diff]))
        return 1
    return 0


if __name__ == "__main__":
    port, mode, top, logf = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    try:
        if mode == "run":
            run(port, top, logf, int(sys.argv[5]), int(sys.argv[6]))
            print("workload finished")
        else:
            sys.exit(check(port, top, logf))
    except (nr.Fail, OSError, struct.error) as e:
        print("%s stopped: %s" % (mode, e))
        if mode != "run":
            sys.exit(2)
PY
write_config
sed -i 's/^  checkpoint_every: .*/  memtable_size_mb: 1\n  gc_grace_secs: 0/' \
	"$CONFIG"
sed -i 's/^  flush_interval_secs: .*/  flush_interval_secs: 1/' "$CONFIG"
start_allinone
A_PID=$ZEROFS_PID
A_PORT=$NFS_PORT
python3 "$T/churn.py" "$A_PORT" run w "$T/w.ops" 1 100000 >"$T/run.out" 2>&1 &
churn=$!
nfscheck -n 30000 -d /bg bigdir >/dev/null 2>&1 &
bg=$!
sleep 4
kill -0 "$A_PID" || fail "A died under load"

CONFIG=$T/b.yaml
write_config "$CONFIG"
sed -i "s#^  dir: .*#  dir: $T/cacheB#; s#^  url: .*#  url: file://$T/store#" \
	"$CONFIG"
sed -i 's/^  checkpoint_every: .*/  memtable_size_mb: 1/' "$CONFIG"
lib_spawn zerofsB "$BIN/zerofs" run -c "$CONFIG"
wait_port "$NFS_PORT" "$LIB_START_SECS" "$LAST_PID"
log "B serves on the same store"

for i in $(seq 1 200); do
	kill -0 "$A_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$churn" || true
kill "$bg" 2>/dev/null || true
wait "$bg" 2>/dev/null || true
grep -q 'fenced' "$T/zerofs.log" || fail "A never logged that it is fenced"
python3 "$T/churn.py" "$NFS_PORT" check w "$T/w.ops" >"$T/check.out" 2>&1 ||
	fail "B lost what A acknowledged: $(cat "$T/check.out")"
log "$(cat "$T/check.out")"
kill -0 "$A_PID" 2>/dev/null &&
	fail "A is fenced but still running 20 s later" \
		"($(grep -c 'Read-only' "$T/zerofs.log") EROFS lines in its log)"
rc=0
wait "$A_PID" || rc=$?
[ "$rc" -eq 1 ] || fail "fenced A exited with status $rc, want 1"
kept=()
for entry in "${LIB_PIDS[@]}"; do
	[ "${entry##*:}" = "$A_PID" ] || kept+=("$entry")
done
LIB_PIDS=("${kept[@]}")
log "A exited 1 after it was fenced"
check_alive
stop_all
