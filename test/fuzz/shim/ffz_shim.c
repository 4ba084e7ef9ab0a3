/*
 * ffz_shim.c
 *		Memory, error handling and small backend utilities for running the
 *		extension's parsing code outside the server (test/fuzz/README.md).
 *
 * Memory: every palloc is its own malloc chunk (so AddressSanitizer sees
 * overflows and use-after-free) on a list that ffz_reset frees after each
 * input; the extension relies on memory contexts, never frees, and that is
 * fine here too.
 *
 * Errors: ereport(ERROR) longjmps to PG_exception_stack, exactly as in the
 * backend, so PG_TRY / PG_CATCH in the code under test work; ffz_run is the
 * outermost handler. WARNING and below are dropped.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "ffz.h"

/* ------------------------------------------------------------------------
 * memory
 * ------------------------------------------------------------------------ */
typedef struct Chunk
{
	struct Chunk *prev;
	struct Chunk *next;
	size_t		size;
	size_t		pad;			/* keeps data MAXALIGNed */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} Chunk;

static Chunk *chunks = NULL;

MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;
MemoryContext ErrorContext = NULL;
ResourceOwner CurrentResourceOwner = NULL;

#define CHUNK_OF(p) ((Chunk *) ((char *) (p) - offsetof(Chunk, data)))

static void *
alloc_chunk(size_t size, bool zero)
{
	Chunk	   *c;

	if (size > MaxAllocSize)
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = malloc(offsetof(Chunk, data) + size);
	if (c == NULL)
	{
		fprintf(stderr, "ffz: out of memory\n");
		abort();
	}
	c->size = size;
	c->prev = NULL;
	c->next = chunks;
	if (chunks)
		chunks->prev = c;
	chunks = c;
	if (zero)
		memset(c->data, 0, size);
	return c->data;
}

static void
free_chunk(Chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		chunks = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

void
ffz_reset(void)
{
	while (chunks)
		free_chunk(chunks);
}

void *
palloc(Size size)
{
	return alloc_chunk(size, false);
}

void *
palloc0(Size size)
{
	return alloc_chunk(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return alloc_chunk(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return alloc_chunk(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return alloc_chunk(size, true);
}

void *
repalloc(void *pointer, Size size)
{
	Chunk	   *old = CHUNK_OF(pointer);
	void	   *p = alloc_chunk(size, false);

	memcpy(p, pointer, Min(size, old->size));
	free_chunk(old);
	return p;
}

void
pfree(void *pointer)
{
	free_chunk(CHUNK_OF(pointer));
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	return pstrdup(string);
}

/* the frontend allocator names libpgcommon's objects use */
void *
pg_malloc(size_t size)
{
	return palloc(size);
}

void *
pg_malloc0(size_t size)
{
	return palloc0(size);
}

void *
pg_malloc_extended(size_t size, int flags)
{
	return palloc_extended(size, flags);
}

void *
pg_realloc(void *ptr, size_t size)
{
	return ptr ? repalloc(ptr, size) : palloc(size);
}

char *
pg_strdup(const char *in)
{
	return pstrdup(in);
}

void
pg_free(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/* ------------------------------------------------------------------------
 * errors
 * ------------------------------------------------------------------------ */
sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

static ErrorData cur;			/* the error being built or thrown */
static bool building = false;

static char *
format_va(const char *fmt, va_list ap)
{
	char		buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	return pstrdup(buf);
}

bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;			/* warnings and notices are dropped */
	memset(&cur, 0, sizeof(cur));
	cur.elevel = elevel;
	cur.sqlerrcode = ERRCODE_INTERNAL_ERROR;	/* elog(ERROR) */
	building = true;
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	building = false;
	cur.filename = filename;
	cur.lineno = lineno;
	cur.funcname = funcname;
	if (cur.elevel >= FATAL)
	{
		fprintf(stderr, "ffz: FATAL at %s:%d: %s\n", filename, lineno, cur.message ? cur.message : "");
		abort();
	}
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "ffz: ERROR outside any handler at %s:%d: %s\n", filename, lineno,
				cur.message ? cur.message : "");
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

int
errcode(int sqlerrcode)
{
	cur.sqlerrcode = sqlerrcode;
	return 0;
}

#define SET_FIELD(field) \
	do { va_list ap; va_start(ap, fmt); cur.field = format_va(fmt, ap); va_end(ap); } while (0)

int
errmsg(const char *fmt,...)
{
	SET_FIELD(message);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	SET_FIELD(message);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	SET_FIELD(detail);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	SET_FIELD(detail);
	return 0;
}

int
errhint(const char *fmt,...)
{
	SET_FIELD(hint);
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	SET_FIELD(context);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

int
errposition(int cursorpos)
{
	return 0;
}

ErrorData *
CopyErrorData(void)
{
	ErrorData  *e = palloc(sizeof(ErrorData));

	*e = cur;
	return e;
}

void
FreeErrorData(ErrorData *edata)
{
}

void
FlushErrorState(void)
{
	memset(&cur, 0, sizeof(cur));
}

void
ReThrowError(ErrorData *edata)
{
	cur = *edata;
	errfinish(edata->filename, edata->lineno, edata->funcname);
	abort();
}

void
pg_re_throw(void)
{
	errfinish(cur.filename, cur.lineno, cur.funcname);
	abort();
}

char *
unpack_sql_state(int sql_state)
{
	static char buf[12];

	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

int
geterrcode(void)
{
	return cur.sqlerrcode;
}

void
ffz_fail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "ffz: finding: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

bool
ffz_run(void (*fn) (void *), void *arg, int *sqlerrcode, const char **message)
{
	sigjmp_buf	jb;
	sigjmp_buf *volatile save = PG_exception_stack;

	if (sigsetjmp(jb, 0) != 0)
	{
		PG_exception_stack = save;
		error_context_stack = NULL;
		if (cur.sqlerrcode == ERRCODE_INTERNAL_ERROR)
			ffz_fail("internal error (XX000) at %s:%d (%s): %s", cur.filename ? cur.filename : "?",
					 cur.lineno, cur.funcname ? cur.funcname : "?", cur.message ? cur.message : "");
		if (sqlerrcode)
			*sqlerrcode = cur.sqlerrcode;
		if (message)
			*message = cur.message ? cur.message : "";
		return false;
	}
	PG_exception_stack = &jb;
	fn(arg);
	PG_exception_stack = save;
	return true;
}

/* ------------------------------------------------------------------------
 * stack depth: a real guard, since deep recursion is what fuzzers find
 * ------------------------------------------------------------------------ */
static char *stack_base = NULL;

void
check_stack_depth(void)
{
	char		here;

	if (stack_base == NULL)
		stack_base = &here;
	if (labs(stack_base - &here) > 2 * 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("stack depth limit exceeded")));
}

bool
stack_is_too_deep(void)
{
	return false;
}

/* ------------------------------------------------------------------------
 * subtransactions: one process, no storage; nothing to do
 * ------------------------------------------------------------------------ */
void
BeginInternalSubTransaction(const char *name)
{
}

void
ReleaseCurrentSubTransaction(void)
{
}

void
RollbackAndReleaseCurrentSubTransaction(void)
{
}

/* ------------------------------------------------------------------------
 * varlena, text, encodings
 * ------------------------------------------------------------------------ */
struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return datum;
}

struct varlena *
pg_detoast_datum_copy(struct varlena *datum)
{
	Size		len = VARSIZE_ANY(datum);
	struct varlena *copy = palloc(len);

	memcpy(copy, datum, len);
	return copy;
}

text *
cstring_to_text_with_len(const char *s, int len)
{
	text	   *t = palloc(len + VARHDRSZ);

	SET_VARSIZE(t, len + VARHDRSZ);
	memcpy(VARDATA(t), s, len);
	return t;
}

text *
cstring_to_text(const char *s)
{
	return cstring_to_text_with_len(s, strlen(s));
}

char *
text_to_cstring(const text *t)
{
	text	   *tunpacked = (text *) pg_detoast_datum_packed(unconstify(text *, t));
	int			len = VARSIZE_ANY_EXHDR(tunpacked);
	char	   *result = palloc(len + 1);

	memcpy(result, VARDATA_ANY(tunpacked), len);
	result[len] = '\0';
	return result;
}

text *
ffz_text(const uint8 *data, size_t len)
{
	return cstring_to_text_with_len((const char *) data, (int) len);
}

char *
ffz_cstring(const uint8 *data, size_t len)
{
	char	   *s = palloc(len + 1);

	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* the server encoding is UTF8 */
int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

bool
pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	int			ok = pg_encoding_verifymbstr(encoding, mbstr, len);

	if (ok == len)
		return true;
	if (noError)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("invalid byte sequence for encoding \"UTF8\"")));
	return false;
}

char *
pg_any_to_server(const char *s, int len, int encoding)
{
	(void) pg_verify_mbstr(encoding, s, len, false);
	return unconstify(char *, s);
}

/* ------------------------------------------------------------------------
 * fmgr
 * ------------------------------------------------------------------------ */
Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

Datum
DirectFunctionCall2Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 2, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

/* ------------------------------------------------------------------------
 * lists and String nodes (pg_list.h layout)
 * ------------------------------------------------------------------------ */
List *
lappend(List *list, void *datum)
{
	if (list == NIL)
	{
		list = palloc(offsetof(List, initial_elements) + 4 * sizeof(ListCell));
		list->type = T_List;
		list->length = 0;
		list->max_length = 4;
		list->elements = list->initial_elements;
	}
	else if (list->length >= list->max_length)
	{
		int			newmax = list->max_length * 2;
		ListCell   *cells = palloc(newmax * sizeof(ListCell));

		memcpy(cells, list->elements, list->length * sizeof(ListCell));
		list->elements = cells;
		list->max_length = newmax;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

String *
makeString(char *str)
{
	String	   *s = palloc(sizeof(String));

	s->type = T_String;
	s->sval = str;
	return s;
}

/* list_member for lists of String nodes (what the extension keeps) */
bool
list_member(const List *list, const void *datum)
{
	const Node *d = datum;

	if (list == NIL)
		return false;
	for (int i = 0; i < list->length; i++)
	{
		const Node *e = list->elements[i].ptr_value;

		if (e == d)
			return true;
		if (e && d && nodeTag(e) == T_String && nodeTag(d) == T_String &&
			strcmp(((const String *) e)->sval, ((const String *) d)->sval) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------------
 * one-dimensional arrays of varlena elements (utils/array.h layout)
 * ------------------------------------------------------------------------ */
ArrayType *
ffz_text_array(const char *const *elems, const bool *nulls, int n, int ndim)
{
	bool		hasnull = false;
	size_t		datalen = 0;
	size_t		hdr;
	ArrayType  *a;
	char	   *p;
	bits8	   *bitmap;
	int			dims[2];
	int			lbs[2] = {1, 1};

	Assert(ndim == 1 || ndim == 2);
	if (ndim == 2 && n % 2 != 0)
		ndim = 1;
	dims[0] = ndim == 1 ? n : n / 2;
	dims[1] = 2;
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			hasnull = true;
		else
			datalen = INTALIGN(datalen) + VARHDRSZ + strlen(elems[i]);
	}
	hdr = hasnull ? ARR_OVERHEAD_WITHNULLS(ndim, n) : ARR_OVERHEAD_NONULLS(ndim);
	a = palloc0(hdr + datalen);
	SET_VARSIZE(a, hdr + datalen);
	a->ndim = n == 0 ? 0 : ndim;
	a->dataoffset = hasnull ? hdr : 0;
	a->elemtype = TEXTOID;
	memcpy(ARR_DIMS(a), dims, ndim * sizeof(int));
	memcpy(ARR_LBOUND(a), lbs, ndim * sizeof(int));
	bitmap = ARR_NULLBITMAP(a);
	p = ARR_DATA_PTR(a);
	for (int i = 0; i < n; i++)
	{
		size_t		len;

		if (nulls[i])
			continue;
		if (bitmap)
			bitmap[i / 8] |= 1 << (i % 8);
		p = (char *) INTALIGN(p);
		len = strlen(elems[i]);
		SET_VARSIZE(p, VARHDRSZ + len);
		memcpy(p + VARHDRSZ, elems[i], len);
		p += VARHDRSZ + len;
	}
	return a;
}

void
deconstruct_array(ArrayType *array, Oid elmtype, int elmlen, bool elmbyval, char elmalign,
				  Datum **elemsp, bool **nullsp, int *nelemsp)
{
	int			n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	char	   *p = ARR_DATA_PTR(array);
	bits8	   *bitmap = ARR_NULLBITMAP(array);

	if (elmlen != -1 || elmalign != TYPALIGN_INT)
		elog(ERROR, "ffz: deconstruct_array handles varlena elements only");
	*elemsp = palloc(Max(n, 1) * sizeof(Datum));
	*nullsp = palloc0(Max(n, 1) * sizeof(bool));
	*nelemsp = n;
	for (int i = 0; i < n; i++)
	{
		if (bitmap && (bitmap[i / 8] & (1 << (i % 8))) == 0)
		{
			(*elemsp)[i] = (Datum) 0;
			(*nullsp)[i] = true;
			continue;
		}
		p = (char *) INTALIGN(p);
		(*elemsp)[i] = PointerGetDatum(p);
		p += VARSIZE(p);
	}
}

int
ArrayGetNItems(int ndim, const int *dims)
{
	int			n = 1;

	if (ndim <= 0)
		return 0;
	for (int i = 0; i < ndim; i++)
		n *= dims[i];
	return n;
}

ArrayType *
construct_array(Datum *elems, int nelems, Oid elmtype, int elmlen, bool elmbyval, char elmalign)
{
	const char **s = palloc(Max(nelems, 1) * sizeof(char *));
	bool	   *nulls = palloc0(Max(nelems, 1) * sizeof(bool));

	if (elmlen != -1)
		elog(ERROR, "ffz: construct_array handles varlena elements only");
	for (int i = 0; i < nelems; i++)
		s[i] = text_to_cstring(DatumGetTextPP(elems[i]));
	return ffz_text_array(s, nulls, nelems, 1);
}
