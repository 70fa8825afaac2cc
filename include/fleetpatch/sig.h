/*
 * sig.h — device request signatures: public key checks, verify, and sign.
 *
 * Each device owns a key pair (ed25519 by default; ECDSA P-256 also
 * accepted) and signs the raw bytes of every HTTP request body it sends. The
 * server keeps the device's public key as PEM and its fingerprint, and checks
 * each body with fp_sig_verify(). Signing is here too, for the agent and tests.
 */
#ifndef FLEETPATCH_SIG_H
#define FLEETPATCH_SIG_H

#include <stddef.h>

#include "fleetpatch/err.h"
#include "fleetpatch/secret.h"

#define FP_PUBKEY_PEM_MAX  4096 /* bytes of a public key PEM, without its NUL */
#define FP_PRIVKEY_PEM_MAX 8192 /* bytes of a private key PEM, without its NUL */
#define FP_SIG_B64_MAX     128  /* characters of a base64 signature (ECDSA P-256 DER: 96) */

/*
 * Parses a PEM "PUBLIC KEY" (SubjectPublicKeyInfo). Accepts ed25519 and EC
 * P-256 keys only; anything else fails with FP_EINVAL and a message that
 * names the key type found. Writes the key type ("ed25519" or "ecdsa-p256")
 * and a stable fingerprint: the lowercase SHA-256 hex of the DER
 * SubjectPublicKeyInfo. A PEM longer than FP_PUBKEY_PEM_MAX fails with
 * FP_ETOOBIG; text after the PEM block other than whitespace with FP_EINVAL.
 */
int fp_pubkey_check(const char *pem, char type[16], char fingerprint[FP_SHA256_HEX_LEN + 1],
                    struct fp_err *err) FP_WUR;

/*
 * Verifies sig_b64 (standard base64; ed25519: the 64 raw signature bytes;
 * ECDSA: a DER signature over SHA-256 of msg) by the public key in pem over
 * the n bytes at msg. Returns 0 if the signature is valid, FP_EAUTH if it is
 * not, FP_EINVAL if the key or the signature is malformed (bad base64, wrong
 * length, non-DER ECDSA encoding), FP_ETOOBIG if pem is over its cap.
 */
int fp_sig_verify(const char *pem, const void *msg, size_t n, const char *sig_b64,
                  struct fp_err *err) FP_WUR;

/*
 * Generates an ed25519 key pair as PEM strings: an unencrypted PKCS#8
 * "PRIVATE KEY" and a "PUBLIC KEY". Caller owns both and frees them with
 * free(); wipe *priv_pem with fp_wipe() first.
 */
int fp_keypair_generate(char **priv_pem, char **pub_pem, struct fp_err *err) FP_WUR;

/*
 * Signs the n bytes at msg with the unencrypted PEM private key priv_pem
 * (ed25519, or ECDSA P-256 with SHA-256) and sets *sig_b64 to the standard
 * base64 signature, in the form fp_sig_verify() reads. Caller frees *sig_b64.
 * Encrypted private keys fail with FP_EINVAL; this never prompts.
 */
int fp_sig_sign(const char *priv_pem, const void *msg, size_t n, char **sig_b64,
                struct fp_err *err) FP_WUR;

#endif
