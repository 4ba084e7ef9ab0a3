/*
 * edge.c
 *		Dependency edges, edge groups, the completion cascade, wait_children
 *		and the dependency and sibling-cancel reconcilers.
 *
 * Every downstream execution has one edge group: its policy (all_of,
 * any_of, quorum k) and counters over its incoming edges. An edge is staged
 * (it counts in the group's total), then applied (the downstream is blocked
 * on it), then resolved once, by its upstream's terminal outcome: success,
 * failed (failed, cancelled, expired) or skipped. The group's state follows
 * from its counters (group_evaluate) and is sticky once impossible:
 *
 *	satisfied	success >= k, where k is the staged-edge count for all_of,
 *				1 for any_of and the quorum for quorum;
 *	impossible	fewer than k successes remain possible, and either at least k
 *				edges are staged or every staged edge has resolved;
 *	pending		otherwise.
 *
 * When a group becomes satisfied its blocked downstream becomes claimable in
 * the same transaction; when it becomes impossible the downstream is
 * skipped (terminal outcome "skipped", completion event "skipped"), which
 * resolves the downstream's own outgoing edges in turn. Any-of and quorum
 * groups with on_satisfied = cancel_remaining cancel the upstreams still
 * running once they fire (satisfied or impossible), at most once.
 *
 * The cascade is a work list, not recursion: ff_finish_execution reports
 * every flow member's terminal transition here; inside a running cascade it
 * is queued, otherwise a new cascade starts and runs until the list is
 * empty. Each edge resolves at most once (resolution IS NULL guard, under the
 * downstream's row lock), so applying the same completion twice counts once.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "flow.h"

#define CYCLE_CHECK_MAX_NODES	1000

/* The cascade's work list */

typedef struct CascadeItem
{
	FFExecKey	key;			/* an upstream that reached a terminal outcome */
	pg_uuid_t	flow_id;
	const char *bucket;			/* success, failed or skipped */
} CascadeItem;

static bool cascade_active = false;
static FFCascadeMode cascade_mode = FF_CASCADE_WAIT;
static List *cascade_queue = NIL;
static int32 cascade_resolved = 0;	/* edges resolved by the running cascade */

static void cascade_one(const CascadeItem *item, int64 now);

static const char *
outcome_bucket(const char *outcome)
{
	if (strcmp(outcome, "success") == 0)
		return "success";
	if (strcmp(outcome, "skipped") == 0)
		return "skipped";
	return "failed";
}

/*
 * ff_flow_run_cascade runs body with a cascade open: the terminal
 * transitions body causes are queued and cascaded after it returns, until
 * none are left. Nested calls join the running cascade.
 */
void
ff_flow_run_cascade(FFCascadeMode mode, FFCascadeBody body, void *arg)
{
	if (cascade_active)
	{
		body(arg);
		return;
	}
	cascade_active = true;
	cascade_mode = mode;
	cascade_queue = NIL;
	cascade_resolved = 0;
	PG_TRY();
	{
		body(arg);
		while (cascade_queue != NIL)
		{
			CascadeItem *item = linitial(cascade_queue);

			cascade_queue = list_delete_first(cascade_queue);
			cascade_one(item, ff_now_ms());
		}
	}
	PG_FINALLY();
	{
		cascade_active = false;
		cascade_queue = NIL;
	}
	PG_END_TRY();
}

static void
enqueue_body(void *arg)
{
	cascade_queue = lappend(cascade_queue, arg);
}

/*
 * ff_flow_member_terminal is called by ff_finish_execution, in the same
 * transaction, whenever a flow member becomes terminal.
 */
void
ff_flow_member_terminal(const FFExecRow *exec, const char *outcome, int64 now)
{
	CascadeItem *item = palloc(sizeof(CascadeItem));

	item->key = exec->key;
	item->flow_id = exec->flow_id;
	item->bucket = outcome_bucket(outcome);
	ff_flow_run_cascade(FF_CASCADE_WAIT, enqueue_body, item);
}

/* Edge groups */

typedef struct FFGroup
{
	int16		partition;
	pg_uuid_t	flow_id;
	pg_uuid_t	downstream;
	const char *kind;			/* all_of, any_of, quorum */
	int32		k;				/* quorum only */
	const char *on_satisfied;	/* any_of/quorum: cancel_remaining or let_run */
	int32		staged;
	int32		applied;
	int32		success;
	int32		failed;
	int32		skipped;
	const char *state;			/* pending, satisfied, impossible */
	int64		state_changed_at_ms;
	bool		siblings_fired;
	char	   *siblings_reason;
	List	   *siblings_pending;	/* of pg_uuid_t * */
	int64		created_at_ms;
} FFGroup;

#define GROUP_COLUMNS \
	"policy_kind, quorum_k, on_satisfied, staged_count, applied_count, success_count, " \
	"failed_count, skipped_count, group_state, state_changed_at_ms, siblings_cancel_fired, " \
	"siblings_cancel_reason, siblings_cancel_pending, created_at_ms"

static const char *
intern(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return *set;
	ereport(ERROR,
			(errcode(ERRCODE_FF_CORRUPTION),
			 errmsg("corruption: unknown edge group value \"%s\"", s)));
	return NULL;				/* keep compiler quiet */
}

static const char *const group_kinds[] = {"all_of", "any_of", "quorum", NULL};
static const char *const group_states[] = {"pending", "satisfied", "impossible", NULL};
static const char *const on_satisfied_values[] = {"cancel_remaining", "let_run", NULL};

static void
group_init(FFGroup *g, int16 partition, const pg_uuid_t *flow_id, const pg_uuid_t *downstream,
		   int64 now)
{
	memset(g, 0, sizeof(*g));
	g->partition = partition;
	g->flow_id = *flow_id;
	g->downstream = *downstream;
	g->kind = "all_of";
	g->state = "pending";
	g->state_changed_at_ms = FF_NULL_MS;
	g->created_at_ms = now;
}

/* group_load reads (and locks) a group; false if the downstream has none. */
static bool
group_load(int16 partition, const pg_uuid_t *flow_id, const pg_uuid_t *downstream, FFGroup *g,
		   int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3];
	HeapTuple	t;
	TupleDesc	d;
	char	   *s;
	bool		isnull;
	Datum		pending;

	ff_prepare(&plan,
			   "SELECT " GROUP_COLUMNS " FROM ff_edge_group WHERE partition_key = $1 "
			   "AND flow_id = $2 AND downstream_execution_id = $3 FOR UPDATE",
			   3, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(flow_id);
	v[2] = ff_uuid_datum(downstream);
	ff_execute(plan, v, NULL, false, 1);
	group_init(g, partition, flow_id, downstream, now);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	g->kind = intern(ff_get_cstring(t, d, 1), group_kinds);
	g->k = ff_get_int32(t, d, 2, 0);
	s = ff_get_cstring(t, d, 3);
	g->on_satisfied = s ? intern(s, on_satisfied_values) : NULL;
	g->staged = ff_get_int32(t, d, 4, 0);
	g->applied = ff_get_int32(t, d, 5, 0);
	g->success = ff_get_int32(t, d, 6, 0);
	g->failed = ff_get_int32(t, d, 7, 0);
	g->skipped = ff_get_int32(t, d, 8, 0);
	g->state = intern(ff_get_cstring(t, d, 9), group_states);
	g->state_changed_at_ms = ff_get_int64(t, d, 10, FF_NULL_MS);
	g->siblings_fired = ff_get_bool(t, d, 11);
	g->siblings_reason = ff_get_cstring(t, d, 12);
	pending = SPI_getbinval(t, d, 13, &isnull);
	if (!isnull)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(pending), UUIDOID, UUID_LEN, false, TYPALIGN_CHAR,
						  &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

			*u = *DatumGetUUIDP(elems[i]);
			g->siblings_pending = lappend(g->siblings_pending, u);
		}
	}
	g->created_at_ms = ff_get_int64(t, d, 14, now);
	return true;
}

static void
group_store(const FFGroup *g, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[18] = {
		INT2OID, UUIDOID, UUIDOID, TEXTOID, INT4OID, TEXTOID, INT4OID, INT4OID, INT4OID,
		INT4OID, INT4OID, TEXTOID, INT8OID, BOOLOID, TEXTOID, UUIDARRAYOID, INT8OID, INT8OID
	};
	Datum		v[18];
	char		n[19];
	Datum	   *elems;
	int			count = 0;
	ListCell   *lc;

	memset(n, ' ', sizeof(n));
	n[18] = '\0';
	ff_prepare(&plan,
			   "INSERT INTO ff_edge_group AS g (partition_key, flow_id, downstream_execution_id, "
			   GROUP_COLUMNS ", last_mutation_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
			   "$17, $18) "
			   "ON CONFLICT (partition_key, flow_id, downstream_execution_id) DO UPDATE SET "
			   "policy_kind = $4, quorum_k = $5, on_satisfied = $6, staged_count = $7, "
			   "applied_count = $8, success_count = $9, failed_count = $10, skipped_count = $11, "
			   "group_state = $12, state_changed_at_ms = $13, siblings_cancel_fired = $14, "
			   "siblings_cancel_reason = $15, siblings_cancel_pending = $16, "
			   "last_mutation_at_ms = $18",
			   18, types);
	elems = palloc(sizeof(Datum) * Max(list_length(g->siblings_pending), 1));
	foreach(lc, g->siblings_pending)
		elems[count++] = ff_uuid_datum(lfirst(lc));
	v[0] = Int16GetDatum(g->partition);
	v[1] = ff_uuid_datum(&g->flow_id);
	v[2] = ff_uuid_datum(&g->downstream);
	v[3] = CStringGetTextDatum(g->kind);
	v[4] = Int32GetDatum(g->k);
	n[4] = strcmp(g->kind, "quorum") == 0 ? ' ' : 'n';
	v[5] = ff_text_datum(g->on_satisfied, &n[5]);
	v[6] = Int32GetDatum(g->staged);
	v[7] = Int32GetDatum(g->applied);
	v[8] = Int32GetDatum(g->success);
	v[9] = Int32GetDatum(g->failed);
	v[10] = Int32GetDatum(g->skipped);
	v[11] = CStringGetTextDatum(g->state);
	v[12] = ff_ms_datum(g->state_changed_at_ms, &n[12]);
	v[13] = BoolGetDatum(g->siblings_fired);
	v[14] = ff_text_datum(g->siblings_reason, &n[14]);
	v[15] = PointerGetDatum(construct_array(elems, count, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	v[16] = Int64GetDatum(g->created_at_ms);
	v[17] = Int64GetDatum(now);
	ff_execute(plan, v, n, false, 0);
}

static int32
group_k(const FFGroup *g)
{
	if (strcmp(g->kind, "any_of") == 0)
		return 1;
	if (strcmp(g->kind, "quorum") == 0)
		return g->k;
	return g->staged;
}

/* group_evaluate is the decision function over the group's counters. */
static const char *
group_evaluate(const FFGroup *g)
{
	int32		k = group_k(g);
	int32		resolved = g->success + g->failed + g->skipped;
	int32		possible = g->staged - g->failed - g->skipped;

	if (g->staged == 0)
		return "pending";
	if (g->success >= k)
		return "satisfied";
	if (possible < k && (g->staged >= k || resolved == g->staged))
		return "impossible";
	return "pending";
}

/* Downstream transitions */

static const FFStateVector sv_dependency_delay = {
	"runnable", "unowned", "not_eligible_until_time", "waiting_for_delay", "none", NULL
};

/*
 * promote makes a downstream blocked on its dependencies claimable: at once,
 * or when its own delay (a delayed start or retry backoff it had when it
 * was blocked) elapses. Its attempt state is kept, so an execution parked by
 * ff_wait_children resumes the same attempt.
 */
static void
promote(FFExecRow *d, int64 now)
{
	if (d->delay_until_ms != FF_NULL_MS && d->delay_until_ms > now)
	{
		ff_exec_set_state(d, &sv_dependency_delay);
		if (strcmp(d->sv.attempt_state, "pending_retry_attempt") == 0)
			d->sv.blocking_reason = "waiting_for_retry_backoff";
		d->blocking_detail = psprintf("delayed until %lld", (long long) d->delay_until_ms);
	}
	else
	{
		ff_exec_set_state(d, &ff_sv_delay_elapsed);
		d->delay_until_ms = FF_NULL_MS;
		d->blocking_detail = NULL;
	}
	d->last_mutation_at_ms = now;
	ff_exec_store(d);
}

/*
 * block parks a runnable downstream until its group resolves; a delay it
 * had is remembered in delay_until_ms and honoured on promotion.
 */
static void
block(FFExecRow *d, const FFGroup *g, int64 now)
{
	ff_exec_set_state(d, &ff_sv_waiting_children);
	d->blocking_detail = psprintf("waiting for dependencies: %d of %d satisfied (%s)",
								  g->success, group_k(g), g->kind);
	d->last_mutation_at_ms = now;
	ff_exec_store(d);
}

static bool
blockable(const FFExecRow *d)
{
	return ff_exec_is(d, "runnable") && strcmp(d->sv.ownership_state, "unowned") == 0 &&
		(strcmp(d->sv.eligibility_state, "eligible_now") == 0 ||
		 strcmp(d->sv.eligibility_state, "not_eligible_until_time") == 0);
}

/*
 * skip makes a downstream whose group can no longer be satisfied terminal
 * "skipped"; a running attempt ends and its lease is revoked.
 */
static void
skip(FFExecRow *d, int64 now)
{
	FFAttemptRow attempt;

	if (d->total_attempt_count > 0 && ff_attempt_load(&d->key, d->attempt_index, &attempt, true))
		ff_attempt_end(d, &attempt, "ended_cancelled", "revoked", "dependency_impossible", now);
	ff_finish_execution(d, &ff_sv_skipped, "skipped", now);
}

/*
 * cancel_siblings cancels the group's upstreams that are still running. One
 * another transaction holds is left in siblings_pending for
 * ff_reconcile_sibling_cancel.
 */
static int32
cancel_siblings(FFGroup *g, const char *reason, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3];
	List	   *siblings = NIL;
	List	   *pending = NIL;
	ListCell   *lc;
	int32		cancelled = 0;

	ff_prepare(&plan,
			   "SELECT DISTINCT upstream_execution_id FROM ff_edge WHERE partition_key = $1 "
			   "AND flow_id = $2 AND downstream_execution_id = $3 ORDER BY 1",
			   3, types);
	v[0] = Int16GetDatum(g->partition);
	v[1] = ff_uuid_datum(&g->flow_id);
	v[2] = ff_uuid_datum(&g->downstream);
	ff_execute(plan, v, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

		ff_get_uuid(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, u);
		siblings = lappend(siblings, u);
	}
	foreach(lc, siblings)
	{
		FFExecKey	key = {g->partition, *(pg_uuid_t *) lfirst(lc)};
		FFExecRow	exec;

		if (ff_flow_exec_lock_skip(&key, &exec))
		{
			if (ff_flow_cancel_execution(&exec, reason, "flow_cascade", reason, now))
				cancelled++;
		}
		else if (ff_exec_load(&key, &exec, false) && !ff_exec_is(&exec, "terminal"))
			pending = lappend(pending, lfirst(lc));
	}
	g->siblings_fired = true;
	g->siblings_reason = pstrdup(reason);
	g->siblings_pending = pending;
	return cancelled;
}

/*
 * group_settle re-evaluates a group after its counters or total changed,
 * stores it and, with transitions, acts on a change of state: promote or
 * skip the downstream (whose row the caller holds locked), cancel siblings.
 */
static void
group_settle(FFGroup *g, FFExecRow *d, bool transitions, int64 now)
{
	const char *old = g->state;
	const char *new = group_evaluate(g);
	bool		d_live = d != NULL && !ff_exec_is(d, "terminal");

	if (strcmp(old, "impossible") == 0)
		new = old;
	else if (strcmp(old, "satisfied") == 0 && strcmp(new, "pending") == 0 && !d_live)
		new = old;				/* a finished downstream keeps its answer */
	if (strcmp(new, old) != 0)
		g->state_changed_at_ms = now;
	g->state = new;

	if (transitions && d_live)
	{
		if (strcmp(new, "satisfied") == 0 && strcmp(old, "satisfied") != 0 &&
			ff_exec_is(d, "runnable") &&
			strcmp(d->sv.eligibility_state, "blocked_by_dependencies") == 0)
			promote(d, now);
		else if (strcmp(new, "impossible") == 0 && strcmp(old, "impossible") != 0)
			skip(d, now);
	}
	if (transitions && strcmp(old, "pending") == 0 && strcmp(new, "pending") != 0 &&
		!g->siblings_fired && g->on_satisfied != NULL &&
		strcmp(g->on_satisfied, "cancel_remaining") == 0)
		cancel_siblings(g, strcmp(new, "satisfied") == 0
						? "sibling_quorum_satisfied" : "sibling_quorum_impossible", now);
	group_store(g, now);
}

/* Edges */

/* copy_result hands an upstream's result to its downstream's input. */
static void
copy_result(int16 partition, const pg_uuid_t *upstream, const pg_uuid_t *downstream)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3];

	ff_prepare(&plan,
			   "UPDATE ff_execution d SET input_payload = u.result FROM ff_execution u "
			   "WHERE d.partition_key = $1 AND d.execution_id = $3 "
			   "AND u.partition_key = $1 AND u.execution_id = $2 AND u.result IS NOT NULL "
			   "AND d.lifecycle_phase IN ('submitted', 'runnable')",
			   3, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(upstream);
	v[2] = ff_uuid_datum(downstream);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * resolve_edge records the upstream's outcome on one applied edge, unless
 * it is already resolved. Returns true if it did. The caller holds the
 * downstream's row lock, under which alone edges into it are resolved, so
 * reading then writing the edge cannot race.
 *
 * Both statements name the edge by its key only: a condition on
 * applied_at_ms / resolution would let the planner prefer the partial
 * ff_edge_unresolved_idx and scan a whole partition's unresolved edges.
 */
static bool
resolve_edge(int16 partition, const pg_uuid_t *flow_id, const pg_uuid_t *edge_id,
			 const pg_uuid_t *upstream, const pg_uuid_t *downstream, const char *bucket,
			 int64 now)
{
	static SPIPlanPtr read_plan = NULL;
	static SPIPlanPtr write_plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, UUIDOID, TEXTOID, INT8OID};
	Datum		v[5];
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	char	   *ref;

	ff_prepare(&read_plan,
			   "SELECT applied_at_ms, resolution, coalesce(data_passing_ref, '') FROM ff_edge "
			   "WHERE partition_key = $1 AND flow_id = $2 AND edge_id = $3 FOR UPDATE",
			   3, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(flow_id);
	v[2] = ff_uuid_datum(edge_id);
	v[3] = CStringGetTextDatum(bucket);
	v[4] = Int64GetDatum(now);
	ff_execute(read_plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	(void) SPI_getbinval(t, d, 1, &isnull);
	if (isnull || ff_get_cstring(t, d, 2) != NULL)
		return false;			/* not applied, or already resolved */
	ref = ff_get_cstring(t, d, 3);

	ff_prepare(&write_plan,
			   "UPDATE ff_edge SET resolution = $4, resolved_at_ms = $5 "
			   "WHERE partition_key = $1 AND flow_id = $2 AND edge_id = $3",
			   5, types);
	ff_execute(write_plan, v, NULL, false, 0);
	if (strcmp(bucket, "success") == 0 && *ref != '\0')
		copy_result(partition, upstream, downstream);
	cascade_resolved++;
	return true;
}

static void
count_bucket(FFGroup *g, const char *bucket)
{
	if (strcmp(bucket, "success") == 0)
		g->success++;
	else if (strcmp(bucket, "skipped") == 0)
		g->skipped++;
	else
		g->failed++;
}

typedef struct OutEdge
{
	pg_uuid_t	edge_id;
	pg_uuid_t	downstream;
} OutEdge;

/*
 * cascade_one resolves an upstream's applied, unresolved outgoing edges,
 * one downstream at a time in id order: lock the downstream, resolve its
 * edges from this upstream, settle its group.
 */
static void
cascade_one(const CascadeItem *item, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3];
	List	   *edges = NIL;
	int			i = 0;
	int			n;

	ff_prepare(&plan,
			   "SELECT edge_id, downstream_execution_id FROM ff_edge "
			   "WHERE partition_key = $1 AND flow_id = $2 AND upstream_execution_id = $3 "
			   "AND applied_at_ms IS NOT NULL AND resolution IS NULL "
			   "ORDER BY downstream_execution_id, edge_id",
			   3, types);
	v[0] = Int16GetDatum(item->key.partition);
	v[1] = ff_uuid_datum(&item->flow_id);
	v[2] = ff_uuid_datum(&item->key.uuid);
	ff_execute(plan, v, NULL, false, 0);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		OutEdge    *e = palloc(sizeof(OutEdge));

		ff_get_uuid(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &e->edge_id);
		ff_get_uuid(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &e->downstream);
		edges = lappend(edges, e);
	}

	n = list_length(edges);
	while (i < n)
	{
		OutEdge    *first = list_nth(edges, i);
		FFExecKey	dkey = {item->key.partition, first->downstream};
		FFExecRow	d;
		FFGroup		g;
		bool		locked;
		bool		exists;
		bool		any = false;
		int			j;

		if (cascade_mode == FF_CASCADE_WAIT)
			exists = locked = ff_exec_load(&dkey, &d, true);
		else
		{
			locked = ff_flow_exec_lock_skip(&dkey, &d);
			exists = locked || ff_exec_load(&dkey, &d, false);
		}
		for (j = i; j < n; j++)
		{
			OutEdge    *e = list_nth(edges, j);

			if (memcmp(&e->downstream, &first->downstream, sizeof(pg_uuid_t)) != 0)
				break;
			if (exists && !locked)
				continue;		/* held elsewhere: ff_reconcile_dependencies */
			if (resolve_edge(item->key.partition, &item->flow_id, &e->edge_id, &item->key.uuid,
							 &e->downstream, item->bucket, now))
			{
				if (!any)
					group_load(item->key.partition, &item->flow_id, &e->downstream, &g, now);
				any = true;
				count_bucket(&g, item->bucket);
			}
		}
		if (any)
			group_settle(&g, exists ? &d : NULL, true, now);
		i = j;
	}
}

/* Arguments and graph checks */

static void
require_member(const FFFlowRow *flow, const FFExecRow *exec, const char *id)
{
	if (!exec->has_flow || memcmp(&exec->flow_id, &flow->flow_id, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_IN_FLOW),
				 errmsg("execution_not_in_flow: execution %s is not a member of flow %s",
						id, ff_uuid_to_cstring(&flow->flow_id)),
				 errhint("Add it with ff_add_execution_to_flow first.")));
}

/* load_member reads (optionally locks) a member of the flow by its id. */
static void
load_member(const FFFlowRow *flow, const char *id, FFExecKey *key, FFExecRow *row, bool lock)
{
	ff_flow_member_key(flow, id, key);
	if (!ff_exec_load(key, row, lock))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_IN_FLOW),
				 errmsg("execution_not_in_flow: execution %s is not a member of flow %s",
						id, ff_uuid_to_cstring(&flow->flow_id)),
				 errdetail("The execution does not exist.")));
	require_member(flow, row, id);
}

/*
 * check_acyclic rejects an edge upstream -> downstream if upstream is
 * reachable from downstream along staged edges. The search stops after
 * CYCLE_CHECK_MAX_NODES nodes and then rejects conservatively.
 */
static void
check_acyclic(const FFFlowRow *flow, const FFExecKey *upstream, const FFExecKey *downstream)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT2OID, UUIDOID, UUIDOID, UUIDOID, INT4OID};
	Datum		v[5];
	bool		reaches;
	int64		visited;

	ff_prepare(&plan,
			   "WITH RECURSIVE reach(node) AS ("
			   "  SELECT $3::uuid "
			   "  UNION "
			   /* OFFSET 0: one index probe per reached node, not a join over the flow */
			   "  SELECT d.node FROM reach r CROSS JOIN LATERAL "
			   "    (SELECT e.downstream_execution_id AS node FROM ff_edge e "
			   "      WHERE e.partition_key = $1 AND e.flow_id = $2 "
			   "        AND e.upstream_execution_id = r.node OFFSET 0) d) "
			   "SELECT coalesce(bool_or(node = $4), false), count(*) "
			   "  FROM (SELECT node FROM reach LIMIT $5) s",
			   5, types);
	v[0] = Int16GetDatum(flow->partition);
	v[1] = ff_uuid_datum(&flow->flow_id);
	v[2] = ff_uuid_datum(&downstream->uuid);
	v[3] = ff_uuid_datum(&upstream->uuid);
	v[4] = Int32GetDatum(CYCLE_CHECK_MAX_NODES + 1);
	ff_execute(plan, v, NULL, false, 1);
	reaches = ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	visited = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, 0);
	if (reaches)
		ereport(ERROR,
				(errcode(ERRCODE_FF_CYCLE_DETECTED),
				 errmsg("cycle_detected: edge %s -> %s would close a cycle",
						ff_format_execution_id(upstream), ff_format_execution_id(downstream)),
				 errdetail("%s already depends, directly or transitively, on %s.",
						   ff_format_execution_id(upstream), ff_format_execution_id(downstream))));
	if (visited > CYCLE_CHECK_MAX_NODES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_CYCLE_DETECTED),
				 errmsg("cycle_detected: edge %s -> %s could not be checked for cycles",
						ff_format_execution_id(upstream), ff_format_execution_id(downstream)),
				 errdetail("More than %d executions depend on the downstream; the check gives up and rejects the edge.",
						   CYCLE_CHECK_MAX_NODES)));
}

/* edge_snapshot_json renders an existing edge for dependency_already_exists. */
static char *
edge_snapshot_json(const FFFlowRow *flow, const pg_uuid_t *edge_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3];

	ff_prepare(&plan,
			   "SELECT jsonb_build_object('edge_id', edge_id, 'flow_id', flow_id, "
			   "'upstream_execution_id', ff_format_execution_id(partition_key, upstream_execution_id), "
			   "'downstream_execution_id', ff_format_execution_id(partition_key, downstream_execution_id), "
			   "'dependency_kind', dependency_kind, 'data_passing_ref', data_passing_ref, "
			   "'edge_state', CASE WHEN applied_at_ms IS NULL THEN 'pending' ELSE 'applied' END, "
			   "'created_at_ms', created_at_ms)::text "
			   "FROM ff_edge WHERE partition_key = $1 AND flow_id = $2 AND edge_id = $3",
			   3, types);
	v[0] = Int16GetDatum(flow->partition);
	v[1] = ff_uuid_datum(&flow->flow_id);
	v[2] = ff_uuid_datum(edge_id);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return pstrdup("{}");
	return ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* ff_stage_dependency_edge */

PG_FUNCTION_INFO_V1(ff_stage_dependency_edge);
Datum
ff_stage_dependency_edge(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr insert_plan = NULL;
	static SPIPlanPtr flow_plan = NULL;
	static const Oid insert_types[8] = {
		INT2OID, UUIDOID, UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, INT8OID
	};
	static const Oid flow_types[3] = {INT2OID, UUIDOID, INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	pg_uuid_t	flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	pg_uuid_t	edge_id = ff_flow_arg_uuid(fcinfo, 1, "edge_id");
	char	   *up_id = ff_arg_cstring_required(fcinfo, 2, "upstream_execution_id");
	char	   *down_id = ff_arg_cstring_required(fcinfo, 3, "downstream_execution_id");
	int64		expected;
	char	   *kind = ff_arg_cstring_required(fcinfo, 5, "dependency_kind");
	char	   *ref = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	FFExecKey	up_key;
	FFExecKey	down_key;
	FFExecRow	up;
	FFExecRow	down;
	FFFlowRow	flow;
	FFGroup		g;
	int64		now = ff_now_ms();
	int64		revision;
	Datum		v[8];
	char		n[9] = "        ";
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	if (PG_ARGISNULL(4))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "expected_graph_revision must not be null");
	expected = PG_GETARG_INT64(4);
	ff_parse_execution_id(up_id, &up_key);
	ff_parse_execution_id(down_id, &down_key);
	if (memcmp(&up_key, &down_key, sizeof(FFExecKey)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_SELF_REFERENCING_EDGE),
				 errmsg("self_referencing_edge: execution %s cannot depend on itself", up_id)));

	SPI_connect();
	ff_flow_load(&flow_id, &flow, true);
	ff_flow_require_open(&flow);
	if (flow.graph_revision != expected)
		ereport(ERROR,
				(errcode(ERRCODE_FF_STALE_GRAPH_REVISION),
				 errmsg("stale_graph_revision: flow %s is at graph revision %lld, not %lld",
						ff_uuid_to_cstring(&flow_id), (long long) flow.graph_revision,
						(long long) expected),
				 errhint("Re-read the flow (ff_describe_flow) and stage against its current revision.")));
	load_member(&flow, up_id, &up_key, &up, false);
	/* the downstream's group is written: hold its row (lock order: exec, edge, group) */
	load_member(&flow, down_id, &down_key, &down, true);
	check_acyclic(&flow, &up_key, &down_key);

	ff_prepare(&insert_plan,
			   "INSERT INTO ff_edge (partition_key, flow_id, edge_id, upstream_execution_id, "
			   "downstream_execution_id, dependency_kind, data_passing_ref, created_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			   "ON CONFLICT (partition_key, flow_id, edge_id) DO NOTHING",
			   8, insert_types);
	v[0] = Int16GetDatum(flow.partition);
	v[1] = ff_uuid_datum(&flow_id);
	v[2] = ff_uuid_datum(&edge_id);
	v[3] = ff_uuid_datum(&up_key.uuid);
	v[4] = ff_uuid_datum(&down_key.uuid);
	v[5] = CStringGetTextDatum(kind);
	v[6] = ff_text_datum(ref && *ref ? ref : NULL, &n[6]);
	v[7] = Int64GetDatum(now);
	ff_execute(insert_plan, v, n, false, 0);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_DEPENDENCY_ALREADY_EXISTS),
				 errmsg("dependency_already_exists: edge %s already exists in flow %s",
						ff_uuid_to_cstring(&edge_id), ff_uuid_to_cstring(&flow_id)),
				 errdetail("%s", edge_snapshot_json(&flow, &edge_id))));

	ff_prepare(&flow_plan,
			   "UPDATE ff_flow SET graph_revision = graph_revision + 1, "
			   "edge_count = edge_count + 1, last_mutation_at_ms = $3 "
			   "WHERE partition_key = $1 AND flow_id = $2 RETURNING graph_revision",
			   3, flow_types);
	v[2] = Int64GetDatum(now);
	ff_execute(flow_plan, v, NULL, false, 1);
	revision = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);

	/* the edge counts in the downstream's group from now on */
	group_load(flow.partition, &flow_id, &down_key.uuid, &g, now);
	g.staged++;
	group_settle(&g, &down, false, now);

	values[0] = ff_uuid_datum(&edge_id);
	values[1] = Int64GetDatum(revision);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* ff_apply_dependency_to_child */

typedef struct ApplyRequest
{
	pg_uuid_t	flow_id;
	pg_uuid_t	edge_id;
	char	   *down_id;
	char	   *up_id;			/* NULL: not checked */
	const char *outcome;
	int32		unsatisfied;
} ApplyRequest;

/* lock_upstream_share waits out any transaction changing the upstream. */
static bool
lock_upstream_share(const FFExecKey *key, char **terminal_outcome)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2];

	ff_prepare(&plan,
			   "SELECT terminal_outcome FROM ff_execution "
			   "WHERE partition_key = $1 AND execution_id = $2 FOR SHARE",
			   2, types);
	v[0] = Int16GetDatum(key->partition);
	v[1] = ff_uuid_datum(&key->uuid);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	*terminal_outcome = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return true;
}

static int32
count_unresolved(int16 partition, const pg_uuid_t *flow_id, const pg_uuid_t *downstream)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, UUIDOID};
	Datum		v[3];

	/* the filter is kept out of WHERE (see resolve_edge) */
	ff_prepare(&plan,
			   "SELECT (count(*) FILTER (WHERE applied_at_ms IS NOT NULL AND resolution IS NULL))::integer "
			   "FROM ff_edge WHERE partition_key = $1 AND flow_id = $2 AND downstream_execution_id = $3",
			   3, types);
	v[0] = Int16GetDatum(partition);
	v[1] = ff_uuid_datum(flow_id);
	v[2] = ff_uuid_datum(downstream);
	ff_execute(plan, v, NULL, false, 1);
	return ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0);
}

static void
apply_body(void *arg)
{
	static SPIPlanPtr edge_plan = NULL;
	static SPIPlanPtr mark_plan = NULL;
	static const Oid edge_types[3] = {INT2OID, UUIDOID, UUIDOID};
	static const Oid mark_types[4] = {INT2OID, UUIDOID, UUIDOID, INT8OID};
	ApplyRequest *req = arg;
	FFFlowRow	flow;
	FFExecKey	down_key;
	FFExecKey	up_key;
	FFExecRow	down;
	FFGroup		g;
	Datum		v[4];
	pg_uuid_t	edge_down;
	bool		applied;
	char	   *up_outcome;
	int64		now = ff_now_ms();

	ff_flow_load(&req->flow_id, &flow, true);
	ff_flow_require_open(&flow);
	ff_flow_member_key(&flow, req->down_id, &down_key);

	ff_prepare(&edge_plan,
			   "SELECT upstream_execution_id, downstream_execution_id FROM ff_edge "
			   "WHERE partition_key = $1 AND flow_id = $2 AND edge_id = $3",
			   3, edge_types);
	v[0] = Int16GetDatum(flow.partition);
	v[1] = ff_uuid_datum(&req->flow_id);
	v[2] = ff_uuid_datum(&req->edge_id);
	ff_execute(edge_plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_NOT_FOUND),
				 errmsg("not_found: edge %s does not exist in flow %s",
						ff_uuid_to_cstring(&req->edge_id), ff_uuid_to_cstring(&req->flow_id)),
				 errdetail("{\"entity\": \"edge\"}"),
				 errhint("Stage it with ff_stage_dependency_edge first.")));
	up_key.partition = flow.partition;
	ff_get_uuid(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &up_key.uuid);
	ff_get_uuid(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &edge_down);
	if (memcmp(&edge_down, &down_key.uuid, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: edge %s leads to %s, not to %s",
						ff_uuid_to_cstring(&req->edge_id),
						ff_format_execution_id(&(FFExecKey) {flow.partition, edge_down}),
						req->down_id)));
	if (req->up_id)
	{
		FFExecKey	given;

		ff_parse_execution_id(req->up_id, &given);
		if (memcmp(&given, &up_key, sizeof(FFExecKey)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: edge %s starts at %s, not at %s",
							ff_uuid_to_cstring(&req->edge_id), ff_format_execution_id(&up_key),
							req->up_id)));
	}

	/*
	 * Lock order: upstream (shared: an in-flight terminal transition of it
	 * finishes first, so its outcome below is final), downstream, edge,
	 * group. The upstream's own cascade takes the same order.
	 */
	if (!lock_upstream_share(&up_key, &up_outcome))
		up_outcome = pstrdup("none");	/* gone: it can never resolve the edge */
	if (!ff_exec_load(&down_key, &down, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_IN_FLOW),
				 errmsg("execution_not_in_flow: execution %s is not a member of flow %s",
						req->down_id, ff_uuid_to_cstring(&req->flow_id)),
				 errdetail("The execution does not exist.")));
	require_member(&flow, &down, req->down_id);

	ff_prepare(&mark_plan,
			   "UPDATE ff_edge SET applied_at_ms = $4 "
			   "WHERE partition_key = $1 AND flow_id = $2 AND edge_id = $3 "
			   "AND applied_at_ms IS NULL",
			   4, mark_types);
	v[3] = Int64GetDatum(now);
	ff_execute(mark_plan, v, NULL, false, 0);
	applied = SPI_processed == 1;
	if (!applied)
	{
		req->outcome = "already_applied";
		req->unsatisfied = count_unresolved(flow.partition, &req->flow_id, &down_key.uuid);
		return;
	}

	group_load(flow.partition, &req->flow_id, &down_key.uuid, &g, now);
	g.applied++;
	if (strcmp(up_outcome, "none") != 0 &&
		resolve_edge(flow.partition, &req->flow_id, &req->edge_id, &up_key.uuid, &down_key.uuid,
					 outcome_bucket(up_outcome), now))
		count_bucket(&g, outcome_bucket(up_outcome));
	group_settle(&g, &down, true, now);
	if (strcmp(g.state, "pending") == 0 && blockable(&down))
		block(&down, &g, now);

	req->outcome = "applied";
	req->unsatisfied = count_unresolved(flow.partition, &req->flow_id, &down_key.uuid);
}

PG_FUNCTION_INFO_V1(ff_apply_dependency_to_child);
Datum
ff_apply_dependency_to_child(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	ApplyRequest req;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		result;

	memset(&req, 0, sizeof(req));
	req.flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	req.edge_id = ff_flow_arg_uuid(fcinfo, 1, "edge_id");
	req.down_id = ff_arg_cstring_required(fcinfo, 2, "downstream_execution_id");
	req.up_id = PG_ARGISNULL(3) ? NULL : ff_arg_cstring_required(fcinfo, 3, "upstream_execution_id");

	SPI_connect();
	ff_flow_run_cascade(FF_CASCADE_WAIT, apply_body, &req);
	values[0] = CStringGetTextDatum(req.outcome);
	values[1] = Int32GetDatum(req.unsatisfied);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* ff_set_edge_group_policy */

static void
bad_policy(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_INPUT),
			 errmsg("invalid_input: edge group policy %s", what),
			 errhint("Use {\"kind\": \"all_of\"}, {\"kind\": \"any_of\", \"on_satisfied\": \"cancel_remaining\"|\"let_run\"} "
					 "or {\"kind\": \"quorum\", \"k\": N, \"on_satisfied\": ...}.")));
}

static char *
jsonb_string(const JsonbValue *v, const char *key)
{
	if (v->type != jbvString)
		bad_policy(psprintf("key \"%s\" must be a string", key));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* parse_group_policy reads a policy document into g's policy fields. */
static void
parse_group_policy(Jsonb *policy, FFGroup *g)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;
	const char *kind = NULL;
	const char *on_satisfied = NULL;
	bool		has_k = false;
	int64		k = 0;

	if (!JB_ROOT_IS_OBJECT(policy) || JB_ROOT_IS_SCALAR(policy))
		bad_policy("must be a JSON object");
	it = JsonbIteratorInit(&policy->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			if (strcmp(key, "kind") == 0)
			{
				char	   *s = jsonb_string(&v, key);

				for (const char *const *p = group_kinds; *p; p++)
					if (strcmp(s, *p) == 0)
						kind = *p;
				if (kind == NULL)
					bad_policy(psprintf("kind \"%s\" is unknown", s));
			}
			else if (strcmp(key, "on_satisfied") == 0)
			{
				char	   *s = jsonb_string(&v, key);

				for (const char *const *p = on_satisfied_values; *p; p++)
					if (strcmp(s, *p) == 0)
						on_satisfied = *p;
				if (on_satisfied == NULL)
					bad_policy(psprintf("on_satisfied \"%s\" is unknown", s));
			}
			else if (strcmp(key, "k") == 0)
			{
				char	   *digits;

				if (v.type != jbvNumeric)
					bad_policy("key \"k\" must be a number");
				digits = DatumGetCString(DirectFunctionCall1(numeric_out,
															 NumericGetDatum(v.val.numeric)));
				if (digits[0] == '-' || strspn(digits, "0123456789") != strlen(digits))
					bad_policy("k must be a positive integer");
				if (strlen(digits) > 10 || (k = strtoll(digits, NULL, 10)) > PG_INT32_MAX)
					bad_policy("quorum k exceeds supported maximum");
				has_k = true;
			}
			else
				bad_policy(psprintf("has unknown key \"%s\"", key));
		}
	}
	if (kind == NULL)
		bad_policy("needs a \"kind\"");
	if (strcmp(kind, "all_of") == 0 && (on_satisfied || has_k))
		bad_policy("all_of takes no other keys");
	if (strcmp(kind, "any_of") == 0 && has_k)
		bad_policy("any_of takes no \"k\"");
	if (strcmp(kind, "quorum") == 0)
	{
		if (!has_k)
			bad_policy("quorum needs \"k\"");
		if (k < 1)
			bad_policy("quorum k must be >= 1");
	}
	g->kind = kind;
	g->k = strcmp(kind, "quorum") == 0 ? (int32) k : 0;
	g->on_satisfied = strcmp(kind, "all_of") == 0 ? NULL
		: (on_satisfied ? on_satisfied : "cancel_remaining");
}

PG_FUNCTION_INFO_V1(ff_set_edge_group_policy);
Datum
ff_set_edge_group_policy(PG_FUNCTION_ARGS)
{
	pg_uuid_t	flow_id = ff_flow_arg_uuid(fcinfo, 0, "flow_id");
	char	   *down_id = ff_arg_cstring_required(fcinfo, 1, "downstream_execution_id");
	Jsonb	   *policy;
	FFGroup		wanted;
	FFGroup		g;
	FFFlowRow	flow;
	FFExecKey	down_key;
	FFExecRow	down;
	int64		now = ff_now_ms();
	bool		exists;
	const char *outcome;

	if (PG_ARGISNULL(2))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "policy must not be null");
	policy = PG_GETARG_JSONB_P(2);
	parse_group_policy(policy, &wanted);

	SPI_connect();
	ff_flow_load(&flow_id, &flow, true);
	ff_flow_require_open(&flow);
	load_member(&flow, down_id, &down_key, &down, true);
	exists = group_load(flow.partition, &flow_id, &down_key.uuid, &g, now);
	if (g.staged > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: edge_group_policy_already_fixed: dependencies already staged"),
				 errdetail("%d edge(s) into %s are staged.", g.staged, down_id),
				 errhint("Set the policy before staging the downstream's first edge.")));
	if (exists && strcmp(g.kind, wanted.kind) == 0 && g.k == wanted.k &&
		((g.on_satisfied == NULL && wanted.on_satisfied == NULL) ||
		 (g.on_satisfied && wanted.on_satisfied && strcmp(g.on_satisfied, wanted.on_satisfied) == 0)))
		outcome = "already_set";
	else
	{
		g.kind = wanted.kind;
		g.k = wanted.k;
		g.on_satisfied = wanted.on_satisfied;
		group_store(&g, now);
		outcome = "set";
	}
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

/* ff_wait_children */

/*
 * ff_wait_children: the lease holder waits for its dependencies (typically
 * the children it spawned and made its upstreams). The lease is released
 * and the attempt parked; the execution becomes claimable again, resuming
 * the same attempt, when its edge group is satisfied: at once if it already
 * is or it has no dependencies. Returns the resulting public_state.
 */
PG_FUNCTION_INFO_V1(ff_wait_children);
Datum
ff_wait_children(PG_FUNCTION_ARGS)
{
	bytea	   *raw;
	FFFence		f;
	FFGroup		g;
	bool		waits;
	const char *state;

	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "handle must not be null");
	raw = PG_GETARG_BYTEA_PP(0);

	SPI_connect();
	ff_fence_require(raw, &f);
	if (!f.exec.has_flow)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_IN_FLOW),
				 errmsg("execution_not_in_flow: execution %s belongs to no flow, so it has no children to wait for",
						f.handle.execution_id)));
	waits = group_load(f.exec.key.partition, &f.exec.flow_id, &f.exec.key.uuid, &g, f.now) &&
		strcmp(g.state, "pending") == 0;
	ff_attempt_end(&f.exec, &f.attempt, "suspended", "released", "waiting_children", f.now);
	if (waits)
	{
		ff_exec_set_state(&f.exec, &ff_sv_waiting_children);
		f.exec.blocking_detail = pstrdup("waiting for child executions to complete");
	}
	else
	{
		ff_exec_set_state(&f.exec, &ff_sv_delay_elapsed);
		f.exec.blocking_detail = NULL;
	}
	f.exec.sv.attempt_state = "attempt_interrupted";
	f.exec.delay_until_ms = FF_NULL_MS;
	f.exec.last_mutation_at_ms = f.now;
	ff_exec_store(&f.exec);
	state = ff_derive_public_state(f.exec.sv.lifecycle_phase, f.exec.sv.eligibility_state,
								   f.exec.sv.terminal_outcome);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(state));
}

/* Reconcilers */

static void
dependencies_body(void *arg)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT4OID};
	Datum		v[1];
	SPITupleTable *tt;
	uint64		n;

	ff_prepare(&plan,
			   "SELECT DISTINCT e.partition_key, e.flow_id, e.upstream_execution_id, "
			   "       x.terminal_outcome "
			   "  FROM ff_edge e JOIN ff_execution x "
			   "    ON x.partition_key = e.partition_key AND x.execution_id = e.upstream_execution_id "
			   " WHERE e.applied_at_ms IS NOT NULL AND e.resolution IS NULL "
			   "   AND x.lifecycle_phase = 'terminal' "
			   " LIMIT $1",
			   1, types);
	v[0] = Int32GetDatum(*(int32 *) arg);
	ff_execute(plan, v, NULL, false, 0);
	tt = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		CascadeItem *item = palloc(sizeof(CascadeItem));
		bool		isnull;

		item->key.partition = DatumGetInt16(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		ff_get_uuid(tt->vals[i], tt->tupdesc, 2, &item->flow_id);
		ff_get_uuid(tt->vals[i], tt->tupdesc, 3, &item->key.uuid);
		item->bucket = outcome_bucket(ff_get_cstring(tt->vals[i], tt->tupdesc, 4));
		cascade_queue = lappend(cascade_queue, item);
	}
}

/*
 * ff_reconcile_dependencies resolves applied edges whose upstream is
 * terminal but whose cascade did not run (or skipped a downstream another
 * transaction held), and cascades on from there. Returns how many edges it
 * resolved.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_dependencies);
Datum
ff_reconcile_dependencies(PG_FUNCTION_ARGS)
{
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	int32		resolved;

	SPI_connect();
	ff_flow_run_cascade(FF_CASCADE_SKIP_LOCKED, dependencies_body, &batch);
	resolved = cascade_resolved;
	SPI_finish();
	PG_RETURN_INT32(resolved);
}

typedef struct SiblingBatch
{
	int32		batch;
	int32		settled;
} SiblingBatch;

static void
siblings_body(void *arg)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT4OID};
	SiblingBatch *b = arg;
	Datum		v[1];
	SPITupleTable *tt;
	uint64		n;
	int64		now = ff_now_ms();

	ff_prepare(&plan,
			   "SELECT partition_key, flow_id, downstream_execution_id FROM ff_edge_group "
			   " WHERE cardinality(siblings_cancel_pending) > 0 "
			   " ORDER BY last_mutation_at_ms LIMIT $1",
			   1, types);
	v[0] = Int32GetDatum(b->batch);
	ff_execute(plan, v, NULL, false, 0);
	tt = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		FFExecKey	dkey;
		pg_uuid_t	flow_id;
		FFExecRow	d;
		FFGroup		g;
		List	   *still = NIL;
		ListCell   *lc;
		bool		isnull;

		dkey.partition = DatumGetInt16(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		ff_get_uuid(tt->vals[i], tt->tupdesc, 2, &flow_id);
		ff_get_uuid(tt->vals[i], tt->tupdesc, 3, &dkey.uuid);
		/* a group is written under its downstream's lock */
		if (!ff_flow_exec_lock_skip(&dkey, &d))
			continue;
		if (!group_load(dkey.partition, &flow_id, &dkey.uuid, &g, now))
			continue;
		foreach(lc, g.siblings_pending)
		{
			FFExecKey	key = {dkey.partition, *(pg_uuid_t *) lfirst(lc)};
			FFExecRow	exec;

			if (ff_flow_exec_lock_skip(&key, &exec))
			{
				ff_flow_cancel_execution(&exec, g.siblings_reason ? g.siblings_reason
										 : "sibling_quorum_satisfied", "flow_cascade",
										 g.siblings_reason ? g.siblings_reason
										 : "sibling_quorum_satisfied", now);
				b->settled++;
			}
			else if (ff_exec_load(&key, &exec, false))
				still = lappend(still, lfirst(lc));
			else
				b->settled++;	/* gone */
		}
		g.siblings_pending = still;
		group_store(&g, now);
	}
}

/*
 * ff_reconcile_sibling_cancel finishes sibling cancels a cascade could not
 * do at once (the sibling was held by another transaction). Returns how
 * many pending siblings it settled: cancelled now, or found finished.
 */
PG_FUNCTION_INFO_V1(ff_reconcile_sibling_cancel);
Datum
ff_reconcile_sibling_cancel(PG_FUNCTION_ARGS)
{
	SiblingBatch b;

	b.batch = ff_arg_batch_size(fcinfo, 0);
	b.settled = 0;
	SPI_connect();
	ff_flow_run_cascade(FF_CASCADE_SKIP_LOCKED, siblings_body, &b);
	SPI_finish();
	PG_RETURN_INT32(b.settled);
}
