/*
 * secret.c — hashes, random secrets, scrypt password hashes and base64 (see secret.h).
 *
 * The base64 codec is our own rather than EVP_DecodeBlock because OpenSSL's
 * decoder accepts whitespace and loose padding; encodings we store and compare
 * must have exactly one textual form.
 */
#include "fleetpatch/secret.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SALT_LEN      16
#define HASH_LEN      32
#define TOKEN_RAW_LEN 32

int fp_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;
		if (RAND_bytes(p, chunk) != 1)
			return FP_ECRYPTO;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

void fp_sha256(const void *data, size_t n, unsigned char out[32])
{
	unsigned int len = 0;
	/* EVP_Digest fails only when it cannot allocate; a wrong digest would be worse. */
	if (EVP_Digest(n ? data : "", n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		abort();
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void fp_sha256_hex(const void *data, size_t n, char out[FP_SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	fp_sha256(data, n, md);
	hex_encode(md, sizeof(md), out);
}

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up
 * (under a lock) on every use, which the device check-in path pays per request. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void digest2(EVP_MD_CTX *ctx, const void *a, size_t an, const void *b, size_t bn,
                    unsigned char out[32])
{
	unsigned int len = 0;
	if (EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 || EVP_DigestUpdate(ctx, a, an) != 1 ||
	    (bn && EVP_DigestUpdate(ctx, b, bn) != 1) || EVP_DigestFinal_ex(ctx, out, &len) != 1 ||
	    len != 32)
		abort();
}

void fp_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                    unsigned char out[32])
{
	/* HMAC as RFC 2104 defines it, over SHA-256's 64-byte block. */
	unsigned char k0[64] = {0}, pad[64], inner[32];
	pthread_once(&sha256_once, sha256_fetch);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!sha256_md || !ctx)
		abort();
	if (keylen > sizeof(k0))
		digest2(ctx, key, keylen, NULL, 0, k0);
	else if (keylen)
		memcpy(k0, key, keylen);
	for (int i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x36;
	digest2(ctx, pad, sizeof(pad), n ? msg : (const void *)"", n, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x5c;
	digest2(ctx, pad, sizeof(pad), inner, sizeof(inner), out);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
}

int fp_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void fp_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* base64 ------------------------------------------------------------------ */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_encode(const char *alpha, int pad, const void *in, size_t n, char *out, size_t outsz)
{
	const unsigned char *s = in;
	size_t full = n / 3, rest = n % 3;
	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return FP_ETOOBIG;
	size_t need = full * 4 + (rest ? (pad ? 4 : rest + 1) : 0) + 1;
	if (!out || outsz < need)
		return FP_ETOOBIG;
	char *o = out;
	for (size_t i = 0; i < full; i++, s += 3) {
		uint32_t v = (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		*o++ = alpha[(v >> 6) & 63];
		*o++ = alpha[v & 63];
	}
	if (rest) {
		uint32_t v = (uint32_t)s[0] << 16 | (rest == 2 ? (uint32_t)s[1] << 8 : 0);
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		if (rest == 2)
			*o++ = alpha[(v >> 6) & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return 0;
}

static int b64_value(const char *alpha, char c)
{
	if (c == '\0' || c == '=')
		return -1;
	const char *p = strchr(alpha, c);
	return p ? (int)(p - alpha) : -1;
}

static int b64_decode(const char *alpha, int pad, const char *in, unsigned char *out, size_t outsz,
                      size_t *outlen)
{
	if (!in || !outlen)
		return FP_EINVAL;
	size_t len = strlen(in), npad = 0;
	if (pad) {
		if (len % 4 != 0)
			return FP_EINVAL;
		while (npad < 2 && npad < len && in[len - 1 - npad] == '=')
			npad++;
	} else if (len % 4 == 1) {
		return FP_EINVAL;
	}
	size_t chars = len - npad; /* significant characters */
	size_t tail = chars % 4;   /* 0, 2 or 3 */
	if (tail == 1)
		return FP_EINVAL;
	size_t need = chars / 4 * 3 + (tail ? tail - 1 : 0);
	if (need > outsz)
		return FP_ETOOBIG;
	uint32_t acc = 0;
	size_t o = 0;
	for (size_t i = 0; i < chars; i++) {
		int v = b64_value(alpha, in[i]);
		if (v < 0)
			return FP_EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	/* The bits of the last character that carry no byte must be zero (RFC 4648 3.5). */
	if (tail == 2) {
		if (acc & 0xf)
			return FP_EINVAL;
		out[o++] = (unsigned char)(acc >> 4);
	} else if (tail == 3) {
		if (acc & 0x3)
			return FP_EINVAL;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	}
	*outlen = o;
	return 0;
}

int fp_base64_encode(const void *in, size_t n, char *out, size_t outsz)
{
	return b64_encode(b64_std, 1, in, n, out, outsz);
}

int fp_base64_decode(const char *in, unsigned char *out, size_t outsz, size_t *outlen)
{
	return b64_decode(b64_std, 1, in, out, outsz, outlen);
}

int fp_base64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
	return b64_encode(b64_url, 0, in, n, out, outsz);
}

int fp_base64url_decode(const char *in, unsigned char *out, size_t outsz, size_t *outlen)
{
	return b64_decode(b64_url, 0, in, out, outsz, outlen);
}

/* scrypt ------------------------------------------------------------------ */

int fp_scrypt_raw(const void *pw, size_t pwlen, const void *salt, size_t saltlen, int ln,
                  uint32_t r, uint32_t p, unsigned char *out, size_t outlen, struct fp_err *err)
{
	int rc = 0;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;

	if (ln < 1 || ln > FP_SCRYPT_LN_MAX || r < 1 || r > FP_SCRYPT_R_MAX || p < 1 ||
	    p > FP_SCRYPT_P_MAX || outlen < 1 || outlen > FP_SCRYPT_OUT_MAX || !out)
		return fp_err_set(err, FP_EINVAL,
		                  "scrypt parameters out of range (ln 1..%d, r 1..%d, p 1..%d, "
		                  "output 1..%d bytes)",
		                  FP_SCRYPT_LN_MAX, FP_SCRYPT_R_MAX, FP_SCRYPT_P_MAX,
		                  FP_SCRYPT_OUT_MAX);
	if (pwlen > FP_PASSWORD_MAX)
		return fp_err_set(err, FP_ETOOBIG, "password is longer than %d bytes",
		                  FP_PASSWORD_MAX);
	if (saltlen > 1024)
		return fp_err_set(err, FP_ETOOBIG, "scrypt salt is longer than 1024 bytes");

	uint64_t n = (uint64_t)1 << ln;
	/* OpenSSL needs 128*r*(N+2) bytes for V and 128*r*p for B; allow exactly that. */
	uint64_t maxmem = 128u * (uint64_t)r * (n + 2 + p) + 65536;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	                                      pwlen ? (void *)pw : (void *)"", pwlen),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	                                      saltlen ? (void *)salt : (void *)"", saltlen),
	    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
	    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
	    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
	    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
	    OSSL_PARAM_construct_end(),
	};
	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!kctx) {
		rc = fp_err_set(err, FP_ECRYPTO, "scrypt is not available in this OpenSSL");
		goto out;
	}
	if (EVP_KDF_derive(kctx, out, outlen, params) != 1) {
		fp_wipe(out, outlen);
		rc = fp_err_set(err, FP_ECRYPTO, "scrypt failed (out of memory?)");
		goto out;
	}
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

static int check_password(const char *password, struct fp_err *err)
{
	if (!password)
		return fp_err_set(err, FP_EINVAL, "no password given");
	if (strnlen(password, FP_PASSWORD_MAX + 1) > FP_PASSWORD_MAX)
		return fp_err_set(err, FP_ETOOBIG, "password is longer than %d bytes",
		                  FP_PASSWORD_MAX);
	return 0;
}

int fp_password_hash_cost(const char *password, int ln, char out[FP_PWHASH_MAX], struct fp_err *err)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt64[32], hash64[48];
	int rc = check_password(password, err);
	if (rc)
		return rc;
	if (ln < FP_PWHASH_LN_MIN || ln > FP_PWHASH_LN_MAX)
		return fp_err_set(err, FP_EINVAL, "scrypt cost ln=%d is outside %d..%d", ln,
		                  FP_PWHASH_LN_MIN, FP_PWHASH_LN_MAX);
	if (fp_random_bytes(salt, sizeof(salt)))
		return fp_err_set(err, FP_ECRYPTO, "the random generator failed");
	rc = fp_scrypt_raw(password, strlen(password), salt, sizeof(salt), ln, 8, 1, hash,
	                   sizeof(hash), err);
	if (rc)
		goto out;
	if (fp_base64_encode(salt, sizeof(salt), salt64, sizeof(salt64)) ||
	    fp_base64_encode(hash, sizeof(hash), hash64, sizeof(hash64))) {
		rc = fp_err_set(err, FP_EINVAL, "internal error: base64 buffer too small");
		goto out;
	}
	int len = snprintf(out, FP_PWHASH_MAX, "$scrypt$ln=%d,r=8,p=1$%s$%s", ln, salt64, hash64);
	if (len < 0 || len >= FP_PWHASH_MAX)
		rc = fp_err_set(err, FP_EINVAL, "internal error: encoded hash too long");
out:
	fp_wipe(hash, sizeof(hash));
	fp_wipe(hash64, sizeof(hash64));
	return rc;
}

int fp_password_hash(const char *password, char out[FP_PWHASH_MAX], struct fp_err *err)
{
	return fp_password_hash_cost(password, FP_PWHASH_LN_DEFAULT, out, err);
}

/*
 * Reads "<name>=<decimal>" at *s: 1 or 2 digits, no leading zero, within
 * [min, max]. Advances *s past the number.
 */
static int parse_param(const char **s, const char *name, unsigned min, unsigned max, unsigned *out)
{
	size_t nl = strlen(name);
	if (strncmp(*s, name, nl) != 0 || (*s)[nl] != '=')
		return -1;
	const char *d = *s + nl + 1;
	unsigned v = 0;
	size_t nd = 0;
	while (d[nd] >= '0' && d[nd] <= '9' && nd < 3)
		v = v * 10 + (unsigned)(d[nd++] - '0');
	if (nd == 0 || nd > 2 || (nd > 1 && d[0] == '0') || v < min || v > max)
		return -1;
	*out = v;
	*s = d + nd;
	return 0;
}

/* Decodes the base64 field that starts at s and ends at end into exactly want bytes. */
static int decode_field(const char *s, const char *end, unsigned char *out, size_t want)
{
	char buf[96];
	size_t len = (size_t)(end - s), got = 0;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (fp_base64_decode(buf, out, want, &got) != 0 || got != want)
		return -1;
	return 0;
}

int fp_password_verify(const char *password, const char *encoded, struct fp_err *err)
{
	static const char prefix[] = "$scrypt$";
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	unsigned ln, r, p;
	int rc = check_password(password, err);
	if (rc)
		return rc;
	if (!encoded || strnlen(encoded, FP_PWHASH_MAX) >= FP_PWHASH_MAX)
		return fp_err_set(err, FP_EINVAL, "password hash is missing or too long");
	const char *s = encoded;
	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return fp_err_set(err, FP_EINVAL, "password hash does not start with \"$scrypt$\"");
	s += sizeof(prefix) - 1;
	if (parse_param(&s, "ln", FP_PWHASH_LN_MIN, FP_PWHASH_LN_MAX, &ln) || *s++ != ',' ||
	    parse_param(&s, "r", 1, FP_PWHASH_R_MAX, &r) || *s++ != ',' ||
	    parse_param(&s, "p", 1, FP_PWHASH_P_MAX, &p) || *s++ != '$')
		return fp_err_set(err, FP_EINVAL,
		                  "password hash parameters are malformed or beyond the caps "
		                  "(ln %d..%d, r 1..%d, p 1..%d)",
		                  FP_PWHASH_LN_MIN, FP_PWHASH_LN_MAX, FP_PWHASH_R_MAX,
		                  FP_PWHASH_P_MAX);
	const char *dollar = strchr(s, '$');
	if (!dollar || decode_field(s, dollar, salt, sizeof(salt)))
		return fp_err_set(err, FP_EINVAL, "password hash salt is not base64 of 16 bytes");
	s = dollar + 1;
	if (decode_field(s, s + strlen(s), want, sizeof(want)))
		return fp_err_set(err, FP_EINVAL, "password hash value is not base64 of 32 bytes");
	rc = fp_scrypt_raw(password, strlen(password), salt, sizeof(salt), (int)ln, r, p, got,
	                   sizeof(got), err);
	if (rc == 0 && !fp_ct_equal(got, want, sizeof(got)))
		rc = fp_err_set(err, FP_EAUTH, "wrong password");
	fp_wipe(got, sizeof(got));
	return rc;
}

/* tokens and generated passwords -------------------------------------------- */

int fp_token_new(const char *prefix, char out[FP_TOKEN_MAX], struct fp_err *err)
{
	unsigned char raw[TOKEN_RAW_LEN];
	if (!prefix || !prefix[0] || strnlen(prefix, FP_TOKEN_PREFIX_MAX + 1) > FP_TOKEN_PREFIX_MAX)
		return fp_err_set(err, FP_EINVAL, "token prefix must be 1..%d characters",
		                  FP_TOKEN_PREFIX_MAX);
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < pl; i++) {
		char c = prefix[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return fp_err_set(err, FP_EINVAL,
			                  "token prefix \"%s\" may contain only a-z and 0-9",
			                  prefix);
	}
	if (fp_random_bytes(raw, sizeof(raw)))
		return fp_err_set(err, FP_ECRYPTO, "the random generator failed");
	memcpy(out, prefix, pl);
	out[pl] = '_';
	int rc = fp_base64url_encode(raw, sizeof(raw), out + pl + 1, FP_TOKEN_MAX - pl - 1);
	fp_wipe(raw, sizeof(raw));
	if (rc)
		return fp_err_set(err, FP_EINVAL, "internal error: token buffer too small");
	return 0;
}

int fp_password_generate(char *out, size_t n, struct fp_err *err)
{
	/* 55 characters: no 0 O o 1 l I i. */
	static const char alpha[] = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
	const unsigned nalpha = sizeof(alpha) - 1;
	/* Reject bytes >= limit so that every character is equally likely. */
	const unsigned limit = 256 / nalpha * nalpha;
	unsigned char buf[64];
	if (!out || n < FP_PWGEN_MIN || n > FP_PWGEN_MAX)
		return fp_err_set(err, FP_EINVAL, "generated password length must be %d..%d",
		                  FP_PWGEN_MIN, FP_PWGEN_MAX);
	size_t done = 0;
	while (done < n) {
		if (fp_random_bytes(buf, sizeof(buf))) {
			fp_wipe(out, done);
			return fp_err_set(err, FP_ECRYPTO, "the random generator failed");
		}
		for (size_t i = 0; i < sizeof(buf) && done < n; i++)
			if (buf[i] < limit)
				out[done++] = alpha[buf[i] % nalpha];
	}
	out[n] = '\0';
	fp_wipe(buf, sizeof(buf));
	return 0;
}
