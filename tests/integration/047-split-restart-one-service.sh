#!/bin/bash
# With one process per service, each service in turn is SIGKILLed and
# started again while the others keep running: afterwards the NFS
# gateway serves again (the others reconnect to it), every committed
# byte is there, and new writes work.
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
write_config
start_split
"$TOOLS/nfstree" -p "$NFS_PORT" write /r0 700 40 || fail "writing /r0"
n=0
for svc in nfs chunk metadata flusher; do
	n=$((n + 1))
	kill_service "$svc"
	start_service "$svc"
	# The gateway may need a moment to reach a restarted service.
	ok=0
	for try in 1 2 3 4 5 6 7 8 9 10; do
		if "$TOOLS/nfstree" -p "$NFS_PORT" verify /r0 700 40 \
			>"$T/verify.out" 2>&1; then
			ok=1
			break
		fi
		sleep 1
	done
	[ "$ok" -eq 1 ] || fail "after restarting $svc: $(tail -n 5 \
		"$T/verify.out")"
	"$TOOLS/nfstree" -p "$NFS_PORT" write "/r$n" "$((700 + n))" 20 ||
		fail "writing after restarting $svc"
	log "restarted $svc: committed data intact, writes work"
done
for n in 1 2 3 4; do
	"$TOOLS/nfstree" -p "$NFS_PORT" verify "/r$n" "$((700 + n))" 20 ||
		fail "/r$n at the end"
done
check_alive
stop_all
