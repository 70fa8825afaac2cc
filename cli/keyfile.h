/*
 * keyfile.h — offline signing keys of the CLI: ed25519 private keys kept as
 * passphrase-encrypted PKCS#8 PEM files (AES-256-CBC, scrypt), and the
 * passphrase itself (a file, $FLEETPATCH_KEY_PASSPHRASE, or a prompt on a
 * terminal with echo off).
 */
#ifndef FP_CLI_KEYFILE_H
#define FP_CLI_KEYFILE_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define CLI_PASSPHRASE_MAX 1024 /* bytes of a passphrase */
#define CLI_PASSPHRASE_MIN 8
#define CLI_KEY_SCRYPT_N   (1UL << 14) /* OpenSSL's scrypt PBE decodes up to 32 MiB */
#define CLI_KEY_SCRYPT_R   8
#define CLI_KEY_SCRYPT_P   1
#define CLI_KEY_SALT_LEN   16
#define CLI_PASSPHRASE_ENV "FLEETPATCH_KEY_PASSPHRASE"

/*
 * Gets a passphrase into out: the first line of file when file is not
 * NULL, else $FLEETPATCH_KEY_PASSPHRASE, else a prompt on the terminal
 * (twice when confirm). Errors are printed; returns 0 or -1.
 */
int cli_passphrase(const char *file, const char *prompt, int confirm, char *out, size_t outsz);

/*
 * Generates an ed25519 key pair and writes base.key (encrypted PKCS#8, mode
 * 0600, never overwriting unless force) and base.pub (PEM public key).
 * *pub_pem receives the public key (caller frees). Errors are printed.
 */
int cli_key_generate(const char *base, const char *pass, int force, char **pub_pem);

/*
 * Decrypts the private key file path with the passphrase (obtained as
 * cli_passphrase does, from pass_file or the environment or a prompt) and
 * returns it as unencrypted PKCS#8 PEM in *pem (caller wipes and frees).
 * Errors are printed; returns 0 or -1.
 */
int cli_key_load(const char *path, const char *pass_file, char **pem);

#endif
