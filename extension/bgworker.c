/*
 * bgworker.c
 *		The engine runs itself: background workers that run the reconcilers.
 *
 * With shared_preload_libraries = 'flowfabric', one launcher (a static
 * background worker, connected to no database) finds the databases that can
 * hold the extension and runs one reconciler worker (a dynamic background
 * worker) in each database that has it installed. A worker started in a
 * database without the extension exits at once; the launcher tries again on
 * its next scan, or at once when a CREATE EXTENSION flowfabric commits.
 *
 * Each worker runs every reconciler of the table below in turn, each on its
 * own interval setting, in batches of flowfabric.reconciler_batch_size, one
 * transaction per batch, repeating while batches come back full. Between runs
 * it sleeps until the next interval or the soonest due time it can see (the
 * earliest lease expiry, timeout, delay or deadline), whichever is first.
 * Transactions that write an earlier due time set the worker's latch when
 * they commit (the ff_reconciler_wake triggers), so a short lease or delay is
 * acted on within milliseconds of falling due, not a whole interval later.
 *
 * Runtime state lives in shared memory (one slot per database worker): the
 * worker's pid and latch, its next wake-up time, and per-reconciler run
 * statistics, shown by the ff_reconciler_status view. Nothing is written to
 * tables, so the status costs no WAL and no vacuum; it starts empty at every
 * server start.
 *
 * The worker also sends the outbox notifications of flowfabric.notify =
 * deferred (notify.c): committing transactions OR their channels into the
 * slot's notify_pending and set the latch; the worker sends one NOTIFY per
 * pending channel in a short transaction of its own, at most every
 * FF_NOTIFY_MIN_GAP_MS, while it sleeps and between reconcilers (never in the
 * middle of a batch). Such a wake-up does not run the reconcilers: only a
 * commit that asks for it (due_wake), a setting change or a stop request does.
 *
 * A worker keeps its database busy, which would make DROP DATABASE, ALTER
 * DATABASE ... RENAME / SET TABLESPACE and CREATE DATABASE ... TEMPLATE fail
 * ("being accessed by other users"); a ProcessUtility hook stops the worker
 * of the database concerned first and keeps the launcher from restarting it
 * until the command is done.
 */
#include "postgres.h"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bgworker.h"
#include "notify.h"

/*
 * The reconcilers. Adding one is one line: its name (status rows and the
 * setting flowfabric.<name>_interval_ms), the SQL function that runs one
 * batch (batch_size integer) RETURNS integer -- rows changed, in the
 * caller's transaction -- the default interval, and optionally a query for
 * the soonest due time after $1 (engine-clock ms, bigint), so the worker can
 * wake up exactly then. Rows are run in this order within one wake-up.
 */
typedef struct FFReconcilerDef
{
	const char *name;
	const char *function;
	int			default_interval_ms;
	const char *next_due_sql;
} FFReconcilerDef;

static const FFReconcilerDef ff_reconcilers[] = {
	{"execution_deadline", "ff_reconcile_execution_deadline", 5000,
	"SELECT min(deadline_at_ms) FROM ff_execution WHERE deadline_at_ms > $1 AND lifecycle_phase <> 'terminal'"},
	{"attempt_timeout", "ff_reconcile_attempt_timeout", 2000,
	"SELECT min(timeout_at_ms) FROM ff_attempt WHERE timeout_at_ms > $1"},
	{"suspension_timeout", "ff_reconcile_suspension_timeout", 2000,
	"SELECT min(timeout_at_ms) FROM ff_suspension WHERE closed_at_ms IS NULL AND timeout_at_ms > $1"},
	{"pending_waitpoint_expiry", "ff_reconcile_pending_waitpoint_expiry", 5000,
	"SELECT min(expires_at_ms) FROM ff_waitpoint WHERE state = 'pending' AND expires_at_ms > $1"},
	{"lease_expiry", "ff_reconcile_lease_expiry", 1500,
	"SELECT min(lease_expires_at_ms) FROM ff_attempt WHERE lease_expires_at_ms > $1"},
	{"delayed_promotion", "ff_reconcile_delayed_promotion", 750,
	"SELECT min(delay_until_ms) FROM ff_execution WHERE eligibility_state = 'not_eligible_until_time' AND delay_until_ms > $1"},
	{"cancel_backlog", "ff_reconcile_cancel_backlog", 5000,
	"SELECT min(grace_until_ms) FROM ff_cancel_backlog WHERE grace_until_ms > $1"},
	/* backstops for work a cascade left to rows another transaction held */
	{"sibling_cancel", "ff_reconcile_sibling_cancel", 1000, NULL},
	{"dependencies", "ff_reconcile_dependencies", 5000, NULL},
	{"worker_expiry", "ff_reconcile_worker_expiry", 5000,
	"SELECT min(last_heartbeat_ms + liveness_ttl_ms) FROM ff_worker_registry WHERE last_heartbeat_ms + liveness_ttl_ms > $1"},
	{"claim_grant_expiry", "ff_reconcile_claim_grants", 10000, NULL},
	{"stream_retention", "ff_reconcile_stream_retention", 60000, NULL},
	{"budget_reset", "ff_reconcile_budget_reset", 15000,
	"SELECT min(next_reset_at_ms) FROM ff_budget_policy WHERE next_reset_at_ms > $1"},
	{"budget_counters", "ff_reconcile_budget_counters", 30000, NULL},
	{"budget_executions", "ff_reconcile_budget_executions", 5000, NULL},
	{"quota_counters", "ff_reconcile_quota_counters", 30000, NULL},
	{"quota_unblock", "ff_reconcile_quota_unblock", 1000,
	"SELECT min(retry_at_ms) FROM ff_quota_blocked WHERE retry_at_ms > $1"},
	{"admission_cleanup", "ff_reconcile_admission_cleanup", 60000, NULL},
	{"retention", "ff_reconcile_retention", 60000, NULL},
	{"event_retention", "ff_reconcile_event_retention", 60000, NULL},
};

#define FF_NUM_RECONCILERS		lengthof(ff_reconcilers)

/* Settings */
bool		ff_reconcilers_enabled = true;
int			ff_reconciler_batch_size = 1000;
int			ff_launcher_interval_ms = 10000;
static int	ff_reconciler_interval_ms[FF_NUM_RECONCILERS];

/* A full batch is followed by at most this many more before the others run. */
#define FF_MAX_BATCHES_PER_RUN	16
/* Wake-ups for due work are at least this far apart (coalescing). */
#define FF_MIN_DUE_GAP_MS		10
/* Longest sleep, so a dropped extension is noticed even with no wake-up. */
#define FF_MAX_SLEEP_MS			10000
/* How long a database stays paused for DROP / ALTER / CREATE DATABASE. */
#define FF_PAUSE_MS				60000
/* How long those commands wait for the worker to exit, then to SIGTERM it. */
#define FF_STOP_WAIT_MS			10000
#define FF_STOP_SIGTERM_MS		2000
/* A started worker that has not attached by then is counted as failed. */
#define FF_START_TIMEOUT_MS		60000
#define FF_ERROR_LEN			256
/*
 * Deferred notifications: at most one send per gap (the channels of every
 * commit in between share it); how long a stopping worker waits for
 * transactions that are committing with a ticket on its slot; how long it
 * waits before trying again after a send failed (e.g. a full notify queue).
 */
#define FF_NOTIFY_MIN_GAP_MS	2
#define FF_NOTIFY_DRAIN_WAIT_MS 500
#define FF_NOTIFY_RETRY_MS		1000

typedef struct FFRunStats
{
	int64		runs;
	int64		rows_total;
	int64		errors;
	TimestampTz last_run_at;	/* 0: never */
	int64		last_duration_us;
	int64		last_rows;
	TimestampTz last_error_at;	/* 0: never */
	char		last_error[FF_ERROR_LEN];
} FFRunStats;

typedef enum FFSlotState
{
	FF_SLOT_FREE = 0,
	FF_SLOT_IDLE,				/* no worker; keeps the statistics */
	FF_SLOT_STARTING,			/* registered by the launcher */
	FF_SLOT_RUNNING,			/* the worker found the extension */
	FF_SLOT_STOPPED				/* the worker exited; exit_reason says why */
} FFSlotState;

typedef enum FFExitReason
{
	FF_EXIT_NONE = 0,
	FF_EXIT_FAILED,				/* error, crash or termination: back off */
	FF_EXIT_NO_EXTENSION,		/* not installed (any more) */
	FF_EXIT_RESTART,			/* the extension was re-created: restart now */
	FF_EXIT_DISABLED,			/* flowfabric.reconcilers = off */
	FF_EXIT_ASKED				/* asked to stop (database paused or unusable) */
} FFExitReason;

typedef struct FFDbSlot
{
	Oid			dboid;
	FFSlotState state;
	FFExitReason exit_reason;
	pid_t		pid;
	int			procno;			/* the worker's PGPROC number, -1 if none */
	bool		ever_ran;
	bool		stop_requested; /* the worker should exit at its next chance */
	TimestampTz started_at;
	TimestampTz paused_until;
	/* Engine-clock ms of the next wake-up; 0 none; PG_UINT64_MAX awake. */
	pg_atomic_uint64 wake_at_ms;
	/* 1: a commit wrote an earlier due time (or dropped the extension) */
	pg_atomic_uint32 due_wake;
	/*
	 * Deferred notifications (notify.c). notify_db is the database whose
	 * transactions may defer to this worker (set while it runs, else
	 * InvalidOid); notify_pending the channel bits committed and not yet
	 * sent; notify_inflight the transactions between the PRE_COMMIT check of
	 * notify_db and posting their bits. notify_inflight counts tickets on the
	 * slot index, so free_slot leaves it alone.
	 */
	pg_atomic_uint32 notify_db;
	pg_atomic_uint32 notify_pending;
	pg_atomic_uint32 notify_inflight;
	FFRunStats	stats[FF_NUM_RECONCILERS];
} FFDbSlot;

typedef struct FFBgwShared
{
	LWLock	   *lock;
	pid_t		launcher_pid;
	int			launcher_procno;
	bool		probe_requested;	/* look for new databases and extensions now */
	int			nslots;
	FFDbSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} FFBgwShared;

static FFBgwShared *ff_bgw = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Wake-ups this backend owes at commit. */
static bool xact_callback_registered = false;
static int64 pending_due_ms = PG_INT64_MAX;
static bool pending_worker_wake = false;
static bool pending_probe = false;

static void ff_bgw_shmem_request(void);
static void ff_bgw_shmem_startup(void);
static void ff_bgw_process_utility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree, ProcessUtilityContext context,
								   ParamListInfo params, QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);
static void ff_bgw_xact_callback(XactEvent event, void *arg);

/* ------------------------------------------------------------------------
 * Set-up
 * ------------------------------------------------------------------------
 */

static Size
ff_bgw_shmem_size(void)
{
	return add_size(offsetof(FFBgwShared, slots),
					mul_size(max_worker_processes, sizeof(FFDbSlot)));
}

void
ff_bgworker_init(void)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("flowfabric.reconcilers",
							 "Runs the reconcilers in background workers.",
							 "Needs shared_preload_libraries = 'flowfabric'. Off stops every reconciler worker.",
							 &ff_reconcilers_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("flowfabric.reconciler_batch_size",
							"Executions a background reconciler handles per transaction.",
							NULL,
							&ff_reconciler_batch_size,
							1000, 1, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("flowfabric.launcher_interval_ms",
							"How often the reconciler launcher looks for new databases and extensions.",
							NULL,
							&ff_launcher_interval_ms,
							10000, 100, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
	{
		const FFReconcilerDef *def = &ff_reconcilers[i];

		DefineCustomIntVariable(MemoryContextStrdup(TopMemoryContext,
													psprintf("flowfabric.%s_interval_ms", def->name)),
								MemoryContextStrdup(TopMemoryContext,
													psprintf("How often the %s reconciler runs (0 disables it).",
															 def->name)),
								"It also runs as soon as work it can see falls due.",
								&ff_reconciler_interval_ms[i],
								def->default_interval_ms, 0, 24 * 3600 * 1000,
								PGC_SIGHUP,
								GUC_UNIT_MS,
								NULL, NULL, NULL);
	}

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ff_bgw_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ff_bgw_shmem_startup;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = ff_bgw_process_utility;

	/* pg_upgrade's server must not change anything behind its back. */
	if (IsBinaryUpgrade)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "flowfabric", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "ff_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "flowfabric launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "flowfabric launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

static void
ff_bgw_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(ff_bgw_shmem_size());
	RequestNamedLWLockTranche("flowfabric_reconcilers", 1);
}

static void
ff_bgw_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ff_bgw = ShmemInitStruct("flowfabric reconcilers", ff_bgw_shmem_size(), &found);
	if (!found)
	{
		memset(ff_bgw, 0, ff_bgw_shmem_size());
		ff_bgw->lock = &(GetNamedLWLockTranche("flowfabric_reconcilers"))[0].lock;
		ff_bgw->launcher_procno = -1;
		ff_bgw->nslots = max_worker_processes;
		for (int i = 0; i < ff_bgw->nslots; i++)
		{
			ff_bgw->slots[i].procno = -1;
			pg_atomic_init_u64(&ff_bgw->slots[i].wake_at_ms, 0);
			pg_atomic_init_u32(&ff_bgw->slots[i].due_wake, 0);
			pg_atomic_init_u32(&ff_bgw->slots[i].notify_db, InvalidOid);
			pg_atomic_init_u32(&ff_bgw->slots[i].notify_pending, 0);
			pg_atomic_init_u32(&ff_bgw->slots[i].notify_inflight, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* ------------------------------------------------------------------------
 * Slots (callers hold ff_bgw->lock)
 * ------------------------------------------------------------------------
 */

static int
find_slot(Oid dboid)
{
	for (int i = 0; i < ff_bgw->nslots; i++)
		if (ff_bgw->slots[i].state != FF_SLOT_FREE && ff_bgw->slots[i].dboid == dboid)
			return i;
	return -1;
}

static void
free_slot(FFDbSlot *slot)
{
	slot->state = FF_SLOT_FREE;
	slot->dboid = InvalidOid;
	slot->exit_reason = FF_EXIT_NONE;
	slot->pid = 0;
	slot->procno = -1;
	slot->ever_ran = false;
	slot->stop_requested = false;
	slot->started_at = 0;
	slot->paused_until = 0;
	pg_atomic_write_u64(&slot->wake_at_ms, 0);
	pg_atomic_write_u32(&slot->due_wake, 0);
	pg_atomic_write_u32(&slot->notify_db, InvalidOid);
	/* stragglers of a worker that died mid-commit, for a database without one now */
	pg_atomic_write_u32(&slot->notify_pending, 0);
	memset(slot->stats, 0, sizeof(slot->stats));
}

/*
 * claim_slot returns the slot of a database, taking a free one or the idle
 * slot unused longest if it has none; -1 if every slot has a live worker.
 */
static int
claim_slot(Oid dboid)
{
	int			idx = find_slot(dboid);
	int			oldest = -1;
	TimestampTz now = GetCurrentTimestamp();

	if (idx >= 0)
		return idx;
	for (int i = 0; i < ff_bgw->nslots; i++)
	{
		FFDbSlot   *s = &ff_bgw->slots[i];

		if (s->state == FF_SLOT_FREE)
		{
			idx = i;
			break;
		}
		if (s->state == FF_SLOT_IDLE && s->paused_until <= now &&
			(oldest < 0 || s->started_at < ff_bgw->slots[oldest].started_at))
			oldest = i;
	}
	if (idx < 0)
		idx = oldest;
	if (idx >= 0)
	{
		free_slot(&ff_bgw->slots[idx]);
		ff_bgw->slots[idx].dboid = dboid;
		ff_bgw->slots[idx].state = FF_SLOT_IDLE;
	}
	return idx;
}

static void
set_latch_of(int procno)
{
	if (procno >= 0 && procno != MyProc->pgprocno)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

static void
wake_launcher(bool probe)
{
	int			procno;

	if (ff_bgw == NULL)
		return;
	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	if (probe)
		ff_bgw->probe_requested = true;
	procno = ff_bgw->launcher_procno;
	LWLockRelease(ff_bgw->lock);
	set_latch_of(procno);
}

/* ------------------------------------------------------------------------
 * The reconciler worker
 * ------------------------------------------------------------------------
 */

typedef struct FFRunState
{
	bool		installed;		/* the database has the function */
	bool		backlog;		/* the last run stopped on a full batch */
	int64		last_start_ms;	/* engine clock; 0 before the first run */
	int64		due_ms;			/* soonest due item after last_start_ms */
} FFRunState;

static int	my_slot_index = -1;
static Oid	my_extension_oid = InvalidOid;
static char *my_dbname = NULL;
static char *call_sql[FF_NUM_RECONCILERS];
static FFRunState run_state[FF_NUM_RECONCILERS];

#define MY_SLOT (&ff_bgw->slots[my_slot_index])

/*
 * worker_check_interrupts handles SIGTERM and the like between transactions.
 * A cancel (pg_cancel_backend) aborts the batch it hits; between batches
 * there is nothing to cancel, so it must not end the worker.
 */
static void
worker_check_interrupts(void)
{
	QueryCancelPending = false;
	CHECK_FOR_INTERRUPTS();
}

static void
reconciler_exit_cb(int code, Datum arg)
{
	FFDbSlot   *slot = &ff_bgw->slots[DatumGetInt32(arg)];
	int			launcher = -1;

	LWLockReleaseAll();
	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	if (slot->pid == MyProcPid)
	{
		/*
		 * Commits from now on NOTIFY themselves; channels that transactions
		 * already committing post here wait for the next worker.
		 */
		pg_atomic_write_u32(&slot->notify_db, InvalidOid);
		slot->pid = 0;
		slot->procno = -1;
		if (slot->exit_reason == FF_EXIT_NONE)
			slot->exit_reason = FF_EXIT_FAILED;
		slot->state = FF_SLOT_STOPPED;
		pg_atomic_write_u64(&slot->wake_at_ms, 0);
		launcher = ff_bgw->launcher_procno;
	}
	LWLockRelease(ff_bgw->lock);
	set_latch_of(launcher);
}

/* reconciler_exit ends the worker, telling the launcher why. */
static void
reconciler_exit(FFExitReason reason)
{
	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	if (MY_SLOT->pid == MyProcPid)
		MY_SLOT->exit_reason = reason;
	LWLockRelease(ff_bgw->lock);
	proc_exit(0);
}

/*
 * check_extension makes sure, inside a transaction, that the extension this
 * worker serves still exists, and keeps it from being dropped until the
 * transaction ends (DROP EXTENSION takes this lock exclusively). Exits the
 * worker if it is gone or was re-created.
 */
static void
check_extension(void)
{
	Oid			ext = get_extension_oid("flowfabric", true);

	if (OidIsValid(ext))
	{
		LockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock);
		ext = get_extension_oid("flowfabric", true);
	}
	if (ext == my_extension_oid)
		return;
	reconciler_exit(OidIsValid(ext) ? FF_EXIT_RESTART : FF_EXIT_NO_EXTENSION);
}

/*
 * attach_extension finds the extension and its schema and which reconciler
 * functions this database has; false if the extension is not installed.
 */
static bool
attach_extension(char **schema)
{
	bool		found = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "flowfabric: looking for the extension");
	my_dbname = MemoryContextStrdup(TopMemoryContext, get_database_name(MyDatabaseId));

	my_extension_oid = get_extension_oid("flowfabric", true);
	if (OidIsValid(my_extension_oid))
	{
		Oid			argtypes[2] = {OIDOID, TEXTOID};
		Datum		args[2];
		Oid			nspoid;
		bool		isnull;

		LockDatabaseObject(ExtensionRelationId, my_extension_oid, 0, AccessShareLock);
		if (get_extension_oid("flowfabric", true) == my_extension_oid)
		{
			found = true;
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			args[0] = ObjectIdGetDatum(my_extension_oid);
			if (SPI_execute_with_args("SELECT n.oid, n.nspname::text FROM pg_catalog.pg_extension e "
									  "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
									  "WHERE e.oid = $1",
									  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
				SPI_processed != 1)
				elog(ERROR, "could not find the schema of extension flowfabric");
			nspoid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			*schema = MemoryContextStrdup(TopMemoryContext,
										  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
			for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
			{
				args[0] = ObjectIdGetDatum(nspoid);
				args[1] = CStringGetTextDatum(ff_reconcilers[i].function);
				if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_proc "
										  "WHERE pronamespace = $1 AND proname = $2 AND pronargs = 1 "
										  "AND proargtypes[0] = 'pg_catalog.int4'::pg_catalog.regtype "
										  "AND prorettype = 'pg_catalog.int4'::pg_catalog.regtype",
										  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
					elog(ERROR, "could not look up function %s", ff_reconcilers[i].function);
				run_state[i].installed = SPI_processed > 0;
				call_sql[i] = MemoryContextStrdup(TopMemoryContext,
												  psprintf("SELECT %s.%s($1)", quote_identifier(*schema),
														   quote_identifier(ff_reconcilers[i].function)));
				if (!run_state[i].installed)
					ereport(LOG,
							(errmsg("flowfabric reconciler: function %s.%s(integer) not found, reconciler \"%s\" skipped",
									*schema, ff_reconcilers[i].function, ff_reconcilers[i].name),
							 errhint("Update the extension to the library's version.")));
			}
			SPI_finish();
		}
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	return found;
}

static void
record_run(int i, TimestampTz started, int64 rows, const char *error)
{
	FFRunStats *st = &MY_SLOT->stats[i];
	TimestampTz end = GetCurrentTimestamp();

	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	st->runs++;
	st->rows_total += rows;
	st->last_run_at = started;
	st->last_duration_us = end - started;
	st->last_rows = rows;
	if (error != NULL)
	{
		st->errors++;
		st->last_error_at = end;
		strlcpy(st->last_error, error, FF_ERROR_LEN);
	}
	LWLockRelease(ff_bgw->lock);
}

/*
 * report_error turns the error being handled into a WARNING and returns its
 * text ("SQLSTATE: message"); the transaction is aborted and the worker goes
 * on. Called in a PG_CATCH block, in the memory context to copy into.
 */
static char *
report_error(const char *what)
{
	ErrorData  *edata = CopyErrorData();
	char	   *text;

	FlushErrorState();
	AbortCurrentTransaction();
	text = psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), edata->message);
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("flowfabric reconciler: %s failed: %s", what, edata->message),
			 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
			 errcontext("flowfabric reconciler in database \"%s\"",
						my_dbname ? my_dbname : "?")));
	FreeErrorData(edata);
	return text;
}

/*
 * run_batch runs one batch of reconciler i in its own transaction. Returns
 * the rows it changed, or -1 after an error (then *error is set).
 */
static int32
run_batch(int i, int32 batch, char **error)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int32 changed = -1;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, call_sql[i]);
	PG_TRY();
	{
		Oid			argtype = INT4OID;
		Datum		arg = Int32GetDatum(batch);
		bool		isnull;
		Datum		d;

		check_extension();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args(call_sql[i], 1, &argtype, &arg, NULL, false, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "%s returned no row", ff_reconcilers[i].function);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		changed = isnull ? 0 : DatumGetInt32(d);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		*error = report_error(psprintf("reconciler \"%s\"", ff_reconcilers[i].name));
		changed = -1;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return changed;
}

/* No deferred notifications are sent before this (coalescing, back-off). */
static TimestampTz notify_next_at = 0;

/*
 * send_notifications sends one NOTIFY per channel that committed
 * transactions left pending in the slot, in a short transaction of its own;
 * unless forced, not sooner than FF_NOTIFY_MIN_GAP_MS after the last send
 * (the channels then stay pending).
 */
static void
send_notifications(bool force)
{
	FFDbSlot   *slot = MY_SLOT;
	MemoryContext cxt = CurrentMemoryContext;
	TimestampTz now;
	volatile uint32 channels;

	if (pg_atomic_read_u32(&slot->notify_pending) == 0)
		return;
	now = GetCurrentTimestamp();
	if (!force && now < notify_next_at)
		return;
	channels = pg_atomic_exchange_u32(&slot->notify_pending, 0);
	if (channels == 0)
		return;
	notify_next_at = TimestampTzPlusMilliseconds(now, FF_NOTIFY_MIN_GAP_MS);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "flowfabric: sending deferred notifications");
	PG_TRY();
	{
		/*
		 * A wake-up needs no durability (a crash disconnects every listener),
		 * and waiting for the flush would hold the cluster-wide notify lock.
		 */
		(void) set_config_option("synchronous_commit", "off", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		ff_notify_send_channels(channels);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		pfree(report_error("sending deferred notifications"));
		/* e.g. the notification queue is full: keep them for a later try */
		pg_atomic_fetch_or_u32(&slot->notify_pending, channels);
		notify_next_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), FF_NOTIFY_RETRY_MS);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * notify_drain is the last thing a worker leaving between transactions does
 * for notifications: new commits stop deferring to it, it waits (up to
 * FF_NOTIFY_DRAIN_WAIT_MS) for those that already hold a ticket on the slot
 * to post their channels, and sends everything pending. Other exits only
 * clear notify_db (reconciler_exit_cb); what stragglers post then waits for
 * the next worker of the database.
 */
static void
notify_drain(void)
{
	FFDbSlot   *slot = MY_SLOT;
	TimestampTz start;

	/* Pairs with the barrier of the fetch-add in ff_bgw_notify_begin. */
	pg_atomic_write_u32(&slot->notify_db, InvalidOid);
	pg_memory_barrier();
	start = GetCurrentTimestamp();
	while (pg_atomic_read_u32(&slot->notify_inflight) != 0 &&
		   !TimestampDifferenceExceeds(start, GetCurrentTimestamp(), FF_NOTIFY_DRAIN_WAIT_MS))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		worker_check_interrupts();
	}
	send_notifications(true);
}

/*
 * run_reconciler runs reconciler i: batches while they come back full, up to
 * FF_MAX_BATCHES_PER_RUN (then it is due again at once, after the others).
 */
static void
run_reconciler(int i)
{
	FFRunState *rs = &run_state[i];
	TimestampTz started = GetCurrentTimestamp();
	int32		batch = ff_reconciler_batch_size;
	int64		rows = 0;
	char	   *error = NULL;
	bool		full = false;

	rs->last_start_ms = ff_now_ms();
	for (int n = 0; n < FF_MAX_BATCHES_PER_RUN; n++)
	{
		int32		changed = run_batch(i, batch, &error);

		if (changed < 0)
			break;
		rows += changed;
		full = changed >= batch;
		if (!full || MY_SLOT->stop_requested)
			break;
		worker_check_interrupts();
		send_notifications(false);
	}
	rs->backlog = full && error == NULL;
	record_run(i, started, rows, error);
}

/*
 * compute_due_times asks each reconciler's next_due_sql for the soonest item
 * due after its last run started. Also notices a dropped extension.
 */
static void
compute_due_times(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
		run_state[i].due_ms = PG_INT64_MAX;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "flowfabric: computing the next due time");
	PG_TRY();
	{
		check_extension();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
		{
			Oid			argtype = INT8OID;
			Datum		arg = Int64GetDatum(run_state[i].last_start_ms);
			bool		isnull;
			Datum		d;

			if (!run_state[i].installed || ff_reconciler_interval_ms[i] <= 0 ||
				ff_reconcilers[i].next_due_sql == NULL)
				continue;
			if (SPI_execute_with_args(ff_reconcilers[i].next_due_sql, 1, &argtype, &arg,
									  NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "next due time query of reconciler \"%s\" failed", ff_reconcilers[i].name);
			if (SPI_processed == 1)
			{
				d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
				if (!isnull)
					run_state[i].due_ms = DatumGetInt64(d);
			}
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		(void) report_error("computing the next due time");
		for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
			run_state[i].due_ms = PG_INT64_MAX;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* next_run_ms: when reconciler i should run next, PG_INT64_MAX if never. */
static int64
next_run_ms(int i)
{
	FFRunState *rs = &run_state[i];
	int			interval = ff_reconciler_interval_ms[i];
	int64		next;

	if (!rs->installed || interval <= 0)
		return PG_INT64_MAX;
	if (rs->backlog)
		return 0;
	next = rs->last_start_ms + interval;
	if (rs->due_ms != PG_INT64_MAX)
		next = Min(next, Max(rs->due_ms, rs->last_start_ms + FF_MIN_DUE_GAP_MS));
	return next;
}

/*
 * worker_sleep waits until wake (engine-clock ms), sending deferred
 * notifications as they are posted. It returns early when a commit asks for
 * a reconciler run (due_wake), the configuration is to be reloaded or the
 * worker is asked to stop; posted notifications alone do not end the sleep.
 */
static void
worker_sleep(int64 wake)
{
	FFDbSlot   *slot = MY_SLOT;

	for (;;)
	{
		int64		now;
		long		timeout;

		send_notifications(false);
		now = ff_now_ms();
		if (wake <= now)
			return;
		timeout = (long) Min(wake - now, LONG_MAX);
		if (pg_atomic_read_u32(&slot->notify_pending) != 0)
		{
			TimestampTz ts = GetCurrentTimestamp();
			long		gap = notify_next_at > ts ? (long) ((notify_next_at - ts + 999) / 1000) : 1;

			/*
			 * Channels wait out the coalescing gap. Not watching the latch
			 * meanwhile lets the commits that set it pile up instead of
			 * waking us once each; it is looked at right after.
			 */
			(void) WaitLatch(NULL, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Min(timeout, gap),
							 PG_WAIT_EXTENSION);
		}
		else
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout,
							 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		worker_check_interrupts();
		if (ConfigReloadPending || slot->stop_requested || pg_atomic_read_u32(&slot->due_wake) != 0)
			return;
	}
}

void
ff_reconciler_main(Datum main_arg)
{
	int			idx = DatumGetInt32(main_arg);
	FFDbSlot   *slot;
	Oid			dboid;
	bool		paused;
	char	   *schema = NULL;
	MemoryContext loop_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/*
	 * A background worker ignores SIGHUP until the line above, and the
	 * postmaster may have forked it before reading a changed configuration:
	 * read the files now, so no reload can be missed.
	 */
	ProcessConfigFile(PGC_SIGHUP);

	if (ff_bgw == NULL || idx < 0 || idx >= ff_bgw->nslots)
		elog(FATAL, "flowfabric reconciler started without its shared memory slot");
	my_slot_index = idx;
	slot = MY_SLOT;
	before_shmem_exit(reconciler_exit_cb, Int32GetDatum(idx));

	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	dboid = slot->dboid;
	slot->pid = MyProcPid;
	slot->procno = MyProc->pgprocno;
	paused = slot->paused_until > GetCurrentTimestamp();
	LWLockRelease(ff_bgw->lock);

	if (paused)
		reconciler_exit(FF_EXIT_ASKED);
	if (!ff_reconcilers_enabled)
		reconciler_exit(FF_EXIT_DISABLED);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	/*
	 * We run as the bootstrap superuser, but the database's own settings
	 * (ALTER DATABASE ... SET search_path, which its owner may set) are in
	 * effect: an operator or function the owner put in a schema ahead of
	 * pg_catalog would run with our rights. Nothing but pg_catalog until the
	 * extension's schema is known.
	 */
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);

	if (!attach_extension(&schema))
		reconciler_exit(FF_EXIT_NO_EXTENSION);

	/* Unqualified names in next_due_sql resolve to the extension's tables. */
	SetConfigOption("search_path", psprintf("pg_catalog, %s", quote_identifier(schema)),
					PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("flowfabric reconciler");

	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	slot->state = FF_SLOT_RUNNING;
	slot->ever_ran = true;
	slot->started_at = GetCurrentTimestamp();
	LWLockRelease(ff_bgw->lock);
	/* From here on, transactions of this database may defer notifications to us. */
	pg_atomic_write_u32(&slot->notify_db, MyDatabaseId);

	ereport(LOG, (errmsg("flowfabric reconciler started for database \"%s\"", my_dbname)));

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "flowfabric reconciler loop",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		int64		wake = PG_INT64_MAX;
		int64		now;

		/*
		 * Until the next wake-up time is published below, every commit that
		 * writes a due time sets our latch (and due_wake): it may be
		 * invisible to the snapshots taken in this round.
		 */
		pg_atomic_write_u64(&slot->wake_at_ms, PG_UINT64_MAX);
		pg_atomic_write_u32(&slot->due_wake, 0);
		pg_memory_barrier();
		ResetLatch(MyLatch);
		worker_check_interrupts();
		MemoryContextSwitchTo(loop_cxt);
		MemoryContextReset(loop_cxt);

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!ff_reconcilers_enabled)
		{
			notify_drain();
			reconciler_exit(FF_EXIT_DISABLED);
		}
		if (slot->stop_requested)
		{
			notify_drain();
			reconciler_exit(FF_EXIT_ASKED);
		}

		send_notifications(false);
		for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
		{
			if (ff_now_ms() >= next_run_ms(i))
				run_reconciler(i);
			worker_check_interrupts();
			send_notifications(false);
		}
		compute_due_times();

		for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
			wake = Min(wake, next_run_ms(i));
		now = ff_now_ms();
		wake = Min(wake, now + FF_MAX_SLEEP_MS);
		pg_atomic_write_u64(&slot->wake_at_ms, (uint64) Max(wake, 1));
		pg_memory_barrier();

		worker_sleep(wake);
	}
}

/* ------------------------------------------------------------------------
 * The launcher
 * ------------------------------------------------------------------------
 */

typedef struct FFLauncherDb
{
	Oid			dboid;
	NameData	name;			/* as of the last scan */
	bool		present;		/* in the last scan of pg_database */
	bool		absent;			/* the last worker found no extension */
	bool		warned;			/* said that no worker could be started */
	int			failures;		/* consecutive failed workers */
	TimestampTz next_start;
	BackgroundWorkerHandle *handle;
} FFLauncherDb;

static List *launcher_dbs = NIL;
/* A worker failed: read pg_database again before restarting it (dropped?). */
static bool launcher_rescan = false;
/* A worker saw the reconcilers off: read the configuration before starting any. */
static bool launcher_reload_first = false;

static void
launcher_exit_cb(int code, Datum arg)
{
	LWLockReleaseAll();
	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	if (ff_bgw->launcher_pid == MyProcPid)
	{
		ff_bgw->launcher_pid = 0;
		ff_bgw->launcher_procno = -1;
	}
	LWLockRelease(ff_bgw->lock);
}

typedef struct FFScannedDb
{
	Oid			dboid;
	NameData	name;
} FFScannedDb;

/* scan_databases lists the databases a reconciler may run in (FFScannedDb). */
static List *
scan_databases(MemoryContext result_cxt)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	pgstat_report_activity(STATE_RUNNING, "flowfabric: scanning pg_database");
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		FFScannedDb *found;
		MemoryContext old;

		/* Templates stay free of connections so CREATE DATABASE can copy them. */
		if (!db->datallowconn || db->datistemplate || database_is_invalid_form(db))
			continue;
		old = MemoryContextSwitchTo(result_cxt);
		found = palloc(sizeof(FFScannedDb));
		found->dboid = db->oid;
		found->name = db->datname;
		dbs = lappend(dbs, found);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(result_cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	return dbs;
}

static FFLauncherDb *
launcher_db(Oid dboid, TimestampTz now)
{
	ListCell   *lc;
	FFLauncherDb *db;

	foreach(lc, launcher_dbs)
	{
		db = lfirst(lc);
		if (db->dboid == dboid)
			return db;
	}
	db = MemoryContextAllocZero(TopMemoryContext, sizeof(FFLauncherDb));
	db->dboid = dboid;
	db->next_start = now;
	launcher_dbs = lappend(launcher_dbs, db);
	return db;
}

static void
launcher_scan(TimestampTz now, bool probe, MemoryContext cxt)
{
	List	   *scanned = scan_databases(cxt);
	List	   *oids = NIL;
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	foreach(lc, launcher_dbs)
		((FFLauncherDb *) lfirst(lc))->present = false;
	foreach(lc, scanned)
	{
		FFScannedDb *found = lfirst(lc);
		FFLauncherDb *db = launcher_db(found->dboid, now);

		db->present = true;
		db->name = found->name;
		oids = lappend_oid(oids, found->dboid);
	}
	/* Adopt the slots of workers a previous launcher started. */
	LWLockAcquire(ff_bgw->lock, LW_SHARED);
	for (int i = 0; i < ff_bgw->nslots; i++)
	{
		FFDbSlot   *s = &ff_bgw->slots[i];

		if (s->state != FF_SLOT_FREE)
			launcher_db(s->dboid, now)->present = list_member_oid(oids, s->dboid);
	}
	LWLockRelease(ff_bgw->lock);
	list_free(oids);
	foreach(lc, launcher_dbs)
	{
		FFLauncherDb *db = lfirst(lc);

		/* absent databases are tried again once per interval, or on request */
		if (db->absent && (probe || now >= db->next_start))
		{
			db->absent = false;
			db->next_start = now;
		}
	}
	MemoryContextSwitchTo(old);
}

static long
ms_until(TimestampTz t, TimestampTz now)
{
	return t <= now ? 0 : (long) ((t - now + 999) / 1000);
}

static void
start_worker(FFLauncherDb *db, TimestampTz now)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	int			idx;
	MemoryContext old;

	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	idx = claim_slot(db->dboid);
	if (idx >= 0)
	{
		FFDbSlot   *s = &ff_bgw->slots[idx];

		s->state = FF_SLOT_STARTING;
		s->exit_reason = FF_EXIT_NONE;
		s->stop_requested = false;
		s->pid = 0;
		s->procno = -1;
		s->started_at = now;
	}
	LWLockRelease(ff_bgw->lock);

	if (idx >= 0)
	{
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		strlcpy(worker.bgw_library_name, "flowfabric", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "ff_reconciler_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "flowfabric reconciler for database %s", NameStr(db->name));
		strlcpy(worker.bgw_type, "flowfabric reconciler", BGW_MAXLEN);
		worker.bgw_main_arg = Int32GetDatum(idx);
		worker.bgw_notify_pid = MyProcPid;
		old = MemoryContextSwitchTo(TopMemoryContext);
		if (RegisterDynamicBackgroundWorker(&worker, &handle))
		{
			MemoryContextSwitchTo(old);
			db->handle = handle;
			return;
		}
		MemoryContextSwitchTo(old);
		LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
		ff_bgw->slots[idx].state = ff_bgw->slots[idx].ever_ran ? FF_SLOT_IDLE : FF_SLOT_FREE;
		if (ff_bgw->slots[idx].state == FF_SLOT_FREE)
			free_slot(&ff_bgw->slots[idx]);
		LWLockRelease(ff_bgw->lock);
	}
	if (!db->warned)
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("flowfabric launcher: could not start a reconciler for database \"%s\"",
						NameStr(db->name)),
				 errhint("Raise max_worker_processes (each database with the extension needs one background worker, the launcher one more).")));
	db->warned = true;
	db->next_start = TimestampTzPlusMilliseconds(now, ff_launcher_interval_ms);
}

/*
 * launcher_update reads what the workers reported, starts the workers that
 * are due and returns how long the launcher may sleep, in ms.
 */
static long
launcher_update(TimestampTz now, bool enabled)
{
	long		timeout = ff_launcher_interval_ms;
	List	   *gone = NIL;
	ListCell   *lc;

	foreach(lc, launcher_dbs)
	{
		FFLauncherDb *db = lfirst(lc);
		FFDbSlot   *slot;
		int			idx;
		bool		active = false;
		TimestampTz paused_until = 0;
		int			stop_procno = -1;

		LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
		idx = find_slot(db->dboid);
		slot = idx >= 0 ? &ff_bgw->slots[idx] : NULL;
		if (slot != NULL && slot->state == FF_SLOT_STARTING)
		{
			pid_t		pid;

			if ((db->handle != NULL && GetBackgroundWorkerPid(db->handle, &pid) == BGWH_STOPPED) ||
				(db->handle == NULL &&
				 TimestampDifferenceExceeds(slot->started_at, now, FF_START_TIMEOUT_MS)))
			{
				slot->state = FF_SLOT_STOPPED;
				slot->exit_reason = FF_EXIT_FAILED;
			}
		}
		if (slot != NULL && slot->state == FF_SLOT_RUNNING)
		{
			db->failures = 0;
			db->warned = false;
			if (!db->present)
			{
				slot->stop_requested = true;
				stop_procno = slot->procno;
			}
		}
		if (slot != NULL && slot->state == FF_SLOT_STOPPED)
		{
			switch (slot->exit_reason)
			{
				case FF_EXIT_NO_EXTENSION:
					db->absent = true;
					db->next_start = TimestampTzPlusMilliseconds(now, ff_launcher_interval_ms);
					break;
				case FF_EXIT_FAILED:
					launcher_rescan = true;
					db->failures++;
					db->next_start = TimestampTzPlusMilliseconds(now,
																 Min(60000, 1000L << Min(db->failures - 1, 6)));
					break;
				case FF_EXIT_DISABLED:
					/*
					 * The worker read flowfabric.reconcilers = off from a
					 * file this launcher may have read before it changed:
					 * read it again before starting anything.
					 */
					launcher_reload_first = true;
					db->next_start = now;
					break;
				default:
					db->next_start = now;
					break;
			}
			slot->state = FF_SLOT_IDLE;
			slot->exit_reason = FF_EXIT_NONE;
			if (db->absent || !slot->ever_ran)
			{
				paused_until = slot->paused_until;
				free_slot(slot);
				/* keep a pause that is still on */
				if (paused_until > now)
				{
					slot->dboid = db->dboid;
					slot->state = FF_SLOT_IDLE;
					slot->paused_until = paused_until;
				}
				else
					slot = NULL;
			}
			if (db->handle != NULL)
			{
				pfree(db->handle);
				db->handle = NULL;
			}
		}
		if (slot != NULL)
		{
			active = slot->state == FF_SLOT_STARTING || slot->state == FF_SLOT_RUNNING;
			paused_until = slot->paused_until;
			/* a pause only matters while the database exists */
			if (!db->present && !active)
			{
				free_slot(slot);
				slot = NULL;
			}
		}
		LWLockRelease(ff_bgw->lock);

		set_latch_of(stop_procno);
		if (!db->present)
		{
			if (!active)
				gone = lappend(gone, db);
			continue;
		}
		if (!enabled || active || launcher_reload_first)
			continue;
		if (paused_until > now)
			timeout = Min(timeout, ms_until(paused_until, now));
		else if (db->next_start <= now)
			start_worker(db, now);
		else
			timeout = Min(timeout, ms_until(db->next_start, now));
	}
	foreach(lc, gone)
	{
		FFLauncherDb *db = lfirst(lc);

		launcher_dbs = list_delete_ptr(launcher_dbs, db);
		if (db->handle != NULL)
			pfree(db->handle);
		pfree(db);
	}
	list_free(gone);
	return timeout;
}

void
ff_launcher_main(Datum main_arg)
{
	TimestampTz next_scan = 0;
	MemoryContext loop_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	ProcessConfigFile(PGC_SIGHUP);	/* see ff_reconciler_main */

	if (ff_bgw == NULL)
		elog(FATAL, "flowfabric launcher started without its shared memory");
	before_shmem_exit(launcher_exit_cb, (Datum) 0);
	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	ff_bgw->launcher_pid = MyProcPid;
	ff_bgw->launcher_procno = MyProc->pgprocno;
	LWLockRelease(ff_bgw->lock);

	/* No database: the launcher reads only the shared catalog pg_database. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("flowfabric launcher");
	ereport(LOG, (errmsg("flowfabric launcher started")));

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "flowfabric launcher loop",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		long		timeout;
		bool		probe;
		bool		enabled;

		ResetLatch(MyLatch);
		QueryCancelPending = false;
		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(loop_cxt);
		MemoryContextReset(loop_cxt);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
		probe = ff_bgw->probe_requested;
		ff_bgw->probe_requested = false;
		LWLockRelease(ff_bgw->lock);

		now = GetCurrentTimestamp();
		/* Workers see flowfabric.reconcilers = off themselves and exit. */
		enabled = ff_reconcilers_enabled && !RecoveryInProgress();
		if (enabled && (probe || launcher_rescan || now >= next_scan))
		{
			launcher_rescan = false;
			launcher_scan(now, probe, loop_cxt);
			next_scan = TimestampTzPlusMilliseconds(now, ff_launcher_interval_ms);
		}
		timeout = launcher_update(now, enabled);
		if (enabled)
			timeout = Min(timeout, ms_until(next_scan, now));
		if (launcher_reload_first)
		{
			ConfigReloadPending = true;
			launcher_reload_first = false;
			timeout = 0;
		}
		if (timeout > 0)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 timeout, PG_WAIT_EXTENSION);
	}
}

/* ------------------------------------------------------------------------
 * Commands that need the database to themselves; wake-ups at commit
 * ------------------------------------------------------------------------
 */

/*
 * pause_database stops the reconciler of a database and keeps the launcher
 * from starting another one for FF_PAUSE_MS (or until unpause_database),
 * waiting up to FF_STOP_WAIT_MS for the worker to exit.
 */
static bool
pause_database(Oid dboid)
{
	TimestampTz start = GetCurrentTimestamp();
	FFDbSlot   *slot;
	int			idx;
	int			procno = -1;
	bool		signalled = false;

	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	/* With the reconcilers off no worker can start: only stop a running one. */
	idx = ff_reconcilers_enabled ? claim_slot(dboid) : find_slot(dboid);
	if (idx >= 0)
	{
		slot = &ff_bgw->slots[idx];
		slot->paused_until = TimestampTzPlusMilliseconds(start, FF_PAUSE_MS);
		slot->stop_requested = true;
		procno = slot->procno;
	}
	LWLockRelease(ff_bgw->lock);
	if (idx < 0)
		return false;
	slot = &ff_bgw->slots[idx];
	set_latch_of(procno);

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		bool		busy;
		pid_t		pid;

		LWLockAcquire(ff_bgw->lock, LW_SHARED);
		busy = slot->dboid == dboid &&
			(slot->state == FF_SLOT_STARTING || slot->state == FF_SLOT_RUNNING);
		pid = slot->pid;
		LWLockRelease(ff_bgw->lock);
		if (!busy || TimestampDifferenceExceeds(start, now, FF_STOP_WAIT_MS))
			break;
		/* A worker stuck in a long batch gets SIGTERM. */
		if (pid != 0 && !signalled && TimestampDifferenceExceeds(start, now, FF_STOP_SIGTERM_MS))
		{
			(void) kill(pid, SIGTERM);
			signalled = true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

static void
unpause_database(Oid dboid)
{
	int			idx;

	LWLockAcquire(ff_bgw->lock, LW_EXCLUSIVE);
	idx = find_slot(dboid);
	if (idx >= 0)
		ff_bgw->slots[idx].paused_until = 0;
	LWLockRelease(ff_bgw->lock);
	wake_launcher(true);
}

static void
register_xact_callback(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(ff_bgw_xact_callback, NULL);
		xact_callback_registered = true;
	}
}

static bool
names_flowfabric(List *names)
{
	ListCell   *lc;

	foreach(lc, names)
		if (IsA(lfirst(lc), String) && strcmp(strVal(lfirst(lc)), "flowfabric") == 0)
			return true;
	return false;
}

/* The database a command needs without other connections, or InvalidOid. */
static Oid
database_needing_exclusivity(Node *stmt, bool *is_drop)
{
	const char *name = NULL;
	ListCell   *lc;

	*is_drop = false;
	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			name = ((DropdbStmt *) stmt)->dbname;
			*is_drop = true;
			break;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) stmt)->options)
			{
				DefElem    *opt = lfirst(lc);

				if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
					name = defGetString(opt);
			}
			break;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
			{
				DefElem    *opt = lfirst(lc);

				if (strcmp(opt->defname, "tablespace") == 0)
					name = ((AlterDatabaseStmt *) stmt)->dbname;
			}
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				name = ((RenameStmt *) stmt)->subname;
			break;
		default:
			break;
	}
	if (name == NULL)
		return InvalidOid;
	return get_database_oid(name, true);
}

/*
 * run_utility runs the command; if it fails, a database paused for it is
 * released at once.
 */
static void
run_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			ProcessUtilityContext context, ParamListInfo params,
			QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc,
			Oid paused_db)
{
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_CATCH();
	{
		if (OidIsValid(paused_db))
			unpause_database(paused_db);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static void
ff_bgw_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					   ProcessUtilityContext context, ParamListInfo params,
					   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	bool		is_drop;
	Oid			dboid = database_needing_exclusivity(stmt, &is_drop);
	Oid			paused_db = InvalidOid;

	/* Only for those allowed to run the command; the command checks again. */
	if (OidIsValid(dboid) && ff_bgw != NULL && pg_database_ownercheck(dboid, GetUserId()) &&
		pause_database(dboid))
		paused_db = dboid;

	run_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc,
				paused_db);

	/* A dropped database stays paused until the launcher forgets it. */
	if (OidIsValid(paused_db) && !is_drop)
		unpause_database(paused_db);

	if (ff_bgw == NULL)
		return;
	if ((IsA(stmt, CreateExtensionStmt) &&
		 strcmp(((CreateExtensionStmt *) stmt)->extname, "flowfabric") == 0) ||
		IsA(stmt, CreatedbStmt) || IsA(stmt, DropdbStmt))
	{
		pending_probe = true;
		register_xact_callback();
	}
	else if (IsA(stmt, DropStmt) && ((DropStmt *) stmt)->removeType == OBJECT_EXTENSION &&
			 names_flowfabric(((DropStmt *) stmt)->objects))
	{
		pending_worker_wake = true;
		register_xact_callback();
	}
}

/*
 * At commit, wake this database's reconciler if the transaction wrote a due
 * time earlier than its planned wake-up (or dropped the extension), and the
 * launcher if it created the extension or a database.
 */
static void
ff_bgw_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (ff_bgw != NULL && (pending_due_ms != PG_INT64_MAX || pending_worker_wake))
			{
				uint64		due = (uint64) Max(pending_due_ms, 0);

				for (int i = 0; i < ff_bgw->nslots; i++)
				{
					FFDbSlot   *s = &ff_bgw->slots[i];
					volatile int procno = s->procno;

					/* Unlocked reads: a stale value costs a spurious or a late wake-up. */
					if (s->dboid != MyDatabaseId || procno < 0)
						continue;
					/* due_wake: the worker's own commits are covered by its next round */
					if ((pending_worker_wake || due < pg_atomic_read_u64(&s->wake_at_ms)) &&
						procno != MyProc->pgprocno)
					{
						pg_atomic_write_u32(&s->due_wake, 1);
						set_latch_of(procno);
					}
				}
			}
			if (pending_probe)
				wake_launcher(true);
			/* FALLTHROUGH */
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			pending_due_ms = PG_INT64_MAX;
			pending_worker_wake = false;
			pending_probe = false;
			break;
		default:
			break;
	}
}

/*
 * ff_reconciler_wake is a BEFORE ROW trigger on the tables holding due
 * times; its arguments name the bigint columns to watch. It remembers the
 * earliest due time the transaction writes; at commit the reconciler of the
 * database is woken if that is earlier than its planned wake-up.
 */
PG_FUNCTION_INFO_V1(ff_reconciler_wake);
Datum
ff_reconciler_wake(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ff_reconciler_wake must be a BEFORE INSERT OR UPDATE row trigger")));
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);

	if (ff_bgw != NULL)
	{
		int64		due = PG_INT64_MAX;

		for (int i = 0; i < td->tg_trigger->tgnargs; i++)
		{
			int			attnum = SPI_fnumber(desc, td->tg_trigger->tgargs[i]);
			bool		isnull;
			Datum		d;

			if (attnum <= 0 || TupleDescAttr(desc, attnum - 1)->atttypid != INT8OID)
				ereport(ERROR,
						(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						 errmsg("ff_reconciler_wake: \"%s\" is not a bigint column of \"%s\"",
								td->tg_trigger->tgargs[i], RelationGetRelationName(td->tg_relation))));
			d = heap_getattr(tuple, attnum, desc, &isnull);
			if (!isnull)
				due = Min(due, DatumGetInt64(d));
		}
		ff_bgw_note_due(due);
	}
	return PointerGetDatum(tuple);
}

/*
 * ff_bgw_note_due remembers a due time (engine-clock ms) this transaction
 * writes; at commit the database's reconciler is woken if it is earlier than
 * the reconciler's planned wake-up. The engine's execution and attempt writes
 * call it directly (exec.c, attempt.c); other tables use the trigger above.
 */
void
ff_bgw_note_due(int64 due_ms)
{
	if (ff_bgw != NULL && due_ms < pending_due_ms)
	{
		pending_due_ms = due_ms;
		register_xact_callback();
	}
}

/* ------------------------------------------------------------------------
 * Deferred notifications: the committing side (notify.c)
 * ------------------------------------------------------------------------
 */

/*
 * ff_bgw_notify_worker_slot returns the slot of a reconciler worker taking
 * deferred notifications for this database, -1 if none. Unlocked: notify_db
 * is one atomic word, set by the worker while it runs.
 */
int
ff_bgw_notify_worker_slot(void)
{
	if (ff_bgw == NULL || !OidIsValid(MyDatabaseId))
		return -1;
	for (int i = 0; i < ff_bgw->nslots; i++)
		if (pg_atomic_read_u32(&ff_bgw->slots[i].notify_db) == MyDatabaseId)
			return i;
	return -1;
}

/*
 * ff_bgw_notify_begin takes a ticket on the slot of this database's worker
 * and returns the slot, or -1 if no worker takes deferred notifications (any
 * more). The fetch-add is a full barrier: either notify_drain sees the
 * ticket and waits for ff_bgw_notify_post, or we see notify_db cleared.
 */
int
ff_bgw_notify_begin(void)
{
	int			idx = ff_bgw_notify_worker_slot();
	FFDbSlot   *s;

	if (idx < 0)
		return -1;
	s = &ff_bgw->slots[idx];
	pg_atomic_fetch_add_u32(&s->notify_inflight, 1);
	if (pg_atomic_read_u32(&s->notify_db) == MyDatabaseId)
		return idx;
	pg_atomic_fetch_sub_u32(&s->notify_inflight, 1);
	return -1;
}

/*
 * ff_bgw_notify_post adds the channels of a committed transaction (none
 * after an abort) to the slot, returns the ticket and wakes the worker.
 */
void
ff_bgw_notify_post(int slot_index, uint32 channels)
{
	FFDbSlot   *s = &ff_bgw->slots[slot_index];

	if (channels != 0)
		pg_atomic_fetch_or_u32(&s->notify_pending, channels);
	pg_atomic_fetch_sub_u32(&s->notify_inflight, 1);
	if (channels != 0)
	{
		volatile int procno = s->procno;

		set_latch_of(procno);
	}
}

/* ------------------------------------------------------------------------
 * Status
 * ------------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(ff_reconciler_stats);
Datum
ff_reconciler_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FFDbSlot   *copy;
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (ff_bgw == NULL)
		return (Datum) 0;

	copy = palloc(sizeof(FFDbSlot) * ff_bgw->nslots);
	LWLockAcquire(ff_bgw->lock, LW_SHARED);
	for (int i = 0; i < ff_bgw->nslots; i++)
		if (ff_bgw->slots[i].state != FF_SLOT_FREE && ff_bgw->slots[i].ever_ran)
			memcpy(&copy[n++], &ff_bgw->slots[i], sizeof(FFDbSlot));
	LWLockRelease(ff_bgw->lock);

	for (int s = 0; s < n; s++)
	{
		char	   *datname = get_database_name(copy[s].dboid);
		NameData	dbname;

		if (datname == NULL)
			continue;
		namestrcpy(&dbname, datname);
		for (int i = 0; i < (int) FF_NUM_RECONCILERS; i++)
		{
			FFRunStats *st = &copy[s].stats[i];
			Datum		values[12];
			bool		nulls[12];

			memset(nulls, 0, sizeof(nulls));
			values[0] = NameGetDatum(&dbname);
			values[1] = CStringGetTextDatum(ff_reconcilers[i].name);
			values[2] = Int32GetDatum(copy[s].pid);
			nulls[2] = copy[s].state != FF_SLOT_RUNNING || copy[s].pid == 0;
			values[3] = Int32GetDatum(ff_reconciler_interval_ms[i]);
			values[4] = Int64GetDatum(st->runs);
			values[5] = Int64GetDatum(st->rows_total);
			values[6] = Int64GetDatum(st->errors);
			values[7] = TimestampTzGetDatum(st->last_run_at);
			nulls[7] = st->last_run_at == 0;
			values[8] = Float8GetDatum(st->last_duration_us / 1000.0);
			nulls[8] = st->last_run_at == 0;
			values[9] = Int64GetDatum(st->last_rows);
			nulls[9] = st->last_run_at == 0;
			values[10] = CStringGetTextDatum(st->last_error);
			nulls[10] = st->last_error_at == 0;
			values[11] = TimestampTzGetDatum(st->last_error_at);
			nulls[11] = st->last_error_at == 0;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
