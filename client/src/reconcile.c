/*
 * reconcile.c - the four one-shot reconcilers (ff_reconcile_*). Each call is
 * one pass in its own transaction; the engine returns how many executions it
 * changed.
 */
#include <string.h>

#include "internal.h"

static const ffc_stmt st_lease_expiry = {
	"ff_c_rec_lease_expiry", "SELECT ff_reconcile_lease_expiry($1)", 1, {FFC_INT4OID}, true
};
static const ffc_stmt st_attempt_timeout = {
	"ff_c_rec_attempt_timeout", "SELECT ff_reconcile_attempt_timeout($1)", 1, {FFC_INT4OID}, true
};
static const ffc_stmt st_delayed_promotion = {
	"ff_c_rec_delayed_promotion", "SELECT ff_reconcile_delayed_promotion($1)", 1, {FFC_INT4OID}, true
};
static const ffc_stmt st_execution_deadline = {
	"ff_c_rec_execution_deadline", "SELECT ff_reconcile_execution_deadline($1)", 1, {FFC_INT4OID}, true
};

static ff_status
reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size, int32_t *changed)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	int32_t		n = 0;

	if (changed)
		*changed = 0;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size, batch_size == 0);
	s = ffc_exec(c, st, &p, &res);
	ffc_params_free(&p);
	if (s != FF_OK)
		return s;
	s = ffc_expect_columns(c, res, 1);
	if (s == FF_OK && PQntuples(res) != 1)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", PQntuples(res));
	if (s == FF_OK)
		s = ffc_get_int32(c, res, 0, 0, &n);
	PQclear(res);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}

ff_status
ff_client_reconcile_lease_expiry(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_lease_expiry, batch_size, changed);
}

ff_status
ff_client_reconcile_attempt_timeout(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_attempt_timeout, batch_size, changed);
}

ff_status
ff_client_reconcile_delayed_promotion(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_delayed_promotion, batch_size, changed);
}

ff_status
ff_client_reconcile_execution_deadline(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return reconcile(c, &st_execution_deadline, batch_size, changed);
}
