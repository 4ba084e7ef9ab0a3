/*
 * ffz_jsonb.c
 *		The part of jsonb the extension's parsers use, written for the fuzzing
 *		shim against the on-disk format of utils/jsonb.h: jsonb_in (text to
 *		jsonb, with libpgcommon's JSON lexer), the iterator, key and index
 *		lookup, scalar extraction, pushJsonbValue and JsonbValueToJsonb.
 *
 * The encoding follows the server's: a container is a header (count and
 * kind), one JEntry per child (keys first, then values, for objects), then
 * the children's data; every JB_OFFSET_STRIDE-th JEntry holds an end offset,
 * the others a length; numbers and nested containers start INTALIGNed.
 * Object keys are sorted by (length, bytes) and unique, the last duplicate
 * winning, as jsonb_in does. So the documents the parsers see are laid out
 * as the server lays them out.
 *
 * Numbers: a Numeric here is a varlena holding the number's JSON text (the
 * shim's own representation; only numeric_float8[_no_overflow] read it).
 */
#include "postgres.h"

#include <math.h>

#include "common/jsonapi.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "ffz.h"

/* ------------------------------------------------------------------------
 * numbers
 * ------------------------------------------------------------------------ */
static Numeric
make_numeric(const char *s, int len)
{
	struct varlena *v = palloc(VARHDRSZ + len + 1);

	SET_VARSIZE(v, VARHDRSZ + len + 1);
	memcpy(VARDATA(v), s, len);
	VARDATA(v)[len] = '\0';
	return (Numeric) v;
}

static double
numeric_double(Numeric n)
{
	return strtod(VARDATA((struct varlena *) n), NULL);
}

Datum
numeric_float8(PG_FUNCTION_ARGS)
{
	double		d = numeric_double(PG_GETARG_NUMERIC(0));

	if (isinf(d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow")));
	PG_RETURN_FLOAT8(d);
}

Datum
numeric_float8_no_overflow(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(numeric_double(PG_GETARG_NUMERIC(0)));
}

/* ------------------------------------------------------------------------
 * reading containers
 * ------------------------------------------------------------------------ */
uint32
getJsonbOffset(const JsonbContainer *jc, int index)
{
	uint32		offset = 0;

	for (int i = index - 1; i >= 0; i--)
	{
		offset += JBE_OFFLENFLD(jc->children[i]);
		if (JBE_HAS_OFF(jc->children[i]))
			break;
	}
	return offset;
}

uint32
getJsonbLength(const JsonbContainer *jc, int index)
{
	uint32		off = JBE_OFFLENFLD(jc->children[index]);

	return JBE_HAS_OFF(jc->children[index]) ? off - getJsonbOffset(jc, index) : off;
}

static void
fill_value(JsonbContainer *container, int index, char *base, uint32 offset, JsonbValue *result)
{
	JEntry		entry = container->children[index];

	if (JBE_ISNULL(entry))
		result->type = jbvNull;
	else if (JBE_ISSTRING(entry))
	{
		result->type = jbvString;
		result->val.string.val = base + offset;
		result->val.string.len = getJsonbLength(container, index);
	}
	else if (JBE_ISNUMERIC(entry))
	{
		result->type = jbvNumeric;
		result->val.numeric = (Numeric) (base + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(entry))
	{
		result->type = jbvBool;
		result->val.boolean = true;
	}
	else if (JBE_ISBOOL_FALSE(entry))
	{
		result->type = jbvBool;
		result->val.boolean = false;
	}
	else
	{
		result->type = jbvBinary;
		result->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
		result->val.binary.len = getJsonbLength(container, index) - (INTALIGN(offset) - offset);
	}
}

static JsonbIterator *
iterator_from(JsonbContainer *container, JsonbIterator *parent)
{
	JsonbIterator *it = palloc0(sizeof(JsonbIterator));

	it->container = container;
	it->parent = parent;
	it->nElems = JsonContainerSize(container);
	it->children = container->children;
	if (container->header & JB_FARRAY)
	{
		it->dataProper = (char *) it->children + it->nElems * sizeof(JEntry);
		it->isScalar = JsonContainerIsScalar(container);
		it->state = JBI_ARRAY_START;
	}
	else if (container->header & JB_FOBJECT)
	{
		it->dataProper = (char *) it->children + it->nElems * sizeof(JEntry) * 2;
		it->state = JBI_OBJECT_START;
	}
	else
		elog(ERROR, "unknown type of jsonb container");
	return it;
}

JsonbIterator *
JsonbIteratorInit(JsonbContainer *container)
{
	return iterator_from(container, NULL);
}

static JsonbIterator *
pop_iterator(JsonbIterator *it)
{
	JsonbIterator *parent = it->parent;

	pfree(it);
	return parent;
}

JsonbIteratorToken
JsonbIteratorNext(JsonbIterator **it, JsonbValue *val, bool skipNested)
{
	if (*it == NULL)
		return WJB_DONE;
recurse:
	switch ((*it)->state)
	{
		case JBI_ARRAY_START:
			val->type = jbvArray;
			val->val.array.nElems = (*it)->nElems;
			val->val.array.rawScalar = (*it)->isScalar;
			(*it)->curIndex = 0;
			(*it)->curDataOffset = 0;
			(*it)->curValueOffset = 0;
			(*it)->state = JBI_ARRAY_ELEM;
			return WJB_BEGIN_ARRAY;
		case JBI_ARRAY_ELEM:
			if ((*it)->curIndex >= (int) (*it)->nElems)
			{
				*it = pop_iterator(*it);
				return WJB_END_ARRAY;
			}
			fill_value((*it)->container, (*it)->curIndex, (*it)->dataProper,
					   (*it)->curDataOffset, val);
			JBE_ADVANCE_OFFSET((*it)->curDataOffset, (*it)->children[(*it)->curIndex]);
			(*it)->curIndex++;
			if (!IsAJsonbScalar(val) && !skipNested)
			{
				*it = iterator_from(val->val.binary.data, *it);
				goto recurse;
			}
			return WJB_ELEM;
		case JBI_OBJECT_START:
			val->type = jbvObject;
			val->val.object.nPairs = (*it)->nElems;
			(*it)->curIndex = 0;
			(*it)->curDataOffset = 0;
			(*it)->curValueOffset = getJsonbOffset((*it)->container, (*it)->nElems);
			(*it)->state = JBI_OBJECT_KEY;
			return WJB_BEGIN_OBJECT;
		case JBI_OBJECT_KEY:
			if ((*it)->curIndex >= (int) (*it)->nElems)
			{
				*it = pop_iterator(*it);
				return WJB_END_OBJECT;
			}
			fill_value((*it)->container, (*it)->curIndex, (*it)->dataProper,
					   (*it)->curDataOffset, val);
			if (val->type != jbvString)
				elog(ERROR, "unexpected jsonb type as object key");
			(*it)->state = JBI_OBJECT_VALUE;
			return WJB_KEY;
		case JBI_OBJECT_VALUE:
			(*it)->state = JBI_OBJECT_KEY;
			fill_value((*it)->container, (*it)->curIndex + (*it)->nElems, (*it)->dataProper,
					   (*it)->curValueOffset, val);
			JBE_ADVANCE_OFFSET((*it)->curDataOffset, (*it)->children[(*it)->curIndex]);
			JBE_ADVANCE_OFFSET((*it)->curValueOffset, (*it)->children[(*it)->curIndex + (*it)->nElems]);
			(*it)->curIndex++;
			if (!IsAJsonbScalar(val) && !skipNested)
			{
				*it = iterator_from(val->val.binary.data, *it);
				goto recurse;
			}
			return WJB_VALUE;
	}
	elog(ERROR, "invalid jsonb iterator state");
	return WJB_DONE;
}

static int
key_compare(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen > blen ? 1 : -1;
	return memcmp(a, b, alen);
}

JsonbValue *
getKeyJsonValueFromContainer(JsonbContainer *container, const char *keyVal, int keyLen,
							 JsonbValue *res)
{
	uint32		count = JsonContainerSize(container);
	char	   *base = (char *) (container->children + count * 2);
	int			lo = 0;
	int			hi = (int) count;

	if (!JsonContainerIsObject(container))
		return NULL;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		uint32		off = getJsonbOffset(container, mid);
		int			c = key_compare(base + off, getJsonbLength(container, mid), keyVal, keyLen);

		if (c == 0)
		{
			if (res == NULL)
				res = palloc(sizeof(JsonbValue));
			fill_value(container, mid + count, base, getJsonbOffset(container, mid + count), res);
			return res;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

JsonbValue *
getIthJsonbValueFromContainer(JsonbContainer *container, uint32 i)
{
	JsonbValue *result;

	if (!JsonContainerIsArray(container))
		elog(ERROR, "not a jsonb array");
	if (i >= JsonContainerSize(container))
		return NULL;
	result = palloc(sizeof(JsonbValue));
	fill_value(container, i, (char *) (container->children + JsonContainerSize(container)),
			   getJsonbOffset(container, i), result);
	return result;
}

bool
JsonbExtractScalar(JsonbContainer *jbc, JsonbValue *res)
{
	JsonbIterator *it;
	JsonbValue	tmp;

	if (!JsonContainerIsArray(jbc) || !JsonContainerIsScalar(jbc))
		return false;
	it = JsonbIteratorInit(jbc);
	(void) JsonbIteratorNext(&it, &tmp, true);	/* begin array */
	(void) JsonbIteratorNext(&it, res, true);	/* the scalar */
	(void) JsonbIteratorNext(&it, &tmp, true);	/* end array */
	(void) JsonbIteratorNext(&it, &tmp, true);	/* done */
	return true;
}

/* ------------------------------------------------------------------------
 * building: pushJsonbValue
 * ------------------------------------------------------------------------ */
static JsonbParseState *
push_state(JsonbParseState **pstate)
{
	JsonbParseState *ns = palloc(sizeof(JsonbParseState));

	ns->next = *pstate;
	return ns;
}

static void
append_key(JsonbParseState *pstate, JsonbValue *string)
{
	JsonbValue *object = &pstate->contVal;

	if (string->type != jbvString)
		elog(ERROR, "jsonb object key is not a string");
	if (object->val.object.nPairs >= (int) pstate->size)
	{
		pstate->size *= 2;
		object->val.object.pairs = repalloc(object->val.object.pairs, sizeof(JsonbPair) * pstate->size);
	}
	object->val.object.pairs[object->val.object.nPairs].key = *string;
	object->val.object.pairs[object->val.object.nPairs].order = object->val.object.nPairs;
}

static void
append_value(JsonbParseState *pstate, JsonbValue *scalarVal)
{
	JsonbValue *object = &pstate->contVal;

	object->val.object.pairs[object->val.object.nPairs++].value = *scalarVal;
}

static void
append_element(JsonbParseState *pstate, JsonbValue *scalarVal)
{
	JsonbValue *array = &pstate->contVal;

	if (array->val.array.nElems >= (int) pstate->size)
	{
		pstate->size *= 2;
		array->val.array.elems = repalloc(array->val.array.elems, sizeof(JsonbValue) * pstate->size);
	}
	array->val.array.elems[array->val.array.nElems++] = *scalarVal;
}

static int
pair_compare(const void *a, const void *b)
{
	const JsonbPair *pa = a;
	const JsonbPair *pb = b;
	int			c = key_compare(pa->key.val.string.val, pa->key.val.string.len,
								pb->key.val.string.val, pb->key.val.string.len);

	if (c != 0)
		return c;
	return pa->order > pb->order ? -1 : 1;	/* the later duplicate first */
}

/* sort the keys, keep the last of each duplicate (jsonb_in semantics) */
static void
uniqueify_object(JsonbValue *object)
{
	int			n = object->val.object.nPairs;
	JsonbPair  *pairs = object->val.object.pairs;
	int			keep = 0;

	if (n < 2)
		return;
	qsort(pairs, n, sizeof(JsonbPair), pair_compare);
	for (int i = 1; i < n; i++)
	{
		if (key_compare(pairs[i].key.val.string.val, pairs[i].key.val.string.len,
						pairs[keep].key.val.string.val, pairs[keep].key.val.string.len) != 0)
			pairs[++keep] = pairs[i];
	}
	object->val.object.nPairs = keep + 1;
}

static JsonbValue *
push_scalar(JsonbParseState **pstate, JsonbIteratorToken seq, JsonbValue *scalarVal)
{
	JsonbValue *result = NULL;

	switch (seq)
	{
		case WJB_BEGIN_ARRAY:
			*pstate = push_state(pstate);
			result = &(*pstate)->contVal;
			result->type = jbvArray;
			result->val.array.nElems = 0;
			result->val.array.rawScalar = scalarVal && scalarVal->val.array.rawScalar;
			(*pstate)->size = 4;
			result->val.array.elems = palloc(sizeof(JsonbValue) * 4);
			break;
		case WJB_BEGIN_OBJECT:
			*pstate = push_state(pstate);
			result = &(*pstate)->contVal;
			result->type = jbvObject;
			result->val.object.nPairs = 0;
			(*pstate)->size = 4;
			result->val.object.pairs = palloc(sizeof(JsonbPair) * 4);
			break;
		case WJB_KEY:
			append_key(*pstate, scalarVal);
			break;
		case WJB_VALUE:
			append_value(*pstate, scalarVal);
			break;
		case WJB_ELEM:
			append_element(*pstate, scalarVal);
			break;
		case WJB_END_OBJECT:
			uniqueify_object(&(*pstate)->contVal);
			/* FALLTHROUGH */
		case WJB_END_ARRAY:
			result = &(*pstate)->contVal;
			*pstate = (*pstate)->next;
			if (*pstate)
			{
				if ((*pstate)->contVal.type == jbvArray)
					append_element(*pstate, result);
				else
					append_value(*pstate, result);
			}
			break;
		default:
			elog(ERROR, "unrecognized jsonb sequential processing token");
	}
	return result;
}

JsonbValue *
pushJsonbValue(JsonbParseState **pstate, JsonbIteratorToken seq, JsonbValue *jbval)
{
	JsonbIterator *it;
	JsonbValue *res = NULL;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!jbval || (seq != WJB_ELEM && seq != WJB_VALUE) || jbval->type != jbvBinary)
		return push_scalar(pstate, seq, jbval);
	/* a container in binary form: unpack it */
	it = JsonbIteratorInit(jbval->val.binary.data);
	if (JsonContainerIsScalar(jbval->val.binary.data) && *pstate)
	{
		(void) JsonbIteratorNext(&it, &v, true);
		(void) JsonbIteratorNext(&it, &v, true);
		return push_scalar(pstate, seq, &v);
	}
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		res = push_scalar(pstate, tok,
						  tok < WJB_BEGIN_ARRAY || (tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar)
						  ? &v : NULL);
	return res;
}

/* ------------------------------------------------------------------------
 * encoding: JsonbValueToJsonb
 * ------------------------------------------------------------------------ */
static int
reserve(StringInfo buf, int len)
{
	int			at = buf->len;

	enlargeStringInfo(buf, len);
	buf->len += len;
	return at;
}

static int
pad_to_int(StringInfo buf)
{
	int			pad = INTALIGN(buf->len) - buf->len;

	for (int i = 0; i < pad; i++)
		appendStringInfoChar(buf, '\0');
	return pad;
}

static void convert_value(StringInfo buf, JEntry *header, JsonbValue *val, int level);

static void
convert_scalar(StringInfo buf, JEntry *header, JsonbValue *val)
{
	int			pad;

	switch (val->type)
	{
		case jbvNull:
			*header = JENTRY_ISNULL;
			break;
		case jbvString:
			if (val->val.string.len > (int) JENTRY_OFFLENMASK)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("string too long to represent as jsonb string")));
			appendBinaryStringInfo(buf, val->val.string.val, val->val.string.len);
			*header = val->val.string.len;
			break;
		case jbvNumeric:
			pad = pad_to_int(buf);
			appendBinaryStringInfo(buf, (char *) val->val.numeric, VARSIZE_ANY(val->val.numeric));
			*header = JENTRY_ISNUMERIC | (pad + VARSIZE_ANY(val->val.numeric));
			break;
		case jbvBool:
			*header = val->val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
			break;
		default:
			elog(ERROR, "invalid jsonb scalar type");
	}
}

static void
convert_children(StringInfo buf, int jentry_at, JsonbValue *const *children, int n)
{
	uint32		total = 0;
	int			base = buf->len;

	for (int i = 0; i < n; i++)
	{
		JEntry		meta;
		int			len;
		int			before = buf->len;

		convert_value(buf, &meta, children[i], 1);
		len = buf->len - before;
		total += len;
		if (total > JENTRY_OFFLENMASK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("total size of jsonb container elements exceeds the maximum of %u bytes",
							JENTRY_OFFLENMASK)));
		if ((i % JB_OFFSET_STRIDE) == 0)
			meta = (meta & JENTRY_TYPEMASK) | total | JENTRY_HAS_OFF;
		else
			meta = (meta & JENTRY_TYPEMASK) | len;
		memcpy(buf->data + jentry_at + i * sizeof(JEntry), &meta, sizeof(JEntry));
	}
	(void) base;
}

static void
convert_container(StringInfo buf, JEntry *header, JsonbValue *val)
{
	int			start = buf->len;
	int			n;
	uint32		h;
	int			jentries;
	JsonbValue **children;

	if (val->type == jbvArray)
	{
		n = val->val.array.nElems;
		h = n | JB_FARRAY;
		if (val->val.array.rawScalar)
			h |= JB_FSCALAR;
		children = palloc(sizeof(JsonbValue *) * Max(n, 1));
		for (int i = 0; i < n; i++)
			children[i] = &val->val.array.elems[i];
	}
	else
	{
		int			pairs = val->val.object.nPairs;

		n = pairs * 2;
		h = pairs | JB_FOBJECT;
		children = palloc(sizeof(JsonbValue *) * Max(n, 1));
		for (int i = 0; i < pairs; i++)
		{
			children[i] = &val->val.object.pairs[i].key;
			children[pairs + i] = &val->val.object.pairs[i].value;
		}
	}
	appendBinaryStringInfo(buf, (char *) &h, sizeof(uint32));
	jentries = reserve(buf, sizeof(JEntry) * n);
	convert_children(buf, jentries, children, n);
	*header = JENTRY_ISCONTAINER | (buf->len - start);
}

static void
convert_value(StringInfo buf, JEntry *header, JsonbValue *val, int level)
{
	check_stack_depth();
	if (IsAJsonbScalar(val))
		convert_scalar(buf, header, val);
	else if (val->type == jbvArray || val->type == jbvObject)
	{
		int			pad = pad_to_int(buf);

		convert_container(buf, header, val);
		*header = JENTRY_ISCONTAINER | (pad + JBE_OFFLENFLD(*header));
	}
	else
		elog(ERROR, "unknown type of jsonb container to convert");
}

Jsonb *
JsonbValueToJsonb(JsonbValue *val)
{
	StringInfoData buf;
	JEntry		header;
	Jsonb	   *res;

	if (IsAJsonbScalar(val))
	{
		JsonbParseState *pstate = NULL;
		JsonbValue	scalar;

		scalar.type = jbvArray;
		scalar.val.array.rawScalar = true;
		scalar.val.array.nElems = 1;
		pushJsonbValue(&pstate, WJB_BEGIN_ARRAY, &scalar);
		pushJsonbValue(&pstate, WJB_ELEM, val);
		val = pushJsonbValue(&pstate, WJB_END_ARRAY, NULL);
	}
	else if (val->type == jbvBinary)
	{
		res = palloc(VARHDRSZ + val->val.binary.len);
		SET_VARSIZE(res, VARHDRSZ + val->val.binary.len);
		memcpy(VARDATA(res), val->val.binary.data, val->val.binary.len);
		return res;
	}
	initStringInfo(&buf);
	reserve(&buf, VARHDRSZ);
	convert_container(&buf, &header, val);
	res = (Jsonb *) buf.data;
	SET_VARSIZE(res, buf.len);
	return res;
}

/* ------------------------------------------------------------------------
 * jsonb_in
 * ------------------------------------------------------------------------ */
typedef struct InState
{
	JsonbParseState *parse;
	JsonbValue *res;
} InState;

static void
in_object_start(void *state)
{
	InState    *s = state;

	pushJsonbValue(&s->parse, WJB_BEGIN_OBJECT, NULL);
}

static void
in_object_end(void *state)
{
	InState    *s = state;

	s->res = pushJsonbValue(&s->parse, WJB_END_OBJECT, NULL);
}

static void
in_array_start(void *state)
{
	InState    *s = state;

	pushJsonbValue(&s->parse, WJB_BEGIN_ARRAY, NULL);
}

static void
in_array_end(void *state)
{
	InState    *s = state;

	s->res = pushJsonbValue(&s->parse, WJB_END_ARRAY, NULL);
}

static void
in_object_field_start(void *state, char *fname, bool isnull)
{
	InState    *s = state;
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.len = strlen(fname);
	v.val.string.val = fname;
	s->res = pushJsonbValue(&s->parse, WJB_KEY, &v);
}

static void
in_scalar(void *state, char *token, JsonTokenType tokentype)
{
	InState    *s = state;
	JsonbValue	v;

	switch (tokentype)
	{
		case JSON_TOKEN_STRING:
			v.type = jbvString;
			v.val.string.len = strlen(token);
			v.val.string.val = token;
			break;
		case JSON_TOKEN_NUMBER:
			v.type = jbvNumeric;
			v.val.numeric = make_numeric(token, strlen(token));
			break;
		case JSON_TOKEN_TRUE:
			v.type = jbvBool;
			v.val.boolean = true;
			break;
		case JSON_TOKEN_FALSE:
			v.type = jbvBool;
			v.val.boolean = false;
			break;
		case JSON_TOKEN_NULL:
			v.type = jbvNull;
			break;
		default:
			elog(ERROR, "invalid json token type");
	}
	if (s->parse == NULL)
	{
		JsonbValue	va;

		va.type = jbvArray;
		va.val.array.rawScalar = true;
		va.val.array.nElems = 1;
		s->res = pushJsonbValue(&s->parse, WJB_BEGIN_ARRAY, &va);
		s->res = pushJsonbValue(&s->parse, WJB_ELEM, &v);
		s->res = pushJsonbValue(&s->parse, WJB_END_ARRAY, NULL);
	}
	else if (s->parse->contVal.type == jbvArray)
		s->res = pushJsonbValue(&s->parse, WJB_ELEM, &v);
	else
		s->res = pushJsonbValue(&s->parse, WJB_VALUE, &v);
}

Datum
jsonb_in(PG_FUNCTION_ARGS)
{
	char	   *json = PG_GETARG_CSTRING(0);
	JsonLexContext *lex = makeJsonLexContextCstringLen(json, strlen(json), PG_UTF8, true);
	InState		state = {0};
	JsonSemAction sem = {0};
	JsonParseErrorType err;

	sem.semstate = &state;
	sem.object_start = in_object_start;
	sem.object_end = in_object_end;
	sem.array_start = in_array_start;
	sem.array_end = in_array_end;
	sem.scalar = in_scalar;
	sem.object_field_start = in_object_field_start;
	err = pg_parse_json(lex, &sem);
	if (err != JSON_SUCCESS)
		ereport(ERROR,
				(errcode(err >= JSON_UNICODE_CODE_POINT_ZERO ? ERRCODE_UNTRANSLATABLE_CHARACTER
						 : ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", "json"),
				 errdetail("JSON parse error %d near byte %d", (int) err,
						   (int) (lex->token_start ? lex->token_start - lex->input : 0))));
	PG_RETURN_POINTER(JsonbValueToJsonb(state.res));
}

Jsonb *
ffz_jsonb(const char *json)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

bool
ffz_jsonb_equal(const Jsonb *a, const Jsonb *b)
{
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

/* ------------------------------------------------------------------------
 * output (messages and escape_json)
 * ------------------------------------------------------------------------ */
void
escape_json(StringInfo buf, const char *str)
{
	appendStringInfoCharMacro(buf, '"');
	for (const char *p = str; *p; p++)
	{
		switch (*p)
		{
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			default:
				if ((unsigned char) *p < ' ')
					appendStringInfo(buf, "\\u%04x", (int) *p);
				else
					appendStringInfoCharMacro(buf, *p);
				break;
		}
	}
	appendStringInfoCharMacro(buf, '"');
}

static void
out_value(StringInfo buf, JsonbValue *v)
{
	char	   *s;

	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(buf, v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			appendStringInfoString(buf, VARDATA((struct varlena *) v->val.numeric));
			break;
		case jbvString:
			s = pnstrdup(v->val.string.val, v->val.string.len);
			escape_json(buf, s);
			break;
		default:
			appendStringInfoString(buf, "?");
	}
}

char *
ffz_jsonb_out(const Jsonb *j)
{
	StringInfoData buf;
	JsonbIterator *it = JsonbIteratorInit(unconstify(JsonbContainer *, &j->root));
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;

	initStringInfo(&buf);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
				if (!first)
					appendStringInfoChar(&buf, ',');
				if (!v.val.array.rawScalar)
					appendStringInfoChar(&buf, '[');
				first = true;
				continue;
			case WJB_BEGIN_OBJECT:
				if (!first)
					appendStringInfoChar(&buf, ',');
				appendStringInfoChar(&buf, '{');
				first = true;
				continue;
			case WJB_END_ARRAY:
				if (buf.len == 0 || buf.data[0] == '[')
					appendStringInfoChar(&buf, ']');
				break;
			case WJB_END_OBJECT:
				appendStringInfoChar(&buf, '}');
				break;
			case WJB_KEY:
				if (!first)
					appendStringInfoChar(&buf, ',');
				out_value(&buf, &v);
				appendStringInfoChar(&buf, ':');
				first = true;
				continue;
			default:
				if (!first)
					appendStringInfoChar(&buf, ',');
				out_value(&buf, &v);
				break;
		}
		first = false;
	}
	return buf.data;
}
