/*
 * spi.c
 *		Saved SPI plans and the small conversions every operation needs.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "flowfabric.h"

/*
 * ff_prepare returns the plan cached in *cache, preparing and saving it on
 * first use in this backend. Saved plans are re-planned automatically when
 * the tables they use change.
 */
static SPIPlanPtr
prepare(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *argtypes, int options)
{
	if (*cache == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, options);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*cache = plan;
	}
	return *cache;
}

SPIPlanPtr
ff_prepare(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *argtypes)
{
	return prepare(cache, sql, nargs, argtypes, 0);
}

/*
 * ff_prepare_generic is ff_prepare for a statement whose best plan does not
 * depend on its parameters' values: it is planned once, never per call.
 */
SPIPlanPtr
ff_prepare_generic(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *argtypes)
{
	return prepare(cache, sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
}

int
ff_execute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	int			ret = SPI_execute_plan(plan, values, nulls, read_only, count);

	if (ret < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	return ret;
}

/*
 * ff_type_storage gives the storage of the built-in types the engine's
 * statements pass (bool, int2/4/8, uuid; anything else is a varlena: text,
 * bytea, jsonb) without a catalog lookup.
 */
void
ff_type_storage(Oid type, int16 *len, bool *byval, char *align)
{
	switch (type)
	{
		case BOOLOID:
			*len = 1, *byval = true, *align = TYPALIGN_CHAR;
			break;
		case INT2OID:
			*len = 2, *byval = true, *align = TYPALIGN_SHORT;
			break;
		case INT4OID:
			*len = 4, *byval = true, *align = TYPALIGN_INT;
			break;
		case INT8OID:
			*len = 8, *byval = FLOAT8PASSBYVAL, *align = TYPALIGN_DOUBLE;
			break;
		case UUIDOID:
			*len = UUID_LEN, *byval = false, *align = TYPALIGN_CHAR;
			break;
		default:
			*len = -1, *byval = false, *align = TYPALIGN_INT;
			break;
	}
}

/* ff_array_param builds a one-dimensional array parameter (nulls may be NULL). */
Datum
ff_array_param(Datum *elems, bool *nulls, int n, Oid type)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		len;
	bool		byval;
	char		align;

	ff_type_storage(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, len, byval, align));
}

Datum
ff_get_datum(HeapTuple tuple, TupleDesc desc, int col, bool *isnull)
{
	return SPI_getbinval(tuple, desc, col, isnull);
}

/* The conversions shared by the column-at-a-time and deformed readers. */
static inline char *
datum_cstring(Datum d, bool isnull)
{
	return isnull ? NULL : TextDatumGetCString(d);
}

static inline bool
datum_uuid(Datum d, bool isnull, pg_uuid_t *out)
{
	if (!isnull)
		*out = *DatumGetUUIDP(d);
	return !isnull;
}

char *
ff_get_cstring(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return datum_cstring(d, isnull);
}

int64
ff_get_int64(HeapTuple tuple, TupleDesc desc, int col, int64 if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? if_null : DatumGetInt64(d);
}

int32
ff_get_int32(HeapTuple tuple, TupleDesc desc, int col, int32 if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? if_null : DatumGetInt32(d);
}

bool
ff_get_bool(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

bool
ff_get_uuid(HeapTuple tuple, TupleDesc desc, int col, pg_uuid_t *out)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return datum_uuid(d, isnull, out);
}

/* ff_tuple_deform deforms a result row once; the arrays are palloc'd. */
void
ff_tuple_deform(HeapTuple tuple, TupleDesc desc, FFTupleCols *cols)
{
	cols->values = palloc(sizeof(Datum) * desc->natts);
	cols->nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, cols->values, cols->nulls);
}

Datum
ff_col_datum(const FFTupleCols *cols, int col, bool *isnull)
{
	*isnull = cols->nulls[col - 1];
	return cols->values[col - 1];
}

char *
ff_col_cstring(const FFTupleCols *cols, int col)
{
	return datum_cstring(cols->values[col - 1], cols->nulls[col - 1]);
}

int64
ff_col_int64(const FFTupleCols *cols, int col, int64 if_null)
{
	return cols->nulls[col - 1] ? if_null : DatumGetInt64(cols->values[col - 1]);
}

int32
ff_col_int32(const FFTupleCols *cols, int col, int32 if_null)
{
	return cols->nulls[col - 1] ? if_null : DatumGetInt32(cols->values[col - 1]);
}

bool
ff_col_uuid(const FFTupleCols *cols, int col, pg_uuid_t *out)
{
	return datum_uuid(cols->values[col - 1], cols->nulls[col - 1], out);
}

/* Parameter builders: each sets *null_flag to 'n' or ' ' as SPI expects. */

Datum
ff_text_datum(const char *s, char *null_flag)
{
	*null_flag = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

Datum
ff_ms_datum(int64 ms, char *null_flag)
{
	*null_flag = (ms == FF_NULL_MS) ? 'n' : ' ';
	return Int64GetDatum(ms);
}

Datum
ff_uuid_datum(const pg_uuid_t *uuid)
{
	pg_uuid_t  *copy = palloc(sizeof(pg_uuid_t));

	*copy = *uuid;
	return UUIDPGetDatum(copy);
}

/*
 * ff_result_row forms the single composite row a function with OUT
 * parameters returns, in the memory context that must outlive SPI.
 */
Datum
ff_result_row(FunctionCallInfo fcinfo, MemoryContext target, Datum *values, bool *nulls)
{
	TupleDesc	desc;
	MemoryContext old = MemoryContextSwitchTo(target);
	HeapTuple	tuple;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	tuple = heap_form_tuple(desc, values, nulls);
	MemoryContextSwitchTo(old);
	return HeapTupleGetDatum(tuple);
}

text *
ff_arg_text_or_null(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : PG_GETARG_TEXT_PP(argno);
}

/*
 * ff_arg_batch_size reads a reconciler's batch_size argument: 1000 when
 * NULL, else 1 to 100000.
 */
int32
ff_arg_batch_size(FunctionCallInfo fcinfo, int argno)
{
	int32		batch = PG_ARGISNULL(argno) ? 1000 : PG_GETARG_INT32(argno);

	if (batch < 1 || batch > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: batch_size must be between 1 and 100000")));
	return batch;
}

/* ff_arg_cstring_required rejects a NULL or empty text argument. */
char *
ff_arg_cstring_required(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s must not be null", name)));
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (*s == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: %s must not be empty", name)));
	return s;
}
