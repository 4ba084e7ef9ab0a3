/*
 * batch.c - the batch calls of the high-throughput path: create many
 * executions, renew / complete / fail many handles, each in one statement.
 *
 * Arrays travel in PostgreSQL's binary array format (one buffer per
 * parameter, elements binary too), so payloads and handles are never
 * escaped. The result rows are matched to the inputs by their item number.
 */
#include <stddef.h>
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

/*
 * One member of the input items as an array parameter: how to read it, and
 * whether the whole parameter is SQL NULL when no item has a value (the
 * engine's default then applies to every item).
 */
typedef enum
{
	COL_TEXT,					/* const char * (NULL element: SQL NULL) */
	COL_BYTES,					/* const void * and its size_t length at len_off */
	COL_JSONB,					/* const char * JSON text, sent as binary jsonb */
	COL_INT4,					/* int32_t (0 counts as no value) */
	COL_HANDLE					/* const ff_handle * */
} col_kind;

typedef struct column
{
	col_kind	kind;
	size_t		off;
	size_t		len_off;
	bool		null_if_none;
} column;

#define COL(kind, s, m, null_if_none)	{kind, offsetof(s, m), 0, null_if_none}
#define COL_B(s, m, len, null_if_none)	{COL_BYTES, offsetof(s, m), offsetof(s, len), null_if_none}

static bool
has_value(const column *col, const char *item)
{
	if (col->kind == COL_INT4)
		return *(const int32_t *) (item + col->off) != 0;
	return *(const void *const *) (item + col->off) != NULL;
}

static void
arr_column_elem(arr *a, const column *col, const char *item)
{
	const void *v = *(const void *const *) (item + col->off);
	const ff_handle *h = v;

	switch (col->kind)
	{
		case COL_TEXT:
			arr_text(a, v);
			break;
		case COL_BYTES:
			arr_elem(a, v, *(const size_t *) (item + col->len_off), -1);
			break;
		case COL_JSONB:			/* binary jsonb: version 1, then the text */
			arr_elem(a, v, v ? strlen(v) : 0, v ? 1 : -1);
			break;
		case COL_INT4:
			arr_int4(a, *(const int32_t *) (item + col->off));
			break;
		case COL_HANDLE:
			arr_elem(a, h && h->data ? h->data : NULL, h ? h->len : 0, -1);
			break;
	}
}

static const Oid column_elem_type[] = {
	[COL_TEXT] = FFC_TEXTOID, [COL_BYTES] = FFC_BYTEAOID, [COL_JSONB] = FFC_JSONBOID,
	[COL_INT4] = FFC_INT4OID, [COL_HANDLE] = FFC_BYTEAOID
};

/* each column of n items (stride bytes apart) as one array parameter */
static void
param_columns(ffc_params *p, const column *cols, size_t ncols, const void *items, size_t n,
			  size_t stride)
{
	for (size_t k = 0; k < ncols; k++)
	{
		const column *col = &cols[k];
		bool		any = !col->null_if_none;
		arr			a;

		for (size_t i = 0; i < n && !any; i++)
			any = has_value(col, (const char *) items + i * stride);
		if (!any)
		{
			ffc_param_text(p, NULL);
			continue;
		}
		arr_begin(&a, column_elem_type[col->kind], n);
		for (size_t i = 0; i < n; i++)
			arr_column_elem(&a, col, (const char *) items + i * stride);
		arr_param(p, &a);
	}
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
		return ffc_usage(c, msg);
	}
	if (n > FFC_MAX_BATCH)
	{
		snprintf(msg, sizeof(msg), "%s: at most %d items per call, got %zu", fn, FFC_MAX_BATCH, n);
		return ffc_usage(c, msg);
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
	FFC_CLEAR_LIST(l, ffc_create_result_fields);
}

static const column create_columns[] = {
	COL_B(ff_create_batch_item, input_payload, input_payload_len, false),
	COL(COL_TEXT, ff_create_batch_item, execution_id, true),
	COL(COL_TEXT, ff_create_batch_item, idempotency_key, true),
	COL(COL_INT4, ff_create_batch_item, priority, true),
	COL(COL_JSONB, ff_create_batch_item, tags_json, true),
};

ff_status
ff_client_create_executions(ff_client *c, const ff_create_batch_args *a,
							const ff_create_batch_item *items, size_t n, ff_create_result_list *out)
{
	ffc_params	p;
	PGresult   *res;
	ff_status	s;

	s = check_batch(c, items, n, out, "ff_client_create_executions");
	if (s != FF_OK)
		return s;
	if (a == NULL)
		return ffc_usage(c, "ff_client_create_executions: args are required");
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	ffc_param_text(&p, a->lane_id);
	param_columns(&p, create_columns, FFC_LEN(create_columns), items, n, sizeof(*items));
	ffc_param_text(&p, a->ns);
	ffc_param_text(&p, a->execution_kind);
	ffc_param_text_array(&p, a->required_capabilities, a->n_required_capabilities);
	ffc_param_text(&p, a->policy_json);
	ffc_param_int64_or_null(&p, a->delay_until_ms, a->delay_until_ms == 0);
	ffc_param_int64_or_null(&p, a->execution_deadline_at_ms, a->execution_deadline_at_ms == 0);
	ffc_param_text(&p, a->creator_identity);

	s = ffc_run(c, &st_create_many, &p, 1 + FFC_NF(ffc_create_result_fields), &res);
	if (s != FF_OK)
		return s;
	s = check_rows(c, res, n);
	if (s == FF_OK)
		s = ffc_decode_rows(c, res, 1, ffc_create_result_fields, FFC_NF(ffc_create_result_fields),
							sizeof(ff_create_result), (void **) &out->items, &out->count);
	PQclear(res);
	return s;
}

/* ------------------------------------------------------------------------
 * handle batches
 * ------------------------------------------------------------------------ */
/* what a batch result owns (its other members are decoded by hand) */
static const ffc_field batch_result_owned[] = {
	FFC_FLD(TEXT, ff_batch_result, execution_id),
	FFC_FLD(TEXT, ff_batch_result, message),
};

void
ff_batch_result_list_clear(ff_batch_result_list *l)
{
	FFC_CLEAR_LIST(l, batch_result_owned);
}

/* a handle batch's row: item, execution_id, outcome, the call's own
 * columns, error_code, message */
typedef struct batch_row
{
	ff_batch_result r;
	char	   *outcome;
	char	   *code;
} batch_row;

static const ffc_field renew_row_fields[] = {
	FFC_FLD_SKIP,
	FFC_FLD(TEXT, batch_row, r.execution_id),
	FFC_FLD_REQ(TEXT, batch_row, outcome),
	FFC_FLD(I64, batch_row, r.lease_expires_at_ms),
	FFC_FLD(I64, batch_row, r.lease_epoch),
	FFC_FLD(TEXT, batch_row, code),
	FFC_FLD(TEXT, batch_row, r.message),
};

static const ffc_field complete_row_fields[] = {
	FFC_FLD_SKIP,
	FFC_FLD(TEXT, batch_row, r.execution_id),
	FFC_FLD_REQ(TEXT, batch_row, outcome),
	FFC_FLD(TEXT, batch_row, code),
	FFC_FLD(TEXT, batch_row, r.message),
};

static const ffc_field fail_row_fields[] = {
	FFC_FLD_SKIP,
	FFC_FLD(TEXT, batch_row, r.execution_id),
	FFC_FLD_REQ(TEXT, batch_row, outcome),
	FFC_FLD(I64, batch_row, r.delay_until_ms),
	FFC_FLD(TEXT, batch_row, code),
	FFC_FLD(TEXT, batch_row, r.message),
};

/* an item's error code, or (fail) its outcome, into its result */
static ff_status
item_outcome(ff_client *c, batch_row *row, bool fail)
{
	if (row->code != NULL)
	{
		snprintf(row->r.sqlstate, sizeof(row->r.sqlstate), "%s", row->code);
		row->r.status = ff_status_from_sqlstate(row->code);
	}
	else if (fail)
	{
		if (strcmp(row->outcome, "retry_scheduled") == 0)
			row->r.fail_outcome = FF_FAIL_RETRY_SCHEDULED;
		else if (strcmp(row->outcome, "terminal_failed") == 0)
			row->r.fail_outcome = FF_FAIL_TERMINAL;
		else
			return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected fail outcome \"%s\"", row->outcome);
	}
	return FF_OK;
}

/* runs a handle batch (freeing p): one row per item, items 1..n in order */
static ff_status
run_batch(ff_client *c, const ffc_stmt *st, ffc_params *p, size_t n, const ffc_field *f, int nf,
		  ff_batch_result_list *out)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, nf, &res);
	ff_batch_result_list l = {0};

	if (s != FF_OK)
		return s;
	s = check_rows(c, res, n);
	if (s == FF_OK && n > 0 && (l.items = ffc_calloc(n, sizeof(ff_batch_result))) == NULL)
		s = ffc_oom(c);
	for (size_t i = 0; i < n && s == FF_OK; i++)
	{
		batch_row	row = {0};

		s = ffc_decode_row(c, res, (int) i, 0, f, nf, &row);
		if (s == FF_OK)
			s = item_outcome(c, &row, f == fail_row_fields);
		l.items[l.count++] = row.r;
		free(row.outcome);
		free(row.code);
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_batch_result_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

ff_status
ff_client_renew_many(ff_client *c, const ff_handle *const *handles, size_t n,
					 ff_batch_result_list *out)
{
	static const column handle_column[] = {{COL_HANDLE, 0, 0, false}};
	ffc_params	p;
	ff_status	s = check_batch(c, handles, n, out, "ff_client_renew_many");

	if (s != FF_OK)
		return s;
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_columns(&p, handle_column, 1, handles, n, sizeof(*handles));
	return run_batch(c, &st_renew_many, &p, n, renew_row_fields, FFC_NF(renew_row_fields), out);
}

static const column complete_columns[] = {
	COL(COL_HANDLE, ff_complete_item, handle, false),
	COL_B(ff_complete_item, payload, payload_len, true),
};

ff_status
ff_client_complete_many(ff_client *c, const ff_complete_item *items, size_t n,
						ff_batch_result_list *out)
{
	ffc_params	p;
	ff_status	s = check_batch(c, items, n, out, "ff_client_complete_many");

	if (s != FF_OK)
		return s;
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_columns(&p, complete_columns, FFC_LEN(complete_columns), items, n, sizeof(*items));
	return run_batch(c, &st_complete_many, &p, n, complete_row_fields,
					 FFC_NF(complete_row_fields), out);
}

static const column fail_columns[] = {
	COL(COL_HANDLE, ff_fail_item, handle, false),
	COL(COL_TEXT, ff_fail_item, message, false),
	COL(COL_TEXT, ff_fail_item, classification, true),
	COL_B(ff_fail_item, detail, detail_len, true),
};

ff_status
ff_client_fail_many(ff_client *c, const ff_fail_item *items, size_t n, ff_batch_result_list *out)
{
	ffc_params	p;
	ff_status	s = check_batch(c, items, n, out, "ff_client_fail_many");

	if (s != FF_OK)
		return s;
	memset(out, 0, sizeof(*out));
	ffc_params_init(&p);
	param_columns(&p, fail_columns, FFC_LEN(fail_columns), items, n, sizeof(*items));
	return run_batch(c, &st_fail_many, &p, n, fail_row_fields, FFC_NF(fail_row_fields), out);
}
