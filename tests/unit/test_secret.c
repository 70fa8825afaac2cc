/*
 * test_secret.c — unit tests of lib/secret.c: digests, HMAC, scrypt, password
 * hashes, tokens, generated passwords and base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/secret.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void sha256_vectors(void **state)
{
	(void)state;
	char out[FP_SHA256_HEX_LEN + 1];
	fp_sha256_hex("abc", 3, out);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	fp_sha256_hex(NULL, 0, out);
	assert_string_equal(out,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	unsigned char raw[32];
	char rawhex[65];
	fp_sha256("abc", 3, raw);
	hex(raw, sizeof(raw), rawhex);
	assert_string_equal(rawhex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void hmac_rfc4231_case2(void **state)
{
	(void)state;
	unsigned char mac[32];
	char machex[65];
	const char *msg = "what do ya want for nothing?";
	fp_hmac_sha256("Jefe", 4, msg, strlen(msg), mac);
	hex(mac, sizeof(mac), machex);
	assert_string_equal(machex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void ct_equal_and_wipe(void **state)
{
	(void)state;
	assert_int_equal(fp_ct_equal("abcd", "abcd", 4), 1);
	assert_int_equal(fp_ct_equal("abcd", "abce", 4), 0);
	assert_int_equal(fp_ct_equal("a", "b", 0), 1);
	char buf[8] = "secret!";
	fp_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	fp_wipe(NULL, 0);
}

static void random_bytes_differ(void **state)
{
	(void)state;
	unsigned char a[32], b[32];
	assert_int_equal(fp_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(fp_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(fp_random_bytes(a, 0), 0);
}

/* RFC 7914 section 12, test vectors 1 and 2. */
static void scrypt_rfc7914(void **state)
{
	(void)state;
	unsigned char out[64];
	char outhex[129];
	assert_int_equal(fp_scrypt_raw("", 0, "", 0, 4, 1, 1, out, sizeof(out), NULL), 0);
	hex(out, sizeof(out), outhex);
	assert_string_equal(outhex,
	                    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	                    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
	assert_int_equal(fp_scrypt_raw("password", 8, "NaCl", 4, 10, 8, 16, out, sizeof(out), NULL),
	                 0);
	hex(out, sizeof(out), outhex);
	assert_string_equal(outhex,
	                    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	                    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
	struct fp_err err;
	assert_int_equal(fp_scrypt_raw("p", 1, "s", 1, 0, 8, 1, out, 32, &err), FP_EINVAL);
	assert_int_equal(fp_scrypt_raw("p", 1, "s", 1, 21, 8, 1, out, 32, &err), FP_EINVAL);
	assert_int_equal(fp_scrypt_raw("p", 1, "s", 1, 10, 17, 1, out, 32, &err), FP_EINVAL);
	assert_int_equal(fp_scrypt_raw("p", 1, "s", 1, 10, 8, 65, out, 32, &err), FP_EINVAL);
	assert_int_equal(fp_scrypt_raw("p", 1, "s", 1, 10, 8, 1, out, 0, &err), FP_EINVAL);
}

static void password_round_trip(void **state)
{
	(void)state;
	char enc[FP_PWHASH_MAX], enc2[FP_PWHASH_MAX];
	struct fp_err err;
	assert_int_equal(fp_password_hash_cost("correct horse", 10, enc, &err), 0);
	assert_int_equal(strncmp(enc, "$scrypt$ln=10,r=8,p=1$", 22), 0);
	/* 24 characters of salt, "$", 44 characters of hash. */
	assert_int_equal(strlen(enc), 22 + 24 + 1 + 44);
	assert_int_equal(fp_password_verify("correct horse", enc, &err), 0);
	assert_int_equal(fp_password_verify("correct horsE", enc, &err), FP_EAUTH);
	assert_int_equal(fp_password_verify("", enc, &err), FP_EAUTH);
	/* A fresh salt each time. */
	assert_int_equal(fp_password_hash_cost("correct horse", 10, enc2, &err), 0);
	assert_string_not_equal(enc, enc2);
	/* The empty password is hashed like any other (policy is the server's job). */
	assert_int_equal(fp_password_hash_cost("", 10, enc, &err), 0);
	assert_int_equal(fp_password_verify("", enc, &err), 0);
	assert_int_equal(fp_password_hash_cost("x", 9, enc, &err), FP_EINVAL);
	assert_int_equal(fp_password_hash_cost("x", 21, enc, &err), FP_EINVAL);
}

static void password_default_cost(void **state)
{
	(void)state;
	char enc[FP_PWHASH_MAX];
	assert_int_equal(fp_password_hash("hunter2", enc, NULL), 0);
	assert_int_equal(strncmp(enc, "$scrypt$ln=15,r=8,p=1$", 22), 0);
	assert_int_equal(fp_password_verify("hunter2", enc, NULL), 0);
}

static void password_length_cap(void **state)
{
	(void)state;
	char *pw = malloc(FP_PASSWORD_MAX + 2);
	char enc[FP_PWHASH_MAX];
	struct fp_err err;
	assert_non_null(pw);
	memset(pw, 'p', FP_PASSWORD_MAX);
	pw[FP_PASSWORD_MAX] = '\0';
	assert_int_equal(fp_password_hash_cost(pw, 10, enc, &err), 0);
	assert_int_equal(fp_password_verify(pw, enc, &err), 0);
	pw[FP_PASSWORD_MAX] = 'p';
	pw[FP_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(fp_password_hash_cost(pw, 10, enc, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "1024"));
	assert_int_equal(fp_password_verify(pw, enc, &err), FP_ETOOBIG);
	free(pw);
}

static void password_malformed_encodings(void **state)
{
	(void)state;
	char good[FP_PWHASH_MAX], bad[2 * FP_PWHASH_MAX];
	struct fp_err err;
	assert_int_equal(fp_password_hash_cost("pw", 10, good, &err), 0);
	const char *salt = good + 22, *dollar = strchr(salt, '$');
	assert_non_null(dollar);
	int sl = (int)(dollar - salt);
	const char *hash = dollar + 1;

	static const char *const whole[] = {
	    "",
	    "$scrypt$",
	    "$bcrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
	    "$scrypt$ln=10,r=8,p=1",
	    "$scrypt$ln=10,r=8,p=1$",
	    "$scrypt$ln=10,r=8,p=1$$",
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		assert_int_equal(fp_password_verify("pw", whole[i], &err), FP_EINVAL);
	assert_int_equal(fp_password_verify("pw", NULL, &err), FP_EINVAL);

	/* Each parameter: malformed, and over its cap (which would burn memory). */
	static const char *const params[] = {
	    "ln=x,r=8,p=1",  "ln=010,r=8,p=1", "ln=10,r=08,p=1", "ln=10;r=8,p=1",
	    "ln=10,r=8",     "ln=10,r=8,p=1,", "LN=10,r=8,p=1",  "ln=,r=8,p=1",
	    "ln=21,r=8,p=1", "ln=9,r=8,p=1",   "ln=10,r=17,p=1", "ln=10,r=0,p=1",
	    "ln=10,r=8,p=5", "ln=10,r=8,p=0",  "ln=100,r=8,p=1", "ln=10,p=1,r=8",
	};
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		snprintf(bad, sizeof(bad), "$scrypt$%s$%.*s$%s", params[i], sl, salt, hash);
		assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	}
	/* The salt field. */
	static const char *const salts[] = {"",
	                                    "!!!!",
	                                    "AAAAAAAAAAAAAAAAAAAA",
	                                    "AAAAAAAAAAAAAAAAAAAAAAA=",
	                                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                                    "AAAAAAAAAAAAAAAAAAAAAB=="};
	for (size_t i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
		snprintf(bad, sizeof(bad), "$scrypt$ln=10,r=8,p=1$%s$%s", salts[i], hash);
		assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	}
	/* The hash field: short, long, bad characters, trailing data, extra field. */
	snprintf(bad, sizeof(bad), "%.*s", (int)(strlen(good) - 4), good);
	assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	snprintf(bad, sizeof(bad), "%sAAAA", good);
	assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	snprintf(bad, sizeof(bad), "%s$", good);
	assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	snprintf(bad, sizeof(bad), "%s ", good);
	assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	snprintf(bad, sizeof(bad), "%s", good);
	bad[strlen(bad) - 3] = '*';
	assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	/* Over the length cap of an encoding. */
	memset(bad, 'A', FP_PWHASH_MAX + 10);
	memcpy(bad, "$scrypt$", 8);
	bad[FP_PWHASH_MAX + 10] = '\0';
	assert_int_equal(fp_password_verify("pw", bad, &err), FP_EINVAL);
	/* Still good after all that. */
	assert_int_equal(fp_password_verify("pw", good, &err), 0);
}

static int only_chars(const char *s, const char *set)
{
	return strspn(s, set) == strlen(s);
}

static void tokens(void **state)
{
	(void)state;
	static const char url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char a[FP_TOKEN_MAX], b[FP_TOKEN_MAX];
	struct fp_err err;
	assert_int_equal(fp_token_new("fpu", a, &err), 0);
	assert_int_equal(fp_token_new("fpu", b, &err), 0);
	assert_int_equal(strncmp(a, "fpu_", 4), 0);
	assert_int_equal(strlen(a), 4 + 43);
	assert_true(only_chars(a + 4, url));
	assert_string_not_equal(a, b);
	unsigned char raw[40];
	size_t rawlen = 0;
	assert_int_equal(fp_base64url_decode(a + 4, raw, sizeof(raw), &rawlen), 0);
	assert_int_equal(rawlen, 32);
	assert_int_equal(fp_token_new("fpd", a, &err), 0);
	assert_int_equal(strncmp(a, "fpd_", 4), 0);
	assert_int_equal(fp_token_new("abcdefghij012345", a, &err), 0); /* the longest prefix */
	assert_true(strlen(a) < FP_TOKEN_MAX);
	assert_int_equal(fp_token_new("abcdefghij0123456", a, &err), FP_EINVAL);
	assert_int_equal(fp_token_new("", a, &err), FP_EINVAL);
	assert_int_equal(fp_token_new("FPU", a, &err), FP_EINVAL);
	assert_int_equal(fp_token_new("fp_u", a, &err), FP_EINVAL);
	assert_int_equal(fp_token_new(NULL, a, &err), FP_EINVAL);
}

static void generated_passwords(void **state)
{
	(void)state;
	char a[FP_PWGEN_MAX + 1], b[FP_PWGEN_MAX + 1];
	assert_int_equal(fp_password_generate(a, 16, NULL), 0);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(fp_password_generate(a, 64, NULL), 0);
	assert_int_equal(fp_password_generate(b, 64, NULL), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_null(strpbrk(a, "0Oo1lIi"));
	assert_true(only_chars(a, "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"));
	assert_int_equal(fp_password_generate(a, 15, NULL), FP_EINVAL);
	assert_int_equal(fp_password_generate(a, 65, NULL), FP_EINVAL);
}

/* RFC 4648 section 10. */
static void base64_round_trips(void **state)
{
	(void)state;
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const std[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char enc[16];
	unsigned char dec[16];
	size_t n = 0;
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(fp_base64_encode(plain[i], strlen(plain[i]), enc, sizeof(enc)), 0);
		assert_string_equal(enc, std[i]);
		assert_int_equal(fp_base64_decode(std[i], dec, sizeof(dec), &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(dec, plain[i], n);
		assert_int_equal(fp_base64url_encode(plain[i], strlen(plain[i]), enc, sizeof(enc)),
		                 0);
		assert_string_equal(enc, url[i]);
		assert_int_equal(fp_base64url_decode(url[i], dec, sizeof(dec), &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(dec, plain[i], n);
	}
	/* Every byte value, both alphabets. */
	unsigned char all[256], back[256];
	char big[400];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	assert_int_equal(fp_base64_encode(all, sizeof(all), big, sizeof(big)), 0);
	assert_int_equal(fp_base64_decode(big, back, sizeof(back), &n), 0);
	assert_int_equal(n, 256);
	assert_memory_equal(all, back, 256);
	assert_int_equal(fp_base64url_encode(all, sizeof(all), big, sizeof(big)), 0);
	assert_null(strpbrk(big, "+/="));
	assert_int_equal(fp_base64url_decode(big, back, sizeof(back), &n), 0);
	assert_memory_equal(all, back, 256);
	/* Output buffers one byte too small. */
	assert_int_equal(fp_base64_encode("foo", 3, enc, 4), FP_ETOOBIG);
	assert_int_equal(fp_base64_encode("foo", 3, enc, 5), 0);
	assert_int_equal(fp_base64_decode("Zm9v", dec, 2, &n), FP_ETOOBIG);
	assert_int_equal(fp_base64_decode("Zm9v", dec, 3, &n), 0);
}

static void base64_rejections(void **state)
{
	(void)state;
	unsigned char dec[32];
	size_t n = 0;
	static const char *const bad_std[] = {
	    "Zg=",      "Zg===", "Z===", "Zh==", "Zm9=", "Zm9v\n", "Zm 9v", "Zm=v", "=Zm9",
	    "Zm9v====", "Zg",    "Zm8",  "Zm9-", "Zm9_", "Z",      "Zm9vY", "====", "Zm9\xc3\xa9",
	};
	for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		assert_int_equal(fp_base64_decode(bad_std[i], dec, sizeof(dec), &n), FP_EINVAL);
	static const char *const bad_url[] = {"Zg==", "Zm8=", "Zm9+", "Zm9/",
	                                      "Z",    "Zh",   "Zm9",  "a b"};
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
		assert_int_equal(fp_base64url_decode(bad_url[i], dec, sizeof(dec), &n), FP_EINVAL);
	assert_int_equal(fp_base64_decode(NULL, dec, sizeof(dec), &n), FP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sha256_vectors),
	    cmocka_unit_test(hmac_rfc4231_case2),
	    cmocka_unit_test(ct_equal_and_wipe),
	    cmocka_unit_test(random_bytes_differ),
	    cmocka_unit_test(scrypt_rfc7914),
	    cmocka_unit_test(password_round_trip),
	    cmocka_unit_test(password_default_cost),
	    cmocka_unit_test(password_length_cap),
	    cmocka_unit_test(password_malformed_encodings),
	    cmocka_unit_test(tokens),
	    cmocka_unit_test(generated_passwords),
	    cmocka_unit_test(base64_round_trips),
	    cmocka_unit_test(base64_rejections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
