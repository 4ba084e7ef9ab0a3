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

#endif							/* FLOWFABRIC_BATCH_H */
