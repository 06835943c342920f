#!/usr/bin/env python3
"""What an NFSv3 client does with unstable writes (RFC 1813, COMMIT): it
keeps each write until a COMMIT answers with the verifier the write had,
and resends it when the verifier changed.

    nfsresend.py PORT write STATEFILE    create a file and COMMIT it,
                                         write 4 MiB UNSTABLE; save
                                         handle, verifier
    nfsresend.py PORT commit STATEFILE   COMMIT; the verifier must differ
                                         from the writes' (their frames
                                         may be lost); resend, COMMIT
                                         again: now it must match
    nfsresend.py PORT verify STATEFILE   every byte is there

Prints "ok ..." lines or "FAIL ..." and exits 1.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import nfsraw  # noqa: E402

BLOCK = 64 * 1024
BLOCKS = 64


def block(i):
    return bytes(((i * 31 + j) * 13) % 251 for j in range(256)) * (BLOCK //
                                                                    256)


def write_all(c, fh):
    verfs = {c.write(fh, i * BLOCK, block(i)) for i in range(BLOCKS)}
    if len(verfs) != 1:
        raise nfsraw.Fail("writes of one run carry %d verifiers"
                          % len(verfs))
    return verfs.pop()


def phase_write(c, state):
    root = c.mount_root()
    fh = c.create(root, os.path.basename(state).encode())
    c.commit(fh)
    verf = write_all(c, fh)
    with open(state, "w") as f:
        json.dump({"fh": fh.hex(), "verf": verf.hex()}, f)
    print("ok wrote %d KiB UNSTABLE, verifier %s" % (BLOCKS * 64, verf.hex()))


def phase_commit(c, state):
    with open(state) as f:
        saved = json.load(f)
    fh, old = bytes.fromhex(saved["fh"]), bytes.fromhex(saved["verf"])
    if c.commit(fh) == old:
        raise nfsraw.Fail("COMMIT kept verifier %s though a service "
                          "holding the writes restarted" % old.hex())
    print("ok COMMIT's verifier changed: the client must resend")
    new = write_all(c, fh)
    got = c.commit(fh)
    if got != new:
        raise nfsraw.Fail("COMMIT verifier %s != resent writes' %s"
                          % (got.hex(), new.hex()))
    print("ok resent writes COMMITted with their own verifier")


def phase_verify(c, state):
    with open(state) as f:
        fh = bytes.fromhex(json.load(f)["fh"])
    for i in range(BLOCKS):
        if c.read(fh, i * BLOCK, BLOCK) != block(i):
            raise nfsraw.Fail("block %d differs after the restart" % i)
    print("ok all %d blocks are there" % BLOCKS)


def main():
    phases = {"write": phase_write, "commit": phase_commit,
              "verify": phase_verify}
    if len(sys.argv) != 4 or sys.argv[2] not in phases:
        sys.stderr.write(__doc__)
        return 2
    try:
        c = nfsraw.Client(int(sys.argv[1]))
        phases[sys.argv[2]](c, sys.argv[3])
    except (nfsraw.Fail, OSError, struct.error) as e:
        print("FAIL %s: %s" % (sys.argv[2], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
