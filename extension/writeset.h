/*
 * writeset.h
 *		Staged, set-based writes of the engine's hot tables (writeset.c).
 */
#ifndef FF_WRITESET_H
#define FF_WRITESET_H

#include "flowfabric.h"

/* The row kinds a write set stages; each is written by one set-based part. */
typedef enum FFWritePart
{
	FF_WRITE_EXECUTION_INSERT,	/* INSERT INTO ff_execution ... ON CONFLICT DO NOTHING */
	FF_WRITE_EXECUTION,			/* UPDATE ff_execution (ff_exec_store) */
	FF_WRITE_ATTEMPT_INSERT,	/* INSERT INTO ff_attempt */
	FF_WRITE_ATTEMPT_UPDATE,	/* UPDATE ff_attempt (ff_attempt_store) */
	FF_WRITE_LEASE_EVENT,		/* INSERT INTO ff_lease_event */
	FF_WRITE_COMPLETION_EVENT,	/* INSERT INTO ff_completion_event */
	FF_WRITE_SUSPENSION_CLOSE,	/* open suspensions of a finished execution */
	FF_WRITE_WAITPOINT_CLOSE,	/* and its waitpoints */
	FF_WRITE_STREAM_CLOSE,		/* the output stream of an ended attempt */
	FF_WRITE_NPARTS
} FFWritePart;

extern void ff_write_stage(FFWritePart part, Datum *values, bool *nulls);
extern int64 ff_write_now(FFWritePart part, Datum *values, bool *nulls);
extern int64 ff_write_now_spi(FFWritePart part, Datum *values, const char *spi_nulls);
extern void ff_write_stage_spi(FFWritePart part, Datum *values, const char *spi_nulls);
extern char *ff_write_close_sql(FFWritePart part, const char *from);
extern void ff_writes_flush_key(const FFExecKey *key, int32 attempt_index);

extern MemoryContext ff_writes_context(void);
extern void ff_writes_preload_execution(const FFExecRow *row);
extern void ff_writes_preload_attempt(const FFAttemptRow *row);
extern bool ff_writes_preloaded(const FFExecKey *exec, int32 attempt_index);
extern bool ff_writes_take_execution(const FFExecKey *exec, FFExecRow *row);
extern bool ff_writes_take_attempt(const FFExecKey *exec, int32 attempt_index,
								   FFAttemptRow *row);
extern void ff_writes_begin(void);
extern void ff_writes_flush(void);
extern void ff_writes_end(void);
extern void ff_writes_hold(const FFExecRow *exec);
extern void ff_writes_resume(void);

#endif							/* FF_WRITESET_H */
