/*
 * ffz.h
 *		The fuzzing shim: just enough of the PostgreSQL backend (memory,
 *		ereport, jsonb, arrays, lists) to run the extension's parsers in a
 *		plain process under libFuzzer. docs: test/fuzz/README.md.
 */
#ifndef FFZ_H
#define FFZ_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

/* Frees everything palloc'd since the last reset (call after each input). */
extern void ffz_reset(void);

/*
 * ffz_run calls fn(arg) with an error handler installed. Returns true if it
 * returned normally, false if it raised an ERROR, whose SQLSTATE (a
 * MAKE_SQLSTATE code) and message go to *sqlerrcode / *message. An ERROR
 * that is an internal error (XX000: elog(ERROR), a failed invariant) is a
 * finding: ffz_run aborts with the message, so libFuzzer reports it.
 */
extern bool ffz_run(void (*fn) (void *), void *arg, int *sqlerrcode, const char **message);

/* aborts with a message (a finding: a broken round trip, a lost guarantee) */
extern void ffz_fail(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

/* text / bytea / jsonb from fuzzer bytes (palloc'd) */
extern text *ffz_text(const uint8 *data, size_t len);
extern char *ffz_cstring(const uint8 *data, size_t len);
extern Jsonb *ffz_jsonb(const char *json);	/* jsonb_in; raises on bad JSON */
extern ArrayType *ffz_text_array(const char *const *elems, const bool *nulls, int n, int ndim);

/* byte-wise equality of two jsonb documents (the shim's encoding is canonical) */
extern bool ffz_jsonb_equal(const Jsonb *a, const Jsonb *b);
extern char *ffz_jsonb_out(const Jsonb *j);	/* for messages */

#endif							/* FFZ_H */
