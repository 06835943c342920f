/*
 * The manifest: which SSTs make up the tree, level by level, up to which
 * batch they hold, and who may write.  One object per version,
 * "<prefix>manifest/<20-digit number>", created with put-if-absent; the
 * newest number is current.  Checkpoints, "<prefix>ckpt/<name>", are
 * copies of a manifest pinned by name.
 *
 * Writer epoch and WAL ownership: a writer that opens the store raises
 * writer_epoch in the next manifest.  WAL objects are named by first
 * sequence number and epoch ("<prefix>wal/<20-digit first>-<10-digit
 * epoch>"), and `owners` says which epoch's objects recovery follows
 * from which sequence number on: the object starting at s is the one of
 * the epoch of the last owner entry with first_seq <= s.  A deposed
 * writer's late objects therefore never enter the log.
 */
#ifndef ZEROFS_META_LSM_MANIFEST_H
#define ZEROFS_META_LSM_MANIFEST_H

#include "objstore.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

#define LSM_LEVELS	  7
#define LSM_NAME_MAX	  256
#define LSM_CKPT_NAME_MAX 64

struct lsm_file {
	uint64_t id;   /* object "<prefix>sst/<20-digit id>" */
	uint64_t size; /* bytes of the object */
	uint64_t entries;
	uint64_t min_seq, max_seq;
	uint8_t *smallest; /* internal keys, malloc'd, owned by the file */
	size_t smallest_len;
	uint8_t *largest;
	size_t largest_len;
};

struct lsm_owner {
	uint64_t epoch;
	uint64_t first_seq;
};

struct lsm_manifest {
	uint64_t number; /* its own object's number */
	uint64_t writer_epoch;
	uint64_t flushed_seq;	  /* every batch <= this is in the SSTs */
	uint64_t next_file;	  /* SST ids below this were handed out */
	struct lsm_owner *owners; /* ascending first_seq, malloc'd */
	size_t nowners;
	/* Level 0: newest first (by max_seq), ranges may overlap.  Levels
	 * 1..: ascending smallest key, ranges disjoint. */
	struct lsm_file *files[LSM_LEVELS];
	size_t nfiles[LSM_LEVELS];
};

/* An empty manifest (number 0, epoch 0, no files). */
void lsm_manifest_init(struct lsm_manifest *m);
void lsm_manifest_clear(struct lsm_manifest *m);
/* Deep copy; 0 or -ENOMEM (dst is then empty). */
int lsm_manifest_copy(struct lsm_manifest *dst, const struct lsm_manifest *src);

/* Bytes of a manifest object: appended to out. */
int lsm_manifest_encode(const struct lsm_manifest *m, struct wire_out *out);
/* Decodes into m (initialized by the caller, cleared first).  -EIO for a
 * bad magic, version, checksum or layout; -ENOMEM. */
int lsm_manifest_decode(const uint8_t *p, size_t n, struct lsm_manifest *m);

/* A change to a manifest: files removed (by level and id) and added. */
struct lsm_edit_del {
	int level;
	uint64_t id;
};

struct lsm_edit_add {
	int level;
	const struct lsm_file *file; /* copied */
};

struct lsm_edit {
	const struct lsm_edit_del *del;
	size_t ndel;
	const struct lsm_edit_add *add;
	size_t nadd;
};

/* Applies e to m in place, keeping each level's order.  -EINVAL (m
 * unchanged) if a removed file is missing or an added file overlaps
 * another in a level >= 1; -ENOMEM. */
int lsm_manifest_apply(struct lsm_manifest *m, const struct lsm_edit *e);

/* Deep copy of one file; -ENOMEM. */
int lsm_file_copy(struct lsm_file *dst, const struct lsm_file *src);
void lsm_file_clear(struct lsm_file *f);

/* The epoch whose WAL object may start at seq (0 if no owner does). */
uint64_t lsm_manifest_owner(const struct lsm_manifest *m, uint64_t seq);

/* Object names under prefix (which ends in '/'), and their parsers (of
 * the part after "<prefix>manifest/" and so on): 0 or -EINVAL. */
void lsm_name_manifest(const char *prefix, uint64_t number, char *buf,
		       size_t len);
void lsm_name_sst(const char *prefix, uint64_t id, char *buf, size_t len);
void lsm_name_wal(const char *prefix, uint64_t first, uint64_t epoch, char *buf,
		  size_t len);
void lsm_name_ckpt(const char *prefix, const char *name, char *buf, size_t len);
int lsm_parse_manifest(const char *base, uint64_t *number);
int lsm_parse_sst(const char *base, uint64_t *id);
int lsm_parse_wal(const char *base, uint64_t *first, uint64_t *epoch);
/* 0 if name is a valid checkpoint name. */
int lsm_ckpt_name_check(const char *name);

/* Lists "<prefix>manifest/" and loads the highest-numbered manifest into
 * m (initialized by the caller).  -ENOENT when there is none; -EIO when
 * it is damaged; the store's error. */
int lsm_manifest_load_newest(struct objstore *os, const char *prefix,
			     struct lsm_manifest *m);

/* Loads manifest `number`; -ENOENT, -EIO or the store's error. */
int lsm_manifest_load(struct objstore *os, const char *prefix, uint64_t number,
		      struct lsm_manifest *m);

#endif
