/*
 * batch.c - the batch calls of the high-throughput path: create many
 * executions, renew / complete / fail many handles, each in one statement.
 *
 * Arrays travel in PostgreSQL's binary array format (one buffer per
 * parameter, elements binary too), so payloads and handles are never
 * escaped. The result rows are matched to the inputs by their item number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T FFC_TEXTOID
#define B FFC_BYTEAOID
#define I8 FFC_INT8OID
#define TA FFC_TEXTARRAYOID
#define J FFC_JSONBOID
#define BA 1001					/* bytea[] */
#define I4A 1007				/* integer[] */
#define JA 3807					/* jsonb[] */

#define FFC_MAX_BATCH 10000

#define TRY(expr) do { if (s == FF_OK) s = (expr); } while (0)

static const ffc_stmt st_create_many = {
	"ff_c_create_many",
	"SELECT item, execution_id, public_state, created FROM ff_create_executions("
	"lane_id => $1, input_payloads => $2, execution_ids => $3, idempotency_keys => $4, "
	"priorities => $5, tags => $6, namespace => $7, execution_kind => $8, "
	"required_capabilities => $9, policy => $10, delay_until => $11, "
	"execution_deadline_at => $12, creator_identity => $13)",
	13, {T, BA, TA, TA, I4A, JA, T, T, TA, J, I8, I8, T}, false
};

static const ffc_stmt st_renew_many = {
	"ff_c_renew_many",
	"SELECT item, execution_id, outcome, lease_expires_at_ms, lease_epoch, error_code, message "
	"FROM ff_renew_many($1)",
	1, {BA}, true
};

static const ffc_stmt st_complete_many = {
	"ff_c_complete_many",
	"SELECT item, execution_id, outcome, error_code, message FROM ff_complete_many($1, $2)",
	2, {BA, BA}, true
};

static const ffc_stmt st_fail_many = {
	"ff_c_fail_many",
	"SELECT item, execution_id, outcome, delay_until, error_code, message "
	"FROM ff_fail_many($1, $2, $3, $4)",
	4, {BA, TA, TA, BA}, true
};

/* ------------------------------------------------------------------------
 * binary arrays
 * ------------------------------------------------------------------------ */
typedef struct arr
{
	char	   *buf;
	size_t		len;
	size_t		cap;
	bool		oom;
	bool		hasnull;
} arr;

static void
arr_reserve(arr *a, size_t more)
{
	size_t		cap;
	char	   *grown;

	if (a->oom || a->len + more <= a->cap)
		return;
	cap = a->cap ? a->cap : 256;
	while (cap < a->len + more)
		cap *= 2;
	grown = realloc(a->buf, cap);
	if (grown == NULL)
	{
		a->oom = true;
		return;
	}
	a->buf = grown;
	a->cap = cap;
}

static void
arr_u32(arr *a, uint32_t v)
{
	arr_reserve(a, 4);
	if (a->oom)
		return;
	a->buf[a->len++] = (char) (v >> 24);
	a->buf[a->len++] = (char) (v >> 16);
	a->buf[a->len++] = (char) (v >> 8);
	a->buf[a->len++] = (char) v;
}

/* header of a one-dimensional array of n elements of type elem */
static void
arr_begin(arr *a, Oid elem, size_t n)
{
	memset(a, 0, sizeof(*a));
	arr_u32(a, n > 0 ? 1 : 0);	/* ndim */
	arr_u32(a, 0);				/* has nulls: patched in arr_param */
	arr_u32(a, (uint32_t) elem);
	if (n > 0)
	{
		arr_u32(a, (uint32_t) n);	/* dimension */
		arr_u32(a, 1);			/* lower bound */
	}
}

/* one element: bytes (NULL data = SQL NULL), with an optional prefix byte */
static void
arr_elem(arr *a, const void *data, size_t len, int prefix)
{
	size_t		total = len + (prefix >= 0 ? 1 : 0);

	if (data == NULL)
	{
		a->hasnull = true;
		arr_u32(a, 0xffffffffu);
		return;
	}
	if (total > 0x7fffffff)
	{
		a->oom = true;
		return;
	}
	arr_u32(a, (uint32_t) total);
	arr_reserve(a, total);
	if (a->oom)
		return;
	if (prefix >= 0)
		a->buf[a->len++] = (char) prefix;
	if (len > 0)
		memcpy(a->buf + a->len, data, len);
	a->len += len;
}

static void
arr_text(arr *a, const char *s)
{
	arr_elem(a, s, s ? strlen(s) : 0, -1);
}

static void
arr_int4(arr *a, int32_t v)
{
	arr_u32(a, 4);
	arr_u32(a, (uint32_t) v);
}

/* hands the buffer to the parameters (freed with them) */
static void
arr_param(ffc_params *p, arr *a)
{
	int			i;

	if (a->oom || a->len > 0x7fffffff || p->n >= FFC_MAX_PARAMS)
	{
		free(a->buf);
		p->oom = true;
		return;
	}
	if (a->hasnull)
		a->buf[7] = 1;
	i = p->n++;
	p->values[i] = a->buf;
	p->lengths[i] = (int) a->len;
	p->formats[i] = 1;
	p->owned[i] = a->buf;
	a->buf = NULL;
}

static ff_status
usage(ff_client *c, const char *what)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	return ffc_set_error(c, FF_ERR_USAGE, "%s", what);
}

static ff_status
check_batch(ff_client *c, const void *items, size_t n, const void *out, const char *fn)
{
	char		msg[200];

	if (c == NULL)
		return FF_ERR_USAGE;
	if (out == NULL || (n > 0 && items == NULL))
	{
		snprintf(msg, sizeof(msg), "%s: items and out are required", fn);
		return usage(c, msg);
	}
	if (n > FFC_MAX_BATCH)
	{
		snprintf(msg, sizeof(msg), "%s: at most %d items per call, got %zu", fn, FFC_MAX_BATCH, n);
		return usage(c, msg);
	}
	return FF_OK;
}

/* rows must be items 1..n in order */
static ff_status
check_rows(ff_client *c, PGresult *res, size_t n)
{
	ff_status	s = FF_OK;

	if ((size_t) PQntuples(res) != n)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows for %zu items",
							 PQntuples(res), n);
	for (size_t i = 0; i < n && s == FF_OK; i++)
	{
		int32_t		item = 0;

		s = ffc_get_int32(c, res, (int) i, 0, &item);
		if (s == FF_OK && (size_t) item != i + 1)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: row %zu is item %d", i + 1, item);
	}
	return s;
}

/* ------------------------------------------------------------------------
 * create
 * ------------------------------------------------------------------------ */
void
ff_create_result_list_clear(ff_create_result_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		ff_create_result_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

ff_status
ff_client_create_executions(ff_client *c, const ff_create_batch_args *a,
							const ff_create_batch_item *items, size_t n, ff_create_result_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;
	ff_create_result_list l = {0};
	arr			payloads,
				ids,
				keys,
				prios,
				tags;
	bool		any_id = false,
				any_key = false,
				any_prio = false,
				any_tags = false;

	s = check_batch(c, items, n, out, "ff_client_create_executions");
	if (s != FF_OK)
		return s;
	if (a == NULL)
		return usage(c, "ff_client_create_executions: args are required");
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
	{
		any_id |= items[i].execution_id != NULL;
		any_key |= items[i].idempotency_key != NULL;
		any_prio |= items[i].priority != 0;
		any_tags |= items[i].tags_json != NULL;
	}

	ffc_params_init(&p);
	ffc_param_text(&p, a->lane_id);
	arr_begin(&payloads, FFC_BYTEAOID, n);
	for (size_t i = 0; i < n; i++)
		arr_elem(&payloads, items[i].input_payload ? items[i].input_payload : NULL,
				 items[i].input_payload_len, -1);
	arr_param(&p, &payloads);
	if (any_id)
	{
		arr_begin(&ids, FFC_TEXTOID, n);
		for (size_t i = 0; i < n; i++)
			arr_text(&ids, items[i].execution_id);
		arr_param(&p, &ids);
	}
	else
		ffc_param_text(&p, NULL);
	if (any_key)
	{
		arr_begin(&keys, FFC_TEXTOID, n);
		for (size_t i = 0; i < n; i++)
			arr_text(&keys, items[i].idempotency_key);
		arr_param(&p, &keys);
	}
	else
		ffc_param_text(&p, NULL);
	if (any_prio)
	{
		arr_begin(&prios, FFC_INT4OID, n);
		for (size_t i = 0; i < n; i++)
			arr_int4(&prios, items[i].priority);
		arr_param(&p, &prios);
	}
	else
		ffc_param_text(&p, NULL);
	if (any_tags)
	{
		arr_begin(&tags, FFC_JSONBOID, n);
		for (size_t i = 0; i < n; i++)	/* binary jsonb: version 1, then the text */
			arr_elem(&tags, items[i].tags_json, items[i].tags_json ? strlen(items[i].tags_json) : 0,
					 items[i].tags_json ? 1 : -1);
		arr_param(&p, &tags);
	}
	else
		ffc_param_text(&p, NULL);
	ffc_param_text(&p, a->ns);
	ffc_param_text(&p, a->execution_kind);
	ffc_param_text_array(&p, a->required_capabilities, a->n_required_capabilities);
	ffc_param_text(&p, a->policy_json);
	ffc_param_int64_or_null(&p, a->delay_until_ms, a->delay_until_ms == 0);
	ffc_param_int64_or_null(&p, a->execution_deadline_at_ms, a->execution_deadline_at_ms == 0);
	ffc_param_text(&p, a->creator_identity);

	s = ffc_exec(c, &st_create_many, &p, &res);
	ffc_params_free(&p);
	if (s != FF_OK)
		return s;
	TRY(ffc_expect_columns(c, res, 4));
	TRY(check_rows(c, res, n));
	if (s == FF_OK && n > 0 && (l.items = ffc_calloc(n, sizeof(ff_create_result))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (size_t i = 0; i < n && s == FF_OK; i++)
	{
		l.count++;
		TRY(ffc_get_text(c, res, (int) i, 1, &l.items[i].execution_id));
		TRY(ffc_get_text(c, res, (int) i, 2, &l.items[i].public_state));
		TRY(ffc_get_bool(c, res, (int) i, 3, &l.items[i].created));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_create_result_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * handle batches
 * ------------------------------------------------------------------------ */
void
ff_batch_result_list_clear(ff_batch_result_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		free(l->items[i].execution_id);
		free(l->items[i].message);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

typedef enum
{
	KIND_RENEW, KIND_COMPLETE, KIND_FAIL
} batch_kind;

/*
 * Decodes the rows of a handle batch: item, execution_id, outcome, then
 * (renew) lease_expires_at_ms, lease_epoch or (fail) delay_until, then
 * error_code, message.
 */
static ff_status
decode_results(ff_client *c, PGresult *res, size_t n, batch_kind kind, ff_batch_result_list *out)
{
	int			ncols = kind == KIND_RENEW ? 7 : kind == KIND_FAIL ? 6 : 5;
	ff_status	s = ffc_expect_columns(c, res, ncols);
	ff_batch_result_list l = {0};

	TRY(check_rows(c, res, n));
	if (s == FF_OK && n > 0 && (l.items = ffc_calloc(n, sizeof(ff_batch_result))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (size_t i = 0; i < n && s == FF_OK; i++)
	{
		ff_batch_result *r = &l.items[i];
		int			row = (int) i;
		char	   *outcome = NULL;
		char	   *code = NULL;

		l.count++;
		TRY(ffc_get_text(c, res, row, 1, &r->execution_id));
		TRY(ffc_get_text(c, res, row, 2, &outcome));
		TRY(ffc_get_text(c, res, row, ncols - 2, &code));
		TRY(ffc_get_text(c, res, row, ncols - 1, &r->message));
		if (kind == KIND_RENEW)
		{
			TRY(ffc_get_int64(c, res, row, 3, &r->lease_expires_at_ms));
			TRY(ffc_get_int64(c, res, row, 4, &r->lease_epoch));
		}
		else if (kind == KIND_FAIL)
			TRY(ffc_get_int64(c, res, row, 3, &r->delay_until_ms));
		if (s == FF_OK && outcome == NULL)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: item %zu without an outcome", i + 1);
		if (s == FF_OK && code != NULL)
		{
			snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", code);
			r->status = ff_status_from_sqlstate(code);
		}
		else if (s == FF_OK && kind == KIND_FAIL)
		{
			if (strcmp(outcome, "retry_scheduled") == 0)
				r->fail_outcome = FF_FAIL_RETRY_SCHEDULED;
			else if (strcmp(outcome, "terminal_failed") == 0)
				r->fail_outcome = FF_FAIL_TERMINAL;
			else
				s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected fail outcome \"%s\"", outcome);
		}
		free(outcome);
		free(code);
	}
	if (s != FF_OK)
	{
		ff_batch_result_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

static ff_status
run_batch(ff_client *c, const ffc_stmt *st, ffc_params *p, size_t n, batch_kind kind,
		  ff_batch_result_list *out)
{
	PGresult   *res;
	ff_status	s = ffc_exec(c, st, p, &res);

	ffc_params_free(p);
	if (s != FF_OK)
		return s;
	s = decode_results(c, res, n, kind, out);
	PQclear(res);
	return s;
}

static void
arr_handle(arr *a, const ff_handle *h)
{
	arr_elem(a, h && h->data ? h->data : NULL, h ? h->len : 0, -1);
}

ff_status
ff_client_renew_many(ff_client *c, const ff_handle *const *handles, size_t n,
					 ff_batch_result_list *out)
{
	ffc_params	p;
	arr			hs;
	ff_status	s = check_batch(c, handles, n, out, "ff_client_renew_many");

	if (s != FF_OK)
		return s;
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	arr_begin(&hs, FFC_BYTEAOID, n);
	for (size_t i = 0; i < n; i++)
		arr_handle(&hs, handles[i]);
	arr_param(&p, &hs);
	return run_batch(c, &st_renew_many, &p, n, KIND_RENEW, out);
}

ff_status
ff_client_complete_many(ff_client *c, const ff_complete_item *items, size_t n,
						ff_batch_result_list *out)
{
	ffc_params	p;
	arr			hs,
				payloads;
	bool		any_payload = false;
	ff_status	s = check_batch(c, items, n, out, "ff_client_complete_many");

	if (s != FF_OK)
		return s;
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	arr_begin(&hs, FFC_BYTEAOID, n);
	for (size_t i = 0; i < n; i++)
	{
		arr_handle(&hs, items[i].handle);
		any_payload |= items[i].payload != NULL;
	}
	arr_param(&p, &hs);
	if (any_payload)
	{
		arr_begin(&payloads, FFC_BYTEAOID, n);
		for (size_t i = 0; i < n; i++)
			arr_elem(&payloads, items[i].payload, items[i].payload_len, -1);
		arr_param(&p, &payloads);
	}
	else
		ffc_param_text(&p, NULL);
	return run_batch(c, &st_complete_many, &p, n, KIND_COMPLETE, out);
}

ff_status
ff_client_fail_many(ff_client *c, const ff_fail_item *items, size_t n, ff_batch_result_list *out)
{
	ffc_params	p;
	arr			hs,
				messages,
				classes,
				details;
	bool		any_class = false,
				any_detail = false;
	ff_status	s = check_batch(c, items, n, out, "ff_client_fail_many");

	if (s != FF_OK)
		return s;
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	arr_begin(&hs, FFC_BYTEAOID, n);
	arr_begin(&messages, FFC_TEXTOID, n);
	for (size_t i = 0; i < n; i++)
	{
		arr_handle(&hs, items[i].handle);
		arr_text(&messages, items[i].message);
		any_class |= items[i].classification != NULL;
		any_detail |= items[i].detail != NULL;
	}
	arr_param(&p, &hs);
	arr_param(&p, &messages);
	if (any_class)
	{
		arr_begin(&classes, FFC_TEXTOID, n);
		for (size_t i = 0; i < n; i++)
			arr_text(&classes, items[i].classification);
		arr_param(&p, &classes);
	}
	else
		ffc_param_text(&p, NULL);
	if (any_detail)
	{
		arr_begin(&details, FFC_BYTEAOID, n);
		for (size_t i = 0; i < n; i++)
			arr_elem(&details, items[i].detail, items[i].detail_len, -1);
		arr_param(&p, &details);
	}
	else
		ffc_param_text(&p, NULL);
	return run_batch(c, &st_fail_many, &p, n, KIND_FAIL, out);
}
