/*
 * json_depth.c — the pre-parse nesting cap of JSON documents (see json_depth.h).
 */
#include "fleetpatch/json_depth.h"

int fp_json_check_depth(const char *d, size_t len, size_t max, struct fp_err *err)
{
	size_t depth = 0, line = 1, col = 0;
	int in_str = 0, esc = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = d[i];
		col++;
		if (ch == '\n') {
			line++;
			col = 0;
		}
		if (in_str) {
			if (esc)
				esc = 0;
			else if (ch == '\\')
				esc = 1;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '"') {
			in_str = 1;
		} else if (ch == '[' || ch == '{') {
			if (++depth > max)
				return fp_err_set(
				    err, FP_ETOOBIG,
				    "line %zu, column %zu: JSON nests deeper than %zu levels", line,
				    col, max);
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	return 0;
}
