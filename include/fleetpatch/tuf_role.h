/*
 * tuf_role.h — checking one metadata document against the keys a root
 * gives a role, outside a client's trusted set.
 *
 * The trusted set (tuf.h) follows the client workflow: timestamp, then
 * snapshot, then targets. A repository and an offline signer need a
 * narrower question: "is this targets document signed by a threshold of the
 * targets keys of this root?", asked before any snapshot exists. Pure.
 */
#ifndef FLEETPATCH_TUF_ROLE_H
#define FLEETPATCH_TUF_ROLE_H

#include <jansson.h>

#include "fleetpatch/err.h"

/*
 * Counts the distinct keys of role (root's roles[role].keyids) that validly
 * signed the canonical JSON of md["signed"] and compares the count with the
 * role's threshold. 0 when it is met; FP_EAUTH (message with the counts and
 * how many signatures came from keys the role does not list) when not;
 * FP_EINVAL when root_signed has no such role or md has no "signed".
 * *valid and *threshold receive the counts when not NULL.
 */
int fp_tuf_role_check(const json_t *root_signed, const char *role, const json_t *md, int *valid,
                      int *threshold, struct fp_err *err) FP_WUR;

/* 1 when root_signed lists keyid among role's keyids. */
int fp_tuf_role_has_key(const json_t *root_signed, const char *role, const char *keyid);

#endif
