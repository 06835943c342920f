/*
 * Unit tests of the XDR cursor and encoder.
 */
#include "nfs/xdr.h"
#include "test.h"

#include <stdint.h>

static void enc_sample(struct xdr_enc *e)
{
	xdr_enc_init(e);
	xdr_put_u32(e, 0xdeadbeef);
	xdr_put_u64(e, 0x0102030405060708ull);
	xdr_put_bool(e, true);
	xdr_put_opaque_var(e, "abcde", 5);
	xdr_put_string(e, "name");
	xdr_put_opaque_fixed(e, "xyz", 3);
}

static bool dec_sample(struct xdr_dec *d)
{
	uint32_t a, n;
	uint64_t b;
	bool c;
	const uint8_t *p;
	char s[16], f[3];

	return xdr_u32(d, &a) && xdr_u64(d, &b) && xdr_bool(d, &c) &&
	       xdr_opaque_var(d, 16, &p, &n) && xdr_string(d, 15, s, 16) &&
	       xdr_opaque_fixed(d, f, 3);
}

TEST(values_survive_a_round_trip)
{
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t a, n;
	uint64_t b;
	bool c;
	const uint8_t *p;
	char s[16], f[3];

	enc_sample(&e);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(xdr_u32(&d, &a) && xdr_u64(&d, &b) && xdr_bool(&d, &c));
	CHECK_EQ(a, 0xdeadbeef);
	CHECK(b == 0x0102030405060708ull);
	CHECK(c);
	CHECK(xdr_opaque_var(&d, 16, &p, &n));
	CHECK_EQ(n, 5);
	CHECK(memcmp(p, "abcde", 5) == 0);
	CHECK(xdr_string(&d, 15, s, sizeof(s)));
	CHECK(strcmp(s, "name") == 0);
	CHECK(xdr_opaque_fixed(&d, f, 3));
	CHECK(memcmp(f, "xyz", 3) == 0);
	CHECK_EQ(xdr_dec_left(&d), 0);
	CHECK(!d.err);
	xdr_enc_fini(&e);
}

TEST(integers_are_big_endian)
{
	struct xdr_enc e;

	xdr_enc_init(&e);
	xdr_put_u32(&e, 0x01020304);
	CHECK_EQ(e.len, 4);
	CHECK(e.buf[0] == 1 && e.buf[3] == 4);
	xdr_enc_fini(&e);
}

TEST(opaque_data_is_padded_with_zeros)
{
	struct xdr_enc e;

	xdr_enc_init(&e);
	xdr_put_opaque_var(&e, "abcde", 5);
	CHECK_EQ(e.len, 12);
	CHECK_EQ(e.len, xdr_opaque_size(5));
	CHECK(e.buf[9] == 0 && e.buf[10] == 0 && e.buf[11] == 0);
	xdr_enc_fini(&e);
}

TEST(missing_padding_fails_the_decode)
{
	static const uint8_t buf[] = { 0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e' };
	struct xdr_dec d;
	const uint8_t *p;
	uint32_t n;

	xdr_dec_init(&d, buf, sizeof(buf));
	CHECK(!xdr_opaque_var(&d, 16, &p, &n));
	CHECK(d.err);
}

TEST(truncation_at_every_byte_fails_the_decode)
{
	struct xdr_enc e;
	struct xdr_dec d;
	size_t cut;

	enc_sample(&e);
	for (cut = 0; cut < e.len; cut++) {
		xdr_dec_init(&d, e.buf, cut);
		CHECK(!dec_sample(&d));
		CHECK(d.err);
	}
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(dec_sample(&d));
	xdr_enc_fini(&e);
}

TEST(opaque_longer_than_its_max_is_refused)
{
	struct xdr_enc e;
	struct xdr_dec d;
	const uint8_t *p;
	uint32_t n;

	xdr_enc_init(&e);
	xdr_put_opaque_var(&e, "abcdefgh", 8);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(!xdr_opaque_var(&d, 7, &p, &n));
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(xdr_opaque_var(&d, 8, &p, &n));
	xdr_enc_fini(&e);
}

TEST(string_longer_than_its_max_is_refused)
{
	struct xdr_enc e;
	struct xdr_dec d;
	char s[4];

	xdr_enc_init(&e);
	xdr_put_string(&e, "four");
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(!xdr_string(&d, 3, s, sizeof(s)));
	xdr_enc_fini(&e);
}

TEST(huge_length_is_refused_without_reading)
{
	static const uint8_t buf[] = { 0xff, 0xff, 0xff, 0xff, 'a', 0, 0, 0 };
	struct xdr_dec d;
	const uint8_t *p;
	uint32_t n;

	xdr_dec_init(&d, buf, sizeof(buf));
	CHECK(!xdr_opaque_var(&d, UINT32_MAX, &p, &n));
	CHECK(d.err);
}

TEST(string_with_a_nul_byte_is_refused)
{
	static const uint8_t buf[] = { 0, 0, 0, 3, 'a', 0, 'b', 0 };
	struct xdr_dec d;
	char s[8];

	xdr_dec_init(&d, buf, sizeof(buf));
	CHECK(!xdr_string(&d, 7, s, sizeof(s)));
}

TEST(bool_other_than_zero_or_one_is_refused)
{
	static const uint8_t buf[] = { 0, 0, 0, 2 };
	struct xdr_dec d;
	bool b;

	xdr_dec_init(&d, buf, sizeof(buf));
	CHECK(!xdr_bool(&d, &b));
}

TEST(error_flag_is_sticky)
{
	static const uint8_t buf[] = { 0, 0, 0, 1, 0, 0, 0, 2 };
	struct xdr_dec d;
	uint32_t v;
	uint64_t w;

	xdr_dec_init(&d, buf, 6);
	CHECK(!xdr_u64(&d, &w));
	d.len = sizeof(buf);
	CHECK(!xdr_u32(&d, &v));
	CHECK_EQ(xdr_dec_left(&d), 0);
}

TEST(patch_overwrites_a_written_word)
{
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t v;

	xdr_enc_init(&e);
	xdr_put_u32(&e, 0);
	xdr_patch_u32(&e, 0, 77);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(xdr_u32(&d, &v));
	CHECK_EQ(v, 77);
	xdr_enc_fini(&e);
}

TEST(encoder_grows_past_its_first_buffer)
{
	struct xdr_enc e;
	int i;

	xdr_enc_init(&e);
	for (i = 0; i < 10000; i++)
		xdr_put_u32(&e, (uint32_t)i);
	CHECK(!e.err);
	CHECK_EQ(e.len, 40000);
	CHECK(e.buf[39999] == (9999 & 0xff));
	xdr_enc_fini(&e);
}

TEST_MAIN(values_survive_a_round_trip, integers_are_big_endian,
	  opaque_data_is_padded_with_zeros, missing_padding_fails_the_decode,
	  truncation_at_every_byte_fails_the_decode,
	  opaque_longer_than_its_max_is_refused,
	  string_longer_than_its_max_is_refused,
	  huge_length_is_refused_without_reading,
	  string_with_a_nul_byte_is_refused,
	  bool_other_than_zero_or_one_is_refused, error_flag_is_sticky,
	  patch_overwrites_a_written_word, encoder_grows_past_its_first_buffer)
