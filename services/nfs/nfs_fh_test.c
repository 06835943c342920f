/*
 * Unit tests of file handles, the errno mapping, name checks and the
 * ACCESS computation.
 */
#include "nfs/nfs_gw.h"
#include "test.h"

#include <errno.h>

TEST(handle_survives_a_round_trip)
{
	struct xdr_enc e;
	struct xdr_dec d;
	struct nfs_fh fh;

	xdr_enc_init(&e);
	nfs_fh_encode(&e, 0x0102030405060708ull, 0xa1b2c3d4);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(nfs_fh_decode(&d, &fh));
	CHECK(fh.valid);
	CHECK(fh.ino == 0x0102030405060708ull);
	CHECK_EQ(fh.gen, 0xa1b2c3d4);
	xdr_enc_fini(&e);
}

TEST(handle_of_the_wrong_length_is_a_bad_handle)
{
	struct xdr_enc e;
	struct xdr_dec d;
	struct nfs_fh fh;
	Zerofs__Handle h;

	xdr_enc_init(&e);
	xdr_put_opaque_var(&e, "\1abcdefghijkl", 12);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(nfs_fh_decode(&d, &fh));
	CHECK(!fh.valid);
	CHECK_EQ(nfs_fh_to_pb(&fh, &h), -EBADF);
	CHECK_EQ(nfs_status_from_errno(-EBADF), NFS3ERR_BADHANDLE);
	xdr_enc_fini(&e);
}

TEST(handle_of_another_version_is_a_bad_handle)
{
	struct xdr_enc e;
	struct xdr_dec d;
	struct nfs_fh fh;

	xdr_enc_init(&e);
	xdr_put_opaque_var(&e, "\2abcdefghijkl", 13);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(nfs_fh_decode(&d, &fh));
	CHECK(!fh.valid);
	xdr_enc_fini(&e);
}

TEST(handle_over_64_bytes_does_not_decode)
{
	static const uint8_t big[65];
	struct xdr_enc e;
	struct xdr_dec d;
	struct nfs_fh fh;

	xdr_enc_init(&e);
	xdr_put_opaque_var(&e, big, sizeof(big));
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(!nfs_fh_decode(&d, &fh));
	xdr_enc_fini(&e);
}

TEST(errnos_map_to_their_nfs_status)
{
	CHECK_EQ(nfs_status_from_errno(0), NFS3_OK);
	CHECK_EQ(nfs_status_from_errno(-ENOENT), NFS3ERR_NOENT);
	CHECK_EQ(nfs_status_from_errno(-ESTALE), NFS3ERR_STALE);
	CHECK_EQ(nfs_status_from_errno(-ENOTEMPTY), NFS3ERR_NOTEMPTY);
	CHECK_EQ(nfs_status_from_errno(-EAGAIN), NFS3ERR_NOT_SYNC);
	CHECK_EQ(nfs_status_from_errno(-ENOBUFS), NFS3ERR_TOOSMALL);
	CHECK_EQ(nfs_status_from_errno(-EBADRQC), NFS3ERR_BADTYPE);
	CHECK_EQ(nfs_status_from_errno(-ETIMEDOUT), NFS3ERR_JUKEBOX);
	CHECK_EQ(nfs_status_from_errno(-ENAMETOOLONG), NFS3ERR_NAMETOOLONG);
}

TEST(unknown_errno_is_a_server_fault)
{
	CHECK_EQ(nfs_status_from_errno(-EBADMSG), NFS3ERR_SERVERFAULT);
}

TEST(errnos_map_to_their_mount_status)
{
	CHECK_EQ(nfs_mount_status_from_errno(0), MNT3_OK);
	CHECK_EQ(nfs_mount_status_from_errno(-ENOENT), MNT3ERR_NOENT);
	CHECK_EQ(nfs_mount_status_from_errno(-ENOTDIR), MNT3ERR_NOTDIR);
	CHECK_EQ(nfs_mount_status_from_errno(-ESTALE), MNT3ERR_SERVERFAULT);
}

TEST(names_are_checked_for_length_and_slashes)
{
	char longname[300];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(nfs_name_check("file"), 0);
	CHECK_EQ(nfs_name_check(".."), 0);
	CHECK_EQ(nfs_name_check(""), -EINVAL);
	CHECK_EQ(nfs_name_check("a/b"), -EINVAL);
	CHECK_EQ(nfs_name_check(longname), -ENAMETOOLONG);
	CHECK_EQ(nfs_name_check_new(".."), -EINVAL);
	CHECK_EQ(nfs_name_check_new("."), -EINVAL);
}

static Zerofs__Attr attr_make(Zerofs__FileType type, uint32_t mode)
{
	Zerofs__Attr a = ZEROFS__ATTR__INIT;

	a.type = type;
	a.mode = mode;
	a.uid = 1000;
	a.gid = 100;
	return a;
}

#define ACCESS_ALL 0x3f

TEST(owner_gets_the_owner_bits)
{
	Zerofs__Attr a = attr_make(ZEROFS__FILE_TYPE__FT_REG, 0640);
	struct oncrpc_cred c = { .uid = 1000, .gid = 1 };

	CHECK_EQ(nfs_access_compute(&a, &c, ACCESS_ALL),
		 ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND);
}

TEST(supplementary_group_gets_the_group_bits)
{
	Zerofs__Attr a = attr_make(ZEROFS__FILE_TYPE__FT_REG, 0640);
	struct oncrpc_cred c = {
		.uid = 5, .gid = 5, .ngids = 2, .gids = { 7, 100 }
	};

	CHECK_EQ(nfs_access_compute(&a, &c, ACCESS_ALL), ACCESS3_READ);
}

TEST(others_get_the_other_bits)
{
	Zerofs__Attr a = attr_make(ZEROFS__FILE_TYPE__FT_DIR, 0751);
	struct oncrpc_cred c = { .uid = 5, .gid = 5 };

	CHECK_EQ(nfs_access_compute(&a, &c, ACCESS_ALL), ACCESS3_LOOKUP);
}

TEST(root_gets_everything_but_execute_without_x_bits)
{
	Zerofs__Attr f = attr_make(ZEROFS__FILE_TYPE__FT_REG, 0600);
	Zerofs__Attr x = attr_make(ZEROFS__FILE_TYPE__FT_REG, 0700);
	struct oncrpc_cred c = { .uid = 0 };

	CHECK_EQ(nfs_access_compute(&f, &c, ACCESS_ALL),
		 ACCESS_ALL & ~ACCESS3_EXECUTE);
	CHECK_EQ(nfs_access_compute(&x, &c, ACCESS_ALL), ACCESS_ALL);
}

TEST(only_requested_bits_are_answered)
{
	Zerofs__Attr a = attr_make(ZEROFS__FILE_TYPE__FT_REG, 0777);
	struct oncrpc_cred c = { .uid = 1000 };

	CHECK_EQ(nfs_access_compute(&a, &c, ACCESS3_READ), ACCESS3_READ);
}

TEST_MAIN(handle_survives_a_round_trip,
	  handle_of_the_wrong_length_is_a_bad_handle,
	  handle_of_another_version_is_a_bad_handle,
	  handle_over_64_bytes_does_not_decode, errnos_map_to_their_nfs_status,
	  unknown_errno_is_a_server_fault, errnos_map_to_their_mount_status,
	  names_are_checked_for_length_and_slashes, owner_gets_the_owner_bits,
	  supplementary_group_gets_the_group_bits, others_get_the_other_bits,
	  root_gets_everything_but_execute_without_x_bits,
	  only_requested_bits_are_answered)
