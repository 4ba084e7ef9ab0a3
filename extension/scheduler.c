/*
 * scheduler.c
 *		Claim grants: the scheduler's fair pick (ff_claim_for_worker), grants
 *		for a named execution (ff_issue_claim_grant), their consumption
 *		(ff_claim_execution), the operator's grant-and-claim in one step,
 *		reclaim grants (RFC-024: ff_issue_reclaim_grant, ff_reclaim_execution,
 *		ff_claim_from_resume_grant), route blocking and the grant reaper.
 *
 * A grant key is
 *		pg:[reclaim:]{fp:N}:<uuid>:<expires_at_ms>:<kid>:<hex>
 * where "<kid>:<hex>" is the waitpoint keystore's token (suspend_hmac.c:
 * HMAC-SHA256 with the active kid) over the message
 *		{fp:N}|<uuid>|<worker_id>|<worker_instance_id>|<expires_at_ms>[|reclaim]
 * Only sha256(key) is stored (ff_claim_grant.grant_id), and consuming a
 * grant deletes it, so a grant is used at most once. Grants do not change
 * the execution's state: a live grant only keeps other workers' claims off
 * the execution; once it expires the execution is on offer again, and
 * ff_reconcile_claim_grants deletes the row.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/pg_prng.h"
#include "common/sha2.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "scheduler.h"
#include "suspend.h"

#define GRANT_HEX_LEN	(2 * FF_HMAC_DIGEST_LEN)

/* What a grant is issued for, and with what. */
typedef struct GrantRequest
{
	const char *worker_id;
	const char *worker_instance_id;
	ArrayType  *capabilities;
	int64		ttl_ms;
	const char *capability_hash;
	const char *route_snapshot_json;
	const char *admission_summary;
	char	   *kid;
	bytea	   *secret;
	int64		now;
} GrantRequest;

/* A presented grant key, parsed. */
typedef struct ParsedGrant
{
	const char *raw;			/* the key as presented */
	bool		reclaim;
	FFExecKey	key;
	int64		expires_at_ms;
	char	   *kid;
	char	   *token;			/* "<kid>:<hex>" */
} ParsedGrant;

/* Argument checks */

/*
 * ff_check_worker_id: worker and worker instance ids are 1..256 bytes
 * without whitespace or control characters.
 */
void
ff_check_worker_id(const char *value, const char *name)
{
	size_t		len = strlen(value);

	if (len > FF_WORKER_ID_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s is %zu bytes long", name, len),
				 errdetail("Worker ids are at most %d bytes.", FF_WORKER_ID_MAX_BYTES)));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) value[i];

		if (c <= 0x20 || c == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: %s has whitespace or a control character at byte %zu",
							name, i)));
	}
}

static char *
arg_worker_id(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *s = ff_arg_cstring_required(fcinfo, argno, name);

	ff_check_worker_id(s, name);
	return s;
}

static int64
arg_ttl(FunctionCallInfo fcinfo, int argno, const char *name, int64 dflt, int64 max)
{
	int64		ttl = PG_ARGISNULL(argno) ? dflt : PG_GETARG_INT64(argno);

	if (ttl <= 0 || ttl > max)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s must be between 1 and %lld", name, (long long) max)));
	return ttl;
}

static ArrayType *
arg_capabilities(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *caps = PG_ARGISNULL(argno) ? construct_empty_array(TEXTOID)
		: PG_GETARG_ARRAYTYPE_P(argno);

	ff_check_capabilities(caps, "capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
	return caps;
}

static char *
arg_text_or_null(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static void
lock_execution(const char *execution_id, FFExecKey *key, FFExecRow *exec)
{
	ff_parse_execution_id(execution_id, key);
	if (!ff_exec_load(key, exec, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_FOUND),
				 errmsg("execution_not_found: execution %s does not exist", execution_id)));
}

/* ff_exec_state_json describes the execution's state for error details. */
char *
ff_exec_state_json(const FFExecRow *exec)
{
	return psprintf("{\"lifecycle_phase\": \"%s\", \"ownership_state\": \"%s\", "
					"\"eligibility_state\": \"%s\", \"attempt_state\": \"%s\", "
					"\"public_state\": \"%s\"}",
					exec->sv.lifecycle_phase, exec->sv.ownership_state,
					exec->sv.eligibility_state, exec->sv.attempt_state,
					ff_derive_public_state(exec->sv.lifecycle_phase, exec->sv.eligibility_state,
										   exec->sv.terminal_outcome));
}

/* The keystore */

static void
signing_key(GrantRequest *r)
{
	if (!ff_signing_key(&r->kid, &r->secret))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: hmac_secret_not_initialized: the waitpoint keystore is empty"),
				 errhint("Claim grants are signed with the waitpoint keystore: run ff_seed_waitpoint_hmac_secret first.")));
}

static void
forget_key(GrantRequest *r)
{
	if (r->secret)
		explicit_bzero(VARDATA_ANY(r->secret), VARSIZE_ANY_EXHDR(r->secret));
}

/* Grant keys */

static char *
grant_message(const FFExecKey *key, const char *worker_id, const char *worker_instance_id,
			  int64 expires_at_ms, bool reclaim)
{
	return psprintf("{fp:%d}|%s|%s|%s|%lld%s", key->partition, ff_uuid_to_cstring(&key->uuid),
					worker_id, worker_instance_id, (long long) expires_at_ms,
					reclaim ? "|reclaim" : "");
}

static bytea *
grant_id_of(const char *grant_key)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea	   *id = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	SET_VARSIZE(id, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) grant_key, strlen(grant_key)) < 0 ||
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(id), PG_SHA256_DIGEST_LENGTH) < 0)
	{
		const char *err = pg_cryptohash_error(ctx);

		pg_cryptohash_free(ctx);
		elog(ERROR, "SHA-256 failed: %s", err);
	}
	pg_cryptohash_free(ctx);
	return id;
}

#define grant_malformed(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_FF_INVALID_TOKEN), \
			 errmsg("invalid_token: " __VA_ARGS__), \
			 errhint("Pass the grant_key exactly as the scheduler returned it.")))

/*
 * grant_parse splits a presented key from the right (the execution id has
 * colons of its own). A reclaim key where a claim key is expected (or the
 * reverse) is refused as invalid_claim_grant.
 */
static void
grant_parse(const char *grant_key, bool want_reclaim, ParsedGrant *g)
{
	const char *p = grant_key;
	const char *colon[3] = {NULL, NULL, NULL};	/* the last three, right to left */
	const char *problem;
	char	   *expires;
	char	   *end;
	int			found = 0;

	g->raw = grant_key;
	if (strncmp(p, "pg:", 3) != 0)
		grant_malformed("claim grant key does not start with \"pg:\"");
	p += 3;
	g->reclaim = strncmp(p, "reclaim:", 8) == 0;
	if (g->reclaim)
		p += 8;
	for (const char *q = p + strlen(p); q > p && found < 3;)
		if (*--q == ':')
			colon[found++] = q;
	if (found < 3)
		grant_malformed("claim grant key malformed; expected pg:{fp:N}:<uuid>:<expires_at_ms>:<kid>:<hex>");

	if (!ff_try_parse_execution_id(pnstrdup(p, colon[2] - p), &g->key, &problem))
		grant_malformed("claim grant key names no execution: %s", problem);
	expires = pnstrdup(colon[2] + 1, colon[1] - colon[2] - 1);
	errno = 0;
	g->expires_at_ms = strtoll(expires, &end, 10);
	if (*expires == '\0' || *end != '\0' || errno != 0 || g->expires_at_ms <= 0)
		grant_malformed("claim grant key has no valid expiry");
	g->kid = pnstrdup(colon[1] + 1, colon[0] - colon[1] - 1);
	g->token = pstrdup(colon[1] + 1);
	if (*g->kid == '\0' || strlen(colon[0] + 1) != GRANT_HEX_LEN ||
		strspn(colon[0] + 1, "0123456789abcdef") != GRANT_HEX_LEN)
		grant_malformed("claim grant key malformed; expected <kid>:<%d lowercase hex digits> at the end",
						GRANT_HEX_LEN);
	if (g->reclaim != want_reclaim)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_CLAIM_GRANT),
				 errmsg("invalid_claim_grant: this is a %s grant", g->reclaim ? "reclaim" : "claim"),
				 errhint("%s", g->reclaim
						 ? "Consume reclaim grants with ff_reclaim_execution or ff_claim_from_resume_grant."
						 : "Consume claim grants with ff_claim_execution.")));
}

/*
 * grant_signature_ok recomputes the token for (key, worker) with the kid's
 * secret (a retired kid still verifies while it is in the keystore) and
 * compares in constant time. A kid not in the keystore is invalid_kid.
 */
static bool
grant_signature_ok(const ParsedGrant *g, const char *worker_id, const char *worker_instance_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(g->kid)};
	bytea	   *secret;
	char	   *expected;
	bool		isnull;
	bool		ok;

	ff_prepare(&plan, "SELECT secret FROM ff_waitpoint_hmac WHERE kid = $1", 1, types);
	ff_execute(plan, v, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_KID),
				 errmsg("invalid_kid: the grant's kid \"%s\" is not in the keystore", g->kid),
				 errhint("The grant was signed by a key that was rotated out and removed, or it is forged.")));
	secret = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											  &isnull));
	expected = ff_token_sign(g->kid, (uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
							 grant_message(&g->key, worker_id, worker_instance_id,
										   g->expires_at_ms, g->reclaim));
	explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
	ok = strlen(expected) == strlen(g->token) &&
		timingsafe_bcmp(expected, g->token, strlen(expected)) == 0;
	explicit_bzero(expected, strlen(expected));
	return ok;
}

static void
raise_forged(const ParsedGrant *g)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_TOKEN),
			 errmsg("invalid_token: the %s grant's signature does not verify for execution %s and this worker",
					g->reclaim ? "reclaim" : "claim", ff_format_execution_id(&g->key)),
			 errhint("The grant was altered, forged, or issued to another worker.")));
}

/* ff_grants_delete deletes every grant of a (locked) execution. */
void
ff_grants_delete(const FFExecKey *key)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid)};

	ff_prepare(&plan, "DELETE FROM ff_claim_grant WHERE partition_key = $1 AND execution_id = $2",
			   2, types);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * grant_consume checks a presented grant against the locked execution's
 * grant rows and uses it up (all of the execution's grants go):
 * forged -> invalid_token, unknown kid -> invalid_kid, another worker's or
 * an already used grant -> invalid_claim_grant, past its expiry ->
 * claim_grant_expired.
 */
static void
grant_consume(const ParsedGrant *g, const char *worker_id, const char *worker_instance_id,
			  int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, BYTEAOID, TEXTOID};
	Datum		v[3];
	const char *kind = g->reclaim ? "reclaim" : "claim";

	ff_prepare(&plan,
			   "SELECT worker_id, worker_instance_id, expires_at_ms FROM ff_claim_grant "
			   "WHERE partition_key = $1 AND grant_id = $2 AND kind = $3 FOR UPDATE",
			   3, types);
	v[0] = Int16GetDatum(g->key.partition);
	v[1] = PointerGetDatum(grant_id_of(g->raw));
	v[2] = CStringGetTextDatum(kind);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *row_worker = ff_get_cstring(t, d, 1);
		char	   *row_instance = ff_get_cstring(t, d, 2);
		int64		row_expires = ff_get_int64(t, d, 3, 0);

		if (row_expires != g->expires_at_ms ||
			!grant_signature_ok(g, row_worker, row_instance))
			raise_forged(g);
		if (strcmp(row_worker, worker_id) != 0 || strcmp(row_instance, worker_instance_id) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_CLAIM_GRANT),
					 errmsg("invalid_claim_grant: the grant for execution %s was issued to another worker",
							ff_format_execution_id(&g->key)),
					 errdetail("Issued to worker %s, instance %s.", row_worker, row_instance)));
		if (row_expires <= now)
			ereport(ERROR,
					(errcode(ERRCODE_FF_CLAIM_GRANT_EXPIRED),
					 errmsg("claim_grant_expired: the %s grant for execution %s expired at %lld",
							kind, ff_format_execution_id(&g->key), (long long) row_expires),
					 errhint("Ask the scheduler for a new grant.")));
	}
	else
	{
		if (!grant_signature_ok(g, worker_id, worker_instance_id))
			raise_forged(g);
		if (g->expires_at_ms <= now)
			ereport(ERROR,
					(errcode(ERRCODE_FF_CLAIM_GRANT_EXPIRED),
					 errmsg("claim_grant_expired: the %s grant for execution %s expired at %lld",
							kind, ff_format_execution_id(&g->key), (long long) g->expires_at_ms),
					 errhint("Ask the scheduler for a new grant.")));
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_CLAIM_GRANT),
				 errmsg("invalid_claim_grant: the %s grant for execution %s was already used or replaced",
						kind, ff_format_execution_id(&g->key)),
				 errhint("A grant is consumed once; ask the scheduler for a new one.")));
	}
	ff_grants_delete(&g->key);
}

/*
 * grant_issue writes a grant of kind for the locked execution. Returns
 * NULL (writing nothing) if a live grant of that kind exists; expired ones
 * are removed first.
 */
static char *
grant_issue(const FFExecRow *exec, bool reclaim, const GrantRequest *r, int64 *expires_out)
{
	static SPIPlanPtr clear_plan = NULL;
	static SPIPlanPtr insert_plan = NULL;
	static const Oid clear_types[4] = {INT2OID, UUIDOID, TEXTOID, INT8OID};
	static const Oid insert_types[14] = {
		INT2OID, BYTEAOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTARRAYOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID
	};
	Datum		v[14];
	char		n[15];
	int64		expires = r->now + r->ttl_ms;
	char	   *token;
	char	   *key;

	ff_prepare(&clear_plan,
			   "WITH gone AS (DELETE FROM ff_claim_grant WHERE partition_key = $1 "
			   "AND execution_id = $2 AND kind = $3 AND expires_at_ms <= $4) "
			   "SELECT 1 FROM ff_claim_grant WHERE partition_key = $1 AND execution_id = $2 "
			   "AND kind = $3 AND expires_at_ms > $4",
			   4, clear_types);
	v[0] = Int16GetDatum(exec->key.partition);
	v[1] = ff_uuid_datum(&exec->key.uuid);
	v[2] = CStringGetTextDatum(reclaim ? "reclaim" : "claim");
	v[3] = Int64GetDatum(r->now);
	ff_execute(clear_plan, v, NULL, false, 1);
	if (SPI_processed > 0)
		return NULL;

	token = ff_token_sign(r->kid, (uint8 *) VARDATA_ANY(r->secret), VARSIZE_ANY_EXHDR(r->secret),
						  grant_message(&exec->key, r->worker_id, r->worker_instance_id, expires,
										reclaim));
	key = psprintf("pg:%s{fp:%d}:%s:%lld:%s", reclaim ? "reclaim:" : "", exec->key.partition,
				   ff_uuid_to_cstring(&exec->key.uuid), (long long) expires, token);

	ff_prepare(&insert_plan,
			   "INSERT INTO ff_claim_grant (partition_key, grant_id, execution_id, kind, worker_id, "
			   "worker_instance_id, lane_id, capability_hash, worker_capabilities, "
			   "route_snapshot_json, admission_summary, grant_ttl_ms, issued_at_ms, expires_at_ms) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
			   14, insert_types);
	memset(n, ' ', sizeof(n));
	n[14] = '\0';
	v[0] = Int16GetDatum(exec->key.partition);
	v[1] = PointerGetDatum(grant_id_of(key));
	v[2] = ff_uuid_datum(&exec->key.uuid);
	v[3] = CStringGetTextDatum(reclaim ? "reclaim" : "claim");
	v[4] = CStringGetTextDatum(r->worker_id);
	v[5] = CStringGetTextDatum(r->worker_instance_id);
	v[6] = CStringGetTextDatum(exec->lane_id);
	v[7] = ff_text_datum(r->capability_hash, &n[7]);
	v[8] = PointerGetDatum(r->capabilities);
	v[9] = ff_text_datum(r->route_snapshot_json, &n[9]);
	v[10] = ff_text_datum(r->admission_summary, &n[10]);
	v[11] = Int64GetDatum(r->ttl_ms);
	v[12] = Int64GetDatum(r->now);
	v[13] = Int64GetDatum(expires);
	ff_execute(insert_plan, v, n, false, 0);
	*expires_out = expires;
	return key;
}

/*
 * check_capabilities raises capability_mismatch (the missing tokens, sorted,
 * in the detail) unless the worker has every capability the execution needs.
 */
static void
check_capabilities(const FFExecKey *key, ArrayType *caps)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT2OID, UUIDOID, TEXTARRAYOID};
	Datum		v[3] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid), PointerGetDatum(caps)};

	ff_prepare(&plan,
			   "SELECT required_capabilities <@ $3, "
			   "       (SELECT string_agg(c, ',' ORDER BY c COLLATE \"C\") "
			   "          FROM unnest(required_capabilities) c WHERE NOT c = ANY ($3)) "
			   "FROM ff_execution WHERE partition_key = $1 AND execution_id = $2",
			   3, types);
	ff_execute(plan, v, NULL, false, 1);
	if (!ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))
		ereport(ERROR,
				(errcode(ERRCODE_FF_CAPABILITY_MISMATCH),
				 errmsg("capability_mismatch: the worker lacks capabilities the execution requires"),
				 errdetail("%s", ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2))));
}

/* Claimability */

static bool
is_reclaimable(const FFExecRow *exec)
{
	return ff_exec_is(exec, "active") &&
		(strcmp(exec->sv.ownership_state, "lease_expired_reclaimable") == 0 ||
		 strcmp(exec->sv.ownership_state, "lease_revoked") == 0);
}

static bool
is_eligible(const FFExecRow *exec)
{
	return ff_exec_is(exec, "runnable") && strcmp(exec->sv.eligibility_state, "eligible_now") == 0;
}

/* lane_allows: the lane hands out this work (paused: nothing; draining: started work) */
static bool
lane_allows(const FFExecRow *exec)
{
	bool		started_only;

	if (!ff_lane_claims(exec->lane_id, &started_only))
		return false;
	return !started_only || is_reclaimable(exec) ||
		strcmp(exec->sv.attempt_state, "attempt_interrupted") == 0;
}

/*
 * check_claimable raises unless a claim may lease the execution now:
 * terminal -> execution_not_active, leased -> lease_conflict, anything
 * else not eligible (or reclaim-only when !allow_reclaim) ->
 * execution_not_leaseable.
 */
static void
check_claimable(const FFExecRow *exec, bool allow_reclaim, bool check_lane)
{
	const char *id = ff_format_execution_id(&exec->key);

	if (ff_exec_is(exec, "terminal"))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ACTIVE),
				 errmsg("execution_not_active: execution %s is terminal (%s)", id,
						exec->sv.terminal_outcome),
				 errdetail("%s", ff_exec_state_json(exec))));
	if (ff_exec_is(exec, "active") && strcmp(exec->sv.ownership_state, "leased") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_LEASE_CONFLICT),
				 errmsg("lease_conflict: execution %s is leased to a worker", id),
				 errdetail("%s", ff_exec_state_json(exec))));
	if (!is_eligible(exec) && !(allow_reclaim && is_reclaimable(exec)))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_LEASEABLE),
				 errmsg("execution_not_leaseable: execution %s is not claimable now", id),
				 errdetail("%s", ff_exec_state_json(exec)),
				 errhint("%s", is_reclaimable(exec)
						 ? "Its lease expired or was revoked: reclaim it with a reclaim grant."
						 : "Ask the scheduler for work that is eligible now.")));
	if (check_lane && !lane_allows(exec))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_LEASEABLE),
				 errmsg("execution_not_leaseable: lane %s is paused or draining", exec->lane_id),
				 errhint("ff_resume_lane lets the lane hand out work again.")));
}

/* Results */

static bytea *
input_payload_of(const FFExecKey *key)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT2OID, UUIDOID};
	Datum		v[2] = {Int16GetDatum(key->partition), ff_uuid_datum(&key->uuid)};
	bool		isnull;
	Datum		d;

	ff_prepare(&plan,
			   "SELECT input_payload FROM ff_execution WHERE partition_key = $1 AND execution_id = $2",
			   2, types);
	ff_execute(plan, v, NULL, false, 1);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetByteaPCopy(d);
}

/*
 * claimed_values fills a claim row: handle, execution_id, attempt_index,
 * attempt_type, lease_epoch, lease_expires_at_ms, input_payload.
 */
static void
claimed_values(const FFExecRow *exec, const FFAttemptRow *attempt, bytea *handle,
			   Datum *values, bool *nulls)
{
	bytea	   *payload = input_payload_of(&exec->key);

	memset(nulls, false, 7 * sizeof(bool));
	values[0] = PointerGetDatum(handle);
	values[1] = CStringGetTextDatum(ff_format_execution_id(&exec->key));
	values[2] = Int32GetDatum(attempt->attempt_index);
	values[3] = CStringGetTextDatum(attempt->attempt_type);
	values[4] = Int64GetDatum(attempt->lease_epoch);
	values[5] = Int64GetDatum(attempt->lease_expires_at_ms);
	values[6] = payload ? PointerGetDatum(payload) : (Datum) 0;
	nulls[6] = payload == NULL;
}

static void
put_grant(FunctionCallInfo fcinfo, const FFExecRow *exec, const char *key, int64 expires)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(ff_format_execution_id(&exec->key));
	values[1] = CStringGetTextDatum(psprintf("{fp:%d}", exec->key.partition));
	values[2] = CStringGetTextDatum(exec->lane_id);
	values[3] = CStringGetTextDatum(key);
	values[4] = Int64GetDatum(expires);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * ff_issue_claim_grant: a grant for one named execution (runnable, eligible
 * now, on a lane handing out work) to a worker that has its capabilities.
 */
PG_FUNCTION_INFO_V1(ff_issue_claim_grant);
Datum
ff_issue_claim_grant(PG_FUNCTION_ARGS)
{
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	GrantRequest r = {0};
	FFExecKey	key;
	FFExecRow	exec;
	char	   *grant_key;
	int64		expires;

	r.worker_id = arg_worker_id(fcinfo, 1, "worker_id");
	r.worker_instance_id = arg_worker_id(fcinfo, 2, "worker_instance_id");
	r.capabilities = arg_capabilities(fcinfo, 3);
	r.ttl_ms = arg_ttl(fcinfo, 4, "grant_ttl_ms", FF_DEFAULT_GRANT_TTL_MS, FF_MAX_GRANT_TTL_MS);
	r.capability_hash = arg_text_or_null(fcinfo, 5);
	r.route_snapshot_json = arg_text_or_null(fcinfo, 6);
	r.admission_summary = arg_text_or_null(fcinfo, 7);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	signing_key(&r);
	lock_execution(execution_id, &key, &exec);
	r.now = ff_now_ms();
	if (!is_eligible(&exec) || !lane_allows(&exec))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ELIGIBLE),
				 errmsg("execution_not_eligible: execution %s is not eligible for a claim grant",
						execution_id),
				 errdetail("%s", ff_exec_state_json(&exec)),
				 errhint("Grants are issued for runnable executions eligible now, on lanes that are not paused.")));
	check_capabilities(&key, r.capabilities);
	grant_key = grant_issue(&exec, false, &r, &expires);
	forget_key(&r);
	if (grant_key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FF_GRANT_ALREADY_EXISTS),
				 errmsg("grant_already_exists: execution %s already has a live claim grant", execution_id),
				 errhint("Wait until it is consumed or expires.")));
	put_grant(fcinfo, &exec, grant_key, expires);
	SPI_finish();
	return (Datum) 0;
}

/*
 * The scheduler's pick. Lanes are served round-robin, and within a lane the
 * highest priority first, the partitions of that priority round-robin, the
 * oldest first within a partition. The round-robin cursors live in the
 * session (a worker's connection), start at random, and move past what was
 * served, so a flooded partition or lane gets its turn but never all of
 * them; candidates the worker cannot run are filtered in the scan, so a
 * high-priority execution nobody can run hides nothing.
 */
typedef struct LaneCursor
{
	char		lane_id[FF_LANE_ID_MAX_BYTES + 1];
	int			next_partition;
} LaneCursor;

static HTAB *lane_cursors = NULL;
static uint32 next_lane = 0;
static bool next_lane_set = false;

static LaneCursor *
lane_cursor(const char *lane_id)
{
	LaneCursor *c;
	bool		found;
	char		keybuf[FF_LANE_ID_MAX_BYTES + 1];

	if (lane_cursors == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = FF_LANE_ID_MAX_BYTES + 1;
		ctl.entrysize = sizeof(LaneCursor);
		ctl.hcxt = TopMemoryContext;
		lane_cursors = hash_create("flowfabric scheduler lane cursors", 64, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	memset(keybuf, 0, sizeof(keybuf));
	strlcpy(keybuf, lane_id, sizeof(keybuf));
	c = hash_search(lane_cursors, keybuf, HASH_ENTER, &found);
	if (!found)
		c->next_partition = (int) pg_prng_uint64_range(&pg_global_prng_state, 0,
													   FF_NUM_FLOW_PARTITIONS - 1);
	return c;
}

/* the candidate filter every pick query shares ($1 lane .. $6 now) */
#define PICK_FILTER \
	"lane_id = $1 AND eligibility_state = 'eligible_now' AND lifecycle_phase = 'runnable' " \
	"AND required_capabilities <@ $2 " \
	"AND (NOT $3 OR attempt_state = 'attempt_interrupted') " \
	"AND NOT EXISTS (SELECT 1 FROM ff_claim_grant g WHERE g.partition_key = e.partition_key " \
	"                AND g.execution_id = e.execution_id AND g.expires_at_ms > $4) "

/*
 * pick_locked locks the next candidate of the lane for the worker into
 * *exec; false when the lane has nothing for it.
 */
static bool
pick_locked(const char *lane_id, ArrayType *caps, bool started_only, int64 now, FFExecRow *exec)
{
	static SPIPlanPtr top_plan = NULL;
	static SPIPlanPtr from_plan = NULL;
	static SPIPlanPtr before_plan = NULL;
	static SPIPlanPtr any_plan = NULL;
	static SPIPlanPtr grant_plan = NULL;
	static const Oid types[6] = {TEXTOID, TEXTARRAYOID, BOOLOID, INT8OID, INT4OID, INT2OID};
	static const Oid grant_types[3] = {INT2OID, UUIDOID, INT8OID};
	LaneCursor *cursor = lane_cursor(lane_id);
	Datum		v[6];

	v[0] = CStringGetTextDatum(lane_id);
	v[1] = PointerGetDatum(caps);
	v[2] = BoolGetDatum(started_only);
	v[3] = Int64GetDatum(now);
	ff_prepare(&top_plan,
			   "SELECT priority FROM ff_execution e WHERE " PICK_FILTER
			   "ORDER BY priority DESC LIMIT 1",
			   4, types);
	ff_prepare(&from_plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution e WHERE " PICK_FILTER
			   "AND priority = $5 AND partition_key >= $6 "
			   "ORDER BY partition_key, created_at_ms LIMIT 1 FOR UPDATE OF e SKIP LOCKED",
			   6, types);
	ff_prepare(&before_plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution e WHERE " PICK_FILTER
			   "AND priority = $5 AND partition_key < $6 "
			   "ORDER BY partition_key, created_at_ms LIMIT 1 FOR UPDATE OF e SKIP LOCKED",
			   6, types);
	ff_prepare(&any_plan,
			   "SELECT " FF_EXEC_COLUMNS " FROM ff_execution e WHERE " PICK_FILTER
			   "ORDER BY priority DESC, created_at_ms LIMIT 1 FOR UPDATE OF e SKIP LOCKED",
			   4, types);
	ff_prepare(&grant_plan,
			   "SELECT 1 FROM ff_claim_grant WHERE partition_key = $1 AND execution_id = $2 "
			   "AND expires_at_ms > $3",
			   3, grant_types);

	/* a grant committed after a query's snapshot is seen by the next query */
	for (int tries = 0; tries < 10; tries++)
	{
		Datum		gv[3];

		ff_execute(top_plan, v, NULL, false, 1);
		if (SPI_processed == 0)
			return false;
		v[4] = Int32GetDatum(ff_get_int32(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 0));
		v[5] = Int16GetDatum((int16) cursor->next_partition);
		ff_execute(from_plan, v, NULL, false, 1);
		if (SPI_processed == 0)
			ff_execute(before_plan, v, NULL, false, 1);
		/* every row at that priority is held by other claimers: any priority */
		if (SPI_processed == 0)
			ff_execute(any_plan, v, NULL, false, 1);
		if (SPI_processed == 0)
			return false;
		ff_exec_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, exec);

		gv[0] = Int16GetDatum(exec->key.partition);
		gv[1] = ff_uuid_datum(&exec->key.uuid);
		gv[2] = Int64GetDatum(now);
		ff_execute(grant_plan, gv, NULL, false, 1);
		if (SPI_processed == 0)
		{
			cursor->next_partition = (exec->key.partition + 1) % FF_NUM_FLOW_PARTITIONS;
			return true;
		}
	}
	return false;
}

PG_FUNCTION_INFO_V1(ff_claim_for_worker);
Datum
ff_claim_for_worker(PG_FUNCTION_ARGS)
{
	ArrayType  *lanes_arr;
	Datum	   *lanes;
	bool	   *lane_nulls;
	int			nlanes;
	GrantRequest r = {0};

	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lanes must not be null");
	lanes_arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(lanes_arr) > 1)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lanes must be a one-dimensional array");
	deconstruct_array(lanes_arr, TEXTOID, -1, false, TYPALIGN_INT, &lanes, &lane_nulls, &nlanes);
	if (nlanes < 1 || nlanes > FF_SCHED_MAX_LANES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: lanes must name 1 to %d lanes", FF_SCHED_MAX_LANES)));
	for (int i = 0; i < nlanes; i++)
	{
		char	   *lane;

		if (lane_nulls[i])
			ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lanes must not contain null");
		lane = TextDatumGetCString(lanes[i]);
		ff_check_lane(lane, strlen(lane));
	}
	r.worker_id = arg_worker_id(fcinfo, 1, "worker_id");
	r.worker_instance_id = arg_worker_id(fcinfo, 2, "worker_instance_id");
	r.capabilities = arg_capabilities(fcinfo, 3);
	r.ttl_ms = arg_ttl(fcinfo, 4, "grant_ttl_ms", FF_DEFAULT_GRANT_TTL_MS, FF_MAX_GRANT_TTL_MS);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	signing_key(&r);
	r.now = ff_now_ms();
	if (!next_lane_set)
	{
		next_lane = (uint32) pg_prng_uint32(&pg_global_prng_state);
		next_lane_set = true;
	}
	for (int i = 0; i < nlanes; i++)
	{
		int			idx = (int) ((next_lane + (uint32) i) % (uint32) nlanes);
		char	   *lane = TextDatumGetCString(lanes[idx]);
		bool		started_only;
		FFExecRow	exec;
		char	   *grant_key;
		int64		expires;

		if (!ff_lane_claims(lane, &started_only) ||
			!pick_locked(lane, r.capabilities, started_only, r.now, &exec))
			continue;
		grant_key = grant_issue(&exec, false, &r, &expires);
		if (grant_key == NULL)
			elog(ERROR, "a live grant appeared on locked execution %s",
				 ff_format_execution_id(&exec.key));
		put_grant(fcinfo, &exec, grant_key, expires);
		next_lane = (uint32) idx + 1;
		break;
	}
	forget_key(&r);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_claim_execution consumes a claim grant: the grant is checked
 * (signature, worker, expiry, not used before), then the execution is
 * claimed exactly as ff_claim would claim it (no row if its budgets or
 * quota hold it back).
 */
PG_FUNCTION_INFO_V1(ff_claim_execution);
Datum
ff_claim_execution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *grant_key = ff_arg_cstring_required(fcinfo, 1, "grant_key");
	char	   *worker_id = arg_worker_id(fcinfo, 2, "worker_id");
	char	   *worker_instance_id = arg_worker_id(fcinfo, 3, "worker_instance_id");
	int64		ttl = arg_ttl(fcinfo, 4, "lease_ttl_ms", 30000, FF_MAX_LEASE_TTL_MS);
	ParsedGrant g;
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	bytea	   *handle;
	int64		now;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	ff_parse_execution_id(execution_id, &key);
	grant_parse(grant_key, false, &g);
	if (g.key.partition != key.partition || memcmp(&g.key.uuid, &key.uuid, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_CLAIM_GRANT),
				 errmsg("invalid_claim_grant: the grant is for execution %s, not %s",
						ff_format_execution_id(&g.key), ff_format_execution_id(&key))));

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	grant_consume(&g, worker_id, worker_instance_id, now);
	check_claimable(&exec, false, true);
	/* no row: a budget or quota held it back (the grant is used up) */
	if (ff_claim_locked(&exec, &attempt, worker_id, worker_instance_id, ttl, now, &handle))
	{
		claimed_values(&exec, &attempt, handle, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_issue_grant_and_claim: the operator leases a named execution in one
 * step (eligible now, or reclaimable), whatever the lane's state or other
 * workers' grants, which it removes. No row if the reclaim cap failed it or
 * its budgets or quota held it back.
 */
PG_FUNCTION_INFO_V1(ff_issue_grant_and_claim);
Datum
ff_issue_grant_and_claim(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	int64		ttl = arg_ttl(fcinfo, 1, "lease_ttl_ms", 30000, FF_MAX_LEASE_TTL_MS);
	char	   *worker_id = arg_worker_id(fcinfo, 2, "worker_id");
	char	   *worker_instance_id = arg_worker_id(fcinfo, 3, "worker_instance_id");
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	bytea	   *handle;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	check_claimable(&exec, true, false);
	ff_grants_delete(&key);
	if (ff_claim_locked(&exec, &attempt, worker_id, worker_instance_id, ttl, ff_now_ms(), &handle))
	{
		claimed_values(&exec, &attempt, handle, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* Reclaim (RFC-024) */

static void
check_reclaimable(const FFExecRow *exec)
{
	bool		started_only;

	if (!is_reclaimable(exec))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_RECLAIMABLE),
				 errmsg("execution_not_reclaimable: execution %s has no expired or revoked lease",
						ff_format_execution_id(&exec->key)),
				 errdetail("%s", ff_exec_state_json(exec)),
				 errhint("A lease that ran out becomes reclaimable once ff_reconcile_lease_expiry marks it.")));
	if (!ff_lane_claims(exec->lane_id, &started_only))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_RECLAIMABLE),
				 errmsg("execution_not_reclaimable: lane %s is paused", exec->lane_id),
				 errhint("ff_resume_lane lets the lane hand out work again.")));
}

/*
 * reclaim_cap_reached: the next reclaim would pass the policy's
 * max_reclaim_count. Then the claim path's own cap rule (claim.c) fails
 * the execution ("max_reclaims_exceeded") and true is returned.
 */
static bool
reclaim_cap_reached(FFExecRow *exec, const char *worker_id, const char *worker_instance_id,
					int64 now)
{
	FFPolicy	policy;
	FFAttemptRow attempt;
	bytea	   *handle;

	ff_policy_parse(exec->policy, &policy);
	if (exec->reclaim_count < policy.max_reclaim_count)
		return false;
	if (ff_claim_locked(exec, &attempt, worker_id, worker_instance_id, 1, now, &handle))
		elog(ERROR, "reclaim past the cap leased execution %s", ff_format_execution_id(&exec->key));
	return true;
}

PG_FUNCTION_INFO_V1(ff_issue_reclaim_grant);
Datum
ff_issue_reclaim_grant(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	GrantRequest r = {0};
	FFExecKey	key;
	FFExecRow	exec;
	char	   *grant_key = NULL;
	int64		expires = 0;
	bool		capped;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	r.worker_id = arg_worker_id(fcinfo, 1, "worker_id");
	r.worker_instance_id = arg_worker_id(fcinfo, 2, "worker_instance_id");
	r.capabilities = arg_capabilities(fcinfo, 3);
	r.ttl_ms = arg_ttl(fcinfo, 4, "grant_ttl_ms", FF_DEFAULT_GRANT_TTL_MS, FF_MAX_GRANT_TTL_MS);
	r.capability_hash = arg_text_or_null(fcinfo, 5);
	r.route_snapshot_json = arg_text_or_null(fcinfo, 6);
	r.admission_summary = arg_text_or_null(fcinfo, 7);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	signing_key(&r);
	lock_execution(execution_id, &key, &exec);
	r.now = ff_now_ms();
	check_reclaimable(&exec);
	check_capabilities(&key, r.capabilities);
	capped = reclaim_cap_reached(&exec, r.worker_id, r.worker_instance_id, r.now);
	if (!capped)
	{
		grant_key = grant_issue(&exec, true, &r, &expires);
		if (grant_key == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FF_GRANT_ALREADY_EXISTS),
					 errmsg("grant_already_exists: execution %s already has a live reclaim grant",
							execution_id),
					 errhint("Wait until it is consumed or expires.")));
	}
	forget_key(&r);

	values[0] = CStringGetTextDatum(capped ? "reclaim_cap_exceeded" : "granted");
	values[1] = CStringGetTextDatum(ff_format_execution_id(&key));
	values[2] = CStringGetTextDatum(psprintf("{fp:%d}", key.partition));
	values[3] = CStringGetTextDatum(exec.lane_id);
	values[4] = grant_key ? CStringGetTextDatum(grant_key) : (Datum) 0;
	nulls[4] = grant_key == NULL;
	values[5] = Int64GetDatum(expires);
	nulls[5] = grant_key == NULL;
	values[6] = Int32GetDatum(exec.reclaim_count);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	SPI_finish();
	return (Datum) 0;
}

/*
 * reclaim_with_grant: lock the grant's execution, use up the grant and, if
 * the execution is (still) reclaimable, reclaim it. *outcome is "claimed",
 * "reclaim_cap_exceeded" (the execution failed) or "not_reclaimable"
 * (raised instead when strict).
 */
static const char *
reclaim_with_grant(const ParsedGrant *g, const char *execution_id, const char *worker_id,
				   const char *worker_instance_id, int64 ttl, bool strict, FFExecRow *exec,
				   FFAttemptRow *attempt, bytea **handle)
{
	FFExecKey	key;
	int64		now;

	lock_execution(execution_id, &key, exec);
	now = ff_now_ms();
	grant_consume(g, worker_id, worker_instance_id, now);
	if (strict)
		check_reclaimable(exec);
	else
	{
		bool		started_only;

		if (!is_reclaimable(exec) || !ff_lane_claims(exec->lane_id, &started_only))
			return "not_reclaimable";
	}
	if (!ff_claim_locked(exec, attempt, worker_id, worker_instance_id, ttl, now, handle))
		return "reclaim_cap_exceeded";
	return "claimed";
}

PG_FUNCTION_INFO_V1(ff_reclaim_execution);
Datum
ff_reclaim_execution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *grant_key = ff_arg_cstring_required(fcinfo, 1, "grant_key");
	char	   *worker_id = arg_worker_id(fcinfo, 2, "worker_id");
	char	   *worker_instance_id = arg_worker_id(fcinfo, 3, "worker_instance_id");
	int64		ttl = arg_ttl(fcinfo, 4, "lease_ttl_ms", 30000, FF_MAX_LEASE_TTL_MS);
	ParsedGrant g;
	FFExecKey	key;
	FFExecRow	exec;
	FFAttemptRow attempt;
	bytea	   *handle = NULL;
	const char *outcome;
	Datum		values[9];
	bool		nulls[9];

	ff_parse_execution_id(execution_id, &key);
	grant_parse(grant_key, true, &g);
	if (g.key.partition != key.partition || memcmp(&g.key.uuid, &key.uuid, sizeof(pg_uuid_t)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_CLAIM_GRANT),
				 errmsg("invalid_claim_grant: the grant is for execution %s, not %s",
						ff_format_execution_id(&g.key), ff_format_execution_id(&key))));

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	outcome = reclaim_with_grant(&g, execution_id, worker_id, worker_instance_id, ttl, true,
								 &exec, &attempt, &handle);
	memset(nulls, true, sizeof(nulls));
	values[0] = CStringGetTextDatum(outcome);
	nulls[0] = false;
	if (strcmp(outcome, "claimed") == 0)
		claimed_values(&exec, &attempt, handle, values + 1, nulls + 1);
	else
	{
		values[2] = CStringGetTextDatum(ff_format_execution_id(&key));
		nulls[2] = false;
	}
	values[8] = Int32GetDatum(exec.reclaim_count);
	nulls[8] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_claim_from_resume_grant (RFC-024's name for claiming with a resume
 * token): the reclaim grant names the execution. No row when there is
 * nothing to resume any more (the grant is used up all the same) or the
 * reclaim cap failed the execution.
 */
PG_FUNCTION_INFO_V1(ff_claim_from_resume_grant);
Datum
ff_claim_from_resume_grant(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *grant_key = ff_arg_cstring_required(fcinfo, 0, "grant_key");
	char	   *worker_id = arg_worker_id(fcinfo, 1, "worker_id");
	char	   *worker_instance_id = arg_worker_id(fcinfo, 2, "worker_instance_id");
	int64		ttl = arg_ttl(fcinfo, 3, "lease_ttl_ms", 30000, FF_MAX_LEASE_TTL_MS);
	ParsedGrant g;
	FFExecRow	exec;
	FFAttemptRow attempt;
	bytea	   *handle = NULL;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	grant_parse(grant_key, true, &g);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (strcmp(reclaim_with_grant(&g, ff_format_execution_id(&g.key), worker_id,
								  worker_instance_id, ttl, false, &exec, &attempt, &handle),
			   "claimed") == 0)
	{
		claimed_values(&exec, &attempt, handle, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * ff_reconcile_claim_grants deletes expired grants (their executions were
 * back on offer from the moment they expired).
 */
PG_FUNCTION_INFO_V1(ff_reconcile_claim_grants);
Datum
ff_reconcile_claim_grants(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT4OID};
	int32		batch = ff_arg_batch_size(fcinfo, 0);
	Datum		v[2];
	int32		deleted;

	SPI_connect();
	ff_prepare(&plan,
			   "DELETE FROM ff_claim_grant WHERE ctid = ANY (ARRAY("
			   "SELECT ctid FROM ff_claim_grant WHERE expires_at_ms <= $1 "
			   "ORDER BY expires_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED))",
			   2, types);
	v[0] = Int64GetDatum(ff_now_ms());
	v[1] = Int32GetDatum(batch);
	ff_execute(plan, v, NULL, false, 0);
	deleted = (int32) SPI_processed;
	SPI_finish();
	PG_RETURN_INT32(deleted);
}

/* Route blocking */

static const struct
{
	const char *reason;
	const char *eligibility;
}			block_reasons[] = {
	{"waiting_for_capable_worker", "blocked_by_route"},
	{"waiting_for_budget", "blocked_by_budget"},
	{"waiting_for_quota", "blocked_by_quota"},
	{"paused_by_operator", "blocked_by_operator"},
	{"paused_by_policy", "blocked_by_lane_state"},
};

static bool
is_blocked(const FFExecRow *exec)
{
	for (size_t i = 0; i < lengthof(block_reasons); i++)
		if (strcmp(exec->sv.eligibility_state, block_reasons[i].eligibility) == 0)
			return true;
	return false;
}

static void
put_block_result(FunctionCallInfo fcinfo, MemoryContext outer, const FFExecRow *exec,
				 Datum *result)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(exec->sv.eligibility_state);
	values[1] = CStringGetTextDatum(exec->sv.blocking_reason);
	values[2] = exec->blocking_detail ? CStringGetTextDatum(exec->blocking_detail) : (Datum) 0;
	nulls[2] = exec->blocking_detail == NULL;
	values[3] = CStringGetTextDatum(ff_derive_public_state(exec->sv.lifecycle_phase,
														   exec->sv.eligibility_state,
														   exec->sv.terminal_outcome));
	*result = ff_result_row(fcinfo, outer, values, nulls);
}

/*
 * ff_block_route holds a runnable execution back (blocked_by_route for
 * waiting_for_capable_worker, or the eligibility the reason maps to) until
 * ff_unblock_execution. Blocking a blocked execution again changes the
 * reason.
 */
PG_FUNCTION_INFO_V1(ff_block_route);
Datum
ff_block_route(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *reason = PG_ARGISNULL(1) ? pstrdup("waiting_for_capable_worker")
		: text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *detail = arg_text_or_null(fcinfo, 2);
	const char *eligibility = NULL;
	FFExecKey	key;
	FFExecRow	exec;
	int64		now;
	Datum		result;

	for (size_t i = 0; i < lengthof(block_reasons); i++)
		if (strcmp(reason, block_reasons[i].reason) == 0)
			eligibility = block_reasons[i].eligibility;
	if (eligibility == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_BLOCKING_REASON),
				 errmsg("invalid_blocking_reason: \"%s\" is not a blocking reason", reason),
				 errhint("Use waiting_for_capable_worker, waiting_for_budget, waiting_for_quota, paused_by_operator or paused_by_policy.")));
	if (detail && strlen(detail) > 1024)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "reason_detail is longer than 1024 bytes");

	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	if (ff_exec_is(&exec, "terminal"))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ACTIVE),
				 errmsg("execution_not_active: execution %s is terminal", execution_id),
				 errdetail("%s", ff_exec_state_json(&exec))));
	if (!ff_exec_is(&exec, "runnable") ||
		(strcmp(exec.sv.eligibility_state, "eligible_now") != 0 && !is_blocked(&exec)))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ELIGIBLE),
				 errmsg("execution_not_eligible: execution %s is not waiting for a worker", execution_id),
				 errdetail("%s", ff_exec_state_json(&exec)),
				 errhint("Only runnable executions that are eligible now (or already blocked) can be blocked.")));
	exec.sv.eligibility_state = ff_intern_literal(eligibility);
	exec.sv.blocking_reason = ff_intern_literal(reason);
	exec.blocking_detail = detail;
	exec.last_mutation_at_ms = now;
	ff_exec_store(&exec);
	ff_emit_operator_event("blocked", &exec, NULL, NULL, NULL,
						   psprintf("{\"blocking_reason\": %s, \"eligibility_state\": %s, \"detail\": %s}",
									ff_json_quote(reason), ff_json_quote(eligibility),
									ff_json_quote(detail)), now);
	put_block_result(fcinfo, outer, &exec, &result);
	SPI_finish();
	return result;
}

/*
 * ff_unblock_execution makes a blocked execution eligible again, optionally
 * only if it is blocked for expected_blocking_reason.
 */
PG_FUNCTION_INFO_V1(ff_unblock_execution);
Datum
ff_unblock_execution(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *execution_id = ff_arg_cstring_required(fcinfo, 0, "execution_id");
	char	   *expected = arg_text_or_null(fcinfo, 1);
	FFExecKey	key;
	FFExecRow	exec;
	const char *was;
	int64		now;
	Datum		result;

	SPI_connect();
	lock_execution(execution_id, &key, &exec);
	now = ff_now_ms();
	if (!ff_exec_is(&exec, "runnable") || !is_blocked(&exec))
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ELIGIBLE),
				 errmsg("execution_not_eligible: execution %s is not blocked", execution_id),
				 errdetail("%s", ff_exec_state_json(&exec))));
	if (expected && strcmp(expected, exec.sv.blocking_reason) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_EXECUTION_NOT_ELIGIBLE),
				 errmsg("execution_not_eligible: execution %s is blocked for %s, not %s", execution_id,
						exec.sv.blocking_reason, expected)));
	was = exec.sv.blocking_reason;
	/* eligible now, waiting for a worker; the attempt state is kept */
	ff_exec_set_state(&exec, &ff_sv_delay_elapsed);
	exec.blocking_detail = NULL;
	exec.last_mutation_at_ms = now;
	ff_exec_store(&exec);
	ff_emit_operator_event("unblocked", &exec, NULL, NULL, NULL,
						   psprintf("{\"previous_blocking_reason\": %s}", ff_json_quote(was)), now);
	put_block_result(fcinfo, outer, &exec, &result);
	SPI_finish();
	return result;
}
