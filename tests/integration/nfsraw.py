#!/usr/bin/env python3
"""Raw NFSv3 calls (RFC 1813) for what libnfs does not show: file handles
that outlive a restart, and a write verifier that changes at each start.

    nfsraw.py PORT before STATEFILE   create a file (named after
                                      STATEFILE), write it UNSTABLE,
                                      COMMIT; save its handle and verifier
    nfsraw.py PORT after STATEFILE    after a restart: the old handle still
                                      works, the data is there, and WRITE
                                      and COMMIT carry a new verifier

Prints "ok ..." lines or "FAIL ..." and exits 1.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rpcpoke as rp  # noqa: E402

NFS3_OK = 0
UNSTABLE = 0
PATTERN = bytes((i * 7 + 3) % 251 for i in range(4096))


class Fail(Exception):
    pass


def opaque(b):
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


class Reader:
    """A bounded cursor over a reply body."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise Fail("reply truncated at %d (+%d of %d)"
                       % (self.pos, n, len(self.data)))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def opaque(self):
        n = self.u32()
        out = self.take(n)
        self.take((4 - n % 4) % 4)
        return out

    def fattr3(self):
        ftype, mode, nlink, uid, gid = struct.unpack(">5I", self.take(20))
        size = self.u64()
        self.take(84 - 28)
        return {"type": ftype, "mode": mode, "size": size}

    def post_op_attr(self):
        return self.fattr3() if self.u32() else None

    def wcc_data(self):
        if self.u32():
            self.take(24)
        return self.post_op_attr()


class Client:
    def __init__(self, port):
        self.sock = rp.connect(port)
        self.xid = 0x5000

    def call(self, prog, vers, proc, args, what):
        self.xid += 1
        self.sock.sendall(rp.record(rp.call(self.xid, prog, vers, proc, args,
                                            cred=rp.auth_sys_cred())))
        body = rp.read_reply(self.sock)
        if body is None:
            raise Fail("%s: connection closed" % what)
        kind, stat, rest = rp.parse_reply(body, self.xid)
        if kind != "accepted" or stat != rp.SUCCESS:
            raise Fail("%s: RPC %s %d" % (what, kind, stat))
        return Reader(rest)

    def nfs(self, proc, args, what):
        r = self.call(rp.NFS_PROG, rp.NFS_VERS, proc, args, what)
        status = r.u32()
        if status != NFS3_OK:
            raise Fail("%s: nfsstat3 %d" % (what, status))
        return r

    def mount_root(self):
        r = self.call(rp.MOUNT_PROG, rp.MOUNT_VERS, 1, opaque(b"/"), "MNT /")
        if r.u32() != 0:
            raise Fail("MNT / refused")
        return r.opaque()

    def create(self, dirfh, name):
        sattr = struct.pack(">II", 1, 0o644) + struct.pack(">5I", 0, 0, 0,
                                                            0, 0)
        args = opaque(dirfh) + opaque(name) + struct.pack(">I", 0) + sattr
        r = self.nfs(8, args, "CREATE %s" % name.decode())
        if not r.u32():
            raise Fail("CREATE returned no handle")
        return r.opaque()

    def write(self, fh, off, data):
        args = opaque(fh) + struct.pack(">QII", off, len(data), UNSTABLE)
        r = self.nfs(7, args + opaque(data), "WRITE")
        r.wcc_data()
        count, _committed = r.u32(), r.u32()
        if count != len(data):
            raise Fail("WRITE count %d, want %d" % (count, len(data)))
        return r.take(8)

    def commit(self, fh):
        r = self.nfs(21, opaque(fh) + struct.pack(">QI", 0, 0), "COMMIT")
        r.wcc_data()
        return r.take(8)

    def getattr(self, fh):
        return self.nfs(1, opaque(fh), "GETATTR of the old handle").fattr3()

    def read(self, fh, off, count):
        r = self.nfs(6, opaque(fh) + struct.pack(">QI", off, count), "READ")
        r.post_op_attr()
        r.u32()
        r.u32()
        return r.opaque()


def phase_before(c, state):
    root = c.mount_root()
    fh = c.create(root, os.path.basename(state).encode())
    wverf = c.write(fh, 0, PATTERN)
    cverf = c.commit(fh)
    if wverf != cverf:
        raise Fail("WRITE verifier %s != COMMIT verifier %s in one run"
                   % (wverf.hex(), cverf.hex()))
    with open(state, "w") as f:
        json.dump({"fh": fh.hex(), "verf": cverf.hex()}, f)
    print("ok wrote 4096 bytes UNSTABLE and COMMITted, verifier %s"
          % cverf.hex())


def phase_after(c, state):
    with open(state) as f:
        saved = json.load(f)
    fh, old = bytes.fromhex(saved["fh"]), bytes.fromhex(saved["verf"])
    attr = c.getattr(fh)
    if attr["size"] != len(PATTERN):
        raise Fail("size %d after restart, want %d" % (attr["size"],
                                                       len(PATTERN)))
    data = c.read(fh, 0, len(PATTERN))
    if data != PATTERN:
        raise Fail("committed data differs after restart")
    print("ok the old handle works and the committed data is there")
    new = c.write(fh, 4096, b"more")
    if new == old:
        raise Fail("write verifier %s did not change across the restart"
                   % new.hex())
    if c.commit(fh) != new:
        raise Fail("COMMIT verifier differs from WRITE verifier")
    print("ok the write verifier changed: %s -> %s" % (old.hex(), new.hex()))


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("before", "after"):
        sys.stderr.write(__doc__)
        return 2
    try:
        c = Client(int(sys.argv[1]))
        if sys.argv[2] == "before":
            phase_before(c, sys.argv[3])
        else:
            phase_after(c, sys.argv[3])
    except (Fail, OSError, struct.error) as e:
        print("FAIL %s: %s" % (sys.argv[2], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
