/*
 * keyfile.c — encrypted offline keys and passphrases (keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fleetpatch/secret.h"

static int first_line(const char *file, char *out, size_t outsz)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		cli_error("cannot open the passphrase file %s: %s", file, strerror(errno));
		return -1;
	}
	int rc = 0;
	if (!fgets(out, (int)outsz, f)) {
		cli_error("the passphrase file %s is empty", file);
		rc = -1;
	}
	fclose(f);
	if (rc)
		return rc;
	size_t n = strlen(out);
	if (n == outsz - 1 && out[n - 1] != '\n') {
		cli_error("the passphrase in %s is longer than %zu bytes", file, outsz - 2);
		explicit_bzero(out, outsz);
		return -1;
	}
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

int cli_passphrase(const char *file, const char *prompt, int confirm, char *out, size_t outsz)
{
	int rc;
	const char *env = getenv(CLI_PASSPHRASE_ENV);
	if (file) {
		rc = first_line(file, out, outsz);
	} else if (env) {
		if (strlen(env) >= outsz) {
			cli_error("$%s is longer than %zu bytes", CLI_PASSPHRASE_ENV, outsz - 1);
			return -1;
		}
		snprintf(out, outsz, "%s", env);
		rc = 0;
	} else {
		if (!isatty(STDIN_FILENO)) {
			cli_error(
			    "no passphrase: use --passphrase-file FILE or $%s (stdin is not a "
			    "terminal)",
			    CLI_PASSPHRASE_ENV);
			return -1;
		}
		rc = cli_read_password(prompt, 0, out, outsz);
		if (rc == 0 && confirm) {
			char again[CLI_PASSPHRASE_MAX];
			rc = cli_read_password("repeat the passphrase: ", 0, again, sizeof(again));
			if (rc == 0 && strcmp(again, out) != 0) {
				cli_error("the passphrases differ");
				rc = -1;
			}
			explicit_bzero(again, sizeof(again));
		}
	}
	if (rc == 0 && strlen(out) < CLI_PASSPHRASE_MIN) {
		cli_error("the passphrase must have at least %d characters", CLI_PASSPHRASE_MIN);
		rc = -1;
	}
	if (rc)
		explicit_bzero(out, outsz);
	return rc;
}

static int write_bio_file(const char *path, BIO *b, mode_t mode, int force)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
	int fd = open(path, flags, mode);
	if (fd < 0) {
		cli_error("cannot create %s: %s%s", path, strerror(errno),
		          errno == EEXIST ? " (use --force to replace it)" : "");
		return -1;
	}
	if (force && fchmod(fd, mode)) {
		close(fd);
		return -1;
	}
	long off = 0;
	while (off < n) {
		ssize_t w = write(fd, data + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cli_error("cannot write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += w;
	}
	if (fsync(fd) || close(fd)) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int cli_key_generate(const char *base, const char *pass, int force, char **pub_pem)
{
	char kpath[4096], ppath[4096];
	EVP_PKEY *pk = NULL;
	X509_ALGOR *pbe = NULL;
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	X509_SIG *p8 = NULL;
	BIO *kb = NULL, *pb = NULL;
	int rc = -1;
	*pub_pem = NULL;
	if ((size_t)snprintf(kpath, sizeof(kpath), "%s.key", base) >= sizeof(kpath) ||
	    (size_t)snprintf(ppath, sizeof(ppath), "%s.pub", base) >= sizeof(ppath)) {
		cli_error("the key name is too long");
		return -1;
	}
	unsigned char salt[CLI_KEY_SALT_LEN];
	if (fp_random_bytes(salt, sizeof(salt)) ||
	    !(pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) ||
	    !(pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof(salt), NULL,
	                                  CLI_KEY_SCRYPT_N, CLI_KEY_SCRYPT_R, CLI_KEY_SCRYPT_P)) ||
	    !(p8inf = EVP_PKEY2PKCS8(pk)) ||
	    !(p8 = PKCS8_set0_pbe(pass, (int)strlen(pass), p8inf, pbe))) {
		cli_error("cannot generate and encrypt an ed25519 key (libcrypto)");
		goto out;
	}
	pbe = NULL; /* owned by p8 now */
	kb = BIO_new(BIO_s_mem());
	pb = BIO_new(BIO_s_mem());
	if (!kb || !pb || !PEM_write_bio_PKCS8(kb, p8) || !PEM_write_bio_PUBKEY(pb, pk)) {
		cli_error("cannot encode the key (libcrypto)");
		goto out;
	}
	if (write_bio_file(kpath, kb, 0600, force))
		goto out;
	if (write_bio_file(ppath, pb, 0644, force)) {
		unlink(kpath);
		goto out;
	}
	char *d = NULL;
	long n = BIO_get_mem_data(pb, &d);
	if (!(*pub_pem = strndup(d, (size_t)n)))
		goto out;
	rc = 0;
out:
	X509_ALGOR_free(pbe);
	X509_SIG_free(p8);
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	EVP_PKEY_free(pk);
	BIO_free(kb);
	BIO_free(pb);
	return rc;
}

int cli_key_load(const char *path, const char *pass_file, char **pem)
{
	char pass[CLI_PASSPHRASE_MAX], prompt[512];
	char *data = NULL;
	size_t len = 0;
	EVP_PKEY *pk = NULL;
	BIO *in = NULL, *out = NULL;
	int rc = -1;
	*pem = NULL;
	if (cli_read_file(path, 65536, &data, &len))
		return -1;
	snprintf(prompt, sizeof(prompt), "passphrase of %s: ", path);
	if (cli_passphrase(pass_file, prompt, 0, pass, sizeof(pass)))
		goto out;
	if (!strstr(data, "-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
		cli_error("%s is not an encrypted private key (make one with 'fleetpatch key "
		          "generate')",
		          path);
		goto out;
	}
	in = BIO_new_mem_buf(data, (int)len);
	if (!in || !(pk = PEM_read_bio_PrivateKey(in, NULL, NULL, pass))) {
		cli_error("cannot decrypt %s: wrong passphrase, or not a PKCS#8 key", path);
		goto out;
	}
	out = BIO_new(BIO_s_mem());
	char *d = NULL;
	if (!out || !PEM_write_bio_PKCS8PrivateKey(out, pk, NULL, NULL, 0, NULL, NULL)) {
		cli_error("cannot re-encode %s (libcrypto)", path);
		goto out;
	}
	long n = BIO_get_mem_data(out, &d);
	if (!(*pem = strndup(d, (size_t)n)))
		goto out;
	explicit_bzero(d, (size_t)n);
	rc = 0;
out:
	explicit_bzero(pass, sizeof(pass));
	if (data) {
		explicit_bzero(data, len);
		free(data);
	}
	EVP_PKEY_free(pk);
	BIO_free(in);
	BIO_free(out);
	return rc;
}
