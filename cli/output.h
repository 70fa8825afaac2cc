/*
 * output.h — how the CLI shows things: the server's JSON as is (--json),
 * aligned tables for listings, `key: value` lines for single objects, and a
 * progress bar on stderr for long operations.
 *
 * Every text that came from the server is printed with control characters
 * replaced, so a device name cannot move the cursor or retitle the terminal.
 */
#ifndef FP_CLI_OUTPUT_H
#define FP_CLI_OUTPUT_H

#include <jansson.h>
#include <stddef.h>

#include "cli.h"

#define CLI_CELL_MAX   4096 /* bytes of one table cell or value as printed */
#define CLI_TABLE_ROWS 100000

/* Writes body to stdout exactly, plus a newline when it does not end in one. */
void cli_print_body(const char *body, size_t len);

/* Prints items (an array of objects) as a table; truncate: cut cells at cols[i].max. */
void cli_print_table(const json_t *items, const struct cli_col *cols, int truncate);

/* Prints obj's members as `key: value` lines, skipping nulls and empty arrays or objects. */
void cli_print_object(const json_t *obj);

/*
 * Formats v as a cell: strings as they are, numbers in decimal, true/false as
 * yes/no, null as "-", arrays of scalars joined with ",", anything else as
 * compact JSON. Control characters become '?'.
 */
void cli_format_value(const json_t *v, char *out, size_t outsz);

/* Copies s into out (at most outsz-1 bytes, whole characters), control characters as '?'. */
void cli_clean_text(const char *s, char *out, size_t outsz);

/* Looks up "a.b.c" in obj; NULL when absent. Borrowed. */
const json_t *cli_json_path(const json_t *obj, const char *path);

/* Draws "label [#####-----]  42%  done/total" on stderr, redrawing in place. */
void cli_progress(const char *label, double done, double total);
/* Ends the bar's line, if one was drawn. */
void cli_progress_end(void);

#endif
