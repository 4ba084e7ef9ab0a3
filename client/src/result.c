/*
 * result.c - what the areas' calls share: usage errors, common parameters,
 * the one-row / list / scalar / reconciler call shapes, and decoding reply
 * rows into result structs with field tables (internal.h).
 *
 * A field table names a result struct's members in the order of the reply's
 * columns. ffc_decode_row fills them, ffc_free_fields frees exactly what it
 * allocated, so a decoder and its clear function cannot drift apart.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* FFC_F_ENUM writes an int: the public enums are int-sized */
_Static_assert(sizeof(ff_fail_outcome) == sizeof(int), "enums are int-sized");

ff_status
ffc_usage(ff_client *c, const char *what)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	return ffc_set_error(c, FF_ERR_USAGE, "%s", what);
}

ff_status
ffc_usage_of(ff_client *c, const char *fn, const char *what)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	return ffc_set_error(c, FF_ERR_USAGE, "%s: %s", fn, what);
}

ff_status
ffc_oom(ff_client *c)
{
	return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
}

void
ffc_param_handle(ffc_params *p, const ff_handle *h)
{
	ffc_param_bytes(p, h ? h->data : NULL, h ? h->len : 0, h == NULL || h->data == NULL);
}

void
ffc_param_int32_default(ffc_params *p, int32_t v, int32_t dflt)
{
	ffc_param_int32_or_null(p, v == 0 ? dflt : v, false);
}

/* ------------------------------------------------------------------------
 * column decoders beyond core.c's
 * ------------------------------------------------------------------------ */
static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

void
ffc_free_texts(char **items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/*
 * A one-dimensional text[] in binary format into a malloc'ed string array.
 * An SQL NULL or empty array: no array (NULL, 0); a NULL element becomes an
 * empty string.
 */
ff_status
ffc_get_texts(ff_client *c, const PGresult *res, int row, int col, char ***items_out,
			  size_t *n_out)
{
	const unsigned char *v = (const unsigned char *) PQgetvalue(res, row, col);
	size_t		len = (size_t) PQgetlength(res, row, col);
	size_t		pos;
	uint32_t	ndim;
	uint32_t	n;
	char	  **items;

	*items_out = NULL;
	*n_out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != FFC_TEXTARRAYOID || len < 12)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: column \"%s\" is not text[]",
							 PQfname(res, col));
	ndim = be32(v);
	if (ndim == 0)
		return FF_OK;
	if (ndim != 1 || len < 20)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %u-dimensional array", ndim);
	n = be32(v + 12);			/* after ndim, has-null flag, element type */
	pos = 20;					/* after the size and the lower bound */
	if (n == 0)
		return FF_OK;
	if (n > (len - pos) / 4)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
	items = ffc_calloc(n, sizeof(char *));
	if (items == NULL)
		return ffc_oom(c);
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	elen;

		if (len - pos < 4)
			goto malformed;
		elen = be32(v + pos);
		pos += 4;
		if (elen == 0xffffffffu)
			elen = 0;			/* a NULL element: shown as empty */
		else if (elen > len - pos)
			goto malformed;
		items[i] = malloc((size_t) elen + 1);
		if (items[i] == NULL)
		{
			ffc_free_texts(items, i);
			return ffc_oom(c);
		}
		memcpy(items[i], v + pos, elen);
		items[i][elen] = '\0';
		pos += elen;
	}
	*items_out = items;
	*n_out = n;
	return FF_OK;

malformed:
	ffc_free_texts(items, n);
	return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: malformed array");
}

static ff_status
get_float8(ff_client *c, const PGresult *res, int row, int col, double *out)
{
	const unsigned char *v = (const unsigned char *) PQgetvalue(res, row, col);
	uint64_t	u = 0;

	*out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != 701 /* float8 */ || PQgetlength(res, row, col) != 8)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: column \"%s\" is not float8",
							 PQfname(res, col));
	for (int i = 0; i < 8; i++)
		u = (u << 8) | v[i];
	memcpy(out, &u, sizeof(*out));
	return FF_OK;
}

/* a text column into a fixed buffer (frame ids) */
static ff_status
get_chars(ff_client *c, const PGresult *res, int row, int col, char *buf, size_t len)
{
	char	   *v = NULL;
	ff_status	s = ffc_get_text(c, res, row, col, &v);

	buf[0] = '\0';
	if (s == FF_OK && v != NULL)
	{
		if (strlen(v) >= len)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %s \"%s\" too long",
							  PQfname(res, col), v);
		else
			strcpy(buf, v);
	}
	free(v);
	return s;
}

int
ffc_name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int) i;
	return -1;
}

/* an outcome or state name into the index of names[] (FFC_F_ENUM / _FLAG) */
static ff_status
get_name_index(ff_client *c, const PGresult *res, int row, int col, const ffc_field *f, int *out)
{
	char	   *v = NULL;
	ff_status	s = ffc_get_text(c, res, row, col, &v);
	int			i = ffc_name_index(f->names, f->off2, v);
	bool		lenient = (f->type & ~FFC_F_NOTNULL) == FFC_F_FLAG && f->names[0] == NULL;

	*out = i < 0 ? 0 : i;
	if (s == FF_OK && i < 0 && !(lenient || (v == NULL && (f->type & ~FFC_F_NOTNULL) == FFC_F_ENUM)))
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %s \"%s\"", PQfname(res, col),
						  v ? v : "(null)");
	free(v);
	return s;
}

/* ------------------------------------------------------------------------
 * field tables
 * ------------------------------------------------------------------------ */
static ff_status
decode_field(ff_client *c, const PGresult *res, int row, int col, const ffc_field *f, char *b)
{
	void	   *p = b + f->off;
	int			idx;
	ff_status	s = FF_OK;

	switch (f->type & ~FFC_F_NOTNULL)
	{
		case FFC_F_TEXT:
			return ffc_get_text(c, res, row, col, (char **) p);
		case FFC_F_I64_HAS:
			*(bool *) (b + f->off2) = !PQgetisnull(res, row, col);
			/* FALLTHROUGH */
		case FFC_F_I64:
			return ffc_get_int64(c, res, row, col, (int64_t *) p);
		case FFC_F_I32_HAS:
			*(bool *) (b + f->off2) = !PQgetisnull(res, row, col);
			/* FALLTHROUGH */
		case FFC_F_I32:
			return ffc_get_int32(c, res, row, col, (int32_t *) p);
		case FFC_F_BOOL:
			return ffc_get_bool(c, res, row, col, (bool *) p);
		case FFC_F_F64:
			return get_float8(c, res, row, col, (double *) p);
		case FFC_F_BYTES:
			return ffc_get_bytes(c, res, row, col, (ff_bytes *) p);
		case FFC_F_HANDLE:
			{
				ff_bytes	h = {0};

				s = ffc_get_bytes(c, res, row, col, &h);
				((ff_handle *) p)->data = h.data;
				((ff_handle *) p)->len = h.len;
				return s;
			}
		case FFC_F_TEXTS:
			return ffc_get_texts(c, res, row, col, (char ***) p, (size_t *) (b + f->off2));
		case FFC_F_CHARS:
			return get_chars(c, res, row, col, (char *) p, f->off2);
		case FFC_F_FLAG:
			s = get_name_index(c, res, row, col, f, &idx);
			*(bool *) p = idx == 1;
			return s;
		case FFC_F_ENUM:
			s = get_name_index(c, res, row, col, f, &idx);
			*(int *) p = idx;
			return s;
		default:
			return FF_OK;
	}
}

ff_status
ffc_decode_row(ff_client *c, const PGresult *res, int row, int first_col, const ffc_field *f,
			   int nf, void *base)
{
	ff_status	s = FF_OK;

	for (int i = 0; i < nf && s == FF_OK; i++)
	{
		int			col = first_col + i;

		s = decode_field(c, res, row, col, &f[i], base);
		if (s == FF_OK && (f[i].type & FFC_F_NOTNULL) && PQgetisnull(res, row, col))
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: no %s", PQfname(res, col));
	}
	return s;
}

void
ffc_free_fields(const ffc_field *f, int nf, void *base)
{
	char	   *b = base;

	if (base == NULL)
		return;
	for (int i = 0; i < nf; i++)
	{
		void	   *p = b + f[i].off;

		switch (f[i].type & ~FFC_F_NOTNULL)
		{
			case FFC_F_TEXT:
				free(*(char **) p);
				*(char **) p = NULL;
				break;
			case FFC_F_BYTES:
				ff_bytes_clear((ff_bytes *) p);
				break;
			case FFC_F_HANDLE:
				ff_handle_clear((ff_handle *) p);
				break;
			case FFC_F_TEXTS:
				ffc_free_texts(*(char ***) p, *(size_t *) (b + f[i].off2));
				*(char ***) p = NULL;
				*(size_t *) (b + f[i].off2) = 0;
				break;
			default:
				break;
		}
	}
}

void
ffc_clear_fields(const ffc_field *f, int nf, void *base, size_t size)
{
	if (base == NULL)
		return;
	ffc_free_fields(f, nf, base);
	memset(base, 0, size);
}

void
ffc_free_list(const ffc_field *f, int nf, size_t elem_size, void *items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ffc_free_fields(f, nf, (char *) items + i * elem_size);
	free(items);
}

ff_status
ffc_decode_rows(ff_client *c, const PGresult *res, int first_col, const ffc_field *f, int nf,
				size_t elem_size, void **items_out, size_t *count_out)
{
	int			n = PQntuples(res);
	char	   *items = NULL;
	size_t		count = 0;
	ff_status	s = FF_OK;

	*items_out = NULL;
	*count_out = 0;
	if (n > 0 && (items = ffc_calloc((size_t) n, elem_size)) == NULL)
		return ffc_oom(c);
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		count++;
		s = ffc_decode_row(c, res, i, first_col, f, nf, items + (size_t) i * elem_size);
	}
	if (s != FF_OK)
	{
		ffc_free_list(f, nf, elem_size, items, count);
		return s;
	}
	*items_out = items;
	*count_out = count;
	return FF_OK;
}

ff_status
ffc_decode_nested(ff_client *c, const PGresult *res, const ffc_field *f, int nf, void *base,
				  const ffc_field *item_f, int item_nf, size_t item_size, void **items,
				  size_t *count)
{
	int			n = PQntuples(res);
	ff_status	s;

	*items = NULL;
	*count = 0;
	if (n < 1)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: no rows");
	s = ffc_decode_row(c, res, 0, 0, f, nf, base);
	if (s == FF_OK && !(n == 1 && PQgetisnull(res, 0, nf)))
		s = ffc_decode_rows(c, res, nf, item_f, item_nf, item_size, items, count);
	return s;
}

/* ------------------------------------------------------------------------
 * call shapes
 * ------------------------------------------------------------------------ */
ff_status
ffc_run_row(ff_client *c, const ffc_stmt *st, ffc_params *p, const ffc_field *f, int nf,
			void *base, size_t size, bool *found)
{
	PGresult   *res;
	ff_status	s;
	void	   *scratch = NULL;
	int			n;

	if (base == NULL && (base = scratch = ffc_calloc(1, size)) == NULL)
	{
		ffc_params_free(p);
		return ffc_oom(c);
	}
	memset(base, 0, size);
	s = ffc_run(c, st, p, nf, &res);
	if (s == FF_OK)
	{
		n = PQntuples(res);
		if (found == NULL)
			s = ffc_exactly_one_row(c, res);
		else if (n > 1)
			s = ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows", n);
		if (s == FF_OK && n == 1)
			s = ffc_decode_row(c, res, 0, 0, f, nf, base);
		if (found)
			*found = s == FF_OK && n == 1;
		PQclear(res);
	}
	if (s != FF_OK || scratch)
		ffc_clear_fields(f, nf, base, size);
	free(scratch);
	return s;
}

ff_status
ffc_run_list(ff_client *c, const ffc_stmt *st, ffc_params *p, const ffc_field *f, int nf,
			 size_t elem_size, void **items, size_t *count)
{
	PGresult   *res;
	ff_status	s;

	*items = NULL;
	*count = 0;
	s = ffc_run(c, st, p, nf, &res);
	if (s != FF_OK)
		return s;
	s = ffc_decode_rows(c, res, 0, f, nf, elem_size, items, count);
	PQclear(res);
	return s;
}

ff_status
ffc_read_events(ff_client *c, const ffc_stmt *st, const ffc_field *f, int nf, size_t item_size,
				int64_t after_event_id, int32_t max_events, void **items, size_t *count)
{
	ffc_params	p;

	ffc_params_init(&p);
	ffc_param_int64(&p, after_event_id);
	ffc_param_int32_default(&p, max_events, 100);
	return ffc_run_list(c, st, &p, f, nf, item_size, items, count);
}

ff_status
ffc_scalar_text(ff_client *c, const ffc_stmt *st, ffc_params *p, char **out)
{
	static const ffc_field f[] = {{FFC_F_TEXT, 0, 0, NULL}};

	return ffc_run_row(c, st, p, f, 1, out, sizeof(*out), NULL);
}

typedef struct int32_cell
{
	int32_t		v;
	bool		has;
} int32_cell;

ff_status
ffc_scalar_int32(ff_client *c, const ffc_stmt *st, ffc_params *p, int32_t *out, bool *found)
{
	static const ffc_field f[] = {FFC_FLD2(I32_HAS, int32_cell, v, has)};
	int32_cell	r;
	ff_status	s = ffc_run_row(c, st, p, f, 1, &r, sizeof(r), NULL);

	if (s == FF_OK)
	{
		*out = r.v;
		if (found)
			*found = r.has;
	}
	return s;
}

ff_status
ffc_run_discard(ff_client *c, const ffc_stmt *st, ffc_params *p)
{
	PGresult   *res;
	ff_status	s = ffc_run(c, st, p, 1, &res);

	if (s == FF_OK)
		PQclear(res);
	return s;
}

ff_status
ffc_reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size, int32_t *changed)
{
	ffc_params	p;
	int32_t		n = 0;
	ff_status	s;

	if (changed)
		*changed = 0;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	ffc_param_int32_or_null(&p, batch_size, batch_size == 0);
	s = ffc_scalar_int32(c, st, &p, &n, NULL);
	if (s == FF_OK && changed)
		*changed = n;
	return s;
}
