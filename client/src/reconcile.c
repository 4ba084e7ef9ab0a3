/*
 * reconcile.c - the four one-shot reconcilers (ff_reconcile_*). Each call is
 * one pass in its own transaction; the engine returns how many executions it
 * changed.
 */
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

ff_status
ff_client_reconcile_lease_expiry(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_lease_expiry, batch_size, changed);
}

ff_status
ff_client_reconcile_attempt_timeout(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_attempt_timeout, batch_size, changed);
}

ff_status
ff_client_reconcile_delayed_promotion(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_delayed_promotion, batch_size, changed);
}

ff_status
ff_client_reconcile_execution_deadline(ff_client *c, int32_t batch_size, int32_t *changed)
{
	return ffc_reconcile(c, &st_execution_deadline, batch_size, changed);
}
