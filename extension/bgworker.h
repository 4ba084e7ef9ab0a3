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

/* Entry points named in BackgroundWorker.bgw_function_name. */
extern PGDLLEXPORT void ff_launcher_main(Datum main_arg);
extern PGDLLEXPORT void ff_reconciler_main(Datum main_arg);

#endif							/* FF_BGWORKER_H */
