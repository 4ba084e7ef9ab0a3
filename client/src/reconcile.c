/*
 * reconcile.c - the foundation's one-shot reconcilers (ff_reconcile_*): the
 * four time-driven transitions and the two retentions. Each call is one pass
 * in its own transaction; the engine returns how many executions it changed
 * (retention: executions / events deleted).
 */
#include "internal.h"

/*
 * One statement and one call per reconciler: ff_client_reconcile_<name>
 * runs "SELECT ff_reconcile_<name>($1)" (prepared as ff_c_rec_<name>).
 */
#define RECONCILER(name) \
	static const ffc_stmt st_##name = { \
		"ff_c_rec_" #name, "SELECT ff_reconcile_" #name "($1)", 1, {FFC_INT4OID}, true \
	}; \
	FFC_RECONCILE_CALL(reconcile_##name, &st_##name)

RECONCILER(lease_expiry)
RECONCILER(attempt_timeout)
RECONCILER(delayed_promotion)
RECONCILER(execution_deadline)
RECONCILER(retention)
RECONCILER(event_retention)
