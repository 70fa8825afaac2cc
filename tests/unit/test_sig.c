/*
 * test_sig.c — unit tests of lib/sig.c: public key checks, signature verification, signing.
 *
 * The fixed keys and signatures below were made once with the OpenSSL 3.0 CLI,
 * so that signatures from stock tooling are known to verify:
 *
 *   openssl genpkey -algorithm ed25519 -out ed.pem
 *   openssl pkey -in ed.pem -pubout -out ed.pub.pem
 *   printf '{"device":"sensor-7","firmware":"1.4.2"}' > body
 *   openssl pkeyutl -sign -rawin -inkey ed.pem -in body | base64 -w0
 *   openssl pkey -pubin -in ed.pub.pem -outform DER | sha256sum
 *
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
 *   openssl pkey -in ec.pem -pubout -out ec.pub.pem
 *   openssl dgst -sha256 -sign ec.pem body | base64 -w0
 *
 *   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 | openssl pkey -pubout
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 | openssl pkey -pubout
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/sig.h"

static const char BODY[] = "{\"device\":\"sensor-7\",\"firmware\":\"1.4.2\"}";

static const char ED_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MCowBQYDK2VwAyEA9QyLJqWVKFFxbgCCbY3Z0bu3sVqMs6IHeISTOdIuGmk=\n"
                             "-----END PUBLIC KEY-----\n";
static const char ED_PRIV[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MC4CAQAwBQYDK2VwBCIEIBLwlqvWKPJO/HfswGUR09z5HJlpKwxz7fzPxPZvo5cm\n"
                              "-----END PRIVATE KEY-----\n";
static const char ED_SIG[] = "Ff7R77PZ5L8eJNrtXBbziHEVv74KQsheXwf1yIb2s+5Tp9rOG/"
                             "NKEn+510vNwK8DPE6rhRBpiMNW4giOSVnICQ==";
static const char ED_FPR[] = "e9e927e5ce2cb2fe90b9a7a414564de91b4bf2b86d86c8db7c28021007b2fd96";

static const char EC_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEg5ZmO0Q7Zhsld+IRTSB6MIhI7Awp\n"
                             "yNUU1JcTbTNQ+MB/Bx+qlLLVlH4ujTNPz+kaiViEoldh6MSYz7zFOIy7+w==\n"
                             "-----END PUBLIC KEY-----\n";
static const char EC_PRIV[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSja4pycpjOrVObnC\n"
                              "LwKAMAnPFJXIzZAnvYDyydceVuChRANCAASDlmY7RDtmGyV34hFNIHowiEjsDCnI\n"
                              "1RTUlxNtM1D4wH8HH6qUstWUfi6NM0/P6RqJWISiV2HoxJjPvMU4jLv7\n"
                              "-----END PRIVATE KEY-----\n";
static const char EC_SIG[] = "MEYCIQCBUPEmWfS48G22XLZdtbR5hBSAT/vN41uGYBoKMbGS9QIhAODysFjnw7fXwTnw"
                             "uAfe6HXUKik0tgQSx6pjuuJ4mYAh";

static const char RSA_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDPeH5u3+6D3At8VrKjoaHc3BQG\n"
                              "O5lOgDyz8R2uMglU0DfJAsG2j6PU9RMNIDBWZTWOMMNgHK4/nRFEIY+zb13UQBJY\n"
                              "0oe6GNFR/Uz2kfftYlpRcS5q0bmUfS4zl3V8Mgq9gigkUKR+io6x2tXOi2i/1GDk\n"
                              "tpuWeQGGaQgSea7KtQIDAQAB\n"
                              "-----END PUBLIC KEY-----\n";
static const char P384_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEfhadskIypq+4nnbwZzcfRUTNjXeOsjgy\n"
                               "sWbQwzfsh96VuhwI50qQ0fS0IhqhOI4VRb0Blmslmt8KWGKqCAiZxfsB0vZmCuBg\n"
                               "cxBsKY6Wuhfpgv678yEB1SFUz5xpTWPP\n"
                               "-----END PUBLIC KEY-----\n";

static void pubkey_check_types_and_fingerprint(void **state)
{
	(void)state;
	char type[16], fpr[FP_SHA256_HEX_LEN + 1];
	struct fp_err err;
	assert_int_equal(fp_pubkey_check(ED_PUB, type, fpr, &err), 0);
	assert_string_equal(type, "ed25519");
	assert_string_equal(fpr, ED_FPR);
	assert_int_equal(fp_pubkey_check(EC_PUB, type, fpr, &err), 0);
	assert_string_equal(type, "ecdsa-p256");
	assert_int_equal(strlen(fpr), 64);
	/* The fingerprint does not depend on surrounding whitespace. */
	char padded[256];
	snprintf(padded, sizeof(padded), "\n\n%s\n\n", ED_PUB);
	assert_int_equal(fp_pubkey_check(padded, type, fpr, &err), 0);
	assert_string_equal(fpr, ED_FPR);
}

static void pubkey_check_rejections(void **state)
{
	(void)state;
	char type[16], fpr[FP_SHA256_HEX_LEN + 1], buf[512];
	struct fp_err err;
	assert_int_equal(fp_pubkey_check(RSA_PUB, type, fpr, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "RSA keys are not accepted"));
	assert_non_null(strstr(err.msg, "ed25519"));
	assert_int_equal(fp_pubkey_check(P384_PUB, type, fpr, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "secp384r1"));
	assert_non_null(strstr(err.msg, "P-256"));
	assert_int_equal(fp_pubkey_check(ED_PRIV, type, fpr, &err), FP_EINVAL);
	assert_int_equal(fp_pubkey_check("", type, fpr, &err), FP_EINVAL);
	assert_int_equal(fp_pubkey_check(NULL, type, fpr, &err), FP_EINVAL);
	assert_int_equal(
	    fp_pubkey_check("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", type,
	                    fpr, &err),
	    FP_EINVAL);
	/* Leading text, trailing text and a second key are refused. */
	snprintf(buf, sizeof(buf), "junk\n%s", ED_PUB);
	assert_int_equal(fp_pubkey_check(buf, type, fpr, &err), FP_EINVAL);
	snprintf(buf, sizeof(buf), "%sjunk\n", ED_PUB);
	assert_int_equal(fp_pubkey_check(buf, type, fpr, &err), FP_EINVAL);
	snprintf(buf, sizeof(buf), "%s%s", ED_PUB, EC_PUB);
	assert_int_equal(fp_pubkey_check(buf, type, fpr, &err), FP_EINVAL);
}

static void pubkey_pem_cap(void **state)
{
	(void)state;
	char type[16], fpr[FP_SHA256_HEX_LEN + 1];
	struct fp_err err;
	/* A valid key padded with whitespace to exactly the cap passes; one byte more fails. */
	char *pem = malloc(FP_PUBKEY_PEM_MAX + 2);
	assert_non_null(pem);
	size_t kl = strlen(ED_PUB);
	memcpy(pem, ED_PUB, kl);
	memset(pem + kl, '\n', FP_PUBKEY_PEM_MAX - kl);
	pem[FP_PUBKEY_PEM_MAX] = '\0';
	assert_int_equal(fp_pubkey_check(pem, type, fpr, &err), 0);
	assert_int_equal(fp_sig_verify(pem, BODY, strlen(BODY), ED_SIG, &err), 0);
	pem[FP_PUBKEY_PEM_MAX] = '\n';
	pem[FP_PUBKEY_PEM_MAX + 1] = '\0';
	assert_int_equal(fp_pubkey_check(pem, type, fpr, &err), FP_ETOOBIG);
	assert_int_equal(fp_sig_verify(pem, BODY, strlen(BODY), ED_SIG, &err), FP_ETOOBIG);
	free(pem);
}

static void verify_openssl_cli_signatures(void **state)
{
	(void)state;
	struct fp_err err;
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), ED_SIG, &err), 0);
	assert_int_equal(fp_sig_verify(EC_PUB, BODY, strlen(BODY), EC_SIG, &err), 0);
}

static void verify_rejections(void **state)
{
	(void)state;
	struct fp_err err;
	char other[sizeof(BODY)];
	memcpy(other, BODY, sizeof(BODY));
	other[5] ^= 1;
	/* Wrong message, wrong key, swapped algorithms. */
	assert_int_equal(fp_sig_verify(ED_PUB, other, strlen(other), ED_SIG, &err), FP_EAUTH);
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY) - 1, ED_SIG, &err), FP_EAUTH);
	assert_int_equal(fp_sig_verify(EC_PUB, other, strlen(other), EC_SIG, &err), FP_EAUTH);
	char *priv = NULL, *pub = NULL;
	assert_int_equal(fp_keypair_generate(&priv, &pub, &err), 0);
	assert_int_equal(fp_sig_verify(pub, BODY, strlen(BODY), ED_SIG, &err), FP_EAUTH);
	assert_int_equal(fp_sig_verify(EC_PUB, BODY, strlen(BODY), ED_SIG, &err), FP_EINVAL);
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), EC_SIG, &err), FP_EINVAL);
	/* A bit flipped in the signature. */
	char sig[sizeof(ED_SIG)];
	memcpy(sig, ED_SIG, sizeof(sig));
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), sig, &err), FP_EAUTH);
	/* Truncated: 63 bytes is malformed for ed25519, as is a base64 cut mid-quantum. */
	unsigned char raw[64];
	size_t rawlen;
	char b64[128];
	assert_int_equal(fp_base64_decode(ED_SIG, raw, sizeof(raw), &rawlen), 0);
	assert_int_equal(fp_base64_encode(raw, 63, b64, sizeof(b64)), 0);
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), b64, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "64 bytes"));
	snprintf(b64, sizeof(b64), "%.40s", ED_SIG);
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), b64, &err), FP_EINVAL);
	snprintf(b64, sizeof(b64), "%.44s", EC_SIG);
	assert_int_equal(fp_sig_verify(EC_PUB, BODY, strlen(BODY), b64, &err), FP_EINVAL);
	/* Garbage and empty base64, and an over-long signature string. */
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), "!!notbase64!!", &err),
	                 FP_EINVAL);
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), "", &err), FP_EINVAL);
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), NULL, &err), FP_EINVAL);
	char longsig[FP_SIG_B64_MAX + 8];
	memset(longsig, 'A', sizeof(longsig) - 1);
	longsig[sizeof(longsig) - 1] = '\0';
	assert_int_equal(fp_sig_verify(ED_PUB, BODY, strlen(BODY), longsig, &err), FP_EINVAL);
	/* Non-strict DER for ECDSA: trailing byte. */
	unsigned char der[80];
	size_t derlen;
	assert_int_equal(fp_base64_decode(EC_SIG, der, sizeof(der), &derlen), 0);
	der[derlen] = 0;
	assert_int_equal(fp_base64_encode(der, derlen + 1, b64, sizeof(b64)), 0);
	assert_int_equal(fp_sig_verify(EC_PUB, BODY, strlen(BODY), b64, &err), FP_EINVAL);
	/* Keys that are not accepted. */
	assert_int_equal(fp_sig_verify(RSA_PUB, BODY, strlen(BODY), ED_SIG, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "RSA"));
	assert_int_equal(fp_sig_verify(P384_PUB, BODY, strlen(BODY), EC_SIG, &err), FP_EINVAL);
	fp_wipe(priv, strlen(priv));
	free(priv);
	free(pub);
}

static void generate_sign_verify(void **state)
{
	(void)state;
	struct fp_err err;
	char *priv = NULL, *pub = NULL, *sig = NULL, *sig2 = NULL;
	char type[16], fpr[FP_SHA256_HEX_LEN + 1];
	assert_int_equal(fp_keypair_generate(&priv, &pub, &err), 0);
	assert_non_null(strstr(priv, "-----BEGIN PRIVATE KEY-----"));
	assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));
	assert_int_equal(fp_pubkey_check(pub, type, fpr, &err), 0);
	assert_string_equal(type, "ed25519");
	assert_int_equal(fp_sig_sign(priv, BODY, strlen(BODY), &sig, &err), 0);
	assert_int_equal(strlen(sig), 88);
	assert_int_equal(fp_sig_verify(pub, BODY, strlen(BODY), sig, &err), 0);
	/* The empty body can be signed too. */
	assert_int_equal(fp_sig_sign(priv, NULL, 0, &sig2, &err), 0);
	assert_int_equal(fp_sig_verify(pub, NULL, 0, sig2, &err), 0);
	assert_int_equal(fp_sig_verify(pub, "x", 1, sig2, &err), FP_EAUTH);
	free(sig2);
	sig2 = NULL;
	/* ed25519 is deterministic: the fixed key reproduces the CLI's signature. */
	assert_int_equal(fp_sig_sign(ED_PRIV, BODY, strlen(BODY), &sig2, &err), 0);
	assert_string_equal(sig2, ED_SIG);
	free(sig2);
	sig2 = NULL;
	/* ECDSA P-256 signing (randomised, so check by verifying). */
	assert_int_equal(fp_sig_sign(EC_PRIV, BODY, strlen(BODY), &sig2, &err), 0);
	assert_int_equal(fp_sig_verify(EC_PUB, BODY, strlen(BODY), sig2, &err), 0);
	free(sig2);
	sig2 = NULL;
	/* Public keys and garbage are not private keys. */
	assert_int_equal(fp_sig_sign(pub, BODY, strlen(BODY), &sig2, &err), FP_EINVAL);
	assert_null(sig2);
	assert_int_equal(fp_sig_sign("nope", BODY, strlen(BODY), &sig2, &err), FP_EINVAL);
	fp_wipe(priv, strlen(priv));
	free(priv);
	free(pub);
	free(sig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pubkey_check_types_and_fingerprint),
	    cmocka_unit_test(pubkey_check_rejections),
	    cmocka_unit_test(pubkey_pem_cap),
	    cmocka_unit_test(verify_openssl_cli_signatures),
	    cmocka_unit_test(verify_rejections),
	    cmocka_unit_test(generate_sign_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
