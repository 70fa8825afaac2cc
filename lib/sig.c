/*
 * sig.c — device request signatures with ed25519 and ECDSA P-256 (see sig.h).
 *
 * Inputs come from devices that are not trusted yet, so the parsers are
 * strict: one PEM block and nothing else, the exact signature length for
 * ed25519, and strict DER for ECDSA (a signature has exactly one encoding,
 * which keeps signatures from being malleable in transit or in logs).
 */
#include "fleetpatch/sig.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define ED25519_SIG_LEN    64
#define ECDSA_P256_SIG_MAX 72

enum key_kind { KEY_ED25519, KEY_P256 };

/* Passphrase callback that refuses, so that an encrypted key fails instead of prompting. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Names the key and returns its kind, or fails with a message saying what is accepted. */
static int key_kind_of(EVP_PKEY *pkey, enum key_kind *kind, char type[16], struct fp_err *err)
{
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*kind = KEY_ED25519;
		if (type)
			snprintf(type, 16, "ed25519");
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64] = "";
		size_t glen = 0;
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1)
			return fp_err_set(err, FP_EINVAL,
			                  "EC key has explicit curve parameters; only named curve "
			                  "P-256 (prime256v1) is accepted");
		if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)
			return fp_err_set(
			    err, FP_EINVAL,
			    "EC key on curve %s is not accepted; use ed25519 or ECDSA "
			    "P-256 (prime256v1)",
			    group);
		*kind = KEY_P256;
		if (type)
			snprintf(type, 16, "ecdsa-p256");
		return 0;
	}
	const char *name = EVP_PKEY_get0_type_name(pkey);
	return fp_err_set(
	    err, FP_EINVAL,
	    "%s keys are not accepted; use an ed25519 key (openssl genpkey -algorithm "
	    "ed25519) or ECDSA P-256",
	    name ? name : "this kind of");
}

/* True when the len bytes at s are all whitespace. */
static int only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Reads exactly one PEM block with the label begin (after optional leading
 * whitespace) from pem, with read() doing the parsing. Caller frees the key.
 */
static int load_pem(const char *pem, size_t cap, const char *begin, int private_key, EVP_PKEY **out,
                    struct fp_err *err)
{
	int rc = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	const char *what = private_key ? "private key" : "public key";

	*out = NULL;
	if (!pem)
		return fp_err_set(err, FP_EINVAL, "no %s given", what);
	size_t len = strnlen(pem, cap + 1);
	if (len > cap)
		return fp_err_set(err, FP_ETOOBIG, "%s PEM is longer than %zu bytes", what, cap);
	const char *p = pem;
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, begin, strlen(begin)) != 0)
		return fp_err_set(err, FP_EINVAL, "%s PEM must start with \"%s\"", what, begin);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/* The default callback would prompt on the terminal for an encrypted key. */
	pkey = private_key ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
	                   : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (!pkey) {
		rc = fp_err_set(err, FP_EINVAL, "%s PEM could not be parsed%s", what,
		                private_key ? " (encrypted keys are not supported)" : "");
		goto out;
	}
	char *rest = NULL;
	long restlen = BIO_get_mem_data(bio, &rest);
	if (restlen > 0 && !only_space(rest, (size_t)restlen)) {
		rc = fp_err_set(err, FP_EINVAL, "%s PEM has data after its END line", what);
		goto out;
	}
	*out = pkey;
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static int load_pubkey(const char *pem, EVP_PKEY **pkey, enum key_kind *kind, char type[16],
                       struct fp_err *err)
{
	int rc = load_pem(pem, FP_PUBKEY_PEM_MAX, "-----BEGIN PUBLIC KEY-----", 0, pkey, err);
	if (rc == 0)
		rc = key_kind_of(*pkey, kind, type, err);
	if (rc) {
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
	}
	return rc;
}

int fp_pubkey_check(const char *pem, char type[16], char fingerprint[FP_SHA256_HEX_LEN + 1],
                    struct fp_err *err)
{
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL;
	enum key_kind kind;
	int rc = load_pubkey(pem, &pkey, &kind, type, err);
	if (rc)
		return rc;
	int derlen = i2d_PUBKEY(pkey, &der);
	if (derlen <= 0) {
		rc = fp_err_set(err, FP_ECRYPTO, "public key could not be encoded as DER");
		goto out;
	}
	fp_sha256_hex(der, (size_t)derlen, fingerprint);
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* True when sig is a strict DER ECDSA-Sig-Value: it parses and re-encodes to the same bytes. */
static int ecdsa_der_strict(const unsigned char *sig, size_t len)
{
	const unsigned char *p = sig;
	unsigned char *re = NULL;
	int ok = 0;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (es && p == sig + len) {
		int relen = i2d_ECDSA_SIG(es, &re);
		ok = relen > 0 && (size_t)relen == len && memcmp(re, sig, len) == 0;
	}
	OPENSSL_free(re);
	ECDSA_SIG_free(es);
	return ok;
}

int fp_sig_verify(const char *pem, const void *msg, size_t n, const char *sig_b64,
                  struct fp_err *err)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	enum key_kind kind;
	unsigned char sig[96];
	size_t siglen = 0;
	int rc;

	if (!sig_b64 || strnlen(sig_b64, FP_SIG_B64_MAX + 1) > FP_SIG_B64_MAX ||
	    fp_base64_decode(sig_b64, sig, sizeof(sig), &siglen) != 0)
		return fp_err_set(err, FP_EINVAL,
		                  "signature is not standard base64 of at most %d "
		                  "characters",
		                  FP_SIG_B64_MAX);
	if (!msg && n)
		return fp_err_set(err, FP_EINVAL, "no message given");
	rc = load_pubkey(pem, &pkey, &kind, NULL, err);
	if (rc)
		return rc;
	if (kind == KEY_ED25519 && siglen != ED25519_SIG_LEN) {
		rc = fp_err_set(err, FP_EINVAL, "ed25519 signature must be %d bytes, not %zu",
		                ED25519_SIG_LEN, siglen);
		goto out;
	}
	if (kind == KEY_P256 && (siglen > ECDSA_P256_SIG_MAX || !ecdsa_der_strict(sig, siglen))) {
		rc = fp_err_set(err, FP_EINVAL, "ECDSA signature is not a strict DER encoding");
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, kind == KEY_P256 ? EVP_sha256() : NULL, NULL, pkey) !=
	    1) {
		rc = fp_err_set(err, FP_ECRYPTO, "signature verification could not start");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, siglen, n ? msg : (const void *)"", n) != 1)
		rc = fp_err_set(err, FP_EAUTH, "signature does not match the request body and key");
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* Copies the contents of a memory BIO into a new NUL-terminated string. */
static char *bio_strdup(BIO *bio)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	if (len < 0)
		return NULL;
	char *s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

int fp_keypair_generate(char **priv_pem, char **pub_pem, struct fp_err *err)
{
	int rc = 0;
	EVP_PKEY *pkey = NULL;
	/* A secure-memory BIO cleanses the private key text when it is freed. */
	BIO *priv = BIO_new(BIO_s_secmem());
	BIO *pub = BIO_new(BIO_s_mem());

	*priv_pem = NULL;
	*pub_pem = NULL;
	if (!priv || !pub) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		rc = fp_err_set(err, FP_ECRYPTO, "ed25519 key generation failed");
		goto out;
	}
	if (PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, pkey) != 1) {
		rc = fp_err_set(err, FP_ECRYPTO, "the new key could not be written as PEM");
		goto out;
	}
	*priv_pem = bio_strdup(priv);
	*pub_pem = bio_strdup(pub);
	if (!*priv_pem || !*pub_pem) {
		if (*priv_pem)
			fp_wipe(*priv_pem, strlen(*priv_pem));
		free(*priv_pem);
		free(*pub_pem);
		*priv_pem = NULL;
		*pub_pem = NULL;
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	}
out:
	EVP_PKEY_free(pkey);
	BIO_free(priv);
	BIO_free(pub);
	ERR_clear_error();
	return rc;
}

int fp_sig_sign(const char *priv_pem, const void *msg, size_t n, char **sig_b64, struct fp_err *err)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	enum key_kind kind;
	unsigned char sig[ECDSA_P256_SIG_MAX + 8];
	size_t siglen = sizeof(sig);
	char *b64 = NULL;
	int rc;

	*sig_b64 = NULL;
	if (!msg && n)
		return fp_err_set(err, FP_EINVAL, "no message given");
	/* PKCS#8 ("PRIVATE KEY") or the traditional EC form ("EC PRIVATE KEY"). */
	const char *p = priv_pem ? priv_pem : "";
	while (isspace((unsigned char)*p))
		p++;
	rc = load_pem(priv_pem, FP_PRIVKEY_PEM_MAX,
	              strncmp(p, "-----BEGIN EC", 13) == 0 ? "-----BEGIN EC PRIVATE KEY-----"
	                                                   : "-----BEGIN PRIVATE KEY-----",
	              1, &pkey, err);
	if (rc)
		return rc;
	rc = key_kind_of(pkey, &kind, NULL, err);
	if (rc)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, kind == KEY_P256 ? EVP_sha256() : NULL, NULL, pkey) !=
	        1 ||
	    EVP_DigestSign(ctx, sig, &siglen, n ? msg : (const void *)"", n) != 1) {
		rc = fp_err_set(err, FP_ECRYPTO, "signing failed");
		goto out;
	}
	size_t b64sz = (siglen + 2) / 3 * 4 + 1;
	b64 = malloc(b64sz);
	if (!b64) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (fp_base64_encode(sig, siglen, b64, b64sz) != 0) {
		rc = fp_err_set(err, FP_ECRYPTO, "internal error: signature buffer too small");
		goto out;
	}
	*sig_b64 = b64;
	b64 = NULL;
out:
	free(b64);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}
