/*
 * The manifest in memory and as an object: deep copies, edits that keep
 * each level's order, the byte layout (magic, version, counts, files,
 * BLAKE2b-256 of everything before it), the names of the engine's
 * objects and loading the newest manifest from the store.
 *
 * One set of invariants guards both directions: encode refuses (-EINVAL)
 * a manifest that decode would refuse (-EIO), so a writer never puts an
 * object that it, or a reader after it, cannot open again.  The brief
 * layout is in the FORMAT fragment; the checks are:
 *   - every key is an internal key (8 to LSM_KEY_MAX + 8 bytes) and a
 *     file's smallest key is not above its largest, min_seq <= max_seq;
 *   - level 0 is newest first (max_seq descending, then id descending);
 *   - levels >= 1 are sorted and no two files share a user key;
 *   - file ids are unique and below next_file (an id at or above it
 *     would be handed out again and overwrite a live SST);
 *   - owners ascend strictly in both first_seq and epoch (each takeover
 *     raises the epoch and starts at a later sequence number).
 */
#include "lsm_manifest.h"

#include "lsm_key.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAN_MAGIC     "ZFSMMAN1"
#define MAN_MAGIC_LEN 8
#define MAN_VERSION   1
#define MAN_SUM_LEN   32
#define MAN_KEY_MAX   (LSM_KEY_MAX + LSM_TRAILER)
/* The fewest bytes an owner and a file take, to bound counts read from
 * an object before anything is allocated for them. */
#define MAN_OWNER_LEN 16
#define MAN_FILE_MIN  (5 * 8 + 2 * (4 + LSM_TRAILER))
/* Magic, version, four numbers, owner count, level count, the level
 * counts and the checksum. */
#define MAN_MIN_LEN                                                            \
	(MAN_MAGIC_LEN + 4 + 4 * 8 + 4 + 4 + 4 * LSM_LEVELS + MAN_SUM_LEN)

void lsm_manifest_init(struct lsm_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void lsm_file_clear(struct lsm_file *f)
{
	free(f->smallest);
	free(f->largest);
	memset(f, 0, sizeof(*f));
}

static void level_free(struct lsm_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lsm_file_clear(&files[i]);
	free(files);
}

void lsm_manifest_clear(struct lsm_manifest *m)
{
	for (int l = 0; l < LSM_LEVELS; l++)
		level_free(m->files[l], m->nfiles[l]);
	free(m->owners);
	lsm_manifest_init(m);
}

/* *dst is malloc'd (at least one byte, so an empty key is not NULL). */
static int key_dup(uint8_t **dst, const uint8_t *src, size_t n)
{
	*dst = malloc(n ? n : 1);
	if (*dst == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(*dst, src, n);
	return 0;
}

/* dst's previous contents are overwritten, not freed. */
int lsm_file_copy(struct lsm_file *dst, const struct lsm_file *src)
{
	*dst = *src;
	dst->smallest = NULL;
	dst->largest = NULL;
	if (key_dup(&dst->smallest, src->smallest, src->smallest_len) < 0 ||
	    key_dup(&dst->largest, src->largest, src->largest_len) < 0) {
		lsm_file_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

static int level_copy(struct lsm_file **dst, const struct lsm_file *src,
		      size_t n)
{
	struct lsm_file *f;

	*dst = NULL;
	if (n == 0)
		return 0;
	f = calloc(n, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (lsm_file_copy(&f[i], &src[i]) < 0) {
			level_free(f, i);
			return -ENOMEM;
		}
	}
	*dst = f;
	return 0;
}

/* dst's previous contents are overwritten, not freed: pass a fresh or
 * cleared manifest. */
int lsm_manifest_copy(struct lsm_manifest *dst, const struct lsm_manifest *src)
{
	lsm_manifest_init(dst);
	dst->number = src->number;
	dst->writer_epoch = src->writer_epoch;
	dst->flushed_seq = src->flushed_seq;
	dst->next_file = src->next_file;
	if (src->nowners > 0) {
		dst->owners = malloc(src->nowners * sizeof(*src->owners));
		if (dst->owners == NULL)
			goto clear_dst;
		memcpy(dst->owners, src->owners,
		       src->nowners * sizeof(*src->owners));
		dst->nowners = src->nowners;
	}
	for (int l = 0; l < LSM_LEVELS; l++) {
		if (level_copy(&dst->files[l], src->files[l], src->nfiles[l]))
			goto clear_dst;
		dst->nfiles[l] = src->nfiles[l];
	}
	return 0;
clear_dst:
	lsm_manifest_clear(dst);
	return -ENOMEM;
}

/* Level 0 order: newest first by max_seq, the higher id first on ties. */
static int file_cmp_l0(const void *pa, const void *pb)
{
	const struct lsm_file *a = pa, *b = pb;

	if (a->max_seq != b->max_seq)
		return a->max_seq > b->max_seq ? -1 : 1;
	if (a->id != b->id)
		return a->id > b->id ? -1 : 1;
	return 0;
}

static int file_cmp_smallest(const void *pa, const void *pb)
{
	const struct lsm_file *a = pa, *b = pb;

	return lsm_ikey_cmp(a->smallest, a->smallest_len, b->smallest,
			    b->smallest_len);
}

static int file_check(const struct lsm_file *f)
{
	if (f->smallest == NULL || f->largest == NULL ||
	    f->smallest_len < LSM_TRAILER || f->largest_len < LSM_TRAILER ||
	    f->smallest_len > MAN_KEY_MAX || f->largest_len > MAN_KEY_MAX ||
	    f->min_seq > f->max_seq)
		return -EINVAL;
	if (lsm_ikey_cmp(f->smallest, f->smallest_len, f->largest,
			 f->largest_len) > 0)
		return -EINVAL;
	return 0;
}

/* 1 if a ends at or after the user key b starts with. */
static int file_reaches(const struct lsm_file *a, const struct lsm_file *b)
{
	return lsm_ukey_cmp(a->largest, lsm_ikey_ulen(a->largest_len),
			    b->smallest, lsm_ikey_ulen(b->smallest_len)) >= 0;
}

static int level_check(const struct lsm_file *f, size_t n, int level)
{
	for (size_t i = 0; i < n; i++) {
		if (file_check(&f[i]) < 0)
			return -EINVAL;
		if (i == 0)
			continue;
		if (level == 0 && file_cmp_l0(&f[i - 1], &f[i]) >= 0)
			return -EINVAL;
		if (level > 0 && file_reaches(&f[i - 1], &f[i]))
			return -EINVAL;
	}
	return 0;
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* 0 if no id appears twice among the levels' files; -EINVAL; -ENOMEM. */
static int levels_ids_check(struct lsm_file *const *files, const size_t *nfiles)
{
	size_t total = 0, k = 0;
	uint64_t *ids;
	int rc = 0;

	for (int l = 0; l < LSM_LEVELS; l++)
		total += nfiles[l];
	if (total < 2)
		return 0;
	ids = malloc(total * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	for (int l = 0; l < LSM_LEVELS; l++)
		for (size_t i = 0; i < nfiles[l]; i++)
			ids[k++] = files[l][i].id;
	qsort(ids, total, sizeof(*ids), u64_cmp);
	for (size_t i = 1; i < total && rc == 0; i++)
		if (ids[i] == ids[i - 1])
			rc = -EINVAL;
	free(ids);
	return rc;
}

static int levels_check(struct lsm_file *const *files, const size_t *nfiles)
{
	for (int l = 0; l < LSM_LEVELS; l++)
		if (level_check(files[l], nfiles[l], l) < 0)
			return -EINVAL;
	return levels_ids_check(files, nfiles);
}

static int owners_check(const struct lsm_manifest *m)
{
	for (size_t i = 1; i < m->nowners; i++) {
		if (m->owners[i].first_seq <= m->owners[i - 1].first_seq ||
		    m->owners[i].epoch <= m->owners[i - 1].epoch)
			return -EINVAL;
	}
	return 0;
}

/* The invariants listed at the top: 0, -EINVAL or -ENOMEM. */
static int manifest_check(const struct lsm_manifest *m)
{
	if (m->nowners > UINT32_MAX || owners_check(m) < 0)
		return -EINVAL;
	for (int l = 0; l < LSM_LEVELS; l++) {
		if (m->nfiles[l] > UINT32_MAX)
			return -EINVAL;
		for (size_t i = 0; i < m->nfiles[l]; i++)
			if (m->files[l][i].id >= m->next_file)
				return -EINVAL;
	}
	return levels_check(m->files, m->nfiles);
}

static void encode_file(struct wire_out *w, const struct lsm_file *f)
{
	wire_out_u64(w, f->id);
	wire_out_u64(w, f->size);
	wire_out_u64(w, f->entries);
	wire_out_u64(w, f->min_seq);
	wire_out_u64(w, f->max_seq);
	wire_out_u32(w, (uint32_t)f->smallest_len);
	wire_out_mem(w, f->smallest, f->smallest_len);
	wire_out_u32(w, (uint32_t)f->largest_len);
	wire_out_mem(w, f->largest, f->largest_len);
}

int lsm_manifest_encode(const struct lsm_manifest *m, struct wire_out *out)
{
	size_t start = out->len;
	uint8_t sum[MAN_SUM_LEN];
	int rc = manifest_check(m);

	if (rc < 0)
		return rc;
	wire_out_mem(out, MAN_MAGIC, MAN_MAGIC_LEN);
	wire_out_u32(out, MAN_VERSION);
	wire_out_u64(out, m->number);
	wire_out_u64(out, m->writer_epoch);
	wire_out_u64(out, m->flushed_seq);
	wire_out_u64(out, m->next_file);
	wire_out_u32(out, (uint32_t)m->nowners);
	for (size_t i = 0; i < m->nowners; i++) {
		wire_out_u64(out, m->owners[i].epoch);
		wire_out_u64(out, m->owners[i].first_seq);
	}
	wire_out_u32(out, LSM_LEVELS);
	for (int l = 0; l < LSM_LEVELS; l++) {
		wire_out_u32(out, (uint32_t)m->nfiles[l]);
		for (size_t i = 0; i < m->nfiles[l]; i++)
			encode_file(out, &m->files[l][i]);
	}
	if (out->err)
		return out->err;
	crypto_generichash(sum, sizeof(sum), out->p + start, out->len - start,
			   NULL, 0);
	wire_out_mem(out, sum, sizeof(sum));
	return out->err;
}

static int decode_key(struct wire_in *r, uint8_t **key, size_t *len)
{
	uint32_t n = wire_in_u32(r);
	const uint8_t *p;

	if (r->err || n < LSM_TRAILER || n > MAN_KEY_MAX)
		return -EIO;
	p = wire_in_take(r, n);
	if (p == NULL)
		return -EIO;
	if (key_dup(key, p, n) < 0)
		return -ENOMEM;
	*len = n;
	return 0;
}

static int decode_file(struct wire_in *r, struct lsm_file *f)
{
	int rc;

	f->id = wire_in_u64(r);
	f->size = wire_in_u64(r);
	f->entries = wire_in_u64(r);
	f->min_seq = wire_in_u64(r);
	f->max_seq = wire_in_u64(r);
	rc = decode_key(r, &f->smallest, &f->smallest_len);
	if (rc == 0)
		rc = decode_key(r, &f->largest, &f->largest_len);
	return rc;
}

/* The count is checked against the bytes left before the array is
 * allocated, so a damaged count cannot ask for gigabytes. */
static int decode_level(struct wire_in *r, struct lsm_manifest *m, int l)
{
	uint32_t n = wire_in_u32(r);
	int rc = 0;

	if (r->err || n > wire_in_left(r) / MAN_FILE_MIN)
		return -EIO;
	if (n == 0)
		return 0;
	m->files[l] = calloc(n, sizeof(*m->files[l]));
	if (m->files[l] == NULL)
		return -ENOMEM;
	m->nfiles[l] = n;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = decode_file(r, &m->files[l][i]);
	return rc;
}

static int decode_owners(struct wire_in *r, struct lsm_manifest *m)
{
	uint32_t n = wire_in_u32(r);

	if (r->err || n > wire_in_left(r) / MAN_OWNER_LEN)
		return -EIO;
	if (n == 0)
		return 0;
	m->owners = calloc(n, sizeof(*m->owners));
	if (m->owners == NULL)
		return -ENOMEM;
	m->nowners = n;
	for (uint32_t i = 0; i < n; i++) {
		m->owners[i].epoch = wire_in_u64(r);
		m->owners[i].first_seq = wire_in_u64(r);
	}
	return r->err ? -EIO : 0;
}

static int decode_body(struct wire_in *r, struct lsm_manifest *m)
{
	const uint8_t *magic = wire_in_take(r, MAN_MAGIC_LEN);
	int rc;

	if (magic == NULL || memcmp(magic, MAN_MAGIC, MAN_MAGIC_LEN) != 0 ||
	    wire_in_u32(r) != MAN_VERSION)
		return -EIO;
	m->number = wire_in_u64(r);
	m->writer_epoch = wire_in_u64(r);
	m->flushed_seq = wire_in_u64(r);
	m->next_file = wire_in_u64(r);
	rc = decode_owners(r, m);
	if (rc < 0)
		return rc;
	if (wire_in_u32(r) != LSM_LEVELS || r->err)
		return -EIO;
	for (int l = 0; l < LSM_LEVELS && rc == 0; l++)
		rc = decode_level(r, m, l);
	if (rc == 0 && (r->err || wire_in_left(r) != 0))
		rc = -EIO;
	return rc;
}

int lsm_manifest_decode(const uint8_t *p, size_t n, struct lsm_manifest *m)
{
	uint8_t sum[MAN_SUM_LEN];
	struct wire_in r;
	int rc;

	lsm_manifest_clear(m);
	if (n < MAN_MIN_LEN)
		return -EIO;
	crypto_generichash(sum, sizeof(sum), p, n - MAN_SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, p + n - MAN_SUM_LEN, MAN_SUM_LEN) != 0)
		return -EIO;
	wire_in_init(&r, p, n - MAN_SUM_LEN);
	rc = decode_body(&r, m);
	if (rc == 0) {
		rc = manifest_check(m);
		if (rc == -EINVAL)
			rc = -EIO;
	}
	if (rc < 0)
		lsm_manifest_clear(m);
	return rc;
}

/*
 * Edits.  The new levels are built beside the old ones, holding shallow
 * copies of the kept files and deep copies of the added ones, and checked
 * whole; only then are they swapped in, so a refused edit leaves m as it
 * was.
 */
struct apply_state {
	uint8_t *gone[LSM_LEVELS]; /* per file of m: 1 if deleted */
	struct lsm_file *added;	   /* deep copies of e->add[], in order */
	struct lsm_file *next[LSM_LEVELS];
	size_t nnext[LSM_LEVELS];
};

static int apply_mark(const struct lsm_manifest *m, const struct lsm_edit *e,
		      struct apply_state *s)
{
	for (int l = 0; l < LSM_LEVELS; l++) {
		s->gone[l] = calloc(m->nfiles[l] + 1, 1);
		if (s->gone[l] == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < e->ndel; i++) {
		int l = e->del[i].level;
		size_t k = 0;

		if (l < 0 || l >= LSM_LEVELS)
			return -EINVAL;
		while (k < m->nfiles[l] && m->files[l][k].id != e->del[i].id)
			k++;
		if (k == m->nfiles[l] || s->gone[l][k])
			return -EINVAL;
		s->gone[l][k] = 1;
	}
	return 0;
}

static int apply_copy_adds(const struct lsm_edit *e, struct apply_state *s)
{
	if (e->nadd == 0)
		return 0;
	s->added = calloc(e->nadd, sizeof(*s->added));
	if (s->added == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < e->nadd; i++) {
		if (e->add[i].level < 0 || e->add[i].level >= LSM_LEVELS ||
		    file_check(e->add[i].file) < 0)
			return -EINVAL;
		if (lsm_file_copy(&s->added[i], e->add[i].file) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int apply_level(const struct lsm_manifest *m, const struct lsm_edit *e,
		       struct apply_state *s, int l)
{
	size_t n = 0;
	struct lsm_file *f;

	for (size_t i = 0; i < m->nfiles[l]; i++)
		n += !s->gone[l][i];
	for (size_t i = 0; i < e->nadd; i++)
		n += e->add[i].level == l;
	if (n == 0)
		return 0;
	f = malloc(n * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	s->next[l] = f;
	s->nnext[l] = n;
	for (size_t i = 0; i < m->nfiles[l]; i++)
		if (!s->gone[l][i])
			*f++ = m->files[l][i];
	for (size_t i = 0; i < e->nadd; i++)
		if (e->add[i].level == l)
			*f++ = s->added[i];
	qsort(s->next[l], n, sizeof(*f),
	      l == 0 ? file_cmp_l0 : file_cmp_smallest);
	return 0;
}

/* Frees what the edit's outcome no longer needs: on success the deleted
 * files and the old arrays, on failure the copies of the added files. */
static void apply_state_fini(struct lsm_manifest *m, const struct lsm_edit *e,
			     struct apply_state *s, int ok)
{
	for (int l = 0; l < LSM_LEVELS; l++) {
		if (ok) {
			for (size_t i = 0; i < m->nfiles[l]; i++)
				if (s->gone[l][i])
					lsm_file_clear(&m->files[l][i]);
			free(m->files[l]);
			m->files[l] = s->next[l];
			m->nfiles[l] = s->nnext[l];
		} else {
			free(s->next[l]);
		}
		free(s->gone[l]);
	}
	if (s->added != NULL && !ok)
		for (size_t i = 0; i < e->nadd; i++)
			lsm_file_clear(&s->added[i]);
	free(s->added);
}

int lsm_manifest_apply(struct lsm_manifest *m, const struct lsm_edit *e)
{
	struct apply_state s;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = apply_mark(m, e, &s);
	if (rc == 0)
		rc = apply_copy_adds(e, &s);
	for (int l = 0; l < LSM_LEVELS && rc == 0; l++)
		rc = apply_level(m, e, &s, l);
	if (rc == 0)
		rc = levels_check(s.next, s.nnext);
	apply_state_fini(m, e, &s, rc == 0);
	return rc;
}

uint64_t lsm_manifest_owner(const struct lsm_manifest *m, uint64_t seq)
{
	for (size_t i = m->nowners; i > 0; i--)
		if (m->owners[i - 1].first_seq <= seq)
			return m->owners[i - 1].epoch;
	return 0;
}

/*
 * Names.  Numbers are zero-padded to a fixed width so that the store's
 * byte-ordered listing is also numeric order: 20 digits hold any 64-bit
 * number, 10 digits any epoch below 10^10.
 */
void lsm_name_manifest(const char *prefix, uint64_t number, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%smanifest/%020" PRIu64, prefix, number);
}

void lsm_name_sst(const char *prefix, uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%ssst/%020" PRIu64, prefix, id);
}

void lsm_name_wal(const char *prefix, uint64_t first, uint64_t epoch, char *buf,
		  size_t len)
{
	snprintf(buf, len, "%swal/%020" PRIu64 "-%010" PRIu64, prefix, first,
		 epoch);
}

void lsm_name_ckpt(const char *prefix, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%sckpt/%s", prefix, name);
}

/* Exactly n decimal digits whose value fits 64 bits. */
static int digits_parse(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int lsm_parse_manifest(const char *base, uint64_t *number)
{
	if (strnlen(base, 21) != 20)
		return -EINVAL;
	return digits_parse(base, 20, number);
}

int lsm_parse_sst(const char *base, uint64_t *id)
{
	return lsm_parse_manifest(base, id);
}

int lsm_parse_wal(const char *base, uint64_t *first, uint64_t *epoch)
{
	uint64_t f, e;

	if (strnlen(base, 32) != 31 || base[20] != '-' ||
	    digits_parse(base, 20, &f) < 0 || digits_parse(base + 21, 10, &e))
		return -EINVAL;
	*first = f;
	*epoch = e;
	return 0;
}

int lsm_ckpt_name_check(const char *name)
{
	size_t n = strnlen(name, LSM_CKPT_NAME_MAX + 1);

	if (n == 0 || n > LSM_CKPT_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return -EINVAL;
	}
	return 0;
}

/*
 * Loading.  A damaged newest manifest is -EIO, not a reason to fall back
 * to an older one: the newest may be the only record of a takeover or of
 * deleted SSTs, and going back would undo them.
 */
struct newest_scan {
	char dir[LSM_NAME_MAX];
	size_t dirlen;
	uint64_t best;
	int found;
};

static int newest_scan_cb(void *arg, const char *key, uint64_t size)
{
	struct newest_scan *s = arg;
	uint64_t n;

	(void)size;
	if (strncmp(key, s->dir, s->dirlen) != 0 ||
	    lsm_parse_manifest(key + s->dirlen, &n) < 0)
		return 0;
	if (!s->found || n > s->best)
		s->best = n;
	s->found = 1;
	return 0;
}

int lsm_manifest_load_newest(struct objstore *os, const char *prefix,
			     struct lsm_manifest *m)
{
	struct newest_scan s = { .found = 0 };
	int len, rc;

	len = snprintf(s.dir, sizeof(s.dir), "%smanifest/", prefix);
	if (len < 0 || (size_t)len >= sizeof(s.dir))
		return -ENAMETOOLONG;
	s.dirlen = (size_t)len;
	rc = objstore_list(os, s.dir, newest_scan_cb, &s);
	if (rc < 0)
		return rc;
	if (!s.found)
		return -ENOENT;
	return lsm_manifest_load(os, prefix, s.best, m);
}

int lsm_manifest_load(struct objstore *os, const char *prefix, uint64_t number,
		      struct lsm_manifest *m)
{
	char key[LSM_NAME_MAX];
	void *data = NULL;
	size_t len = 0;
	int rc;

	if (strlen(prefix) + sizeof("manifest/") + 20 > sizeof(key))
		return -ENAMETOOLONG;
	lsm_name_manifest(prefix, number, key, sizeof(key));
	rc = objstore_get(os, key, &data, &len);
	if (rc < 0)
		return rc;
	rc = lsm_manifest_decode(data, len, m);
	free(data);
	if (rc == 0 && m->number != number) {
		lsm_manifest_clear(m);
		rc = -EIO;
	}
	return rc;
}
