/*
 * ffz_stubs.c
 *		Backend and extension functions the compiled files reference but the
 *		fuzzed paths never reach (SPI, tuple building, the clock): each aborts
 *		if it is ever called, which libFuzzer reports.
 */
#include "postgres.h"

#include <stdio.h>

#define STUB(name) \
	void name(void); \
	void name(void) { fprintf(stderr, "ffz: stub %s called\n", #name); abort(); }

STUB(SPI_connect)
STUB(SPI_finish)
STUB(SPI_execute)
STUB(SPI_getbinval)
STUB(ff_execute)
STUB(ff_prepare)
STUB(ff_get_bool)
STUB(ff_get_cstring)
STUB(ff_get_int64)
STUB(ff_result_row)
STUB(ff_now_ms)
STUB(InitMaterializedSRF)
STUB(tuplestore_putvalues)

/* globals SPI callers read */
uint64		SPI_processed = 0;
void	   *SPI_tuptable = NULL;

/*
 * ff_policy_parse ends with the budget area's check of budget_ids /
 * quota_policy_id (budget_admission.c, which needs SPI): not fuzzed here.
 */
struct Jsonb;
void		ff_admission_policy_check(struct Jsonb *policy);
void
ff_admission_policy_check(struct Jsonb *policy)
{
}
