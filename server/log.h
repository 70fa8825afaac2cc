/*
 * log.h — one line per event, key=value, to stderr (journald picks it up).
 */
#ifndef FP_SERVER_LOG_H
#define FP_SERVER_LOG_H

enum fp_log_level { FP_LOG_DEBUG, FP_LOG_INFO, FP_LOG_WARN, FP_LOG_ERROR };

void fp_log_set_level(enum fp_log_level lvl);
int fp_log_level_parse(const char *s, enum fp_log_level *out);
int fp_log_enabled(enum fp_log_level lvl);

/*
 * Logs msg and then key=value pairs given as a printf format, e.g.
 * fp_log(FP_LOG_INFO, "listening", "addr=%s port=%d", a, p). Values that
 * need quoting must be passed through fp_log_quote by the caller.
 */
void fp_log(enum fp_log_level lvl, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Quotes s for a key=value log line into buf (always NUL-terminated). */
const char *fp_log_quote(const char *s, char *buf, unsigned size);

#endif
