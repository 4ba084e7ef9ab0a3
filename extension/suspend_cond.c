/*
 * suspend_cond.c
 *		The resume-condition language: parsing and validating the JSON,
 *		deriving each waitpoint's required signal names, and evaluating
 *		signals against the condition.
 *
 * JSON (FlowFabric's serde encoding, plus AnyOf):
 *		{"Single": {"waitpoint_key": "wpk:a", "matcher": {"ByName": "ready"}}}
 *		{"Single": {"waitpoint_key": "wpk:a", "matcher": "Wildcard"}}
 *		"OperatorOnly" | "TimeoutOnly"
 *		{"Composite": {"kind": "AllOf", "members": [<condition>, ...]}}
 *		{"Composite": {"kind": "AnyOf", "members": [<condition>, ...]}}
 *		{"Composite": {"kind": "Count", "n": 2, "count_kind": "DistinctSources",
 *					   "matcher": {"ByName": "vote"}, "waitpoints": ["wpk:a", ...]}}
 *
 * Evaluation is incremental. Each signal adds "satisfier tokens" to the
 * suspension's token set: a Single leaf it matches adds "leaf:<path>"; a
 * Count it passes adds "<path>|wp:<key>", "<path>|sig:<signal id>" or
 * "<path>|src:<source type>:<identity>" (by count kind) until that node has
 * its n. A node is satisfied by its tokens alone (AllOf: every member, AnyOf:
 * some member, OperatorOnly / TimeoutOnly: never), so a delivery costs the
 * size of the condition, not the number of signals received so far.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "suspend.h"

#define cond_error(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_FF_INVALID_INPUT), \
			 errmsg("invalid_input: resume_condition: " __VA_ARGS__), \
			 errhint("See docs/suspend-signals.md for the condition language.")))

static FFCond *parse_node(JsonbValue *v, const char *path, int depth);

static const char *
child_path(const char *parent, int i)
{
	if (strcmp(parent, "<root>") == 0)
		return psprintf("members[%d]", i);
	return psprintf("%s.members[%d]", parent, i);
}

/* object_keys_only rejects keys of an object outside the allowed list. */
static void
object_keys_only(JsonbContainer *obj, const char *const *allowed, const char *what,
				 const char *path)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		bool		known = false;

		if (tok != WJB_KEY)
			continue;
		for (const char *const *a = allowed; *a; a++)
			if (strlen(*a) == (size_t) v.val.string.len &&
				strncmp(*a, v.val.string.val, v.val.string.len) == 0)
				known = true;
		if (!known)
			cond_error("unknown key \"%.*s\" in %s at path %s",
					   v.val.string.len, v.val.string.val, what, path);
	}
}

static bool
get_key(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL &&
		out->type != jbvNull;
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static char *
string_value(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static char *
parse_key(const JsonbValue *v, const char *what, const char *path)
{
	char	   *key;

	if (v->type != jbvString)
		cond_error("%s must be a string at path %s", what, path);
	key = string_value(v);
	if (*key == '\0')
		cond_error("%s must not be empty at path %s", what, path);
	if (strlen(key) > FF_WAITPOINT_KEY_MAX_BYTES)
		cond_error("%s is longer than %d bytes at path %s", what, FF_WAITPOINT_KEY_MAX_BYTES, path);
	return key;
}

/*
 * parse_matcher reads "Wildcard" (returns NULL) or {"ByName": "x"} (returns
 * "x").
 */
static char *
parse_matcher(const JsonbValue *v, const char *path)
{
	static const char *const keys[] = {"ByName", NULL};
	JsonbValue	name;

	if (v->type == jbvString)
	{
		if (v->val.string.len == 8 && strncmp(v->val.string.val, "Wildcard", 8) == 0)
			return NULL;
		cond_error("unknown matcher \"%.*s\" at path %s", v->val.string.len, v->val.string.val, path);
	}
	if (!is_object(v))
		cond_error("matcher must be \"Wildcard\" or {\"ByName\": name} at path %s", path);
	object_keys_only(v->val.binary.data, keys, "matcher", path);
	if (!get_key(v->val.binary.data, "ByName", &name) || name.type != jbvString)
		cond_error("matcher must be \"Wildcard\" or {\"ByName\": name} at path %s", path);
	if (name.val.string.len == 0)
		cond_error("empty signal name (use Wildcard instead) at path %s", path);
	if (name.val.string.len > FF_SIGNAL_TEXT_MAX_BYTES)
		cond_error("signal name is longer than %d bytes at path %s", FF_SIGNAL_TEXT_MAX_BYTES, path);
	return string_value(&name);
}

static FFCond *
parse_single(JsonbValue *body, const char *path)
{
	static const char *const keys[] = {"waitpoint_key", "matcher", NULL};
	FFCond	   *c = palloc0(sizeof(FFCond));
	JsonbValue	v;

	if (!is_object(body))
		cond_error("Single must be an object at path %s", path);
	object_keys_only(body->val.binary.data, keys, "Single", path);
	c->kind = FF_COND_SINGLE;
	c->path = pstrdup(path);
	if (!get_key(body->val.binary.data, "waitpoint_key", &v))
		cond_error("Single needs a waitpoint_key at path %s", path);
	c->waitpoint_key = parse_key(&v, "waitpoint_key", path);
	if (get_key(body->val.binary.data, "matcher", &v))
		c->match_name = parse_matcher(&v, path);
	return c;
}

static int32
parse_count_n(const JsonbValue *v, const char *path)
{
	double		n;

	if (v->type != jbvNumeric)
		cond_error("Count n must be a number at path %s", path);
	/* 1e400 is valid JSON: out of double range is refused below (infinity), not a 22003 */
	n = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
	if (n == 0)
		cond_error("count_n_zero at path %s", path);
	if (n < 0 || n != floor(n) || n > FF_COUNT_MAX_N)
		cond_error("Count n must be a whole number from 1 to %d at path %s", FF_COUNT_MAX_N, path);
	return (int32) n;
}

static FFCond *
parse_composite(JsonbValue *body, const char *path, int depth)
{
	static const char *const list_keys[] = {"kind", "members", NULL};
	static const char *const count_keys[] = {"kind", "n", "count_kind", "matcher", "waitpoints", NULL};
	FFCond	   *c = palloc0(sizeof(FFCond));
	JsonbValue	kind;
	JsonbValue	v;
	char	   *kind_name;

	if (!is_object(body))
		cond_error("Composite must be an object at path %s", path);
	if (depth > FF_COND_MAX_DEPTH)
		cond_error("depth %d exceeds cap %d at path %s", depth, FF_COND_MAX_DEPTH, path);
	if (!get_key(body->val.binary.data, "kind", &kind) || kind.type != jbvString)
		cond_error("Composite needs a kind (AllOf, AnyOf or Count) at path %s", path);
	kind_name = string_value(&kind);
	c->path = pstrdup(path);

	if (strcmp(kind_name, "AllOf") == 0 || strcmp(kind_name, "AnyOf") == 0)
	{
		int			size;

		c->kind = kind_name[1] == 'l' ? FF_COND_ALL_OF : FF_COND_ANY_OF;
		object_keys_only(body->val.binary.data, list_keys, kind_name, path);
		if (!get_key(body->val.binary.data, "members", &v) || !is_array(&v))
			cond_error("%s needs a members array at path %s", kind_name, path);
		size = JsonContainerSize(v.val.binary.data);
		if (size == 0)
			cond_error("%s_empty_members at path %s",
					   c->kind == FF_COND_ALL_OF ? "allof" : "anyof", path);
		for (int i = 0; i < size; i++)
		{
			JsonbValue *m = getIthJsonbValueFromContainer(v.val.binary.data, i);
			FFCond	   *child = parse_node(m, child_path(path, i), depth);

			c->members = lappend(c->members, child);
		}
		return c;
	}
	if (strcmp(kind_name, "Count") == 0)
	{
		int			size;
		List	   *distinct = NIL;
		char	   *ck;

		c->kind = FF_COND_COUNT;
		object_keys_only(body->val.binary.data, count_keys, "Count", path);
		if (!get_key(body->val.binary.data, "n", &v))
			cond_error("Count needs n at path %s", path);
		c->n = parse_count_n(&v, path);
		if (!get_key(body->val.binary.data, "count_kind", &v) || v.type != jbvString)
			cond_error("Count needs a count_kind at path %s", path);
		ck = string_value(&v);
		if (strcmp(ck, "DistinctWaitpoints") == 0)
			c->count_kind = FF_COUNT_DISTINCT_WAITPOINTS;
		else if (strcmp(ck, "DistinctSignals") == 0)
			c->count_kind = FF_COUNT_DISTINCT_SIGNALS;
		else if (strcmp(ck, "DistinctSources") == 0)
			c->count_kind = FF_COUNT_DISTINCT_SOURCES;
		else
			cond_error("unknown count_kind \"%s\" at path %s (DistinctWaitpoints, DistinctSignals or DistinctSources)",
					   ck, path);
		if (get_key(body->val.binary.data, "matcher", &v))
		{
			c->has_matcher = true;
			c->match_name = parse_matcher(&v, path);
			c->has_matcher = c->match_name != NULL;
		}
		if (!get_key(body->val.binary.data, "waitpoints", &v) || !is_array(&v))
			cond_error("Count needs a waitpoints array at path %s", path);
		size = JsonContainerSize(v.val.binary.data);
		if (size == 0)
			cond_error("count_waitpoints_empty at path %s", path);
		for (int i = 0; i < size; i++)
		{
			JsonbValue *w = getIthJsonbValueFromContainer(v.val.binary.data, i);
			char	   *key = parse_key(w, "waitpoints entry", path);

			c->waitpoints = lappend(c->waitpoints, key);
			if (!list_member(distinct, makeString(key)))
				distinct = lappend(distinct, makeString(key));
		}
		if (c->count_kind == FF_COUNT_DISTINCT_WAITPOINTS && c->n > list_length(distinct))
			cond_error("count_exceeds_waitpoint_set: n=%d > waitpoints.len()=%d at path %s",
					   c->n, list_length(distinct), path);
		return c;
	}
	cond_error("unknown Composite kind \"%s\" at path %s (AllOf, AnyOf or Count)", kind_name, path);
	return NULL;				/* keep compiler quiet */
}

/*
 * parse_node parses one condition; depth is the number of Composite bodies
 * enclosing it.
 */
static FFCond *
parse_node(JsonbValue *v, const char *path, int depth)
{
	static const char *const single_keys[] = {"Single", NULL};
	static const char *const composite_keys[] = {"Composite", NULL};
	JsonbValue	body;

	if (v->type == jbvString)
	{
		FFCond	   *c = palloc0(sizeof(FFCond));
		char	   *name = string_value(v);

		c->path = pstrdup(path);
		if (strcmp(name, "OperatorOnly") == 0)
			c->kind = FF_COND_OPERATOR_ONLY;
		else if (strcmp(name, "TimeoutOnly") == 0)
			c->kind = FF_COND_TIMEOUT_ONLY;
		else
			cond_error("unknown condition \"%s\" at path %s", name, path);
		return c;
	}
	if (!is_object(v))
		cond_error("a condition must be an object or \"OperatorOnly\" / \"TimeoutOnly\" at path %s", path);
	if (get_key(v->val.binary.data, "Single", &body))
	{
		object_keys_only(v->val.binary.data, single_keys, "condition", path);
		return parse_single(&body, path);
	}
	if (get_key(v->val.binary.data, "Composite", &body))
	{
		object_keys_only(v->val.binary.data, composite_keys, "condition", path);
		return parse_composite(&body, path, depth + 1);
	}
	cond_error("a condition object must have one key, Single or Composite, at path %s", path);
	return NULL;				/* keep compiler quiet */
}

FFCond *
ff_cond_parse(Jsonb *condition)
{
	JsonbValue	root;

	if (JB_ROOT_IS_SCALAR(condition))
	{
		if (!JsonbExtractScalar(&condition->root, &root))
			cond_error("not a condition");
	}
	else
	{
		root.type = jbvBinary;
		root.val.binary.data = &condition->root;
		root.val.binary.len = VARSIZE(condition) - VARHDRSZ;
	}
	return parse_node(&root, "<root>", 0);
}

/* ff_cond_default: Single wildcard for one key, AllOf of them for several. */
FFCond *
ff_cond_default(List *keys)
{
	FFCond	   *root = palloc0(sizeof(FFCond));
	ListCell   *lc;

	if (list_length(keys) == 1)
	{
		root->kind = FF_COND_SINGLE;
		root->path = "<root>";
		root->waitpoint_key = linitial(keys);
		return root;
	}
	root->kind = FF_COND_ALL_OF;
	root->path = "<root>";
	foreach(lc, keys)
	{
		FFCond	   *s = palloc0(sizeof(FFCond));

		s->kind = FF_COND_SINGLE;
		s->path = (char *) child_path("<root>", foreach_current_index(lc));
		s->waitpoint_key = lfirst(lc);
		root->members = lappend(root->members, s);
	}
	return root;
}

static void
matcher_json(StringInfo buf, const char *name)
{
	if (name == NULL)
		appendStringInfoString(buf, "\"Wildcard\"");
	else
	{
		appendStringInfoString(buf, "{\"ByName\": ");
		escape_json(buf, name);
		appendStringInfoChar(buf, '}');
	}
}

static void
cond_json(StringInfo buf, const FFCond *c)
{
	static const char *const count_kinds[] = {"DistinctWaitpoints", "DistinctSignals", "DistinctSources"};
	ListCell   *lc;

	switch (c->kind)
	{
		case FF_COND_OPERATOR_ONLY:
			appendStringInfoString(buf, "\"OperatorOnly\"");
			break;
		case FF_COND_TIMEOUT_ONLY:
			appendStringInfoString(buf, "\"TimeoutOnly\"");
			break;
		case FF_COND_SINGLE:
			appendStringInfoString(buf, "{\"Single\": {\"waitpoint_key\": ");
			escape_json(buf, c->waitpoint_key);
			appendStringInfoString(buf, ", \"matcher\": ");
			matcher_json(buf, c->match_name);
			appendStringInfoString(buf, "}}");
			break;
		case FF_COND_ALL_OF:
		case FF_COND_ANY_OF:
			appendStringInfo(buf, "{\"Composite\": {\"kind\": \"%s\", \"members\": [",
							 c->kind == FF_COND_ALL_OF ? "AllOf" : "AnyOf");
			foreach(lc, c->members)
			{
				if (foreach_current_index(lc) > 0)
					appendStringInfoString(buf, ", ");
				cond_json(buf, lfirst(lc));
			}
			appendStringInfoString(buf, "]}}");
			break;
		case FF_COND_COUNT:
			appendStringInfo(buf, "{\"Composite\": {\"kind\": \"Count\", \"n\": %d, \"count_kind\": \"%s\", ",
							 c->n, count_kinds[c->count_kind]);
			if (c->has_matcher)
			{
				appendStringInfoString(buf, "\"matcher\": ");
				matcher_json(buf, c->match_name);
				appendStringInfoString(buf, ", ");
			}
			appendStringInfoString(buf, "\"waitpoints\": [");
			foreach(lc, c->waitpoints)
			{
				if (foreach_current_index(lc) > 0)
					appendStringInfoString(buf, ", ");
				escape_json(buf, lfirst(lc));
			}
			appendStringInfoString(buf, "]}}");
			break;
	}
}

/* ff_cond_to_jsonb renders the parsed condition in its canonical JSON. */
Jsonb *
ff_cond_to_jsonb(const FFCond *cond)
{
	StringInfoData buf;

	initStringInfo(&buf);
	cond_json(&buf, cond);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

static List *
add_unique(List *list, char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return list;
	return lappend(list, s);
}

static void
collect_keys(const FFCond *c, List **keys)
{
	ListCell   *lc;

	switch (c->kind)
	{
		case FF_COND_SINGLE:
			*keys = add_unique(*keys, c->waitpoint_key);
			break;
		case FF_COND_COUNT:
			foreach(lc, c->waitpoints)
				*keys = add_unique(*keys, lfirst(lc));
			break;
		case FF_COND_ALL_OF:
		case FF_COND_ANY_OF:
			foreach(lc, c->members)
				collect_keys(lfirst(lc), keys);
			break;
		default:
			break;
	}
}

/* ff_cond_keys lists the waitpoint keys the condition refers to, in DFS order. */
List *
ff_cond_keys(const FFCond *cond)
{
	List	   *keys = NIL;

	collect_keys(cond, &keys);
	return keys;
}

bool
ff_cond_root_never_by_signal(const FFCond *cond)
{
	return cond->kind == FF_COND_OPERATOR_ONLY || cond->kind == FF_COND_TIMEOUT_ONLY;
}

static void
collect_names(const FFCond *c, const char *key, List **names)
{
	ListCell   *lc;

	switch (c->kind)
	{
		case FF_COND_SINGLE:
			if (c->match_name && strcmp(c->waitpoint_key, key) == 0)
				*names = add_unique(*names, c->match_name);
			break;
		case FF_COND_OPERATOR_ONLY:
			*names = add_unique(*names, "__operator_only__");
			break;
		case FF_COND_TIMEOUT_ONLY:
			*names = add_unique(*names, "__timeout_only__");
			break;
		case FF_COND_COUNT:
			if (c->match_name)
				foreach(lc, c->waitpoints)
					if (strcmp(lfirst(lc), key) == 0)
					{
						*names = add_unique(*names, c->match_name);
						break;
					}
			break;
		case FF_COND_ALL_OF:
		case FF_COND_ANY_OF:
			foreach(lc, c->members)
				collect_names(lfirst(lc), key, names);
			break;
	}
}

/*
 * ff_cond_required_names returns the text[] of signal names a waitpoint
 * waits for (empty = any signal), as listed by ff_list_pending_waitpoints.
 */
Datum
ff_cond_required_names(const FFCond *cond, const char *waitpoint_key)
{
	List	   *names = NIL;
	Datum	   *elems;
	ListCell   *lc;

	collect_names(cond, waitpoint_key, &names);
	elems = palloc(sizeof(Datum) * Max(list_length(names), 1));
	foreach(lc, names)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(names), TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* Evaluation */

typedef struct ApplyState
{
	const FFSignalFacts *signal;
	List	  **tokens;
	bool		candidate;		/* some node looks at the signal's waitpoint */
	bool		accepted;		/* some such node's matcher accepted it */
	bool		contributed;	/* it added a token */
} ApplyState;

static bool
has_token(List *tokens, const char *token)
{
	ListCell   *lc;

	foreach(lc, tokens)
		if (strcmp(lfirst(lc), token) == 0)
			return true;
	return false;
}

static int
count_node_tokens(List *tokens, const char *path)
{
	size_t		len = strlen(path);
	int			n = 0;
	ListCell   *lc;

	foreach(lc, tokens)
	{
		const char *t = lfirst(lc);

		if (strncmp(t, path, len) == 0 && t[len] == '|')
			n++;
	}
	return n;
}

static bool
matcher_accepts(const char *match_name, const char *signal_name)
{
	return match_name == NULL || strcmp(match_name, signal_name) == 0;
}

static void
add_token(ApplyState *st, char *token)
{
	if (!has_token(*st->tokens, token))
	{
		*st->tokens = lappend(*st->tokens, token);
		st->contributed = true;
	}
}

static void
apply_node(const FFCond *c, ApplyState *st)
{
	const FFSignalFacts *s = st->signal;
	ListCell   *lc;

	switch (c->kind)
	{
		case FF_COND_SINGLE:
			if (strcmp(c->waitpoint_key, s->waitpoint_key) != 0)
				return;
			st->candidate = true;
			if (!matcher_accepts(c->match_name, s->signal_name))
				return;
			st->accepted = true;
			add_token(st, psprintf("leaf:%s", c->path));
			break;
		case FF_COND_COUNT:
			{
				bool		watched = false;

				foreach(lc, c->waitpoints)
					if (strcmp(lfirst(lc), s->waitpoint_key) == 0)
						watched = true;
				if (!watched)
					return;
				st->candidate = true;
				if (!matcher_accepts(c->match_name, s->signal_name))
					return;
				st->accepted = true;
				/* a node that has its n needs no more tokens */
				if (count_node_tokens(*st->tokens, c->path) >= c->n)
					return;
				if (c->count_kind == FF_COUNT_DISTINCT_WAITPOINTS)
					add_token(st, psprintf("%s|wp:%s", c->path, s->waitpoint_key));
				else if (c->count_kind == FF_COUNT_DISTINCT_SIGNALS)
					add_token(st, psprintf("%s|sig:%s", c->path, s->signal_id));
				else
					add_token(st, psprintf("%s|src:%s:%s", c->path, s->source_type,
										   s->source_identity));
			}
			break;
		case FF_COND_ALL_OF:
		case FF_COND_ANY_OF:
			foreach(lc, c->members)
				apply_node(lfirst(lc), st);
			break;
		default:
			break;
	}
}

static bool
node_satisfied(const FFCond *c, List *tokens)
{
	ListCell   *lc;

	switch (c->kind)
	{
		case FF_COND_SINGLE:
			return has_token(tokens, psprintf("leaf:%s", c->path));
		case FF_COND_COUNT:
			return count_node_tokens(tokens, c->path) >= c->n;
		case FF_COND_ALL_OF:
			foreach(lc, c->members)
				if (!node_satisfied(lfirst(lc), tokens))
					return false;
			return true;
		case FF_COND_ANY_OF:
			foreach(lc, c->members)
				if (node_satisfied(lfirst(lc), tokens))
					return true;
			return false;
		default:
			return false;
	}
}

/*
 * ff_cond_apply records one signal against the condition: it adds the
 * signal's new satisfier tokens to *tokens and returns the effect:
 *	resume_condition_satisfied		the condition is now satisfied
 *	appended_to_waitpoint			it advanced the condition
 *	appended_to_waitpoint_duplicate it matched, but added nothing new
 *	signal_ignored_matcher_failed	its waitpoint counts, its name does not
 *	signal_ignored_not_in_condition nothing in the condition watches its waitpoint
 */
const char *
ff_cond_apply(const FFCond *cond, const FFSignalFacts *signal, List **tokens,
			  bool *contributed, bool *satisfied)
{
	ApplyState	st = {signal, tokens, false, false, false};

	apply_node(cond, &st);
	*contributed = st.contributed;
	*satisfied = st.contributed && node_satisfied(cond, *tokens);
	if (!st.candidate)
		return "signal_ignored_not_in_condition";
	if (!st.accepted)
		return "signal_ignored_matcher_failed";
	if (!st.contributed)
		return "appended_to_waitpoint_duplicate";
	return *satisfied ? "resume_condition_satisfied" : "appended_to_waitpoint";
}
