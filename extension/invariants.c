/*
 * invariants.c
 *		ff_check_invariants(): every violation of the engine's data invariants,
 *		one row each (invariant, object_id, detail); no row means all hold.
 *
 * Each check is one read-only query, so it sees one consistent snapshot;
 * checks run one after the other, each on its own snapshot under READ
 * COMMITTED (use REPEATABLE READ, or a quiet engine, to make them all see
 * the same moment). The checks:
 *
 *	state vector      every dimension in its alphabet, public_state derived,
 *					  ownership only while active, eligibility not_applicable
 *					  exactly outside runnable, the attempt state an active
 *					  execution's ownership implies, terminal time set, a
 *					  delay time for delayed executions
 *	leases			  at most one live lease (lease_expires_at_ms set) per
 *					  execution, only on the current attempt of an active +
 *					  leased execution, and such an execution holds one with
 *					  its current epoch
 *	attempts		  total_attempt_count = attempt rows, the current attempt
 *					  is the last one, lease_epoch = highest attempt epoch, a
 *					  started attempt holds its lease, ended attempts carry
 *					  ended_at_ms, earlier attempts and those of terminal
 *					  executions are over
 *	outboxes		  every execution has one completion event per time it
 *					  became terminal (1 + replays when terminal, replays
 *					  otherwise), the latest of its outcome; no event of an
 *					  unknown execution; no lease event from the future epoch
 *	suspensions		  suspended exactly while one suspension is open, of the
 *					  current attempt, which is parked; waitpoints consistent
 *					  with their suspension and execution
 *	flows			  members belong to an existing flow whose node_count
 *					  counts them; an execution blocked by dependencies has a
 *					  pending edge group, whose counters match its edges (edge
 *					  resolution itself may lag behind a terminal upstream
 *					  until ff_reconcile_dependencies runs: not checked)
 *	budgets			  each budget's usage per dimension equals its ledger of the
 *					  current reset epoch; each quota's active_concurrency
 *					  equals the slots held; executions a budget or quota of
 *					  their policy blocks are recorded as held back by it, and
 *					  only live executions are; claim slots belong to active
 *					  executions
 *	streams			  an ended attempt's stream is closed
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "flowfabric.h"

typedef struct FFInvariantCheck
{
	const char *name;
	const char *sql;			/* returns (object_id text, detail text) */
} FFInvariantCheck;

#define EXEC_ID(alias) "ff_format_execution_id(" alias ".partition_key, " alias ".execution_id)"

static const FFInvariantCheck checks[] = {
	/* --- state vector ---------------------------------------------------- */
	{"state_vector_valid",
		"SELECT " EXEC_ID("e") ", format('%s/%s/%s/%s/%s/%s public_state %s', e.lifecycle_phase, "
		"e.ownership_state, e.eligibility_state, e.blocking_reason, e.terminal_outcome, "
		"e.attempt_state, e.public_state) FROM ff_execution e "
		"WHERE NOT ff_state_vector_valid(e.lifecycle_phase, e.ownership_state, e.eligibility_state, "
		"e.blocking_reason, e.terminal_outcome, e.attempt_state, e.public_state)"},
	{"ownership_only_while_active",
		"SELECT " EXEC_ID("e") ", format('lifecycle_phase %s with ownership_state %s', "
		"e.lifecycle_phase, e.ownership_state) FROM ff_execution e "
		"WHERE (e.lifecycle_phase = 'active') <> (e.ownership_state <> 'unowned')"},
	{"eligibility_only_while_runnable",
		"SELECT " EXEC_ID("e") ", format('lifecycle_phase %s with eligibility_state %s', "
		"e.lifecycle_phase, e.eligibility_state) FROM ff_execution e "
		"WHERE (e.lifecycle_phase IN ('active', 'suspended', 'terminal')) "
		"<> (e.eligibility_state = 'not_applicable')"},
	{"active_attempt_state",
		"SELECT " EXEC_ID("e") ", format('active, ownership_state %s, attempt_state %s', "
		"e.ownership_state, e.attempt_state) FROM ff_execution e "
		"WHERE e.lifecycle_phase = 'active' AND e.attempt_state <> CASE e.ownership_state "
		"WHEN 'leased' THEN 'running_attempt' ELSE 'attempt_interrupted' END"},
	{"terminal_time_set",
		"SELECT " EXEC_ID("e") ", 'terminal execution without terminal_at_ms' FROM ff_execution e "
		"WHERE e.lifecycle_phase = 'terminal' AND e.terminal_at_ms IS NULL"},
	{"delay_time_set",
		"SELECT " EXEC_ID("e") ", 'not_eligible_until_time without delay_until_ms' FROM ff_execution e "
		"WHERE e.eligibility_state = 'not_eligible_until_time' AND e.delay_until_ms IS NULL"},

	/* --- leases ------------------------------------------------------------ */
	{"one_live_lease",
		"SELECT " EXEC_ID("a") ", format('%s attempts hold a lease: %s', count(*), "
		"string_agg(a.attempt_index::text, ', ' ORDER BY a.attempt_index)) FROM ff_attempt a "
		"WHERE a.lease_expires_at_ms IS NOT NULL GROUP BY a.partition_key, a.execution_id "
		"HAVING count(*) > 1"},
	{"lease_on_current_attempt",
		"SELECT " EXEC_ID("a") ", format('attempt %s holds lease epoch %s but the execution is "
		"%s/%s at attempt %s', a.attempt_index, a.lease_epoch, e.lifecycle_phase, e.ownership_state, "
		"e.attempt_index) FROM ff_attempt a JOIN ff_execution e USING (partition_key, execution_id) "
		"WHERE a.lease_expires_at_ms IS NOT NULL AND NOT (e.lifecycle_phase = 'active' "
		"AND e.ownership_state = 'leased' AND e.attempt_index = a.attempt_index)"},
	{"leased_holds_lease",
		"SELECT " EXEC_ID("e") ", format('active + leased, but attempt %s holds no lease of epoch %s', "
		"e.attempt_index, e.lease_epoch) FROM ff_execution e "
		"WHERE e.lifecycle_phase = 'active' AND e.ownership_state = 'leased' AND NOT EXISTS "
		"(SELECT 1 FROM ff_attempt a WHERE a.partition_key = e.partition_key "
		"AND a.execution_id = e.execution_id AND a.attempt_index = e.attempt_index "
		"AND a.lease_expires_at_ms IS NOT NULL AND a.lease_epoch = e.lease_epoch)"},

	/* --- attempts ---------------------------------------------------------- */
	{"attempt_count",
		"SELECT " EXEC_ID("e") ", format('total_attempt_count %s, %s attempt rows', "
		"e.total_attempt_count, coalesce(a.n, 0)) FROM ff_execution e LEFT JOIN "
		"(SELECT partition_key, execution_id, count(*) AS n FROM ff_attempt GROUP BY 1, 2) a "
		"USING (partition_key, execution_id) WHERE e.total_attempt_count <> coalesce(a.n, 0)"},
	{"current_attempt",
		"SELECT " EXEC_ID("e") ", format('attempt_index %s, total_attempt_count %s, current "
		"attempt row %s', e.attempt_index, e.total_attempt_count, "
		"CASE WHEN a.attempt_index IS NULL THEN 'missing' ELSE 'present' END) "
		"FROM ff_execution e LEFT JOIN ff_attempt a ON a.partition_key = e.partition_key "
		"AND a.execution_id = e.execution_id AND a.attempt_index = e.attempt_index "
		"WHERE e.attempt_index <> greatest(e.total_attempt_count - 1, 0) "
		"OR (e.total_attempt_count > 0 AND a.attempt_index IS NULL)"},
	{"lease_epoch",
		"SELECT " EXEC_ID("e") ", format('lease_epoch %s, highest attempt epoch %s', "
		"e.lease_epoch, coalesce(a.epoch, 0)) FROM ff_execution e LEFT JOIN "
		"(SELECT partition_key, execution_id, max(lease_epoch) AS epoch FROM ff_attempt "
		"GROUP BY 1, 2) a USING (partition_key, execution_id) "
		"WHERE e.lease_epoch <> coalesce(a.epoch, 0)"},
	{"started_attempt_holds_lease",
		"SELECT " EXEC_ID("a") ", format('attempt %s is %s, lease_expires_at_ms %s', "
		"a.attempt_index, a.attempt_lifecycle, coalesce(a.lease_expires_at_ms::text, 'NULL')) "
		"FROM ff_attempt a WHERE (a.attempt_lifecycle = 'started') <> (a.lease_expires_at_ms IS NOT NULL)"},
	{"ended_attempt_time",
		"SELECT " EXEC_ID("a") ", format('attempt %s is %s, ended_at_ms %s', a.attempt_index, "
		"a.attempt_lifecycle, coalesce(a.ended_at_ms::text, 'NULL')) FROM ff_attempt a "
		"WHERE (a.attempt_lifecycle LIKE 'ended\\_%' OR a.attempt_lifecycle = 'interrupted_reclaimed') "
		"<> (a.ended_at_ms IS NOT NULL)"},
	{"attempt_execution",
		"SELECT " EXEC_ID("a") ", format('attempt %s has no execution', a.attempt_index) "
		"FROM ff_attempt a WHERE NOT EXISTS (SELECT 1 FROM ff_execution e "
		"WHERE e.partition_key = a.partition_key AND e.execution_id = a.execution_id)"},
	{"earlier_attempt_over",
		"SELECT " EXEC_ID("a") ", format('attempt %s is %s but the current attempt is %s', "
		"a.attempt_index, a.attempt_lifecycle, e.attempt_index) FROM ff_attempt a "
		"JOIN ff_execution e USING (partition_key, execution_id) "
		"WHERE a.attempt_index < e.attempt_index AND a.attempt_lifecycle NOT LIKE 'ended\\_%' "
		"AND a.attempt_lifecycle <> 'interrupted_reclaimed'"},
	{"terminal_attempt_over",
		"SELECT " EXEC_ID("e") ", format('terminal (%s) but attempt %s is %s', e.terminal_outcome, "
		"a.attempt_index, a.attempt_lifecycle) FROM ff_execution e JOIN ff_attempt a "
		"ON a.partition_key = e.partition_key AND a.execution_id = e.execution_id "
		"AND a.attempt_index = e.attempt_index WHERE e.lifecycle_phase = 'terminal' "
		"AND a.attempt_lifecycle NOT LIKE 'ended\\_%' AND a.attempt_lifecycle <> 'interrupted_reclaimed'"},

	/* --- outboxes ---------------------------------------------------------- */
	{"completion_event_count",
		"SELECT " EXEC_ID("e") ", format('%s completion events, expected %s (%s, %s replays)', "
		"coalesce(c.n, 0), (e.lifecycle_phase = 'terminal')::int + coalesce(r.replay_count, 0), "
		"e.public_state, coalesce(r.replay_count, 0)) FROM ff_execution e "
		"LEFT JOIN (SELECT partition_key, execution_id, count(*) AS n FROM ff_completion_event "
		"GROUP BY 1, 2) c USING (partition_key, execution_id) "
		"LEFT JOIN ff_execution_replay r USING (partition_key, execution_id) "
		"WHERE coalesce(c.n, 0) <> (e.lifecycle_phase = 'terminal')::int + coalesce(r.replay_count, 0)"},
	{"completion_event_outcome",
		"SELECT " EXEC_ID("e") ", format('terminal_outcome %s, latest completion event %s', "
		"e.terminal_outcome, c.outcome) FROM ff_execution e JOIN LATERAL "
		"(SELECT ce.outcome FROM ff_completion_event ce WHERE ce.partition_key = e.partition_key "
		"AND ce.execution_id = e.execution_id ORDER BY ce.event_id DESC LIMIT 1) c ON true "
		"WHERE e.lifecycle_phase = 'terminal' AND c.outcome <> e.terminal_outcome"},
	{"completion_event_execution",
		"SELECT " EXEC_ID("c") ", format('completion event %s (%s) of an unknown execution', "
		"c.event_id, c.outcome) FROM ff_completion_event c WHERE NOT EXISTS "
		"(SELECT 1 FROM ff_execution e WHERE e.partition_key = c.partition_key "
		"AND e.execution_id = c.execution_id)"},
	{"lease_event_epoch",
		"SELECT " EXEC_ID("l") ", format('lease event %s (%s) has epoch %s, the execution %s', "
		"l.event_id, l.event_type, l.lease_epoch, coalesce('only ' || e.lease_epoch, 'is unknown')) "
		"FROM ff_lease_event l LEFT JOIN ff_execution e USING (partition_key, execution_id) "
		"WHERE e.execution_id IS NULL OR l.lease_epoch > e.lease_epoch"},

	/* --- suspensions and waitpoints ---------------------------------------- */
	{"suspended_one_open_suspension",
		"SELECT " EXEC_ID("e") ", format('suspended with %s open suspensions', "
		"(SELECT count(*) FROM ff_suspension s WHERE s.partition_key = e.partition_key "
		"AND s.execution_id = e.execution_id AND s.closed_at_ms IS NULL)) FROM ff_execution e "
		"WHERE e.lifecycle_phase = 'suspended' AND (SELECT count(*) FROM ff_suspension s "
		"WHERE s.partition_key = e.partition_key AND s.execution_id = e.execution_id "
		"AND s.closed_at_ms IS NULL) <> 1"},
	{"open_suspension_of_suspended",
		"SELECT " EXEC_ID("s") ", format('open suspension %s (attempt %s) but the execution is %s "
		"at attempt %s', s.suspension_id, s.attempt_index, e.lifecycle_phase, e.attempt_index) "
		"FROM ff_suspension s JOIN ff_execution e USING (partition_key, execution_id) "
		"WHERE s.closed_at_ms IS NULL AND (e.lifecycle_phase <> 'suspended' "
		"OR s.attempt_index <> e.attempt_index)"},
	{"suspended_attempt_parked",
		"SELECT " EXEC_ID("e") ", format('suspended (attempt_state %s) but attempt %s is %s, "
		"lease_expires_at_ms %s', e.attempt_state, a.attempt_index, a.attempt_lifecycle, "
		"coalesce(a.lease_expires_at_ms::text, 'NULL')) FROM ff_execution e JOIN ff_attempt a "
		"ON a.partition_key = e.partition_key AND a.execution_id = e.execution_id "
		"AND a.attempt_index = e.attempt_index WHERE e.lifecycle_phase = 'suspended' "
		"AND (a.attempt_lifecycle <> 'suspended' OR a.lease_expires_at_ms IS NOT NULL "
		"OR e.attempt_state <> 'attempt_interrupted')"},
	{"active_waitpoint_in_open_suspension",
		"SELECT " EXEC_ID("w") ", format('active waitpoint %s outside an open suspension', "
		"w.waitpoint_id) FROM ff_waitpoint w WHERE w.state = 'active' AND NOT EXISTS "
		"(SELECT 1 FROM ff_suspension s WHERE s.partition_key = w.partition_key "
		"AND s.execution_id = w.execution_id AND s.suspension_id = w.suspension_id "
		"AND s.closed_at_ms IS NULL)"},
	{"pending_waitpoint_unbound",
		"SELECT " EXEC_ID("w") ", format('pending waitpoint %s is bound to suspension %s', "
		"w.waitpoint_id, w.suspension_id) FROM ff_waitpoint w WHERE w.state = 'pending' "
		"AND (w.suspension_id IS NOT NULL OR w.binding_index IS NOT NULL)"},
	{"closed_suspension_waitpoints_closed",
		"SELECT " EXEC_ID("w") ", format('waitpoint %s is %s but suspension %s is closed (%s)', "
		"w.waitpoint_id, w.state, s.suspension_id, s.close_reason) FROM ff_waitpoint w "
		"JOIN ff_suspension s ON s.partition_key = w.partition_key AND s.execution_id = w.execution_id "
		"AND s.suspension_id = w.suspension_id WHERE s.closed_at_ms IS NOT NULL AND w.state <> 'closed'"},
	{"terminal_waitpoints_closed",
		"SELECT " EXEC_ID("w") ", format('waitpoint %s is %s but the execution is %s', "
		"w.waitpoint_id, w.state, e.public_state) FROM ff_waitpoint w "
		"JOIN ff_execution e USING (partition_key, execution_id) "
		"WHERE e.lifecycle_phase = 'terminal' AND w.state <> 'closed'"},

	/* --- flows ------------------------------------------------------------- */
	{"flow_member_flow_exists",
		"SELECT " EXEC_ID("e") ", format('member of flow %s, which does not exist', e.flow_id) "
		"FROM ff_execution e WHERE e.flow_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ff_flow f "
		"WHERE f.partition_key = e.partition_key AND f.flow_id = e.flow_id)"},
	{"flow_node_count",
		"SELECT f.flow_id::text, format('node_count %s, %s member executions', f.node_count, "
		"coalesce(m.n, 0)) FROM ff_flow f LEFT JOIN (SELECT partition_key, flow_id, count(*) AS n "
		"FROM ff_execution WHERE flow_id IS NOT NULL GROUP BY 1, 2) m "
		"USING (partition_key, flow_id) WHERE f.node_count <> coalesce(m.n, 0)"},
	{"blocked_group_pending",
		"SELECT " EXEC_ID("e") ", format('blocked_by_dependencies, its edge group is %s', "
		"coalesce(g.group_state, 'missing')) FROM ff_execution e LEFT JOIN ff_edge_group g "
		"ON g.partition_key = e.partition_key AND g.flow_id = e.flow_id "
		"AND g.downstream_execution_id = e.execution_id "
		"WHERE e.eligibility_state = 'blocked_by_dependencies' AND g.group_state IS DISTINCT FROM 'pending'"},
	{"edge_group_counters",
		"SELECT ff_format_execution_id(g.partition_key, g.downstream_execution_id), "
		"format('edge group counts staged/applied/success/failed/skipped %s/%s/%s/%s/%s, its edges %s/%s/%s/%s/%s', "
		"g.staged_count, g.applied_count, g.success_count, g.failed_count, g.skipped_count, "
		"c.staged, c.applied, c.success, c.failed, c.skipped) FROM ff_edge_group g CROSS JOIN LATERAL "
		"(SELECT count(*)::int AS staged, count(e.applied_at_ms)::int AS applied, "
		"(count(*) FILTER (WHERE e.resolution = 'success'))::int AS success, "
		"(count(*) FILTER (WHERE e.resolution = 'failed'))::int AS failed, "
		"(count(*) FILTER (WHERE e.resolution = 'skipped'))::int AS skipped FROM ff_edge e "
		"WHERE e.partition_key = g.partition_key AND e.flow_id = g.flow_id "
		"AND e.downstream_execution_id = g.downstream_execution_id) c "
		"WHERE (g.staged_count, g.applied_count, g.success_count, g.failed_count, g.skipped_count) "
		"IS DISTINCT FROM (c.staged, c.applied, c.success, c.failed, c.skipped)"},

	/* --- budgets and quotas ------------------------------------------------ */
	{"budget_usage_ledger",
		"SELECT coalesce(u.budget_id, l.budget_id)::text, format('dimension %s: usage %s, ledger of "
		"reset epoch %s sums to %s', coalesce(u.dimension, l.dimension), coalesce(u.current_value, 0), "
		"p.reset_count, coalesce(l.total, 0)) FROM ff_budget_policy p "
		"JOIN ff_budget_usage u ON u.partition_key = p.partition_key AND u.budget_id = p.budget_id "
		"FULL JOIN (SELECT b.partition_key, b.budget_id, b.dimension, sum(b.delta_total) AS total "
		"FROM ff_budget_usage_by_exec b JOIN ff_budget_policy bp ON bp.partition_key = b.partition_key "
		"AND bp.budget_id = b.budget_id AND bp.reset_count = b.reset_epoch GROUP BY 1, 2, 3) l "
		"ON l.partition_key = u.partition_key AND l.budget_id = u.budget_id AND l.dimension = u.dimension "
		"WHERE coalesce(u.current_value, 0) <> coalesce(l.total, 0)"},
	{"quota_concurrency_slots",
		"SELECT q.quota_policy_id::text, format('active_concurrency %s, %s slots held', "
		"q.active_concurrency, coalesce(s.n, 0)) FROM ff_quota_policy q LEFT JOIN "
		"(SELECT partition_key, quota_policy_id, count(*) AS n FROM ff_quota_admitted "
		"WHERE holds_slot GROUP BY 1, 2) s USING (partition_key, quota_policy_id) "
		"WHERE q.active_concurrency <> coalesce(s.n, 0)"},
	{"blocked_by_budget_recorded",
		"SELECT " EXEC_ID("e") ", 'blocked_by_budget, but no budget holds it back' FROM ff_execution e "
		"WHERE e.eligibility_state = 'blocked_by_budget' AND e.policy ? 'budget_ids' "
		"AND NOT EXISTS (SELECT 1 FROM ff_budget_execution b "
		"WHERE b.exec_partition = e.partition_key AND b.execution_id = e.execution_id AND b.status = 'blocked')"},
	{"blocked_by_quota_recorded",
		"SELECT " EXEC_ID("e") ", 'blocked_by_quota, but no quota holds it back' FROM ff_execution e "
		"WHERE e.eligibility_state = 'blocked_by_quota' AND e.policy ? 'quota_policy_id' "
		"AND NOT EXISTS (SELECT 1 FROM ff_quota_blocked q "
		"WHERE q.exec_partition = e.partition_key AND q.execution_id = e.execution_id)"},
	{"budget_execution_live",
		"SELECT ff_format_execution_id(b.exec_partition, b.execution_id), format('budget %s holds it (%s) "
		"but it is %s', b.budget_id, b.status, coalesce(e.public_state, 'missing')) "
		"FROM ff_budget_execution b LEFT JOIN ff_execution e ON e.partition_key = b.exec_partition "
		"AND e.execution_id = b.execution_id WHERE e.execution_id IS NULL OR e.lifecycle_phase = 'terminal'"},
	{"quota_blocked_live",
		"SELECT ff_format_execution_id(b.exec_partition, b.execution_id), format('quota %s holds it back "
		"(%s) but it is %s/%s', b.quota_policy_id, b.reason, coalesce(e.public_state, 'missing'), "
		"e.eligibility_state) FROM ff_quota_blocked b LEFT JOIN ff_execution e "
		"ON e.partition_key = b.exec_partition AND e.execution_id = b.execution_id "
		"WHERE e.execution_id IS NULL OR e.eligibility_state <> 'blocked_by_quota'"},
	{"quota_slot_running",
		"SELECT a.execution_id, format('holds a slot of quota %s but it is %s', a.quota_policy_id, "
		"coalesce(e.public_state, 'missing')) FROM ff_quota_admitted a LEFT JOIN ff_execution e "
		"ON e.partition_key = ff_execution_partition(a.execution_id) "
		"AND e.execution_id = (ff_split_execution_id(a.execution_id)).execution_uuid "
		"WHERE a.holds_slot AND a.expires_at_ms IS NULL AND (e.execution_id IS NULL OR e.lifecycle_phase <> 'active')"},

	/* --- streams ----------------------------------------------------------- */
	{"stream_closed_with_attempt",
		"SELECT " EXEC_ID("m") ", format('attempt %s ended (%s) but its stream is open', "
		"a.attempt_index, a.end_reason) FROM ff_stream_meta m JOIN ff_attempt a "
		"USING (partition_key, execution_id, attempt_index) "
		"WHERE a.ended_at_ms IS NOT NULL AND m.closed_at_ms IS NULL"},
};

PG_FUNCTION_INFO_V1(ff_check_invariants);
Datum
ff_check_invariants(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (size_t i = 0; i < lengthof(checks); i++)
	{
		int			ret = SPI_execute(checks[i].sql, true, 0);

		if (ret != SPI_OK_SELECT)
			elog(ERROR, "invariant check %s failed: %s", checks[i].name,
				 SPI_result_code_string(ret));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;
			Datum		values[3];
			bool		nulls[3] = {false, false, false};
			char	   *object = ff_get_cstring(t, d, 1);
			char	   *detail = ff_get_cstring(t, d, 2);

			values[0] = CStringGetTextDatum(checks[i].name);
			values[1] = object ? CStringGetTextDatum(object) : (Datum) 0;
			nulls[1] = object == NULL;
			values[2] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
			nulls[2] = detail == NULL;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_finish();
	return (Datum) 0;
}
