#!/bin/bash
# Every kind of namespace change (renames, removes, links, symlinks,
# truncates, chmod/chown/utimes) followed by one COMMIT, then SIGKILL:
# after a restart the whole tree (names, types, modes, sizes, link
# targets, contents) is what it was at the COMMIT, since mutations
# commit in one order and a barrier covers all before it.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
need_tool nfstree
need_tool nfsedge
write_config
start_allinone
nfscheck -n 500 -d /ns rename remove symlink hardlink truncate attrs \
	bigdir >"$T/check.out" || fail "nfscheck: $(cat "$T/check.out")"
"$TOOLS/nfsedge" -p "$NFS_PORT" -d /edge overwrite names dirrename \
	>"$T/edge.out" || fail "nfsedge: $(cat "$T/edge.out")"
# The barrier: one file written and COMMITted after everything else.
"$TOOLS/nfstree" -p "$NFS_PORT" write /barrier 601 1 >/dev/null ||
	fail "the barrier write"
"$TOOLS/nfstree" -p "$NFS_PORT" get / "$T/before" || fail "snapshot before"
kill_all
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" get / "$T/after" || fail "snapshot after"
(cd "$T/before" && find . -printf '%y %m %s %l %p\n' | sort) >"$T/b.txt"
(cd "$T/after" && find . -printf '%y %m %s %l %p\n' | sort) >"$T/a.txt"
diff "$T/b.txt" "$T/a.txt" >"$T/d.txt" ||
	fail "the tree changed across SIGKILL: $(head -n 20 "$T/d.txt")"
diff -r --no-dereference "$T/before" "$T/after" >"$T/c.txt" 2>&1 ||
	fail "contents changed across SIGKILL: $(head -n 20 "$T/c.txt")"
log "$(wc -l <"$T/b.txt") entries identical after SIGKILL"
check_alive
stop_all
