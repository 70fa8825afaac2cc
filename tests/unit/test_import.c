/*
 * test_import.c — unit tests of lib/import*.c over the fixtures in
 * tests/data/import and tests/data/nmap: rows, rejects with their reasons,
 * file-level errors with their lines, the identity rule and every cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/import.h"
#include "fleetpatch/oui.h"

static struct fp_oui *oui;

static char *slurp(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", FP_TEST_DATA, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static int setup(void **state)
{
	(void)state;
	size_t len;
	char *d = slurp("import/oui-small.csv", &len);
	int rc = fp_oui_parse(d, len, &oui, NULL);
	free(d);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	fp_oui_free(oui);
	return 0;
}

static void parse_file(enum fp_import_format fmt, const char *rel, struct fp_import_result *r)
{
	size_t len;
	struct fp_err err = {0};
	char *d = slurp(rel, &len);
	int rc = fp_import_parse(fmt, d, len, oui, r, &err);
	free(d);
	if (rc)
		fail_msg("%s: %s", rel, err.msg);
}

/* Parses s expecting a file-level failure with code and a message containing want. */
static void expect_file_error(enum fp_import_format fmt, const char *s, size_t len, int code,
                              const char *want)
{
	struct fp_import_result r;
	struct fp_err err = {0};
	int rc = fp_import_parse(fmt, s, len, oui, &r, &err);
	if (rc != code || !strstr(err.msg, want))
		fail_msg("expected %d '%s', got %d '%s'", code, want, rc, err.msg);
	assert_int_equal(r.n_rows, 0);
	assert_int_equal(r.n_rejects, 0);
	assert_null(r.rows);
	fp_import_result_free(&r);
}

static void parse_str(enum fp_import_format fmt, const char *s, struct fp_import_result *r)
{
	struct fp_err err = {0};
	if (fp_import_parse(fmt, s, strlen(s), oui, r, &err))
		fail_msg("unexpected error: %s", err.msg);
}

static const struct fp_device_rec *by_id(const struct fp_import_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_rows; i++)
		if (strcmp(r->rows[i].rec.f[FP_DEV_IDENTITY], id) == 0)
			return &r->rows[i].rec;
	fail_msg("no row with identity %s", id);
	return NULL;
}

static const char *attr_of(const struct fp_device_rec *rec, const char *key)
{
	for (size_t i = 0; i < rec->n_attrs; i++)
		if (strcmp(rec->attrs[i].key, key) == 0)
			return rec->attrs[i].val;
	return NULL;
}

static void expect_reject(const struct fp_import_result *r, size_t line, const char *want)
{
	for (size_t i = 0; i < r->n_rejects; i++)
		if (r->rejects[i].line == line) {
			if (!strstr(r->rejects[i].reason, want))
				fail_msg("line %zu: reason '%s' lacks '%s'", line,
				         r->rejects[i].reason, want);
			return;
		}
	fail_msg("no reject on line %zu", line);
}

/* ---- formats ------------------------------------------------------------------------------ */

static void format_names(void **state)
{
	(void)state;
	enum fp_import_format f;
	static const char *const names[] = {"csv", "json", "nmap", "dnsmasq", "dhcpd", "mdm"};
	for (int i = 0; i < 6; i++) {
		assert_int_equal(fp_import_format_parse(names[i], &f), 0);
		assert_int_equal((int)f, i);
		assert_string_equal(fp_import_format_name(f), names[i]);
	}
	assert_int_equal(fp_import_format_parse("NMAP", &f), 0);
	assert_int_equal(f, FP_IMPORT_NMAP);
	assert_int_equal(fp_import_format_parse("xlsx", &f), FP_EINVAL);
	assert_int_equal(fp_import_format_parse(NULL, &f), FP_EINVAL);
	assert_null(fp_import_format_name((enum fp_import_format)42));
}

/* ---- generic CSV -------------------------------------------------------------------------- */

static void csv_fixture(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_CSV, "import/devices.csv", &r);
	assert_int_equal(r.n_rows, 4);
	assert_int_equal(r.n_rejects, 6);
	assert_int_equal(r.n_rejects_total, 6);

	const struct fp_device_rec *cam = by_id(&r, "serial:SN-1001");
	assert_int_equal(r.rows[0].line, 2);
	assert_string_equal(cam->f[FP_DEV_NAME], "Front door camera");
	assert_string_equal(cam->f[FP_DEV_MAC], "aa:bb:cc:00:11:01");
	assert_string_equal(cam->f[FP_DEV_MODEL], "IPC-2,Pro");
	assert_string_equal(cam->f[FP_DEV_FIRMWARE], "5.4.1");
	assert_string_equal(cam->f[FP_DEV_EXPOSURE], "internet");
	assert_string_equal(cam->f[FP_DEV_MAC_VENDOR], "Test Vendor AA");
	assert_int_equal(cam->n_tags, 3);
	assert_string_equal(cam->tags[0], "cam");
	assert_string_equal(cam->tags[1], "outdoor");
	assert_string_equal(cam->tags[2], "lobby");
	assert_string_equal(attr_of(cam, "rack"), "r1");

	const struct fp_device_rec *plug = by_id(&r, "mac:b8:27:eb:00:00:02");
	assert_string_equal(plug->f[FP_DEV_NAME], "Hall \"main\" plug");
	assert_string_equal(plug->f[FP_DEV_MAC_VENDOR], "Raspberry Pi Foundation");
	assert_string_equal(by_id(&r, "asset-42")->f[FP_DEV_CRITICALITY], "critical");
	assert_null(by_id(&r, "ip:fd00::5")->f[FP_DEV_MAC_VENDOR]);

	expect_reject(&r, 6, "mac: 'aa:bb:cc' is not a MAC address");
	expect_reject(&r, 7, "eol_date: '2023-02-30' is not a date YYYY-MM-DD");
	expect_reject(&r, 8, "exposure: 'dmz' is not one of internet, internal, isolated");
	expect_reject(&r, 9, "row has 3 fields, the header has 12");
	expect_reject(&r, 10, "no identity: need one of identity, serial, mac, ip");
	expect_reject(&r, 11, "name: value must be valid UTF-8 without control characters");
	fp_import_result_free(&r);
}

static void csv_without_oui_leaves_vendor_unknown(void **state)
{
	(void)state;
	struct fp_import_result r;
	const char *s = "mac\nb8:27:eb:00:00:02\n";
	assert_int_equal(fp_import_parse(FP_IMPORT_CSV, s, strlen(s), NULL, &r, NULL), 0);
	assert_int_equal(r.n_rows, 1);
	assert_null(r.rows[0].rec.f[FP_DEV_MAC_VENDOR]);
	fp_import_result_free(&r);
	/* A vendor in the file is kept, not overwritten by the table. */
	parse_str(FP_IMPORT_CSV, "mac,mac_vendor\nb8:27:eb:00:00:02,Own Name\n", &r);
	assert_string_equal(r.rows[0].rec.f[FP_DEV_MAC_VENDOR], "Own Name");
	fp_import_result_free(&r);
}

static void csv_file_errors(void **state)
{
	(void)state;
	const char *s;
	s = "ip,modle\n10.0.0.1,x\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 1: unknown column 'modle' in header; known: identity, name");
	s = "ip,name\n10.0.0.1,\"abc\n10.0.0.2,x\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 2, column 10: quoted field is never closed");
	s = "ip,name\n10.0.0.1,caf\xe9\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 2, column 13: invalid UTF-8");
	s = "ip,name\n10.0.0.1,x\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s) + 1, FP_EINVAL, "line 3, column 1: NUL byte");
	s = "name,model\ncam,x\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 1: the header needs one of the columns identity, serial, mac, ip");
	s = "ip, IP \n1.2.3.4,1.2.3.4\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 1: column 'IP' appears twice in the header");
	s = "ip,attr.9lives\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 1: column 'attr.9lives': attributes: '9lives' is not an attribute");
	s = "ip,,name\n";
	expect_file_error(FP_IMPORT_CSV, s, strlen(s), FP_EINVAL,
	                  "line 1: column 2 has an empty name");
	expect_file_error(FP_IMPORT_CSV, "", 0, FP_EINVAL, "line 1: empty file");
	expect_file_error(FP_IMPORT_CSV, "\n\n", 2, FP_EINVAL, "empty file");
}

static void identity_rule(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_str(FP_IMPORT_CSV,
	          "identity,serial,mac,ip\n"
	          "id-1,S1,aa:bb:cc:00:00:01,10.0.0.1\n"
	          ",S2,aa:bb:cc:00:00:02,10.0.0.2\n"
	          ",,AA:BB:CC:00:00:03,10.0.0.3\n"
	          ",,,10.0.0.4\n"
	          ",,,FD00:0:0::0005\n"
	          ",,,\n",
	          &r);
	assert_int_equal(r.n_rows, 5);
	assert_string_equal(r.rows[0].rec.f[FP_DEV_IDENTITY], "id-1");
	assert_string_equal(r.rows[1].rec.f[FP_DEV_IDENTITY], "serial:S2");
	assert_string_equal(r.rows[2].rec.f[FP_DEV_IDENTITY], "mac:aa:bb:cc:00:00:03");
	assert_string_equal(r.rows[3].rec.f[FP_DEV_IDENTITY], "ip:10.0.0.4");
	assert_string_equal(r.rows[4].rec.f[FP_DEV_IDENTITY], "ip:fd00::5"); /* canonical */
	assert_string_equal(r.rows[4].rec.f[FP_DEV_IP], "FD00:0:0::0005");   /* as given */
	expect_reject(&r, 7, "no identity");
	fp_import_result_free(&r);

	/* A serial that fits the field makes an identity that does not: a row reject. */
	char s[600];
	char serial[FP_DEVICE_STR_MAX + 1];
	memset(serial, 'S', FP_DEVICE_STR_MAX);
	serial[FP_DEVICE_STR_MAX] = '\0';
	snprintf(s, sizeof(s), "serial\n%s\nS-ok\n", serial);
	parse_str(FP_IMPORT_CSV, s, &r);
	assert_int_equal(r.n_rows, 1);
	expect_reject(&r, 2, "identity: value must be");
	fp_import_result_free(&r);

	/* The same device reached through different formats gets the same identity. */
	struct fp_import_result a, b;
	parse_str(FP_IMPORT_CSV, "mac\nB8-27-EB-12-34-56\n", &a);
	parse_str(FP_IMPORT_DNSMASQ, "1714650100 b8:27:eb:12:34:56 192.168.1.11 * *\n", &b);
	assert_string_equal(a.rows[0].rec.f[FP_DEV_IDENTITY], b.rows[0].rec.f[FP_DEV_IDENTITY]);
	fp_import_result_free(&a);
	fp_import_result_free(&b);
}

/* Builds "ip\n" followed by n rows of a valid (or, with bad, an invalid) address. */
static char *many_rows(size_t n, int bad, size_t *len)
{
	const char *row = bad ? "10.0.0.300\n" : "10.0.0.1\n";
	size_t rl = strlen(row);
	char *s = malloc(3 + n * rl + 1);
	assert_non_null(s);
	memcpy(s, "ip\n", 3);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 3 + i * rl, row, rl);
	*len = 3 + n * rl;
	s[*len] = '\0';
	return s;
}

static void row_and_reject_caps(void **state)
{
	(void)state;
	struct fp_import_result r;
	struct fp_err err;
	size_t len;
	char *s = many_rows(FP_IMPORT_ROWS_MAX, 0, &len);
	assert_int_equal(fp_import_parse(FP_IMPORT_CSV, s, len, NULL, &r, &err), 0);
	assert_int_equal(r.n_rows, FP_IMPORT_ROWS_MAX);
	fp_import_result_free(&r);
	free(s);
	s = many_rows(FP_IMPORT_ROWS_MAX + 1, 0, &len);
	expect_file_error(FP_IMPORT_CSV, s, len, FP_ETOOBIG,
	                  "line 200002: more than 200000 rows in one file");
	free(s);

	/* Rejects past the cap are counted, not kept. */
	s = many_rows(FP_IMPORT_REJECTS_MAX + 1, 1, &len);
	assert_int_equal(fp_import_parse(FP_IMPORT_CSV, s, len, NULL, &r, &err), 0);
	assert_int_equal(r.n_rows, 0);
	assert_int_equal(r.n_rejects, FP_IMPORT_REJECTS_MAX);
	assert_int_equal(r.n_rejects_total, FP_IMPORT_REJECTS_MAX + 1);
	assert_int_equal(r.rejects[FP_IMPORT_REJECTS_MAX - 1].line, FP_IMPORT_REJECTS_MAX + 1);
	fp_import_result_free(&r);
	free(s);
}

static void file_and_line_caps(void **state)
{
	(void)state;
	/* The size is checked before a byte is read, so the buffer may stay unset. */
	char *big = malloc(FP_IMPORT_FILE_MAX + 1u);
	assert_non_null(big);
	for (int f = FP_IMPORT_CSV; f <= FP_IMPORT_MDM; f++)
		expect_file_error((enum fp_import_format)f, big, FP_IMPORT_FILE_MAX + 1u,
		                  FP_ETOOBIG, "file is larger than 67108864 bytes");
	free(big);

	size_t n = 3 + FP_IMPORT_LINE_MAX + 1;
	char *s = malloc(n + 1);
	assert_non_null(s);
	memcpy(s, "ip\n", 3);
	memset(s + 3, 'x', n - 3);
	expect_file_error(FP_IMPORT_CSV, s, n, FP_ETOOBIG, "line 2: longer than 65536 bytes");
	expect_file_error(FP_IMPORT_DNSMASQ, s, n, FP_ETOOBIG, "line 2: longer than 65536 bytes");
	/* Exactly at the cap (line break excluded) the line is read, and rejected as a row. */
	struct fp_import_result r;
	struct fp_err err;
	s[n - 1] = '\n';
	assert_int_equal(fp_import_parse(FP_IMPORT_CSV, s, n, NULL, &r, &err), 0);
	assert_int_equal(r.n_rejects, 1);
	fp_import_result_free(&r);
	free(s);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_rows_and_rejects(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_str(FP_IMPORT_JSON,
	          "[{\"serial\":\"S1\",\"model\":\"m\",\"tags\":[\"lab\"]},\n"
	          " {\"serial\":\"S2\",\"modle\":\"m\"},\n"
	          " 42,\n"
	          " {\"identity\":\"x-1\",\"mac\":\"b8:27:eb:00:00:09\","
	          "\"components\":[{\"name\":\"busybox\",\"version\":\"1.36\"}]},\n"
	          " {\"model\":\"nothing to tell it by\"},\n"
	          " {\"id\":5,\"serial\":\"S6\"}]",
	          &r);
	assert_int_equal(r.n_rows, 2);
	assert_int_equal(r.rows[0].line, 1);
	assert_string_equal(r.rows[0].rec.f[FP_DEV_IDENTITY], "serial:S1");
	assert_string_equal(r.rows[1].rec.f[FP_DEV_IDENTITY], "x-1");
	assert_int_equal(r.rows[1].line, 4);
	assert_string_equal(r.rows[1].rec.f[FP_DEV_MAC_VENDOR], "Raspberry Pi Foundation");
	expect_reject(&r, 2, "unknown device field 'modle'");
	expect_reject(&r, 3, "expected a JSON object with device fields");
	expect_reject(&r, 5, "no identity");
	expect_reject(&r, 6, "unknown device field 'id'");
	fp_import_result_free(&r);

	parse_str(FP_IMPORT_JSON, "{\"devices\":[{\"ip\":\"10.1.1.1\"}],\"exported\":\"2024\"}",
	          &r);
	assert_int_equal(r.n_rows, 1);
	assert_string_equal(r.rows[0].rec.f[FP_DEV_IDENTITY], "ip:10.1.1.1");
	fp_import_result_free(&r);
	parse_str(FP_IMPORT_JSON, "[]", &r);
	assert_int_equal(r.n_rows + r.n_rejects, 0);
	fp_import_result_free(&r);
}

static void json_file_errors(void **state)
{
	(void)state;
	const char *s;
	s = "[{\"ip\":\"10.0.0.1\",\"ip\":\"10.0.0.2\"}]";
	expect_file_error(FP_IMPORT_JSON, s, strlen(s), FP_EINVAL, "duplicate object key");
	s = "{\"items\":[]}";
	expect_file_error(FP_IMPORT_JSON, s, strlen(s), FP_EINVAL,
	                  "expected an array of device objects or an object {\"devices\"");
	s = "{\"devices\":{}}";
	expect_file_error(FP_IMPORT_JSON, s, strlen(s), FP_EINVAL, "expected an array");
	s = "[\n{\"ip\": \"10.0.0.1\",\n}]";
	expect_file_error(FP_IMPORT_JSON, s, strlen(s), FP_EINVAL, "line 3, column ");
	s = "[{\"name\":\"caf\xe9\"}]";
	expect_file_error(FP_IMPORT_JSON, s, strlen(s), FP_EINVAL, "line 1, column");
	expect_file_error(FP_IMPORT_JSON, "", 0, FP_EINVAL, "line ");
	/* 16 levels pass the depth check; 17 do not. */
	char deep[64];
	memset(deep, '[', 16);
	memset(deep + 16, ']', 16);
	deep[32] = '\0';
	struct fp_import_result r;
	parse_str(FP_IMPORT_JSON, deep, &r); /* one rejected row: an array is not an object */
	assert_int_equal(r.n_rejects, 1);
	fp_import_result_free(&r);
	memset(deep, '[', 17);
	memset(deep + 17, ']', 17);
	deep[34] = '\0';
	expect_file_error(FP_IMPORT_JSON, deep, strlen(deep), FP_ETOOBIG,
	                  "line 1, column 17: JSON nests deeper than 16 levels");
	/* Brackets inside strings do not count. */
	parse_str(FP_IMPORT_JSON, "[{\"name\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[\",\"ip\":\"10.0.0.1\"}]",
	          &r);
	assert_int_equal(r.n_rows, 1);
	fp_import_result_free(&r);
}

/* ---- nmap --------------------------------------------------------------------------------- */

static void nmap_lab_fixture(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_NMAP, "nmap/lab.xml", &r);
	assert_int_equal(r.n_rows, 2); /* the down host is skipped, not rejected */
	assert_int_equal(r.n_rejects, 1);

	const struct fp_device_rec *cam = by_id(&r, "mac:aa:bb:cc:00:11:01");
	assert_int_equal(r.rows[0].line, 14);
	assert_string_equal(cam->f[FP_DEV_IP], "192.168.1.20");
	assert_string_equal(cam->f[FP_DEV_MAC_VENDOR], "Hikvision Digital Technology");
	assert_string_equal(cam->f[FP_DEV_HOSTNAME], "cam-front.lan");
	assert_string_equal(cam->f[FP_DEV_NAME], "cam-front.lan");
	assert_string_equal(cam->f[FP_DEV_PLATFORM], "embedded");
	assert_string_equal(cam->f[FP_DEV_MANUFACTURER], "Hikvision");
	assert_null(cam->f[FP_DEV_OS_VERSION]);
	assert_string_equal(attr_of(cam, "open_ports"), "22/tcp,80/tcp,554/tcp");
	assert_string_equal(attr_of(cam, "os_match"), "Hikvision DS-2CD2032-I camera");
	assert_string_equal(attr_of(cam, "os_accuracy"), "98");
	assert_int_equal(cam->n_components, 5);
	assert_string_equal(cam->components[0].name, "linux_kernel");
	assert_null(cam->components[0].version);
	assert_string_equal(cam->components[0].cpe, "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*");
	assert_string_equal(cam->components[1].name, "Dropbear sshd");
	assert_string_equal(cam->components[1].version, "2019.78");
	assert_string_equal(cam->components[1].cpe,
	                    "cpe:2.3:a:matt_johnston:dropbear_ssh_server:2019.78:*:*:*:*:*:*:*");
	assert_string_equal(cam->components[2].name, "lighttpd");
	assert_string_equal(cam->components[3].name, "rtsp");
	assert_null(cam->components[3].cpe);
	assert_string_equal(cam->components[4].name, "ds-2cd2032-i");
	assert_string_equal(cam->components[4].cpe,
	                    "cpe:2.3:h:hikvision:ds-2cd2032-i:*:*:*:*:*:*:*:*");

	const struct fp_device_rec *gw = by_id(&r, "mac:dc:a6:32:01:02:03");
	assert_string_equal(gw->f[FP_DEV_IP], "192.168.1.1"); /* IPv4 preferred */
	assert_string_equal(gw->f[FP_DEV_MAC_VENDOR], "Raspberry Pi Trading Ltd"); /* from OUI */
	assert_string_equal(gw->f[FP_DEV_HOSTNAME], "gateway"); /* user-given beats PTR */
	assert_null(gw->f[FP_DEV_PLATFORM]);
	assert_string_equal(attr_of(gw, "open_ports"), "53/udp,443/tcp");
	assert_int_equal(gw->n_components, 2);
	assert_string_equal(gw->components[0].cpe,
	                    "cpe:2.3:a:thekelleys:dnsmasq:2.89:*:*:*:*:*:*:*");
	assert_string_equal(gw->components[1].name, "Web UI (a+b)");
	assert_string_equal(gw->components[1].cpe,
	                    "cpe:2.3:a:acme\\+inc:web_ui:1.0\\!rc1:*:*:*:*:*:*:*");
	expect_reject(&r, 53, "mac: 'AA:BB:CC' is not a MAC address");
	fp_import_result_free(&r);
}

static void nmap_real_output_and_os_guess(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_NMAP, "nmap/localhost-sV.xml", &r);
	assert_int_equal(r.n_rows, 1);
	const struct fp_device_rec *h = by_id(&r, "ip:127.0.0.1");
	assert_string_equal(h->f[FP_DEV_HOSTNAME], "localhost");
	assert_null(attr_of(h, "open_ports")); /* both ports were closed */
	assert_int_equal(h->n_components, 0);
	fp_import_result_free(&r);

	parse_str(FP_IMPORT_NMAP,
	          "<nmaprun><host><status state=\"up\"/><address addr=\"10.0.0.9\" "
	          "addrtype=\"ipv4\"/><os><osmatch name=\"Linux 4.15 - 5.6\" accuracy=\"100\">"
	          "<osclass vendor=\"Linux\" osfamily=\"Linux\" osgen=\"4.X\">"
	          "<cpe>cpe:/o:linux:linux_kernel:4</cpe></osclass>"
	          "<osclass vendor=\"Linux\" osfamily=\"Linux\" osgen=\"5.X\">"
	          "<cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass></osmatch>"
	          "<osmatch name=\"Other\" accuracy=\"90\"><osclass osfamily=\"Other\"/>"
	          "</osmatch></os></host></nmaprun>",
	          &r);
	assert_int_equal(r.n_rows, 1);
	const struct fp_device_rec *l = &r.rows[0].rec;
	assert_string_equal(l->f[FP_DEV_PLATFORM], "linux");
	assert_string_equal(l->f[FP_DEV_OS_VERSION], "4.X");
	assert_null(l->f[FP_DEV_MANUFACTURER]); /* "Linux" is the OS, not a maker */
	assert_int_equal(l->n_components, 2);
	assert_string_equal(l->components[1].version, "5");
	assert_string_equal(l->components[1].cpe, "cpe:2.3:o:linux:linux_kernel:5:*:*:*:*:*:*:*");
	fp_import_result_free(&r);
}

static void nmap_cpe_conversion(void **state)
{
	(void)state;
	struct fp_import_result r;
	/* Packed edition, wildcards, NA, an escape and a malformed URI (no cpe kept). */
	parse_str(FP_IMPORT_NMAP,
	          "<nmaprun><host><status state=\"up\"/><address addr=\"10.0.0.9\" "
	          "addrtype=\"ipv4\"/><ports>"
	          "<port protocol=\"tcp\" portid=\"1\"><state state=\"open\"/><service name=\"a\">"
	          "<cpe>cpe:/a:Vendor:prod:1.0:-:~~pro~~x64~</cpe></service></port>"
	          "<port protocol=\"tcp\" portid=\"2\"><state state=\"open\"/><service name=\"b\">"
	          "<cpe>cpe:/a:v:p:%01%02:sp1</cpe></service></port>"
	          "<port protocol=\"tcp\" portid=\"3\"><state state=\"open\"/><service name=\"c\">"
	          "<cpe>cpe:/a:v:p:1:2:3:4:5</cpe></service></port>"
	          "<port protocol=\"tcp\" portid=\"4\"><state state=\"open\"/><service name=\"d\">"
	          "<cpe>cpe:/a:v:p:1%zz</cpe></service></port>"
	          "<port protocol=\"tcp\" portid=\"5\"><state state=\"open\"/><service name=\"e\">"
	          "<cpe>cpe:/a:v:p%3a:1</cpe></service></port>"
	          "</ports></host></nmaprun>",
	          &r);
	assert_int_equal(r.n_rows, 1);
	const struct fp_device_rec *h = &r.rows[0].rec;
	assert_int_equal(h->n_components, 5);
	assert_string_equal(h->components[0].cpe, "cpe:2.3:a:vendor:prod:1.0:-:*:*:pro:*:x64:*");
	assert_string_equal(h->components[1].cpe, "cpe:2.3:a:v:p:?*:sp1:*:*:*:*:*:*");
	assert_null(h->components[2].cpe);
	assert_null(h->components[3].cpe);
	assert_string_equal(h->components[4].cpe, "cpe:2.3:a:v:p\\::1:*:*:*:*:*:*:*");
	assert_string_equal(attr_of(h, "open_ports"), "1/tcp,2/tcp,3/tcp,4/tcp,5/tcp");
	fp_import_result_free(&r);
}

static void nmap_file_errors(void **state)
{
	(void)state;
	const char *s;
	s = "<?xml version=\"1.0\"?>\n<scan><host/></scan>";
	expect_file_error(FP_IMPORT_NMAP, s, strlen(s), FP_EINVAL,
	                  "line 2, column 1: not nmap XML: the root element is not <nmaprun>");
	s = "<nmaprun>\n<host>\n</nmaprun>";
	expect_file_error(FP_IMPORT_NMAP, s, strlen(s), FP_EINVAL,
	                  "line 3, column 3: XML is not well-formed: mismatched tag");
	s = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n "
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;\">\n]>\n<nmaprun>&lol2;</nmaprun>";
	expect_file_error(FP_IMPORT_NMAP, s, strlen(s), FP_EINVAL,
	                  "line 2, column 16: a DOCTYPE with an internal subset is not allowed");
	s = "<!DOCTYPE nmaprun SYSTEM \"http://example.invalid/x.dtd\">\n<nmaprun>&ext;</nmaprun>";
	struct fp_import_result r;
	struct fp_err err;
	/* No internal subset: allowed; the external entity is skipped, never fetched. */
	assert_int_equal(fp_import_parse(FP_IMPORT_NMAP, s, strlen(s), NULL, &r, &err), 0);
	assert_int_equal(r.n_rows, 0);
	fp_import_result_free(&r);
	expect_file_error(FP_IMPORT_NMAP, "", 0, FP_EINVAL, "XML is not well-formed");
	expect_file_error(FP_IMPORT_NMAP, "<nmaprun>\xff</nmaprun>", 20, FP_EINVAL,
	                  "XML is not well-formed");

	/* Depth: 64 nested elements pass, 65 fail. */
	char deep[2048];
	size_t o = 0;
	o += (size_t)snprintf(deep + o, sizeof(deep) - o, "<nmaprun>");
	for (int i = 1; i < FP_IMPORT_XML_DEPTH_MAX; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "<a>");
	for (int i = 1; i < FP_IMPORT_XML_DEPTH_MAX; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "</a>");
	o += (size_t)snprintf(deep + o, sizeof(deep) - o, "</nmaprun>");
	parse_str(FP_IMPORT_NMAP, deep, &r);
	fp_import_result_free(&r);
	o = (size_t)snprintf(deep, sizeof(deep), "<nmaprun>");
	for (int i = 0; i < FP_IMPORT_XML_DEPTH_MAX; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "<a>");
	expect_file_error(FP_IMPORT_NMAP, deep, o, FP_ETOOBIG, "elements nest deeper than 64");

	/* Attributes: 64 pass, 65 fail. */
	char many[2048];
	o = (size_t)snprintf(many, sizeof(many), "<nmaprun");
	for (int i = 0; i < FP_IMPORT_XML_ATTRS_MAX; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, " a%d=\"\"", i);
	snprintf(many + o, sizeof(many) - o, "/>");
	parse_str(FP_IMPORT_NMAP, many, &r);
	fp_import_result_free(&r);
	snprintf(many + o, sizeof(many) - o, " z=\"\"/>");
	expect_file_error(FP_IMPORT_NMAP, many, strlen(many), FP_ETOOBIG,
	                  "an element has more than 64 attributes");
}

/* ---- leases ------------------------------------------------------------------------------- */

static void dnsmasq_fixture(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_DNSMASQ, "import/dnsmasq.leases", &r);
	assert_int_equal(r.n_rows, 5);
	assert_int_equal(r.n_rejects, 2);
	const struct fp_device_rec *cam = by_id(&r, "mac:aa:bb:cc:dd:ee:01");
	assert_string_equal(cam->f[FP_DEV_IP], "192.168.1.10");
	assert_string_equal(cam->f[FP_DEV_HOSTNAME], "cam-1");
	assert_string_equal(cam->f[FP_DEV_NAME], "cam-1");
	assert_string_equal(attr_of(cam, "lease_expires"), "1714650000");
	assert_string_equal(attr_of(cam, "client_id"), "01:aa:bb:cc:dd:ee:01");
	const struct fp_device_rec *pi = by_id(&r, "mac:b8:27:eb:12:34:56");
	assert_null(pi->f[FP_DEV_HOSTNAME]);
	assert_null(attr_of(pi, "client_id"));
	assert_string_equal(pi->f[FP_DEV_MAC_VENDOR], "Raspberry Pi Foundation");
	assert_null(attr_of(by_id(&r, "mac:aa:bb:cc:dd:ee:05"), "client_id")); /* 4 fields */
	const struct fp_device_rec *plug = by_id(&r, "ip:fd00::10");
	assert_null(plug->f[FP_DEV_MAC]);
	assert_string_equal(plug->f[FP_DEV_HOSTNAME], "plug-7");
	assert_string_equal(attr_of(plug, "iaid"), "1234567");
	assert_string_equal(attr_of(by_id(&r, "ip:fd00::11"), "iaid"), "T87654");
	expect_reject(&r, 3, "mac: 'zz:bb:cc:dd:ee:03' is not a MAC address");
	expect_reject(&r, 4, "expiry 'soon' is not a time in seconds");
	fp_import_result_free(&r);

	parse_str(FP_IMPORT_DNSMASQ, "1 aa:bb:cc:dd:ee:01 10.0.0.1\n\n1 a b c d e\n", &r);
	expect_reject(&r, 1, "found 3 fields");
	expect_reject(&r, 3, "found more than 5 fields");
	fp_import_result_free(&r);
	expect_file_error(FP_IMPORT_DNSMASQ, "1 aa:bb:cc:dd:ee:01 10.0.0.1 h\xc3\n", 32, FP_EINVAL,
	                  "line 1, column 31: invalid UTF-8");
}

static void dhcpd_fixture(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_DHCPD, "import/dhcpd.leases", &r);
	assert_int_equal(r.n_rows, 2); /* .10 once (last block wins), .11; .20 is free */
	assert_int_equal(r.n_rejects, 2);
	assert_string_equal(r.rows[0].rec.f[FP_DEV_IP], "192.168.1.11");
	const struct fp_device_rec *cam = by_id(&r, "mac:aa:bb:cc:dd:ee:01");
	assert_int_equal(r.rows[1].line, 41);
	assert_string_equal(cam->f[FP_DEV_HOSTNAME], "cam-1-renamed");
	assert_string_equal(attr_of(cam, "lease_expires"), "1714694400");
	assert_string_equal(attr_of(cam, "binding_state"), "active");
	assert_null(attr_of(cam, "client_id")); /* only the first block had a uid */
	const struct fp_device_rec *pi = by_id(&r, "mac:b8:27:eb:12:34:56");
	assert_string_equal(attr_of(pi, "lease_expires"), "0");
	assert_string_equal(pi->f[FP_DEV_MAC_VENDOR], "Raspberry Pi Foundation");
	expect_reject(&r, 48, "mac: 'aa:bb:cc:dd:ee' is not a MAC address");
	expect_reject(&r, 53, "ends: not a lease time");
	fp_import_result_free(&r);

	parse_str(FP_IMPORT_DHCPD,
	          "lease 10.0.0.7 {\n  uid \"\\001\\252\\273\\314\\335\\356\\001\";\n"
	          "  client-hostname \"say \\\"hi\\\"\";\n  ends epoch 1714650000; # comment\n}\n"
	          "lease fd00::1 { binding state active; }\n"
	          "lease 10.0.0.300 { binding state active; }\n",
	          &r);
	assert_int_equal(r.n_rows, 2);
	assert_string_equal(attr_of(&r.rows[0].rec, "client_id"), "01:aa:bb:cc:dd:ee:01");
	assert_string_equal(r.rows[0].rec.f[FP_DEV_HOSTNAME], "say \"hi\"");
	assert_string_equal(attr_of(&r.rows[0].rec, "lease_expires"), "1714650000");
	assert_string_equal(r.rows[1].rec.f[FP_DEV_IDENTITY], "ip:fd00::1");
	expect_reject(&r, 7, "ip: '10.0.0.300' is not an IPv4 or IPv6 address");
	fp_import_result_free(&r);
}

static void dhcpd_file_errors(void **state)
{
	(void)state;
	const char *s;
	s = "authoring-byte-order little-endian;\nlease 10.0.0.1 {\n  starts 4 2024/05/02 "
	    "10:00:00;\n";
	expect_file_error(FP_IMPORT_DHCPD, s, strlen(s), FP_EINVAL,
	                  "line 2: '{' is never closed by '}'");
	s = "lease 10.0.0.1 {\n}\n}\n";
	expect_file_error(FP_IMPORT_DHCPD, s, strlen(s), FP_EINVAL,
	                  "line 3: '}' without a matching '{'");
	s = "lease 10.0.0.1 {\n  client-hostname \"cam;\n}\n";
	expect_file_error(FP_IMPORT_DHCPD, s, strlen(s), FP_EINVAL,
	                  "line 2: quoted string is never closed");
	s = "failover peer \"x\" state {\n  my state normal;\n";
	expect_file_error(FP_IMPORT_DHCPD, s, strlen(s), FP_EINVAL,
	                  "line 1: '{' is never closed by '}'");
	s = "server-duid \"abc\"";
	expect_file_error(FP_IMPORT_DHCPD, s, strlen(s), FP_EINVAL,
	                  "line 1: statement is not ended by ';'");
	struct fp_import_result r;
	parse_str(FP_IMPORT_DHCPD, "# only comments\n\n", &r);
	assert_int_equal(r.n_rows + r.n_rejects, 0);
	fp_import_result_free(&r);
}

/* ---- MDM ---------------------------------------------------------------------------------- */

static void mdm_intune(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_MDM, "import/intune.csv", &r);
	assert_int_equal(r.n_rows, 3);
	assert_int_equal(r.n_rejects, 1);
	const struct fp_device_rec *p = by_id(&r, "serial:28131FDH200ABC");
	assert_string_equal(p->f[FP_DEV_NAME], "PIXEL-7-ALICE");
	assert_string_equal(p->f[FP_DEV_PLATFORM], "android");
	assert_string_equal(p->f[FP_DEV_OS_VERSION], "14");
	assert_string_equal(p->f[FP_DEV_PATCH_LEVEL], "2024-04-01");
	assert_string_equal(p->f[FP_DEV_MAC], "a1:b2:c3:d4:e5:f6");
	assert_string_equal(p->f[FP_DEV_IP], "10.20.0.15");
	assert_string_equal(p->f[FP_DEV_OWNER], "alice@example.com");
	assert_string_equal(p->f[FP_DEV_MANUFACTURER], "Google");
	assert_string_equal(p->f[FP_DEV_UPDATE_MECHANISM], "mdm");
	assert_string_equal(attr_of(p, "imei"), "356938035643809");
	assert_string_equal(attr_of(p, "last_checkin"), "2024-05-02 07:55:12.0000000");
	assert_string_equal(attr_of(p, "device_id"), "5f0c6c2e-1b7e-4e55-9d0a-2c1f3f7b9a01");
	assert_string_equal(attr_of(p, "processorarchitecture"), "arm64");
	const struct fp_device_rec *ipad = by_id(&r, "serial:DMPXK0ABCD12");
	assert_string_equal(ipad->f[FP_DEV_PLATFORM], "ipados");
	assert_null(ipad->f[FP_DEV_PATCH_LEVEL]);
	assert_null(ipad->f[FP_DEV_MAC_VENDOR]); /* f0:18:98 is not in the small table */
	const struct fp_device_rec *g = by_id(&r, "serial:R58N12ABCDE");
	assert_string_equal(g->f[FP_DEV_PATCH_LEVEL], "2024-03-01");
	assert_null(g->f[FP_DEV_MAC]); /* "N/A" */
	expect_reject(&r, 5,
	              "patch_level: 'May 2024' is not a date (YYYY-MM-DD, YYYY-MM or M/D/YYYY)");
	fp_import_result_free(&r);
}

static void mdm_jamf_and_workspace_one(void **state)
{
	(void)state;
	struct fp_import_result r;
	parse_file(FP_IMPORT_MDM, "import/jamf-mobile.csv", &r);
	assert_int_equal(r.n_rows, 2);
	const struct fp_device_rec *ipad = by_id(&r, "serial:DMQXK1ABCD34");
	assert_string_equal(ipad->f[FP_DEV_NAME], "Reception iPad");
	assert_string_equal(ipad->f[FP_DEV_PLATFORM], "ipados");
	assert_string_equal(ipad->f[FP_DEV_OS_VERSION], "17.4.1");
	assert_string_equal(ipad->f[FP_DEV_MAC], "a4:83:e7:01:02:03");
	assert_string_equal(ipad->f[FP_DEV_IP], "10.30.0.21");
	assert_string_equal(ipad->f[FP_DEV_OWNER], "reception");
	assert_string_equal(attr_of(ipad, "udid"), "00008103-001A2B3C4D5E001E");
	assert_string_equal(attr_of(ipad, "bluetooth_mac_address"), "a4:83:e7:01:02:04");
	assert_string_equal(attr_of(ipad, "last_checkin"), "2024-05-02 09:15:44");
	assert_string_equal(by_id(&r, "serial:F2LXK2ABCD56")->f[FP_DEV_PLATFORM], "ios");
	fp_import_result_free(&r);

	parse_file(FP_IMPORT_MDM, "import/ws1.csv", &r);
	assert_int_equal(r.n_rows, 1);
	const struct fp_device_rec *sc = by_id(&r, "serial:21034B0012");
	assert_string_equal(sc->f[FP_DEV_NAME], "Warehouse scanner 3");
	assert_string_equal(sc->f[FP_DEV_PLATFORM], "android");
	assert_string_equal(sc->f[FP_DEV_PATCH_LEVEL], "2024-03-05");
	assert_string_equal(sc->f[FP_DEV_MAC], "00:a0:c6:11:22:33");
	assert_string_equal(attr_of(sc, "last_checkin"), "05/02/2024 07:00 AM");
	assert_string_equal(attr_of(sc, "ownership"), "Corporate - Dedicated");
	expect_reject(&r, 3, "patch_level: '03/2024' is not a date");
	fp_import_result_free(&r);
}

static void mdm_headers_and_caps(void **state)
{
	(void)state;
	struct fp_import_result r;
	const char *s = "Device name,Model\nphone,x\n";
	expect_file_error(FP_IMPORT_MDM, s, strlen(s), FP_EINVAL,
	                  "line 1: the header has no serial number, MAC address, IP address");
	expect_file_error(FP_IMPORT_MDM, "", 0, FP_EINVAL, "empty file");

	/* Odd headers become valid attribute names; duplicates get the column number. */
	parse_str(FP_IMPORT_MDM,
	          "Serial Number,2FA enabled?,  ,Notes (free),Notes-Free,OS,Model\n"
	          "S1,yes,x,a,b,Mac OS X,MacBook\n"
	          "S2,,,,,Windows 11 Pro,PC\n"
	          "S3,,,,,ChromeOS,CB\n",
	          &r);
	assert_int_equal(r.n_rows, 3);
	const struct fp_device_rec *d = &r.rows[0].rec;
	assert_string_equal(attr_of(d, "c_2fa_enabled"), "yes");
	assert_string_equal(attr_of(d, "col_3"), "x");
	assert_string_equal(attr_of(d, "notes_free"), "a");
	assert_string_equal(attr_of(d, "notes_free_5"), "b");
	assert_string_equal(d->f[FP_DEV_PLATFORM], "macos");
	assert_string_equal(r.rows[1].rec.f[FP_DEV_PLATFORM], "windows");
	assert_string_equal(r.rows[2].rec.f[FP_DEV_PLATFORM], "chromeos");
	fp_import_result_free(&r);

	/* More unknown columns than a device keeps attributes: the first 64 are kept. */
	char hdr[4096], row[4096];
	size_t ho = (size_t)snprintf(hdr, sizeof(hdr), "Serial number");
	size_t ro = (size_t)snprintf(row, sizeof(row), "S1");
	for (int i = 0; i < FP_DEVICE_ATTRS_MAX + 6; i++) {
		ho += (size_t)snprintf(hdr + ho, sizeof(hdr) - ho, ",Extra %d", i);
		ro += (size_t)snprintf(row + ro, sizeof(row) - ro, ",v%d", i);
	}
	char all[sizeof(hdr) + sizeof(row) + 2];
	snprintf(all, sizeof(all), "%s\n%s\n", hdr, row);
	parse_str(FP_IMPORT_MDM, all, &r);
	assert_int_equal(r.n_rows, 1);
	assert_int_equal(r.rows[0].rec.n_attrs, FP_DEVICE_ATTRS_MAX);
	assert_string_equal(attr_of(&r.rows[0].rec, "extra_63"), "v63");
	assert_null(attr_of(&r.rows[0].rec, "extra_64"));
	fp_import_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(format_names),
	    cmocka_unit_test(csv_fixture),
	    cmocka_unit_test(csv_without_oui_leaves_vendor_unknown),
	    cmocka_unit_test(csv_file_errors),
	    cmocka_unit_test(identity_rule),
	    cmocka_unit_test(row_and_reject_caps),
	    cmocka_unit_test(file_and_line_caps),
	    cmocka_unit_test(json_rows_and_rejects),
	    cmocka_unit_test(json_file_errors),
	    cmocka_unit_test(nmap_lab_fixture),
	    cmocka_unit_test(nmap_real_output_and_os_guess),
	    cmocka_unit_test(nmap_cpe_conversion),
	    cmocka_unit_test(nmap_file_errors),
	    cmocka_unit_test(dnsmasq_fixture),
	    cmocka_unit_test(dhcpd_fixture),
	    cmocka_unit_test(dhcpd_file_errors),
	    cmocka_unit_test(mdm_intune),
	    cmocka_unit_test(mdm_jamf_and_workspace_one),
	    cmocka_unit_test(mdm_headers_and_caps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
