#!/bin/bash
# Real input: /usr/include (thousands of files, directories and symlinks)
# copied into the filesystem over NFS and back out; the copy must equal
# the original in content (diff -r), and in type, mode and symlink target
# of every entry (find -printf).
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
SRC=${ZEROFS_TEST_TREE:-/usr/include}
[ -d "$SRC" ] || skip "$SRC does not exist"
write_config
start_allinone

log "copying $SRC in ($(find "$SRC" | wc -l) entries)"
"$TOOLS/nfstree" -p "$NFS_PORT" put "$SRC" /tree ||
	fail "copying $SRC into the export"
log "copying it back out"
"$TOOLS/nfstree" -p "$NFS_PORT" get /tree "$T/out" ||
	fail "copying /tree out of the export"

diff -r --no-dereference "$SRC" "$T/out" >"$T/diff.txt" 2>&1 ||
	fail "contents differ: $(head -n 20 "$T/diff.txt")"
(cd "$SRC" && find . -printf '%y %m %l %p\n' | sort) >"$T/want.txt"
(cd "$T/out" && find . -printf '%y %m %l %p\n' | sort) >"$T/got.txt"
diff "$T/want.txt" "$T/got.txt" >"$T/meta.txt" ||
	fail "types, modes or link targets differ: $(head -n 20 "$T/meta.txt")"
log "$(wc -l <"$T/want.txt") entries match"
check_alive
stop_all
