/*
 * fuzz_cond.c - suspension resume conditions (extension/suspend_cond.c).
 * Oracles: a condition that is valid JSON is accepted or refused with
 * invalid_input (YFV01), never an internal error or a crash (depth, huge
 * counts); an accepted condition renders to a canonical document that parses
 * back to the same rendering; applying signals to each waitpoint it names
 * never errors, and only a signal that contributes satisfies it.
 */
#include "ffz.h"

#include "nodes/pg_list.h"
#include "nodes/value.h"

#include "flowfabric.h"
#include "errors.h"
#include "suspend.h"

typedef struct C
{
	const char *json;
	Jsonb	   *j;
	FFCond	   *cond;
	Jsonb	   *canon;
} C;

static void
to_jsonb(void *p)
{
	((C *) p)->j = ffz_jsonb(((C *) p)->json);
}

static void
parse(void *p)
{
	((C *) p)->cond = ff_cond_parse(((C *) p)->j);
}

static void
render(void *p)
{
	((C *) p)->canon = ff_cond_to_jsonb(((C *) p)->cond);
}

typedef struct A
{
	const FFCond *cond;
	FFSignalFacts facts;
	List	   *tokens;
	const char *verdict;
	bool		contributed;
	bool		satisfied;
} A;

static void
apply(void *p)
{
	A		   *a = p;

	a->verdict = ff_cond_apply(a->cond, &a->facts, &a->tokens, &a->contributed, &a->satisfied);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	C			c;
	C			c2;
	int			code;
	List	   *keys;
	ListCell   *lc;
	A			a = {0};
	static const char *const names[] = {"go", "approved", "x", ""};

	c.json = ffz_cstring(data, size);
	if (!ffz_run(to_jsonb, &c, &code, NULL))
		goto done;
	if (!ffz_run(parse, &c, &code, NULL))
	{
		if (code != ERRCODE_FF_INVALID_INPUT && code != ERRCODE_FF_INVALID_WAITPOINT_KEY)
			ffz_fail("ff_cond_parse raised SQLSTATE %s", unpack_sql_state(code));
		goto done;
	}
	if (!ffz_run(render, &c, &code, NULL))
		ffz_fail("an accepted condition does not render (%s)", unpack_sql_state(code));
	c2.j = c.canon;
	if (!ffz_run(parse, &c2, &code, NULL))
		ffz_fail("the canonical rendering %s does not parse (%s)", ffz_jsonb_out(c.canon),
				 unpack_sql_state(code));
	if (!ffz_run(render, &c2, &code, NULL) || !ffz_jsonb_equal(c.canon, c2.canon))
		ffz_fail("the canonical rendering is not a fixed point: %s vs %s",
				 ffz_jsonb_out(c.canon), ffz_jsonb_out(c2.canon));
	(void) ff_cond_root_never_by_signal(c.cond);

	/* deliver a few signals to each waitpoint the condition names */
	keys = ff_cond_keys(c.cond);
	a.cond = c.cond;
	foreach(lc, keys)
	{
		for (int i = 0; i < 4; i++)
		{

			a.facts.waitpoint_key = (const char *) lfirst(lc);
			a.facts.signal_name = names[i];
			a.facts.signal_id = psprintf("sig-%d", i);
			a.facts.source_type = "external";
			a.facts.source_identity = i % 2 ? "a" : "b";
			if (!ffz_run(apply, &a, &code, NULL))
				ffz_fail("ff_cond_apply raised SQLSTATE %s", unpack_sql_state(code));
			if (a.satisfied && !a.contributed)
				ffz_fail("a signal that added nothing satisfied the condition");
		}
	}
done:
	ffz_reset();
	return 0;
}
