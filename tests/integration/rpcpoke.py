#!/usr/bin/env python3
"""Malformed and unusual ONC RPC input for the NFS port (RFC 5531).

    rpcpoke.py PORT CASE

Sends one kind of bad input to 127.0.0.1:PORT and checks the answer: a
correct RPC error reply, or the connection closed.  Prints "ok CASE: ..."
or "FAIL CASE: ..." and exits 0 or 1.  Every case sends a bounded number
of bytes and gives up waiting after a few seconds.
"""

import os
import socket
import struct
import sys
import time

NFS_PROG, NFS_VERS = 100003, 3
MOUNT_PROG, MOUNT_VERS = 100005, 3
CALL, REPLY = 0, 1
MSG_ACCEPTED, MSG_DENIED = 0, 1
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS = range(5)
RPC_MISMATCH, AUTH_ERROR = 0, 1
AUTH_NONE, AUTH_SYS = 0, 1
AUTH_BADCRED, AUTH_TOOWEAK = 1, 5
WAIT_SECS = 5


class Fail(Exception):
    pass


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECS)
    s.settimeout(WAIT_SECS)
    return s


def record(body, last=True):
    """One record-marking fragment (RFC 5531 section 11)."""
    mark = len(body) | (0x80000000 if last else 0)
    return struct.pack(">I", mark) + body


def auth_sys_cred():
    machine = b"rpcpoke"
    body = struct.pack(">II", 0, len(machine)) + machine
    body += b"\0" * ((4 - len(machine) % 4) % 4)
    body += struct.pack(">III", 0, 0, 0)  # uid, gid, no gids
    return struct.pack(">II", AUTH_SYS, len(body)) + body


def call(xid, prog, vers, proc, args=b"", rpcvers=2, cred=None):
    if cred is None:
        cred = struct.pack(">II", AUTH_NONE, 0)
    head = struct.pack(">IIIIII", xid, CALL, rpcvers, prog, vers, proc)
    return head + cred + struct.pack(">II", AUTH_NONE, 0) + args


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_reply(s):
    """A whole record, or None if the server closed the connection."""
    body = b""
    while True:
        mark = recv_exact(s, 4)
        if mark is None:
            return None
        (m,) = struct.unpack(">I", mark)
        frag = recv_exact(s, m & 0x7FFFFFFF)
        if frag is None:
            return None
        body += frag
        if m & 0x80000000:
            return body


def parse_reply(body, xid):
    """Returns ("accepted", accept_stat, extra) or ("denied", ...)."""
    if len(body) < 12:
        raise Fail("reply of %d bytes is too short" % len(body))
    rxid, mtype, stat = struct.unpack(">III", body[:12])
    if rxid != xid:
        raise Fail("reply xid %#x, want %#x" % (rxid, xid))
    if mtype != REPLY:
        raise Fail("msg_type %d, want REPLY" % mtype)
    rest = body[12:]
    if stat == MSG_ACCEPTED:
        _, vlen = struct.unpack(">II", rest[:8])
        rest = rest[8 + vlen + (4 - vlen % 4) % 4:]
        (astat,) = struct.unpack(">I", rest[:4])
        return "accepted", astat, rest[4:]
    if stat == MSG_DENIED:
        (rstat,) = struct.unpack(">I", rest[:4])
        return "denied", rstat, rest[4:]
    raise Fail("reply_stat %d is neither accepted nor denied" % stat)


def expect_closed(s, what):
    """The server must close the connection within WAIT_SECS."""
    deadline = time.monotonic() + WAIT_SECS
    try:
        while time.monotonic() < deadline:
            data = s.recv(65536)
            if not data:
                return "closed after %s" % what
    except ConnectionResetError:
        return "reset after %s" % what
    except socket.timeout:
        pass
    raise Fail("connection still open %ds after %s" % (WAIT_SECS, what))


def expect_reply_or_closed(s, xid, what):
    try:
        body = read_reply(s)
    except ConnectionResetError:
        return "reset after %s" % what
    except socket.timeout:
        raise Fail("neither a reply nor a close %ds after %s"
                   % (WAIT_SECS, what))
    if body is None:
        return "closed after %s" % what
    kind, stat, _ = parse_reply(body, xid)
    return "answered %s %d after %s" % (kind, stat, what)


def expect_accepted(s, xid, want, what):
    body = read_reply(s)
    if body is None:
        raise Fail("connection closed instead of a reply to %s" % what)
    kind, stat, extra = parse_reply(body, xid)
    if kind != "accepted" or stat != want:
        raise Fail("%s: got %s %d, want accepted %d"
                   % (what, kind, stat, want))
    return extra


def expect_null_works(s, xid):
    """The same connection still serves a good call after an error."""
    s.sendall(record(call(xid, NFS_PROG, NFS_VERS, 0)))
    expect_accepted(s, xid, SUCCESS, "NFS NULL after the error")


def case_garbage(port):
    s = connect(port)
    # Text where a record mark belongs: reads as a non-final fragment of
    # about 1.2 GB, far over any sane record limit.
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(200))
    return expect_closed(s, "HTTP-like garbage")


def case_garbage_record(port):
    s = connect(port)
    # A small well-framed record whose content is not a call header.
    s.sendall(record(struct.pack(">II", 0x1234, 7) + os.urandom(8)))
    return expect_reply_or_closed(s, 0x1234, "a garbage record")


def case_not_a_call(port):
    s = connect(port)
    body = struct.pack(">IIII", 0x42, REPLY, MSG_ACCEPTED, 0)
    s.sendall(record(body + b"\0" * 16))
    return expect_closed(s, "a REPLY sent to the server")


def case_truncated(port):
    s = connect(port)
    body = call(0x51, NFS_PROG, NFS_VERS, 0)
    s.sendall(struct.pack(">I", 0x80000000 | 200) + body)
    s.shutdown(socket.SHUT_WR)
    return expect_closed(s, "a record cut short by EOF")


def case_huge_record(port):
    s = connect(port)
    s.sendall(struct.pack(">I", 0xFFFFFFFF) + call(0x61, NFS_PROG,
                                                   NFS_VERS, 0))
    return expect_closed(s, "a record mark claiming 2 GiB")


def case_fragments_over_limit(port):
    s = connect(port)
    frag = record(b"\0" * 65536, last=False)
    try:
        for _ in range(40):  # 2.5 MiB of fragments of one record
            s.sendall(frag)
    except (BrokenPipeError, ConnectionResetError):
        return "closed while fragments over the limit were sent"
    return expect_closed(s, "2.5 MiB of fragments of one record")


def case_bad_program(port):
    s = connect(port)
    s.sendall(record(call(0x71, 100099, 1, 0)))
    expect_accepted(s, 0x71, PROG_UNAVAIL, "program 100099")
    expect_null_works(s, 0x72)
    return "PROG_UNAVAIL, connection still serves"


def case_bad_rpc_version(port):
    s = connect(port)
    s.sendall(record(call(0x81, NFS_PROG, NFS_VERS, 0, rpcvers=3)))
    body = read_reply(s)
    if body is None:
        raise Fail("closed instead of MSG_DENIED RPC_MISMATCH")
    kind, stat, extra = parse_reply(body, 0x81)
    if kind != "denied" or stat != RPC_MISMATCH:
        raise Fail("rpcvers 3: got %s %d, want denied RPC_MISMATCH"
                   % (kind, stat))
    low, high = struct.unpack(">II", extra[:8])
    if (low, high) != (2, 2):
        raise Fail("RPC_MISMATCH range %d..%d, want 2..2" % (low, high))
    return "MSG_DENIED RPC_MISMATCH 2..2"


def case_bad_program_version(port):
    s = connect(port)
    for xid, prog in ((0x91, NFS_PROG), (0x92, MOUNT_PROG)):
        s.sendall(record(call(xid, prog, 2, 0)))
        extra = expect_accepted(s, xid, PROG_MISMATCH,
                                "program %d version 2" % prog)
        low, high = struct.unpack(">II", extra[:8])
        if not low <= 3 <= high or low <= 2 <= high:
            raise Fail("program %d: PROG_MISMATCH %d..%d" % (prog, low,
                                                               high))
    expect_null_works(s, 0x93)
    return "PROG_MISMATCH for NFS and MOUNT version 2"


def case_bad_procedure(port):
    s = connect(port)
    s.sendall(record(call(0xA1, NFS_PROG, NFS_VERS, 22)))
    expect_accepted(s, 0xA1, PROC_UNAVAIL, "NFS procedure 22")
    s.sendall(record(call(0xA2, MOUNT_PROG, MOUNT_VERS, 6)))
    expect_accepted(s, 0xA2, PROC_UNAVAIL, "MOUNT procedure 6")
    expect_null_works(s, 0xA3)
    return "PROC_UNAVAIL for NFS 22 and MOUNT 6"


def case_garbage_args(port):
    s = connect(port)
    tests = (
        # GETATTR: a handle length far over NFS3_FHSIZE, no bytes behind.
        (0xB1, NFS_PROG, NFS_VERS, 1, struct.pack(">I", 0x7FFFFFFF)),
        # LOOKUP: no arguments at all.
        (0xB2, NFS_PROG, NFS_VERS, 3, b""),
        # WRITE: a handle, then a count claiming more data than sent.
        (0xB3, NFS_PROG, NFS_VERS, 7,
         struct.pack(">I", 8) + b"\0" * 8 + struct.pack(">QIII", 0, 100,
                                                          2, 100)),
        # MNT: a path length claiming more bytes than the call holds.
        (0xB4, MOUNT_PROG, MOUNT_VERS, 1,
         struct.pack(">I", 2000) + b"/" * 20),
    )
    for xid, prog, vers, proc, args in tests:
        s.sendall(record(call(xid, prog, vers, proc, args,
                              cred=auth_sys_cred())))
        expect_accepted(s, xid, GARBAGE_ARGS,
                        "program %d procedure %d with bad arguments"
                        % (prog, proc))
    # A whole path longer than MNTPATHLEN (1024) decodes; MNT refuses it
    # with its own status, MNT3ERR_NAMETOOLONG (RFC 1813, appendix I).
    s.sendall(record(call(0xB6, MOUNT_PROG, MOUNT_VERS, 1,
                          struct.pack(">I", 2000) + b"/" * 2000,
                          cred=auth_sys_cred())))
    rest = expect_accepted(s, 0xB6, SUCCESS, "MNT of a 2000-byte path")
    if len(rest) < 4 or struct.unpack(">I", rest[:4])[0] != 63:
        raise Fail("MNT of a 2000-byte path: want MNT3ERR_NAMETOOLONG")
    expect_null_works(s, 0xB5)
    return "GARBAGE_ARGS for 4 undecodable calls, NAMETOOLONG for a path"


def case_bad_auth(port):
    s = connect(port)
    cred = struct.pack(">II", 999, 4) + b"\0\0\0\0"
    s.sendall(record(call(0xC1, NFS_PROG, NFS_VERS, 0, cred=cred)))
    body = read_reply(s)
    if body is None:
        raise Fail("closed instead of MSG_DENIED AUTH_ERROR")
    kind, stat, extra = parse_reply(body, 0xC1)
    if kind != "denied" or stat != AUTH_ERROR:
        raise Fail("flavor 999: got %s %d, want denied AUTH_ERROR"
                   % (kind, stat))
    (why,) = struct.unpack(">I", extra[:4])
    if why not in (AUTH_BADCRED, AUTH_TOOWEAK):
        raise Fail("auth_stat %d, want BADCRED or TOOWEAK" % why)
    return "MSG_DENIED AUTH_ERROR %d" % why


def case_many_connections(port):
    socks = [connect(port) for _ in range(64)]
    for s in socks:
        s.sendall(struct.pack(">I", 0x80000000 | 100) + b"\0" * 10)
    for s in socks:
        s.close()
    s = connect(port)
    expect_null_works(s, 0xD1)
    return "64 half-sent connections dropped, a new one serves"


def random_args(rng, root):
    """Bytes that often start like real arguments: the root handle, a
    name, numbers; sometimes nothing, sometimes noise."""
    parts = []
    if rng.random() < 0.7:
        parts.append(struct.pack(">I", len(root)) + root)
    for _ in range(rng.randrange(4)):
        kind = rng.randrange(3)
        if kind == 0:
            name = bytes(rng.randrange(32, 127)
                         for _ in range(rng.randrange(9)))
            parts.append(struct.pack(">I", len(name)) + name +
                         b"\0" * ((4 - len(name) % 4) % 4))
        elif kind == 1:
            word = rng.choice((0, 1, 2, 0xFFFFFFFF, rng.randrange(1 << 32)))
            parts.append(struct.pack(">I", word))
        else:
            parts.append(bytes(rng.randrange(256)
                               for _ in range(rng.randrange(40))))
    return b"".join(parts)


def case_random_calls(port):
    """2000 calls to random NFS and MOUNT procedures with semi-random
    arguments (seeded, so a failure can be replayed): each must get a
    well-formed reply with its xid, or a closed connection."""
    import random
    seed = int(os.environ.get("RPCPOKE_SEED", "12345"))
    rng = random.Random(seed)
    s = connect(port)
    s.sendall(record(call(1, MOUNT_PROG, MOUNT_VERS, 1,
                          struct.pack(">I", 1) + b"/\0\0\0")))
    body = read_reply(s)
    if body is None:
        raise Fail("MNT / failed")
    _, _, rest = parse_reply(body, 1)
    (flen,) = struct.unpack(">I", rest[4:8])
    root = rest[8:8 + flen]
    closed = 0
    for i in range(2000):
        xid = 0x10000 + i
        # Procedures that change nothing or fail cleanly on bad input;
        # REMOVE, RMDIR and friends included since the root is empty.
        if rng.random() < 0.85:
            prog, vers, proc = NFS_PROG, NFS_VERS, rng.randrange(22)
        else:
            prog, vers, proc = MOUNT_PROG, MOUNT_VERS, rng.randrange(6)
        s.sendall(record(call(xid, prog, vers, proc, random_args(rng, root),
                              cred=auth_sys_cred())))
        try:
            body = read_reply(s)
        except socket.timeout:
            raise Fail("call %d (seed %d, proc %d/%d): no reply in %ds"
                       % (i, seed, prog, proc, WAIT_SECS))
        if body is None:
            closed += 1
            s = connect(port)
            continue
        parse_reply(body, xid)
    expect_null_works(s, 0xE1)
    return "2000 random calls (seed %d), %d closed connections" % (seed,
                                                                  closed)


CASES = {name[5:].replace("_", "-"): fn
         for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        sys.stderr.write("usage: rpcpoke.py PORT CASE\ncases: %s\n"
                         % " ".join(sorted(CASES)))
        return 2
    name = sys.argv[2]
    try:
        detail = CASES[name](int(sys.argv[1]))
    except Fail as e:
        print("FAIL %s: %s" % (name, e))
        return 1
    except (OSError, struct.error) as e:
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        return 1
    print("ok %s: %s" % (name, detail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
