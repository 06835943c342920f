/*
 * The argument decoders of every procedure and the call-header decoder
 * against random and truncated bytes: a bounded, seeded run that must
 * never read outside its buffer (the sanitizer build checks that) and
 * must reject every cut of a valid argument list.
 */
#include "nfs/nfs_gw.h"
#include "test.h"

#include <stdlib.h>

static const struct nfs_proc *const procs[] = {
	&nfs_proc_null,	   &nfs_proc_getattr, &nfs_proc_setattr,
	&nfs_proc_lookup,  &nfs_proc_access,  &nfs_proc_readlink,
	&nfs_proc_read,	   &nfs_proc_write,   &nfs_proc_create,
	&nfs_proc_mkdir,   &nfs_proc_symlink, &nfs_proc_mknod,
	&nfs_proc_remove,  &nfs_proc_rmdir,   &nfs_proc_rename,
	&nfs_proc_link,	   &nfs_proc_readdir, &nfs_proc_readdirplus,
	&nfs_proc_fsstat,  &nfs_proc_fsinfo,  &nfs_proc_pathconf,
	&nfs_proc_commit,  &nfs_mount_null,   &nfs_mount_mnt,
	&nfs_mount_dump,   &nfs_mount_umnt,   &nfs_mount_umntall,
	&nfs_mount_export,
};
#define NPROCS (sizeof(procs) / sizeof(procs[0]))

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Random words, biased toward small values so lengths often fit. */
static size_t random_args(uint32_t *s, uint8_t *buf, size_t cap)
{
	size_t n = rnd(s) % (cap / 4), i;
	uint32_t w;

	for (i = 0; i < n; i++) {
		w = rnd(s) % 4 ? rnd(s) % 64 : rnd(s);
		buf[4 * i] = w >> 24;
		buf[4 * i + 1] = w >> 16;
		buf[4 * i + 2] = w >> 8;
		buf[4 * i + 3] = w;
	}
	return 4 * n;
}

/* Each input is copied into a buffer of exactly its length, so that the
 * sanitizer build catches a read one byte past it. */
TEST(random_bytes_never_crash_a_decoder)
{
	static struct nfs_args a;
	uint8_t words[1024], *buf;
	struct xdr_dec d;
	uint32_t s = 99, i, decoded = 0;
	size_t len;

	for (i = 0; i < 100000; i++) {
		len = random_args(&s, words, sizeof(words));
		buf = malloc(len ? len : 1);
		if (buf == NULL)
			break;
		memcpy(buf, words, len);
		xdr_dec_init(&d, buf, len);
		decoded += procs[i % NPROCS]->decode(&d, &a);
		free(buf);
	}
	CHECK(decoded > 0);
}

/* A WRITE's arguments, whole. */
static void write_args(struct xdr_enc *e)
{
	xdr_enc_init(e);
	nfs_fh_encode(e, 5, 1);
	xdr_put_u64(e, 0);
	xdr_put_u32(e, 3);
	xdr_put_u32(e, FILE_SYNC);
	xdr_put_opaque_var(e, "abc", 3);
}

TEST(every_cut_of_write_arguments_is_rejected)
{
	static struct nfs_args a;
	struct xdr_enc e;
	struct xdr_dec d;
	size_t cut;

	write_args(&e);
	for (cut = 0; cut < e.len; cut++) {
		xdr_dec_init(&d, e.buf, cut);
		CHECK(!nfs_proc_write.decode(&d, &a));
	}
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(nfs_proc_write.decode(&d, &a));
	CHECK_EQ(a.datalen, 3);
	CHECK(memcmp(a.data, "abc", 3) == 0);
	xdr_enc_fini(&e);
}

TEST(random_call_headers_never_crash_the_decoder)
{
	uint8_t buf[256];
	struct oncrpc_call c;
	struct xdr_dec d;
	uint32_t s = 7, i;
	size_t len;

	for (i = 0; i < 200000; i++) {
		len = random_args(&s, buf, sizeof(buf));
		if (len >= 8 && i % 2) {
			buf[4] = buf[5] = buf[6] = buf[7] = 0; /* a CALL */
			if (len >= 12) {
				buf[8] = buf[9] = buf[10] = 0;
				buf[11] = RPC_VERSION;
			}
		}
		xdr_dec_init(&d, buf, len);
		(void)oncrpc_call_decode(&d, &c);
		CHECK(c.cred.ngids <= RPC_AUTH_GIDS_MAX);
	}
}

TEST_MAIN(random_bytes_never_crash_a_decoder,
	  every_cut_of_write_arguments_is_rejected,
	  random_call_headers_never_crash_the_decoder)
