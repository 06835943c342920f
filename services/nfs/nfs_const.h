/*
 * Wire constants of the protocols the gateway speaks: ONC RPC version 2
 * (RFC 5531), MOUNT version 3 (RFC 1813, appendix I) and NFS version 3
 * (RFC 1813).  Each group names the section that defines it.
 */
#ifndef ZEROFS_NFS_CONST_H
#define ZEROFS_NFS_CONST_H

/* RFC 5531 section 9: the only RPC version. */
#define RPC_VERSION 2

/* RFC 5531 section 9: msg_type. */
#define RPC_CALL  0
#define RPC_REPLY 1

/* RFC 5531 section 9: reply_stat. */
#define RPC_MSG_ACCEPTED 0
#define RPC_MSG_DENIED	 1

/* RFC 5531 section 9: accept_stat. */
#define RPC_SUCCESS	  0
#define RPC_PROG_UNAVAIL  1
#define RPC_PROG_MISMATCH 2
#define RPC_PROC_UNAVAIL  3
#define RPC_GARBAGE_ARGS  4
#define RPC_SYSTEM_ERR	  5

/* RFC 5531 section 9: reject_stat. */
#define RPC_MISMATCH   0
#define RPC_AUTH_ERROR 1

/* RFC 5531 section 9: auth_stat. */
#define RPC_AUTH_OK	      0
#define RPC_AUTH_BADCRED      1
#define RPC_AUTH_REJECTEDCRED 2
#define RPC_AUTH_BADVERF      3
#define RPC_AUTH_REJECTEDVERF 4
#define RPC_AUTH_TOOWEAK      5

/* RFC 5531 section 8.2 and appendix A: authentication flavors. */
#define RPC_AUTH_NONE	     0
#define RPC_AUTH_SYS	     1
#define RPC_AUTH_BODY_MAX    400 /* section 8.2: opaque body<400> */
#define RPC_AUTH_MACHINE_MAX 255 /* appendix A: machinename<255> */
#define RPC_AUTH_GIDS_MAX    16	 /* appendix A: gids<16> */

/* RFC 5531 section 11: record marking; the top bit ends a record. */
#define RPC_RM_LAST    0x80000000u
#define RPC_RM_LENMASK 0x7fffffffu

/* RFC 1813 appendix I: the MOUNT program. */
#define MOUNT_PROGRAM	   100005
#define MOUNT_V3	   3
#define MOUNTPROC3_NULL	   0
#define MOUNTPROC3_MNT	   1
#define MOUNTPROC3_DUMP	   2
#define MOUNTPROC3_UMNT	   3
#define MOUNTPROC3_UMNTALL 4
#define MOUNTPROC3_EXPORT  5
#define MNTPATHLEN	   1024
#define MNTNAMLEN	   255

/* RFC 1813 appendix I: mountstat3. */
#define MNT3_OK		    0
#define MNT3ERR_PERM	    1
#define MNT3ERR_NOENT	    2
#define MNT3ERR_IO	    5
#define MNT3ERR_ACCES	    13
#define MNT3ERR_NOTDIR	    20
#define MNT3ERR_INVAL	    22
#define MNT3ERR_NAMETOOLONG 63
#define MNT3ERR_NOTSUPP	    10004
#define MNT3ERR_SERVERFAULT 10006

/* RFC 1813 section 1 and section 3: the NFS program and procedures. */
#define NFS_PROGRAM	     100003
#define NFS_V3		     3
#define NFSPROC3_NULL	     0
#define NFSPROC3_GETATTR     1
#define NFSPROC3_SETATTR     2
#define NFSPROC3_LOOKUP	     3
#define NFSPROC3_ACCESS	     4
#define NFSPROC3_READLINK    5
#define NFSPROC3_READ	     6
#define NFSPROC3_WRITE	     7
#define NFSPROC3_CREATE	     8
#define NFSPROC3_MKDIR	     9
#define NFSPROC3_SYMLINK     10
#define NFSPROC3_MKNOD	     11
#define NFSPROC3_REMOVE	     12
#define NFSPROC3_RMDIR	     13
#define NFSPROC3_RENAME	     14
#define NFSPROC3_LINK	     15
#define NFSPROC3_READDIR     16
#define NFSPROC3_READDIRPLUS 17
#define NFSPROC3_FSSTAT	     18
#define NFSPROC3_FSINFO	     19
#define NFSPROC3_PATHCONF    20
#define NFSPROC3_COMMIT	     21
#define NFSPROC3_COUNT	     22

/* RFC 1813 section 2.4: sizes. */
#define NFS3_FHSIZE	    64
#define NFS3_COOKIEVERFSIZE 8
#define NFS3_CREATEVERFSIZE 8
#define NFS3_WRITEVERFSIZE  8
#define NFS3_NAME_MAX	    255	 /* the gateway's filename3 limit */
#define NFS3_PATH_MAX	    4096 /* the gateway's nfspath3 limit */

/* RFC 1813 section 2.6: nfsstat3. */
#define NFS3_OK		    0
#define NFS3ERR_PERM	    1
#define NFS3ERR_NOENT	    2
#define NFS3ERR_IO	    5
#define NFS3ERR_NXIO	    6
#define NFS3ERR_ACCES	    13
#define NFS3ERR_EXIST	    17
#define NFS3ERR_XDEV	    18
#define NFS3ERR_NODEV	    19
#define NFS3ERR_NOTDIR	    20
#define NFS3ERR_ISDIR	    21
#define NFS3ERR_INVAL	    22
#define NFS3ERR_FBIG	    27
#define NFS3ERR_NOSPC	    28
#define NFS3ERR_ROFS	    30
#define NFS3ERR_MLINK	    31
#define NFS3ERR_NAMETOOLONG 63
#define NFS3ERR_NOTEMPTY    66
#define NFS3ERR_DQUOT	    69
#define NFS3ERR_STALE	    70
#define NFS3ERR_REMOTE	    71
#define NFS3ERR_BADHANDLE   10001
#define NFS3ERR_NOT_SYNC    10002
#define NFS3ERR_BAD_COOKIE  10003
#define NFS3ERR_NOTSUPP	    10004
#define NFS3ERR_TOOSMALL    10005
#define NFS3ERR_SERVERFAULT 10006
#define NFS3ERR_BADTYPE	    10007
#define NFS3ERR_JUKEBOX	    10008

/* RFC 1813 section 2.5: ftype3. */
#define NF3REG	1
#define NF3DIR	2
#define NF3BLK	3
#define NF3CHR	4
#define NF3LNK	5
#define NF3SOCK 6
#define NF3FIFO 7

/* RFC 1813 section 3.3.4: ACCESS bits. */
#define ACCESS3_READ	0x0001
#define ACCESS3_LOOKUP	0x0002
#define ACCESS3_MODIFY	0x0004
#define ACCESS3_EXTEND	0x0008
#define ACCESS3_DELETE	0x0010
#define ACCESS3_EXECUTE 0x0020

/* RFC 1813 section 2.6: time_how for sattr3. */
#define DONT_CHANGE	   0
#define SET_TO_SERVER_TIME 1
#define SET_TO_CLIENT_TIME 2

/* RFC 1813 section 3.3.7: stable_how. */
#define UNSTABLE  0
#define DATA_SYNC 1
#define FILE_SYNC 2

/* RFC 1813 section 3.3.8: createmode3. */
#define UNCHECKED 0
#define GUARDED	  1
#define EXCLUSIVE 2

/* RFC 1813 section 3.3.19: FSINFO properties. */
#define FSF3_LINK	 0x0001
#define FSF3_SYMLINK	 0x0002
#define FSF3_HOMOGENEOUS 0x0008
#define FSF3_CANSETTIME	 0x0010

#endif
