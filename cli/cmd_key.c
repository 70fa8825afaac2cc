/*
 * cmd_key.c — `fleetpatch key …`: offline signing keys. A key is made on
 * the machine of the person who holds it and never leaves it: NAME.key is
 * the ed25519 private key encrypted with a passphrase (PKCS#8, AES-256-CBC
 * with scrypt), NAME.pub its public half for the root metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "tufcli.h"

static const char usage[] =
    "usage: fleetpatch key generate --out NAME [--passphrase-file FILE] [--force] [--json]\n"
    "       fleetpatch key id FILE.pub [--json]\n"
    "\n"
    "generate  writes NAME.key (ed25519 private key encrypted with a passphrase, mode\n"
    "          0600) and NAME.pub (its public key), and prints the TUF key id. The\n"
    "          passphrase comes from --passphrase-file (first line), else\n"
    "          $FLEETPATCH_KEY_PASSPHRASE, else a prompt on the terminal.\n"
    "id        prints the TUF key id and key object of a public key file.\n";

static int print_key(struct cli *c, const char *pub_pem, const char *name)
{
	json_t *key = NULL;
	char keyid[FP_TUF_KEYID_LEN + 1];
	struct fp_err err = {0};
	if (fp_tuf_key_from_pem(pub_pem, &key, keyid, &err)) {
		cli_error("%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	if (c->json) {
		json_t *o = json_pack("{s:s,s:O}", "keyid", keyid, "key", key);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		if (name)
			printf("%s.key  private key (encrypted)\n%s.pub  public key\n", name, name);
		printf("keyid: %s\n", keyid);
	}
	json_decref(key);
	return CLI_EXIT_OK;
}

static int key_generate(struct cli *c, int argc, char **argv)
{
	enum { O_OUT = CLI_OPT_FIRST_OWN, O_PASS, O_FORCE };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"out", required_argument, NULL, O_OUT},
	    {"passphrase-file", required_argument, NULL, O_PASS},
	    {"force", no_argument, NULL, O_FORCE},
	    CLI_OPTS_END,
	};
	const char *out = NULL, *pass_file = NULL;
	int force = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case O_OUT: out = optarg; break;
		case O_PASS: pass_file = optarg; break;
		case O_FORCE: force = 1; break;
		}
	}
	if (cli_operands(c, argc, argv, 0, usage))
		return c->rc;
	if (!out)
		return cli_usage_error(usage, "--out NAME is required");
	char pass[CLI_PASSPHRASE_MAX];
	if (cli_passphrase(pass_file, "passphrase for the new key: ", 1, pass, sizeof(pass)))
		return CLI_EXIT_FAIL;
	char *pub = NULL;
	int rc = cli_key_generate(out, pass, force, &pub);
	explicit_bzero(pass, sizeof(pass));
	if (rc)
		return CLI_EXIT_FAIL;
	int ex = print_key(c, pub, out);
	free(pub);
	return ex;
}

static int key_id(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 1))
		return c->rc;
	char *pem = NULL;
	size_t len = 0;
	int ex = cli_read_file(argv[optind], 65536, &pem, &len);
	if (ex)
		return ex;
	ex = print_key(c, pem, NULL);
	free(pem);
	return ex;
}

int cli_cmd_key(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"generate", key_generate},
	    {"id", key_id},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
