/*
 * tuf_key.c — TUF key objects, key ids, signature verification and signing.
 *
 * Three schemes are known: ed25519 (raw 32-byte public key in hex),
 * ecdsa-sha2-nistp256 (PEM public key, DER signature) and rsassa-pss-sha256
 * (PEM public key, RSASSA-PSS with SHA-256 and MGF1-SHA-256). Signatures are
 * hex in metadata. Verification accepts any PSS salt length, as
 * securesystemslib's verifier does; signing uses a salt as long as the digest.
 */
#include "fleetpatch/hex.h"
#include "fleetpatch/tuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/secret.h"
#include "tuf_int.h"

#define ED25519_PUB_LEN  32
#define ED25519_SIG_LEN  64
#define TUF_PEM_MAX      8192 /* bytes of a PEM public key in a key object */
#define TUF_SIG_HEX_MAX  2048 /* hex digits of a signature (RSA 8192: 1024 bytes) */
#define TUF_RSA_BITS_MIN 2048
#define TUF_RSA_BITS_MAX 8192

enum scheme { SCHEME_ED25519, SCHEME_ECDSA_P256, SCHEME_RSA_PSS };

int fp__tuf_hex_decode(const char *s, uint8_t *out, size_t outlen)
{
	if (!s || strnlen(s, 2 * outlen + 1) != 2 * outlen)
		return FP_EINVAL;
	for (size_t i = 0; i < outlen; i++) {
		int hi = fp_hex_value((unsigned char)s[2 * i]),
		    lo = fp_hex_value((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return FP_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void fp__tuf_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int fp__tuf_is_lower_hex(const char *s, size_t n)
{
	if (!s || strnlen(s, 2 * n + 1) != 2 * n)
		return 0;
	for (size_t i = 0; i < 2 * n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

/* Refuses to prompt for a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *pem_pubkey(const char *pem)
{
	size_t len = strnlen(pem, TUF_PEM_MAX + 1);
	if (len > TUF_PEM_MAX)
		return NULL;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	return pkey;
}

/* Checks that pkey is what scheme needs: a P-256 EC key, or RSA of a sane size. */
static int pkey_fits(EVP_PKEY *pkey, enum scheme s, struct fp_err *err)
{
	if (s == SCHEME_ECDSA_P256) {
		char group[64] = "";
		size_t glen = 0;
		if (!EVP_PKEY_is_a(pkey, "EC") ||
		    EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0))
			return fp_err_set(err, FP_EINVAL,
			                  "ecdsa-sha2-nistp256 key is not a P-256 public key");
		return 0;
	}
	if (s == SCHEME_RSA_PSS) {
		int bits = EVP_PKEY_get_bits(pkey);
		if (!EVP_PKEY_is_a(pkey, "RSA") || bits < TUF_RSA_BITS_MIN ||
		    bits > TUF_RSA_BITS_MAX)
			return fp_err_set(
			    err, FP_EINVAL,
			    "rsassa-pss-sha256 key is not an RSA public key of %d..%d "
			    "bits",
			    TUF_RSA_BITS_MIN, TUF_RSA_BITS_MAX);
		return 0;
	}
	return EVP_PKEY_is_a(pkey, "ED25519")
	           ? 0
	           : fp_err_set(err, FP_EINVAL, "ed25519 key is not an ed25519 key");
}

/* Reads a key object into an EVP_PKEY and its scheme. Caller frees *out. */
static int key_load(const json_t *key, EVP_PKEY **out, enum scheme *s, struct fp_err *err)
{
	*out = NULL;
	const char *type = json_string_value(json_object_get(key, "keytype"));
	const char *scheme = json_string_value(json_object_get(key, "scheme"));
	const char *pub =
	    json_string_value(json_object_get(json_object_get(key, "keyval"), "public"));
	if (!json_is_object(key) || !type || !scheme || !pub)
		return fp_err_set(err, FP_EINVAL,
		                  "key object needs string keytype, scheme and keyval.public");
	if (strcmp(type, "ed25519") == 0 && strcmp(scheme, "ed25519") == 0) {
		uint8_t raw[ED25519_PUB_LEN];
		*s = SCHEME_ED25519;
		if (fp__tuf_hex_decode(pub, raw, sizeof(raw)) != 0)
			return fp_err_set(err, FP_EINVAL,
			                  "ed25519 public key must be %d hex digits",
			                  2 * ED25519_PUB_LEN);
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof(raw));
		ERR_clear_error();
		return *out ? 0 : fp_err_set(err, FP_EINVAL, "ed25519 public key is invalid");
	}
	if ((strcmp(type, "ecdsa") == 0 || strcmp(type, "ecdsa-sha2-nistp256") == 0) &&
	    strcmp(scheme, "ecdsa-sha2-nistp256") == 0)
		*s = SCHEME_ECDSA_P256;
	else if (strcmp(type, "rsa") == 0 && strcmp(scheme, "rsassa-pss-sha256") == 0)
		*s = SCHEME_RSA_PSS;
	else
		return fp_err_set(err, FP_EUNSUPP,
		                  "key type \"%.32s\" with scheme \"%.32s\" is not supported", type,
		                  scheme);
	EVP_PKEY *pkey = pem_pubkey(pub);
	ERR_clear_error();
	if (!pkey)
		return fp_err_set(err, FP_EINVAL, "%s public key is not a PEM public key", scheme);
	int rc = pkey_fits(pkey, *s, err);
	if (rc) {
		EVP_PKEY_free(pkey);
		return rc;
	}
	*out = pkey;
	return 0;
}

/* Sets up ctx for sign or verify with the scheme's digest and padding. */
static int init_ctx(EVP_MD_CTX *ctx, EVP_PKEY *pkey, enum scheme s, int sign)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = s == SCHEME_ED25519 ? NULL : EVP_sha256();
	int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey)
	              : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey);
	if (ok != 1)
		return -1;
	if (s == SCHEME_RSA_PSS) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sign ? RSA_PSS_SALTLEN_DIGEST
		                                                : RSA_PSS_SALTLEN_AUTO) != 1)
			return -1;
	}
	return 0;
}

int fp_tuf_verify_sig(const json_t *key, const void *msg, size_t n, const char *sig_hex,
                      struct fp_err *err)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	uint8_t *sig = NULL;
	enum scheme s = SCHEME_ED25519;
	int rc = key_load(key, &pkey, &s, err);
	if (rc)
		return rc;
	size_t hexlen = sig_hex ? strnlen(sig_hex, TUF_SIG_HEX_MAX + 1) : 0;
	if (hexlen == 0 || hexlen > TUF_SIG_HEX_MAX || hexlen % 2) {
		rc = fp_err_set(err, FP_EINVAL, "signature must be 2..%d hex digits",
		                TUF_SIG_HEX_MAX);
		goto out;
	}
	sig = malloc(hexlen / 2);
	if (!sig) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (fp__tuf_hex_decode(sig_hex, sig, hexlen / 2) != 0) {
		rc = fp_err_set(err, FP_EINVAL, "signature is not hex");
		goto out;
	}
	if (s == SCHEME_ED25519 && hexlen / 2 != ED25519_SIG_LEN) {
		rc = fp_err_set(err, FP_EAUTH, "ed25519 signature must be %d bytes",
		                ED25519_SIG_LEN);
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (init_ctx(ctx, pkey, s, 0) != 0) {
		rc = fp_err_set(err, FP_ECRYPTO, "signature verification could not start");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, hexlen / 2, n ? msg : (const void *)"", n) != 1)
		rc = fp_err_set(err, FP_EAUTH, "signature does not verify");
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

int fp_tuf_keyid(const json_t *key, char keyid[FP_TUF_KEYID_LEN + 1], struct fp_err *err)
{
	char *c = NULL;
	size_t len = 0;
	int rc = fp_cjson_encode(key, &c, &len, err);
	if (rc)
		return rc;
	fp_sha256_hex(c, len, keyid);
	free(c);
	return 0;
}

/* Builds the key object of a public key. */
static int key_object(EVP_PKEY *pkey, json_t **key, struct fp_err *err)
{
	int rc = 0;
	BIO *bio = NULL;
	char *pem = NULL;
	*key = NULL;
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		uint8_t raw[ED25519_PUB_LEN];
		size_t rawlen = sizeof(raw);
		char hex[2 * ED25519_PUB_LEN + 1];
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != sizeof(raw))
			return fp_err_set(err, FP_ECRYPTO, "ed25519 public key could not be read");
		fp__tuf_hex_encode(raw, sizeof(raw), hex);
		*key = json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519",
		                 "keyval", "public", hex);
		return *key ? 0 : fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	enum scheme s = EVP_PKEY_is_a(pkey, "RSA") ? SCHEME_RSA_PSS : SCHEME_ECDSA_P256;
	rc = pkey_fits(pkey, s, err);
	if (rc)
		return fp_err_set(err, rc,
		                  "only ed25519, ECDSA P-256 and RSA (2048..8192 bits) keys can be "
		                  "TUF keys");
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		rc = fp_err_set(err, FP_ECRYPTO, "public key could not be written as PEM");
		goto out;
	}
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	pem = strndup(data, (size_t)n);
	if (pem)
		*key = json_pack("{s:s,s:s,s:{s:s}}", "keytype",
		                 s == SCHEME_RSA_PSS ? "rsa" : "ecdsa", "scheme",
		                 s == SCHEME_RSA_PSS ? "rsassa-pss-sha256" : "ecdsa-sha2-nistp256",
		                 "keyval", "public", pem);
	if (!*key)
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
out:
	free(pem);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int fp_tuf_key_from_pem(const char *pub_pem, json_t **key, char keyid[FP_TUF_KEYID_LEN + 1],
                        struct fp_err *err)
{
	*key = NULL;
	if (!pub_pem)
		return fp_err_set(err, FP_EINVAL, "no public key given");
	EVP_PKEY *pkey = pem_pubkey(pub_pem);
	ERR_clear_error();
	if (!pkey)
		return fp_err_set(err, FP_EINVAL,
		                  "public key is not a PEM \"PUBLIC KEY\" of at "
		                  "most %d bytes",
		                  TUF_PEM_MAX);
	int rc = key_object(pkey, key, err);
	EVP_PKEY_free(pkey);
	if (rc == 0)
		rc = fp_tuf_keyid(*key, keyid, err);
	if (rc) {
		json_decref(*key);
		*key = NULL;
	}
	return rc;
}

int fp_tuf_sign(json_t *md, const char *priv_pem, char keyid[FP_TUF_KEYID_LEN + 1],
                struct fp_err *err)
{
	int rc = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	json_t *key = NULL;
	char *msg = NULL, *hex = NULL;
	uint8_t *sig = NULL;
	size_t msglen = 0, siglen = 0;
	char kid[FP_TUF_KEYID_LEN + 1];
	enum scheme s = SCHEME_ED25519;

	json_t *sigs = json_object_get(md, "signatures");
	json_t *signed_part = json_object_get(md, "signed");
	if (!json_is_object(signed_part) || (sigs && !json_is_array(sigs)))
		return fp_err_set(err, FP_EINVAL,
		                  "metadata must be an object with a \"signed\" object and a "
		                  "\"signatures\" array");
	if (!priv_pem || strnlen(priv_pem, TUF_PEM_MAX + 1) > TUF_PEM_MAX)
		return fp_err_set(err, FP_EINVAL, "no private key PEM of at most %d bytes given",
		                  TUF_PEM_MAX);
	bio = BIO_new_mem_buf(priv_pem, -1);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	if (!pkey) {
		rc = fp_err_set(err, FP_EINVAL,
		                "private key PEM could not be parsed (encrypted keys are not "
		                "supported)");
		goto out;
	}
	rc = key_object(pkey, &key, err);
	if (rc)
		goto out;
	rc = fp_tuf_keyid(key, kid, err);
	if (rc)
		goto out;
	const char *scheme = json_string_value(json_object_get(key, "scheme"));
	s = strcmp(scheme, "ed25519") == 0             ? SCHEME_ED25519
	    : strcmp(scheme, "rsassa-pss-sha256") == 0 ? SCHEME_RSA_PSS
	                                               : SCHEME_ECDSA_P256;
	rc = fp_cjson_encode(signed_part, &msg, &msglen, err);
	if (rc)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx || init_ctx(ctx, pkey, s, 1) != 0 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const uint8_t *)msg, msglen) != 1) {
		rc = fp_err_set(err, FP_ECRYPTO, "signing could not start");
		goto out;
	}
	sig = malloc(siglen);
	hex = sig ? malloc(2 * siglen + 1) : NULL;
	if (!hex) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)msg, msglen) != 1) {
		rc = fp_err_set(err, FP_ECRYPTO, "signing failed");
		goto out;
	}
	fp__tuf_hex_encode(sig, siglen, hex);
	if (!sigs) {
		sigs = json_array();
		if (!sigs || json_object_set_new(md, "signatures", sigs) != 0) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
	json_t *entry = json_pack("{s:s,s:s}", "keyid", kid, "sig", hex);
	if (!entry) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	size_t i;
	for (i = 0; i < json_array_size(sigs); i++) {
		const char *k =
		    json_string_value(json_object_get(json_array_get(sigs, i), "keyid"));
		if (k && strcmp(k, kid) == 0)
			break;
	}
	if ((i < json_array_size(sigs) ? json_array_set_new(sigs, i, entry)
	                               : json_array_append_new(sigs, entry)) != 0) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (keyid)
		memcpy(keyid, kid, sizeof(kid));
out:
	free(hex);
	free(sig);
	free(msg);
	json_decref(key);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}
