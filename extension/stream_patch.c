/*
 * stream_patch.c
 *		The durable summary's merge: RFC 7396 JSON Merge Patch with
 *		FlowFabric's null sentinel (docs/streams.md#durable-summaries).
 *
 * A patch must be a JSON object (UTF-8, at most FF_STREAM_PATCH_MAX_DEPTH
 * levels of objects and arrays). Merging it into the document, key by key:
 *   - null deletes the key;
 *   - the string "__ff_null__" sets the key to JSON null;
 *   - an object is merged recursively into the key's value (a value that is
 *     not an object is replaced by {} first, so {"a": {}} leaves an object
 *     "a" as it is and turns any other "a" into {});
 *   - anything else (number, boolean, other string, array) replaces the
 *     key's value; the sentinel is rewritten to null at every leaf the patch
 *     writes, inside arrays too, so a merged document never holds it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "stream.h"

#define SENTINEL_LEN (sizeof(FF_SUMMARY_NULL_SENTINEL) - 1)

/*
 * json_depth is the deepest nesting of objects and arrays in JSON text,
 * brackets inside strings not counted (the text need not be valid JSON).
 */
static int
json_depth(const char *s, int len)
{
	int			depth = 0;
	int			max_depth = 0;
	bool		in_string = false;

	for (int i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
		{
			depth++;
			max_depth = Max(max_depth, depth);
		}
		else if (c == '}' || c == ']')
			depth--;
	}
	return max_depth;
}

static void
bad_patch(const char *why, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_INVALID_INPUT),
			 errmsg("invalid_input: summary patch %s", why),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("A summary frame's payload is a JSON object in UTF-8 (RFC 7396 merge patch).")));
}

/*
 * ff_stream_parse_patch parses a summary frame's payload (UTF-8 JSON bytes)
 * into a Jsonb object, or raises invalid_input saying why it cannot.
 */
Jsonb *
ff_stream_parse_patch(const char *data, int len)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *text;
	Jsonb	   *volatile patch = NULL;

	if (memchr(data, '\0', len) != NULL)
		bad_patch("is not valid JSON", "It contains a NUL byte.");
	if (!pg_verify_mbstr(PG_UTF8, data, len, true))
		bad_patch("is not valid UTF-8", NULL);
	if (json_depth(data, len) > FF_STREAM_PATCH_MAX_DEPTH)
		bad_patch(psprintf("nests objects and arrays deeper than %d levels (patch_depth_exceeded)",
						   FF_STREAM_PATCH_MAX_DEPTH), NULL);
	text = pnstrdup(data, len);

	/*
	 * jsonb_in reports bad input by raising an error: catch data exceptions
	 * in a subtransaction and report them as invalid_input.
	 */
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		char	   *server = pg_any_to_server(text, len, PG_UTF8);

		patch = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(server)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(edata);
		bad_patch("is not valid JSON", edata->detail == NULL ? edata->message :
				  psprintf("%s: %s", edata->message, edata->detail));
	}
	PG_END_TRY();

	if (JB_ROOT_IS_SCALAR(patch) || !JB_ROOT_IS_OBJECT(patch))
		bad_patch("must be a JSON object", NULL);
	return patch;
}

static bool
is_sentinel(const JsonbValue *v)
{
	return v->type == jbvString && v->val.string.len == (int) SENTINEL_LEN &&
		memcmp(v->val.string.val, FF_SUMMARY_NULL_SENTINEL, SENTINEL_LEN) == 0;
}

/*
 * push_written pushes a value the patch writes wholesale (seq WJB_VALUE or
 * WJB_ELEM), with every sentinel leaf inside it rewritten to null.
 */
static void
push_written(JsonbParseState **st, JsonbIteratorToken seq, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	item;
	bool		object;

	check_stack_depth();
	if (is_sentinel(v))
	{
		JsonbValue	null = {.type = jbvNull};

		pushJsonbValue(st, seq, &null);
		return;
	}
	if (v->type != jbvBinary)
	{
		pushJsonbValue(st, seq, v);
		return;
	}
	object = JsonContainerIsObject(v->val.binary.data);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				pushJsonbValue(st, tok, NULL);
				break;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				pushJsonbValue(st, tok, NULL);
				break;
			case WJB_KEY:
				pushJsonbValue(st, WJB_KEY, &item);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				push_written(st, object ? WJB_VALUE : WJB_ELEM, &item);
				break;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
		}
	}
}

/*
 * merge_object pushes the object that merging patch (an object container)
 * into target (an object container, or NULL for none) gives.
 */
static JsonbValue *
merge_object(JsonbParseState **st, JsonbContainer *target, JsonbContainer *patch)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	key;
	JsonbValue	v;

	check_stack_depth();
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);

	/* the target's keys the patch leaves alone */
	if (target != NULL)
	{
		it = JsonbIteratorInit(target);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok != WJB_KEY)
				continue;
			key = v;
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			if (getKeyJsonValueFromContainer(patch, key.val.string.val, key.val.string.len, NULL) != NULL)
				continue;
			pushJsonbValue(st, WJB_KEY, &key);
			pushJsonbValue(st, WJB_VALUE, &v);
		}
	}

	/* the patch's keys */
	it = JsonbIteratorInit(patch);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		key = v;
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		if (v.type == jbvNull)
			continue;			/* delete */
		pushJsonbValue(st, WJB_KEY, &key);
		if (v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data))
		{
			JsonbValue *old = target == NULL ? NULL :
				getKeyJsonValueFromContainer(target, key.val.string.val, key.val.string.len, NULL);
			JsonbContainer *inner = NULL;

			if (old != NULL && old->type == jbvBinary && JsonContainerIsObject(old->val.binary.data))
				inner = old->val.binary.data;
			(void) merge_object(st, inner, v.val.binary.data);
		}
		else
			push_written(st, WJB_VALUE, &v);
	}
	return pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/*
 * ff_stream_merge_patch returns the document merging patch (an object, from
 * ff_stream_parse_patch) into document (NULL: none yet, i.e. {}) gives.
 */
Jsonb *
ff_stream_merge_patch(Jsonb *document, Jsonb *patch)
{
	JsonbParseState *st = NULL;
	JsonbContainer *target = NULL;

	if (document != NULL && !JB_ROOT_IS_SCALAR(document) && JB_ROOT_IS_OBJECT(document))
		target = &document->root;
	return JsonbValueToJsonb(merge_object(&st, target, &patch->root));
}
