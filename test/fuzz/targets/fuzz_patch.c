/*
 * fuzz_patch.c - stream summary merge patches (extension/stream_patch.c).
 * Input: an optional target document, a 0xff byte, then the patch bytes (all
 * of the input is the patch when there is no 0xff). Oracles: any patch bytes
 * are accepted or refused with invalid_input (YFV01), never an internal error
 * or a crash (depth, encoding, NUL bytes); merging an accepted patch gives an
 * object, and merging the same patch again changes nothing (RFC 7396 merge
 * patches are idempotent, the __ff_null__ sentinel included).
 */
#include "ffz.h"

#include "flowfabric.h"
#include "errors.h"
#include "stream.h"

typedef struct M
{
	const char *data;
	int			len;
	Jsonb	   *patch;
	Jsonb	   *doc;
	Jsonb	   *out;
	const char *docjson;
} M;

static void
parse(void *p)
{
	M		   *m = p;

	m->patch = ff_stream_parse_patch(m->data, m->len);
}

static void
parse_doc(void *p)
{
	M		   *m = p;

	m->doc = ffz_jsonb(m->docjson);
}

static void
merge(void *p)
{
	M		   *m = p;

	m->out = ff_stream_merge_patch(m->doc, m->patch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	M			m = {0};
	int			code;
	const uint8_t *sep = memchr(data, 0xff, size);
	Jsonb	   *once;

	if (sep)
	{
		m.docjson = ffz_cstring(data, sep - data);
		m.data = (const char *) sep + 1;
		m.len = (int) (size - (sep - data) - 1);
		if (!ffz_run(parse_doc, &m, &code, NULL))
			m.doc = NULL;
	}
	else
	{
		m.data = (const char *) data;
		m.len = (int) size;
	}
	if (!ffz_run(parse, &m, &code, NULL))
	{
		if (code != ERRCODE_FF_INVALID_INPUT)
			ffz_fail("ff_stream_parse_patch raised SQLSTATE %s", unpack_sql_state(code));
		goto done;
	}
	if (!ffz_run(merge, &m, &code, NULL))
	{
		if (code != ERRCODE_FF_INVALID_INPUT && code != ERRCODE_STATEMENT_TOO_COMPLEX)
			ffz_fail("ff_stream_merge_patch raised SQLSTATE %s", unpack_sql_state(code));
		goto done;
	}
	if (!JB_ROOT_IS_OBJECT(m.out) || JB_ROOT_IS_SCALAR(m.out))
		ffz_fail("a merge did not give an object");
	once = m.out;
	m.doc = once;
	if (!ffz_run(merge, &m, &code, NULL))
		ffz_fail("merging the patch again raised SQLSTATE %s", unpack_sql_state(code));
	if (!ffz_jsonb_equal(once, m.out))
		ffz_fail("merging the same patch twice changed the document: %s then %s",
				 ffz_jsonb_out(once), ffz_jsonb_out(m.out));
done:
	ffz_reset();
	return 0;
}
