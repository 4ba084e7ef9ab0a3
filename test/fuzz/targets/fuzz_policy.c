/*
 * fuzz_policy.c - the execution policy document (extension/policy.c).
 * Oracles: a policy that is valid JSON is accepted or refused with
 * invalid_policy_json (YFV04) or invalid_capabilities (YFV03), never an
 * internal error; for an accepted one the backoff of every retry count is a
 * non-negative delay no longer than the configured maximum, computed without
 * undefined behaviour, and the retry decision is consistent with max_retries.
 */
#include "ffz.h"

#include "flowfabric.h"
#include "errors.h"

typedef struct P
{
	const char *json;
	Jsonb	   *j;
	FFPolicy	policy;
} P;

static void
to_jsonb(void *p)
{
	((P *) p)->j = ffz_jsonb(((P *) p)->json);
}

static void
parse(void *p)
{
	ff_policy_parse(((P *) p)->j, &((P *) p)->policy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	P			p;
	int			code;
	static const char *const categories[] = {"transient", "permanent", "infra_crash", "timeout", "cancelled"};

	p.json = ffz_cstring(data, size);
	if (!ffz_run(to_jsonb, &p, &code, NULL))
	{
		ffz_reset();
		return 0;				/* not JSON: the server would refuse it before us */
	}
	if (!ffz_run(parse, &p, &code, NULL))
	{
		if (code != ERRCODE_FF_INVALID_POLICY_JSON && code != ERRCODE_FF_INVALID_CAPABILITIES)
			ffz_fail("ff_policy_parse raised SQLSTATE %s", unpack_sql_state(code));
		ffz_reset();
		return 0;
	}
	for (int32 retry = 0; retry < 70; retry++)
	{
		int64		ms = ff_policy_backoff_ms(&p.policy, retry);

		if (ms < 0)
			ffz_fail("negative backoff %lld at retry %d", (long long) ms, retry);
		for (int c = 0; c < 5; c++)
			if (ff_policy_should_retry(&p.policy, categories[c], retry) &&
				retry >= p.policy.max_retries)
				ffz_fail("retries past max_retries (%d) at %d", p.policy.max_retries, retry);
	}
	ffz_reset();
	return 0;
}
