/*
 * secret.h — hashes, random secrets, password hashing and base64 (OpenSSL 3 libcrypto).
 *
 * Everything the server needs to handle secrets lives here, so that the choice
 * of primitives (SHA-256, HMAC-SHA256, scrypt, RAND_bytes) and the rules around
 * them (constant-time comparison, wiping, caps on attacker-controlled cost
 * parameters) are in one place. No function allocates memory the caller must
 * free; every output goes into a caller buffer of the size named in its type.
 */
#ifndef FLEETPATCH_SECRET_H
#define FLEETPATCH_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"

#define FP_SHA256_HEX_LEN 64
#define FP_PWHASH_MAX     160  /* bytes of an encoded password hash, with its NUL */
#define FP_TOKEN_MAX      64   /* bytes of a token, with its NUL */
#define FP_PASSWORD_MAX   1024 /* bytes; longer passwords are rejected with FP_ETOOBIG */

#define FP_TOKEN_PREFIX_MAX  16 /* bytes of a token prefix ([a-z0-9]) */
#define FP_PWHASH_LN_DEFAULT 15 /* scrypt N = 2^15, r = 8, p = 1: 32 MiB, ~0.1 s */
#define FP_PWHASH_LN_MIN     10
/*
 * Caps on the parameters read from an encoded hash, so that a forged hash
 * cannot make verification use unbounded memory or time. Memory is
 * 128 * r * 2^ln bytes: 32 MiB at the default, 2 GiB at the caps.
 */
#define FP_PWHASH_LN_MAX  20
#define FP_PWHASH_R_MAX   16
#define FP_PWHASH_P_MAX   4
#define FP_PWGEN_MIN      16
#define FP_PWGEN_MAX      64
#define FP_SCRYPT_LN_MAX  20 /* caps of fp_scrypt_raw */
#define FP_SCRYPT_R_MAX   16
#define FP_SCRYPT_P_MAX   64
#define FP_SCRYPT_OUT_MAX 1024

/* Fills buf with n bytes from the OpenSSL CSPRNG. 0 or FP_ECRYPTO. */
int fp_random_bytes(void *buf, size_t n) FP_WUR;

/*
 * SHA-256 of data, as 32 bytes or as 64 lowercase hex digits with a NUL.
 * libcrypto can fail here only when out of memory; these functions then abort
 * rather than return a wrong digest.
 */
void fp_sha256_hex(const void *data, size_t n, char out[FP_SHA256_HEX_LEN + 1]);
void fp_sha256(const void *data, size_t n, unsigned char out[32]);

/* HMAC-SHA256 of msg under key (aborts when out of memory, like fp_sha256). */
void fp_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                    unsigned char out[32]);

/* Compares n bytes in time independent of their content; 1 if equal, 0 if not. */
int fp_ct_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop. */
void fp_wipe(void *p, size_t n);

/*
 * Hashes password with scrypt (N = 2^15, r = 8, p = 1) and a 16-byte random
 * salt into out, encoded as
 *     $scrypt$ln=15,r=8,p=1$<base64 salt>$<base64 32-byte hash>
 * (standard base64 with padding). Passwords longer than FP_PASSWORD_MAX bytes
 * fail with FP_ETOOBIG.
 */
int fp_password_hash(const char *password, char out[FP_PWHASH_MAX], struct fp_err *err) FP_WUR;

/* The same with an explicit cost N = 2^ln, FP_PWHASH_LN_MIN <= ln <= FP_PWHASH_LN_MAX. */
int fp_password_hash_cost(const char *password, int ln, char out[FP_PWHASH_MAX],
                          struct fp_err *err) FP_WUR;

/*
 * Checks password against an encoded hash from fp_password_hash(). Returns 0
 * when it matches (the comparison is constant-time), FP_EAUTH when it does
 * not, FP_EINVAL when encoded is malformed or its parameters exceed the caps
 * (ln 10..20, r 1..16, p 1..4, a 16-byte salt and a 32-byte hash), FP_ETOOBIG
 * when password is longer than FP_PASSWORD_MAX.
 */
int fp_password_verify(const char *password, const char *encoded, struct fp_err *err) FP_WUR;

/*
 * The scrypt KDF itself (RFC 7914) with N = 2^ln, for tests and tools: writes
 * outlen bytes to out. Caps: ln 1..FP_SCRYPT_LN_MAX, r 1..FP_SCRYPT_R_MAX,
 * p 1..FP_SCRYPT_P_MAX, outlen 1..FP_SCRYPT_OUT_MAX, pwlen <= FP_PASSWORD_MAX.
 */
int fp_scrypt_raw(const void *pw, size_t pwlen, const void *salt, size_t saltlen, int ln,
                  uint32_t r, uint32_t p, unsigned char *out, size_t outlen,
                  struct fp_err *err) FP_WUR;

/*
 * Writes a new random secret token: prefix + "_" + base64url(32 random
 * bytes, no padding), e.g. "fpu_…" for user tokens, "fpd_…" for device
 * tokens. prefix is 1..FP_TOKEN_PREFIX_MAX characters of [a-z0-9].
 */
int fp_token_new(const char *prefix, char out[FP_TOKEN_MAX], struct fp_err *err) FP_WUR;

/*
 * Writes a random password of n characters (FP_PWGEN_MIN..FP_PWGEN_MAX) and a
 * NUL into out, which has n + 1 bytes. The alphabet leaves out characters
 * that are easily confused (0 O o 1 l I i), so it can be read off a screen.
 */
int fp_password_generate(char *out, size_t n, struct fp_err *err) FP_WUR;

/*
 * base64 with the standard alphabet and padding (RFC 4648 section 4). encode
 * writes a NUL-terminated string and fails with FP_ETOOBIG when outsz is too
 * small (it needs 4 * ceil(n / 3) + 1 bytes). decode reads a NUL-terminated
 * string; it rejects characters outside the alphabet, whitespace, missing or
 * misplaced padding and non-zero unused bits (FP_EINVAL), and output longer
 * than outsz (FP_ETOOBIG). *outlen receives the decoded length.
 */
int fp_base64_encode(const void *in, size_t n, char *out, size_t outsz) FP_WUR;
int fp_base64_decode(const char *in, unsigned char *out, size_t outsz, size_t *outlen) FP_WUR;

/* The same for base64url (RFC 4648 section 5) without padding, which decode rejects. */
int fp_base64url_encode(const void *in, size_t n, char *out, size_t outsz) FP_WUR;
int fp_base64url_decode(const char *in, unsigned char *out, size_t outsz, size_t *outlen) FP_WUR;

#endif
