#!/bin/bash
# libnfs's own tools against zerofs run: nfs-cp a file in and out, nfs-cat
# it, nfs-ls the directory; MOUNT of a subdirectory serves that
# directory, MOUNT of a missing path is refused.
. "$(dirname "$0")/../lib.sh"
command -v nfs-cp >/dev/null || skip "nfs-cp (libnfs-utils) not installed"
need_tool nfscheck
write_config
start_allinone

head -c 300000 /dev/urandom >"$T/in.bin"
nfs-cp "$T/in.bin" "$(nfs_url /in.bin)" || fail "nfs-cp into the export"
nfs-cp "$(nfs_url /in.bin)" "$T/out.bin" || fail "nfs-cp out of the export"
cmp "$T/in.bin" "$T/out.bin" || fail "nfs-cp round trip differs"
nfs-cat "$(nfs_url /in.bin)" >"$T/cat.bin" || fail "nfs-cat"
cmp "$T/in.bin" "$T/cat.bin" || fail "nfs-cat output differs"
nfs-ls "$(nfs_url /)" >"$T/ls.txt" || fail "nfs-ls /"
grep -q 'in.bin' "$T/ls.txt" || fail "nfs-ls / does not show in.bin"

MOUNT=/ nfscheck -d /sub tree >/dev/null || fail "making /sub/t..."
echo hello >"$T/hello.txt"
nfs-cp "$T/hello.txt" "$(nfs_url /sub/t/a/hello.txt)" ||
	fail "nfs-cp into /sub/t/a"
# Mounting the subdirectory: the file is at the root of that mount.
nfs-cat "$(nfs_url /sub/t/a/hello.txt)" >"$T/h1" ||
	fail "nfs-cat through a mount of /sub/t/a"
cmp -s "$T/hello.txt" "$T/h1" || fail "hello.txt reads back different"
MOUNT=/sub/t/a nfscheck -d /x symlink >"$T/sub.txt" ||
	fail "nfscheck with the mount at /sub/t/a: $(cat "$T/sub.txt")"
nfs-ls "$(nfs_url /sub/t/a/x)" | grep -q sl ||
	fail "a symlink made through the /sub/t/a mount is not at /sub/t/a/x"
if nfs-ls "$(nfs_url /no/such/dir)" >/dev/null 2>&1; then
	fail "mounting /no/such/dir succeeded"
fi
check_alive
stop_all
