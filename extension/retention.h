/*
 * retention.h
 *		Retention (docs/reconcilers.md#retention): finished executions are
 *		deleted, with everything that belongs to them, once they have been
 *		terminal for flowfabric.retention_ms; outbox events once they are
 *		older than flowfabric.event_retention_ms.
 *
 * Lock order (the engine's): a flow row before its member executions;
 * execution rows before the rows that belong to them. Every lock is taken
 * SKIP LOCKED: retention never waits for a transition, it leaves the row for
 * its next run.
 */
#ifndef FLOWFABRIC_RETENTION_H
#define FLOWFABRIC_RETENTION_H

#include "flowfabric.h"

/* Defaults: a week for executions, a day for outbox events. */
#define FF_RETENTION_DEFAULT_MS			(7 * 24 * 3600 * 1000.0)
#define FF_EVENT_RETENTION_DEFAULT_MS	(24 * 3600 * 1000.0)

/* flowfabric.retention_ms and flowfabric.event_retention_ms; <= 0 keeps forever */
extern double ff_retention_ms;
extern double ff_event_retention_ms;

/* Defines the settings above; called from _PG_init. */
extern void ff_retention_init(void);

#endif							/* FLOWFABRIC_RETENTION_H */
