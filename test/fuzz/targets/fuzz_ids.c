/*
 * fuzz_ids.c - execution ids, partition keys, lane ids, tag keys and
 * capability sets (extension/ids.c). Oracles: every rejection is one of the
 * documented codes (YFV01, YFV23, YFV03), never an internal error or a crash;
 * an id that parses formats to the canonical form, which parses back to the
 * same key; the SQL wrappers agree with the C parser.
 */
#include "ffz.h"

#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "flowfabric.h"
#include "errors.h"

extern Datum ff_canonical_execution_id_sql(PG_FUNCTION_ARGS);
extern Datum ff_parse_partition_key_sql(PG_FUNCTION_ARGS);
extern Datum ff_execution_partition_sql(PG_FUNCTION_ARGS);
extern Datum ff_check_lane_id_sql(PG_FUNCTION_ARGS);
extern Datum ff_check_tag_key_sql(PG_FUNCTION_ARGS);
extern Datum ff_solo_partition_sql(PG_FUNCTION_ARGS);
extern Datum ff_crc16_sql(PG_FUNCTION_ARGS);

typedef struct Call
{
	PGFunction	fn;
	Datum		arg;
	Datum		result;
} Call;

static void
call1(void *p)
{
	Call	   *c = p;

	c->result = DirectFunctionCall1(c->fn, c->arg);
}

static void
expect(bool ok, int code, int allowed1, int allowed2, const char *what)
{
	if (!ok && code != allowed1 && code != allowed2)
		ffz_fail("%s raised SQLSTATE %s", what, unpack_sql_state(code));
}

typedef struct Caps
{
	ArrayType  *a;
} Caps;

static void
check_caps(void *p)
{
	ff_check_capabilities(((Caps *) p)->a, "capabilities", ERRCODE_FF_INVALID_CAPABILITIES);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = ffz_cstring(data, size);
	text	   *t = ffz_text(data, size);
	FFExecKey	key;
	const char *problem;
	int			code;
	bool		ok;
	Call		c;

	/* execution ids: the C parser, and canonical round trips */
	if (ff_try_parse_execution_id(s, &key, &problem))
	{
		char	   *canon = ff_format_execution_id(&key);
		FFExecKey	again;

		if (!ff_try_parse_execution_id(canon, &again, &problem))
			ffz_fail("canonical id %s does not parse: %s", canon, problem);
		if (again.partition != key.partition || memcmp(&again.uuid, &key.uuid, sizeof(pg_uuid_t)) != 0)
			ffz_fail("canonical id %s parses to another key", canon);
		if (again.partition < 0 || again.partition > 255)
			ffz_fail("partition %d out of range", again.partition);
		c.fn = ff_canonical_execution_id_sql;
		c.arg = PointerGetDatum(t);
		if (!ffz_run(call1, &c, &code, NULL))
			ffz_fail("ff_canonical_execution_id rejects what the parser accepts (%s)", unpack_sql_state(code));
		if (strcmp(text_to_cstring(DatumGetTextPP(c.result)), canon) != 0)
			ffz_fail("ff_canonical_execution_id disagrees with ff_format_execution_id");
	}
	else
	{
		c.fn = ff_canonical_execution_id_sql;
		c.arg = PointerGetDatum(t);
		ok = ffz_run(call1, &c, &code, NULL);
		if (ok && strlen(s) == size)
			ffz_fail("ff_canonical_execution_id accepts what the parser rejects");
		expect(ok, code, ERRCODE_FF_INVALID_INPUT, ERRCODE_FF_INVALID_INPUT, "ff_canonical_execution_id");
	}
	c.fn = ff_execution_partition_sql;
	c.arg = PointerGetDatum(t);
	ok = ffz_run(call1, &c, &code, NULL);
	expect(ok, code, ERRCODE_FF_INVALID_INPUT, ERRCODE_FF_INVALID_INPUT, "ff_execution_partition");
	if (ok && (DatumGetInt32(c.result) < 0 || DatumGetInt32(c.result) > 255))
		ffz_fail("ff_execution_partition returned %d", DatumGetInt32(c.result));

	/* partition keys */
	c.fn = ff_parse_partition_key_sql;
	ok = ffz_run(call1, &c, &code, NULL);
	expect(ok, code, ERRCODE_FF_INVALID_INPUT, ERRCODE_FF_INVALID_INPUT, "ff_parse_partition_key");
	if (ok && (DatumGetInt16(c.result) < 0 || DatumGetInt16(c.result) > 255))
		ffz_fail("ff_parse_partition_key returned %d", DatumGetInt16(c.result));

	/* lanes and tag keys */
	c.fn = ff_check_lane_id_sql;
	ok = ffz_run(call1, &c, &code, NULL);
	expect(ok, code, ERRCODE_FF_INVALID_INPUT, ERRCODE_FF_INVALID_INPUT, "ff_check_lane_id");
	if (ok)
	{
		c.fn = ff_solo_partition_sql;
		ok = ffz_run(call1, &c, &code, NULL);
		if (!ok || DatumGetInt32(c.result) < 0 || DatumGetInt32(c.result) > 255)
			ffz_fail("ff_solo_partition of a valid lane failed or is out of range");
	}
	c.fn = ff_check_tag_key_sql;
	ok = ffz_run(call1, &c, &code, NULL);
	expect(ok, code, ERRCODE_FF_INVALID_TAG_KEY, ERRCODE_FF_INVALID_TAG_KEY, "ff_check_tag_key");
	c.fn = ff_crc16_sql;
	if (!ffz_run(call1, &c, &code, NULL))
		ffz_fail("ff_crc16 raised %s", unpack_sql_state(code));

	/* capability sets: one token per line, "\N" is NULL; a first byte 'D' makes it 2-D */
	{
		const char *elems[64];
		bool		nulls[64];
		int			n = 0;
		char	   *p = s;
		Caps		caps;
		int			ndim = (size > 0 && s[0] == 'D') ? 2 : 1;

		while (n < 64)
		{
			char	   *nl = strchr(p, '\n');

			if (nl)
				*nl = '\0';
			nulls[n] = strcmp(p, "\\N") == 0;
			elems[n++] = p;
			if (!nl)
				break;
			p = nl + 1;
		}
		caps.a = ffz_text_array(elems, nulls, n, ndim);
		ok = ffz_run(check_caps, &caps, &code, NULL);
		expect(ok, code, ERRCODE_FF_INVALID_CAPABILITIES, ERRCODE_FF_INVALID_CAPABILITIES,
			   "ff_check_capabilities");
		if (ok)
			for (int i = 0; i < n; i++)
				if (nulls[i] || elems[i][0] == '\0' || strchr(elems[i], ',') || strchr(elems[i], ' '))
					ffz_fail("ff_check_capabilities accepted token %d", i);
	}
	ffz_reset();
	return 0;
}
