/*
 * log.h — the agent's log: one line per event, key=value, to stderr (which
 * systemd hands to the journal).
 */
#ifndef FLEETPATCH_AGENT_LOG_H
#define FLEETPATCH_AGENT_LOG_H

enum agent_log_level { AGENT_LOG_DEBUG, AGENT_LOG_INFO, AGENT_LOG_WARN, AGENT_LOG_ERROR };

/* Prints `fleetpatch-agent: level=L msg="MSG" FIELDS` (fields: printf format). */
void agent_log(enum agent_log_level level, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

/* Process-wide; call before starting threads. */
void agent_log_set_level(enum agent_log_level min);

/*
 * Tags this thread's later lines with device=IDENTITY (NULL: no tag); the
 * string is borrowed until the next call. Used by `fleet`, where one thread
 * runs one device at a time.
 */
void agent_log_set_device(const char *identity);

#endif
