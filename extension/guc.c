/*
 * guc.c
 *		Module load, flowfabric.* settings and the engine clock.
 */
#include "postgres.h"

#include <limits.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "flowfabric.h"
#include "bgworker.h"
#include "retention.h"
#include "stream.h"

PG_MODULE_MAGIC;

/*
 * Shifts the engine clock, so tests can exercise leases, delays and timeouts
 * without sleeping. Superuser-only: it moves every lease in the database.
 */
int			ff_clock_offset_ms = 0;

/*
 * How outbox events are announced (notify.c). The synonyms keep the setting's
 * boolean spellings from before it had three values: on means deferred.
 */
int			ff_notify_mode = FF_NOTIFY_DEFERRED;

static const struct config_enum_entry ff_notify_options[] = {
	{"deferred", FF_NOTIFY_DEFERRED, false},
	{"immediate", FF_NOTIFY_IMMEDIATE, false},
	{"off", FF_NOTIFY_OFF, false},
	{"on", FF_NOTIFY_DEFERRED, true},
	{"true", FF_NOTIFY_DEFERRED, true},
	{"yes", FF_NOTIFY_DEFERRED, true},
	{"1", FF_NOTIFY_DEFERRED, true},
	{"false", FF_NOTIFY_OFF, true},
	{"no", FF_NOTIFY_OFF, true},
	{"0", FF_NOTIFY_OFF, true},
	{NULL, 0, false}
};

/*
 * ff_claim and ff_complete_many write their plain rows with one set-based
 * statement (claim.c, batch_fast.c); off sends every row through the per-row
 * code, which writes the same rows more slowly (for diagnosis).
 */
bool		ff_set_based_batches = true;

/* Upper bound for input payloads, results and failure details. */
int			ff_max_payload_bytes = 16 * 1024 * 1024;

/* How long a terminal execution keeps its stream frames (stream retention). */
int			ff_stream_retention_ms = 24 * 3600 * 1000;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("flowfabric.clock_offset_ms",
							"Shifts the engine clock by this many milliseconds (testing only).",
							NULL,
							&ff_clock_offset_ms,
							0, INT_MIN, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS | GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("flowfabric.set_based_batches",
							 "Claims and batch completions write plain rows with one set-based statement.",
							 "off: every row goes through the per-row code, which writes the same rows "
							 "more slowly (for diagnosis).",
							 &ff_set_based_batches,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("flowfabric.notify",
							 "How outbox events are announced with NOTIFY: deferred, immediate or off.",
							 "deferred: the database's reconciler worker sends one NOTIFY per channel "
							 "shortly after commit (payload \"deferred\"), or the transaction itself "
							 "if no worker runs; immediate: every event in its transaction, with the "
							 "event id as payload; off: none.",
							 &ff_notify_mode,
							 FF_NOTIFY_DEFERRED,
							 ff_notify_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("flowfabric.max_payload_bytes",
							"Largest input payload, result or failure detail accepted, in bytes.",
							NULL,
							&ff_max_payload_bytes,
							16 * 1024 * 1024, 0, MaxAllocSize,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("flowfabric.stream_retention_ms",
							"How long frames of a terminal execution's streams are kept.",
							"ff_reconcile_stream_retention removes them once the execution has "
							"been terminal this long; 0 removes them at its next run.",
							&ff_stream_retention_ms,
							24 * 3600 * 1000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* flowfabric.retention_ms, flowfabric.event_retention_ms (retention.c) */
	ff_retention_init();

	/* Reconciler settings; with shared_preload_libraries, the background workers. */
	ff_bgworker_init();

	MarkGUCPrefixReserved("flowfabric");
}

/*
 * ff_now_ms returns the engine's "now": the server's wall clock (not the
 * transaction start time) in Unix epoch milliseconds.
 */
int64
ff_now_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();

	return now / 1000
		+ (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000
		+ ff_clock_offset_ms;
}

PG_FUNCTION_INFO_V1(ff_server_time_ms_sql);
Datum
ff_server_time_ms_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ff_now_ms());
}

/*
 * ff_capabilities reports what this engine implements, in upstream's
 * Capabilities shape: a flag is true only when the operation is callable.
 */
PG_FUNCTION_INFO_V1(ff_capabilities);
Datum
ff_capabilities(PG_FUNCTION_ARGS)
{
	static const char *const unsupported[] = {
		"subscribe_instance_tags",
	};
	static const char *const supported[] = {
		"read_execution_state", "read_execution_info", "get_execution_result", "prepare",
		"subscribe_lease_history", "subscribe_completion",
		"rotate_waitpoint_hmac_secret_all", "seed_waitpoint_hmac_secret",
		"list_pending_waitpoints", "subscribe_signal_delivery",
		"cancel_flow_header", "cancel_flow_wait_timeout", "cancel_flow_wait_indefinite",
		"ack_cancel_member",
		"stream_durable_summary", "stream_best_effort_live",	/* docs/streams.md */
		/* scheduler, operator controls, worker registry (docs/operator.md) */
		"claim_for_worker", "issue_reclaim_grant", "cancel_execution", "change_priority",
		"replay_execution", "revoke_lease", "register_worker", "heartbeat_worker",
		"mark_worker_dead", "list_expired_leases", "list_workers",
		/* budgets, quotas and admission control (docs/budgets.md) */
		"budget_admin", "quota_admin", "release_admission", "read_quota_policy_limits",
		"block_execution_for_admission", "read_budget_usage_and_limits",
	};
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"identity\": {\"family\": \"postgres\", "
						   "\"implementation\": \"flowfabric-extension\", "
						   "\"version\": {\"major\": 0, \"minor\": 1, \"patch\": 0}, "
						   "\"rfc017_stage\": \"E-shipped\"}, \"supports\": {");
	for (size_t i = 0; i < lengthof(supported); i++)
		appendStringInfo(&buf, "%s\"%s\": true", i ? ", " : "", supported[i]);
	for (size_t i = 0; i < lengthof(unsupported); i++)
		appendStringInfo(&buf, ", \"%s\": false", unsupported[i]);
	appendStringInfoString(&buf, "}}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
