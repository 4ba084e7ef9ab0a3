/*
 * batch.h
 *		The high-throughput batch calls (batch.c): ff_create_executions,
 *		ff_renew_many, ff_complete_many, ff_fail_many.
 */
#ifndef FLOWFABRIC_BATCH_H
#define FLOWFABRIC_BATCH_H

#include "flowfabric.h"

/* Largest batch one call accepts (elements of the input arrays). */
#define FF_MAX_BATCH			10000

/* A handle offered to ff_complete_many's set-based path (batch_fast.c). */
typedef struct FFFastItem
{
	const FFHandle *handle;
	bytea	   *payload;		/* the result, or NULL */
	int64		event_id;		/* the first of the two outbox ids reserved for it */
	int			index;			/* set by ff_fast_complete: position in the array */
	bool		done;			/* set by ff_fast_complete: completed */
} FFFastItem;

extern void ff_fast_complete(FFFastItem *items, int n, int64 now);

#endif							/* FLOWFABRIC_BATCH_H */
