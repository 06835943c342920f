/*
 * The engine's objects, byte for byte: WAL objects (a run of batch
 * records) and checkpoints (the whole map at one sequence number).  Both
 * open with a magic and a format version and end with a BLAKE2b-256 of
 * everything before it, so a damaged or truncated object is refused
 * whole instead of replayed in part.  FORMAT.md is the specification.
 */
#include "kv_int.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>

#define KV_WAL_MAGIC   "ZFSMWAL1"
#define KV_CKPT_MAGIC  "ZFSMCKP1"
#define KV_FMT_VERSION 1
#define KV_SUM_LEN     32

void kv_name_wal(const struct kv *kv, uint64_t first, char *buf, size_t len)
{
	snprintf(buf, len, "%swal/%020" PRIu64, kv->prefix, first);
}

void kv_name_ckpt(const struct kv *kv, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%sckpt/%020" PRIu64, kv->prefix, seq);
}

static int name_parse_num(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	for (int i = 0; i < 20; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return 0;
}

/* Reads "<first>" (*last = 0: only the object's header knows it) and the
 * early form "<first>-<last>", which stores of that format still hold. */
int kv_name_parse_wal(const char *base, uint64_t *first, uint64_t *last)
{
	size_t n = strlen(base);

	if (n == 20) {
		*last = 0;
		return name_parse_num(base, first) < 0 || *first == 0 ? -EINVAL
								      : 0;
	}
	if (n != 41 || base[20] != '-')
		return -EINVAL;
	if (name_parse_num(base, first) < 0 ||
	    name_parse_num(base + 21, last) < 0 || *first == 0 ||
	    *first > *last)
		return -EINVAL;
	return 0;
}

int kv_name_parse_ckpt(const char *base, uint64_t *seq)
{
	if (strlen(base) != 20)
		return -EINVAL;
	return name_parse_num(base, seq);
}

void kv_record_encode(struct wire_out *w, uint64_t seq,
		      const struct kv_batch *b)
{
	wire_out_u64(w, seq);
	wire_out_u32(w, (uint32_t)b->n);
	for (size_t i = 0; i < b->n; i++) {
		const struct kv_op *op = &b->ops[i];

		wire_out_u8(w, op->kind);
		wire_out_u32(w, (uint32_t)op->klen);
		wire_out_u32(w, (uint32_t)op->vlen);
		wire_out_mem(w, op->key, op->klen);
		wire_out_mem(w, op->val, op->vlen);
	}
}

static void sum_append(struct wire_out *w)
{
	uint8_t sum[KV_SUM_LEN];

	if (w->err)
		return;
	crypto_generichash(sum, sizeof(sum), w->p, w->len, NULL, 0);
	wire_out_mem(w, sum, sizeof(sum));
}

/* Checks magic, version and checksum; on success r covers the body after
 * the version, without the checksum. */
static int obj_check(const uint8_t *obj, size_t len, const char *magic,
		     struct wire_in *r)
{
	uint8_t sum[KV_SUM_LEN];

	if (len < 8 + 4 + KV_SUM_LEN || memcmp(obj, magic, 8) != 0)
		return -EIO;
	crypto_generichash(sum, sizeof(sum), obj, len - KV_SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, obj + len - KV_SUM_LEN, KV_SUM_LEN) != 0)
		return -EIO;
	wire_in_init(r, obj + 8, len - 8 - KV_SUM_LEN);
	if (wire_in_u32(r) != KV_FMT_VERSION)
		return -EIO;
	return 0;
}

int kv_wal_encode(const uint8_t *recs, size_t len, uint32_t count,
		  uint64_t first, uint64_t last, struct wire_out *obj)
{
	wire_out_mem(obj, KV_WAL_MAGIC, 8);
	wire_out_u32(obj, KV_FMT_VERSION);
	wire_out_u32(obj, count);
	wire_out_u64(obj, first);
	wire_out_u64(obj, last);
	wire_out_mem(obj, recs, len);
	sum_append(obj);
	return obj->err;
}

int kv_map_apply(struct kv_map *map, uint8_t kind, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	struct kv_map_node *n;

	if (kind == KV_OP_DEL) {
		kv_map_del(map, key, klen);
		return 0;
	}
	n = kv_map_node_new(map, key, klen, val, vlen);
	if (n == NULL)
		return -ENOMEM;
	kv_map_insert(map, n);
	return 0;
}

static int record_replay(struct kv *kv, struct wire_in *r, uint64_t want)
{
	uint64_t seq = wire_in_u64(r);
	uint32_t nops = wire_in_u32(r);

	if (r->err || seq != want)
		return -EIO;
	for (uint32_t i = 0; i < nops; i++) {
		uint8_t kind = wire_in_u8(r);
		uint32_t klen = wire_in_u32(r), vlen = wire_in_u32(r);
		const uint8_t *key = wire_in_take(r, klen);
		const uint8_t *val = wire_in_take(r, vlen);

		if (r->err || (kind != KV_OP_PUT && kind != KV_OP_DEL))
			return -EIO;
		if (kv_map_apply(kv->map, kind, key, klen, val, vlen) < 0)
			return -ENOMEM;
	}
	return 0;
}

int kv_wal_replay(struct kv *kv, const uint8_t *obj, size_t len, uint64_t first,
		  uint64_t *last)
{
	struct wire_in r;
	uint64_t hfirst, hlast;
	uint32_t count;
	int rc;

	rc = obj_check(obj, len, KV_WAL_MAGIC, &r);
	if (rc < 0)
		return rc;
	count = wire_in_u32(&r);
	hfirst = wire_in_u64(&r);
	hlast = wire_in_u64(&r);
	if (r.err || hfirst != first || hlast < first ||
	    (*last != 0 && hlast != *last) || count != hlast - first + 1)
		return -EIO;
	*last = hlast;
	for (uint64_t seq = first; seq <= hlast; seq++) {
		rc = record_replay(kv, &r, seq);
		if (rc < 0)
			return rc;
	}
	return wire_in_left(&r) == 0 ? 0 : -EIO;
}

int kv_ckpt_encode(const struct kv_map *map, uint64_t seq, struct wire_out *obj)
{
	const struct kv_map_node *n;

	wire_out_mem(obj, KV_CKPT_MAGIC, 8);
	wire_out_u32(obj, KV_FMT_VERSION);
	wire_out_u64(obj, seq);
	wire_out_u64(obj, kv_map_count(map));
	for (n = kv_map_seek(map, NULL, 0); n != NULL; n = kv_map_next(n)) {
		wire_out_u32(obj, (uint32_t)n->klen);
		wire_out_u32(obj, (uint32_t)n->vlen);
		wire_out_mem(obj, n->key, n->klen);
		wire_out_mem(obj, n->val, n->vlen);
	}
	sum_append(obj);
	return obj->err;
}

int kv_ckpt_load(struct kv *kv, const uint8_t *obj, size_t len, uint64_t seq)
{
	struct wire_in r;
	uint64_t count;
	int rc;

	rc = obj_check(obj, len, KV_CKPT_MAGIC, &r);
	if (rc < 0)
		return rc;
	if (wire_in_u64(&r) != seq)
		return -EIO;
	count = wire_in_u64(&r);
	for (uint64_t i = 0; i < count && !r.err; i++) {
		uint32_t klen = wire_in_u32(&r), vlen = wire_in_u32(&r);
		const uint8_t *key = wire_in_take(&r, klen);
		const uint8_t *val = wire_in_take(&r, vlen);

		if (r.err)
			break;
		if (kv_map_apply(kv->map, KV_OP_PUT, key, klen, val, vlen) < 0)
			return -ENOMEM;
	}
	return r.err || wire_in_left(&r) != 0 ? -EIO : 0;
}
