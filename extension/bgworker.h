/*
 * bgworker.h
 *		Background workers that run the reconcilers (bgworker.c).
 */
#ifndef FF_BGWORKER_H
#define FF_BGWORKER_H

#include "flowfabric.h"

/* flowfabric.reconcilers and friends (see bgworker.c for the rest) */
extern bool ff_reconcilers_enabled;
extern int	ff_reconciler_batch_size;
extern int	ff_launcher_interval_ms;

/*
 * ff_bgworker_init defines the reconciler settings and, when the library is
 * being preloaded, requests shared memory, installs the hooks and registers
 * the launcher. Called from _PG_init.
 */
extern void ff_bgworker_init(void);

/* A due time (engine-clock ms) written by this transaction: wake the reconciler at commit if earlier. */
extern void ff_bgw_note_due(int64 due_ms);

/*
 * Deferred notifications (notify.c): the slot of this database's worker if
 * one takes them (-1 if none); a ticket on it for a committing transaction
 * (ff_bgw_notify_begin at PRE_COMMIT, -1 if no worker any more); and, at
 * commit or abort, the channel bits to add (0 after an abort) returning the
 * ticket and waking the worker.
 */
extern int	ff_bgw_notify_worker_slot(void);
extern int	ff_bgw_notify_begin(void);
extern void ff_bgw_notify_post(int slot_index, uint32 channels);

/* Entry points named in BackgroundWorker.bgw_function_name. */
extern PGDLLEXPORT void ff_launcher_main(Datum main_arg);
extern PGDLLEXPORT void ff_reconciler_main(Datum main_arg);

#endif							/* FF_BGWORKER_H */
