/*
 * handle.c
 *		The opaque attempt handle a worker holds between claim and complete.
 *
 * Byte format (upstream's v2, integers little-endian):
 *		0x02 magic, 0x01 wire version, backend tag (0x02 = Postgres), then
 *		u32-length-prefixed execution_id, u32 attempt_index, prefixed
 *		attempt_id, prefixed lease_id, u64 lease_epoch, u64 lease_ttl_ms,
 *		prefixed lane_id, prefixed worker_instance_id.
 * Legacy v1 is 0x01 followed by the same fields, implying the Valkey backend.
 */
#include "postgres.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "flowfabric.h"

#define HANDLE_MAGIC_V2		0x02
#define HANDLE_WIRE_VERSION 0x01
#define HANDLE_MAGIC_V1		0x01

static const char *
backend_name(uint8 tag)
{
	switch (tag)
	{
		case FF_BACKEND_VALKEY:
			return "valkey";
		case FF_BACKEND_POSTGRES:
			return "postgres";
		case FF_BACKEND_SQLITE:
			return "sqlite";
	}
	return "unknown";
}

static void
put_u32(StringInfo buf, uint32 v)
{
	unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};

	appendBinaryStringInfo(buf, (char *) b, 4);
}

static void
put_u64(StringInfo buf, uint64 v)
{
	put_u32(buf, (uint32) (v & 0xffffffff));
	put_u32(buf, (uint32) (v >> 32));
}

static void
put_str(StringInfo buf, const char *s)
{
	size_t		len = strlen(s);

	put_u32(buf, (uint32) len);
	appendBinaryStringInfo(buf, s, (int) len);
}

bytea *
ff_handle_encode(const FFHandle *h)
{
	StringInfoData buf;
	bytea	   *result;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, HANDLE_MAGIC_V2);
	appendStringInfoChar(&buf, HANDLE_WIRE_VERSION);
	appendStringInfoChar(&buf, (char) h->backend);
	put_str(&buf, h->execution_id);
	put_u32(&buf, h->attempt_index);
	put_str(&buf, h->attempt_id_text);
	put_str(&buf, h->lease_id_text);
	put_u64(&buf, h->lease_epoch);
	put_u64(&buf, h->lease_ttl_ms);
	put_str(&buf, h->lane_id);
	put_str(&buf, h->worker_instance_id);

	result = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	pfree(buf.data);
	return result;
}

typedef struct Reader
{
	const unsigned char *data;
	size_t		len;
	size_t		pos;
} Reader;

#define corrupt(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_FF_CORRUPTION), \
			 errmsg("corruption: malformed handle"), \
			 errdetail(__VA_ARGS__)))

static void
need(Reader *r, size_t n)
{
	if (r->len - r->pos < n)
		corrupt("handle_codec: truncated: needed %zu bytes at offset %zu, have %zu.",
				n, r->pos, r->len - r->pos);
}

static uint32
get_u32(Reader *r)
{
	const unsigned char *p;

	need(r, 4);
	p = r->data + r->pos;
	r->pos += 4;
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static uint64
get_u64(Reader *r)
{
	uint64		lo = get_u32(r);
	uint64		hi = get_u32(r);

	return lo | (hi << 32);
}

static char *
get_str(Reader *r, const char *field)
{
	uint32		len = get_u32(r);
	char	   *s;

	need(r, len);
	s = palloc(len + 1);
	memcpy(s, r->data + r->pos, len);
	s[len] = '\0';
	r->pos += len;
	if (memchr(s, '\0', len) != NULL || !pg_verify_mbstr(PG_UTF8, s, (int) len, true))
		ereport(ERROR,
				(errcode(ERRCODE_FF_CORRUPTION),
				 errmsg("corruption: malformed handle"),
				 errdetail("handle_codec: field %s is not valid UTF-8.", field)));
	return s;
}

static void
bad_field(const char *field, const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_FF_CORRUPTION),
			 errmsg("corruption: malformed handle"),
			 errdetail("handle_codec: field %s does not parse: \"%s\".", field, value)));
}

/*
 * ff_handle_decode decodes any handle FlowFabric writes (v1 or v2, any
 * backend), raising corruption for malformed bytes.
 */
void
ff_handle_decode(bytea *raw, FFHandle *h)
{
	Reader		r = {(unsigned char *) VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), 0};
	const char *problem;

	need(&r, 1);
	if (r.data[0] == HANDLE_MAGIC_V2)
	{
		need(&r, 3);
		if (r.data[1] != HANDLE_WIRE_VERSION)
			corrupt("handle_codec: bad wire version %d.", r.data[1]);
		if (r.data[2] < FF_BACKEND_VALKEY || r.data[2] > FF_BACKEND_SQLITE)
			corrupt("handle_codec: bad backend tag %d.", r.data[2]);
		h->format = 2;
		h->backend = r.data[2];
		r.pos = 3;
	}
	else if (r.data[0] == HANDLE_MAGIC_V1)
	{
		h->format = 1;
		h->backend = FF_BACKEND_VALKEY;
		r.pos = 1;
	}
	else
		corrupt("handle_codec: bad leading byte %d.", r.data[0]);

	h->execution_id = get_str(&r, "execution_id");
	h->attempt_index = get_u32(&r);
	h->attempt_id_text = get_str(&r, "attempt_id");
	h->lease_id_text = get_str(&r, "lease_id");
	h->lease_epoch = get_u64(&r);
	h->lease_ttl_ms = get_u64(&r);
	h->lane_id = get_str(&r, "lane_id");
	h->worker_instance_id = get_str(&r, "worker_instance_id");
	if (r.pos != r.len)
		corrupt("handle_codec: %zu trailing bytes at offset %zu.", r.len - r.pos, r.pos);

	if (!ff_try_parse_execution_id(h->execution_id, &h->key, &problem))
		bad_field("execution_id", h->execution_id);
	if (!ff_parse_uuid(h->attempt_id_text, &h->attempt_id))
		bad_field("attempt_id", h->attempt_id_text);
	if (!ff_parse_uuid(h->lease_id_text, &h->lease_id))
		bad_field("lease_id", h->lease_id_text);
}

/*
 * ff_handle_decode_postgres decodes a handle an engine operation is given:
 * it must be one this backend issued.
 */
void
ff_handle_decode_postgres(bytea *raw, FFHandle *h)
{
	ff_handle_decode(raw, h);
	if (h->backend != FF_BACKEND_POSTGRES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_HANDLE_FROM_OTHER_BACKEND),
				 errmsg("handle_from_other_backend: handle was issued by another backend"),
				 errdetail("expected=postgres actual=%s", backend_name(h->backend))));
	if (h->attempt_index > PG_INT32_MAX || h->lease_epoch > PG_INT64_MAX ||
		h->lease_ttl_ms > PG_INT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_FF_CORRUPTION),
				 errmsg("corruption: malformed handle"),
				 errdetail("handle_codec: attempt index, lease epoch or ttl out of range.")));
}

PG_FUNCTION_INFO_V1(ff_handle_describe_sql);
Datum
ff_handle_describe_sql(PG_FUNCTION_ARGS)
{
	FFHandle	h;
	Datum		values[10];
	bool		nulls[10] = {0};

	ff_handle_decode(PG_GETARG_BYTEA_PP(0), &h);
	values[0] = CStringGetTextDatum(backend_name(h.backend));
	values[1] = Int32GetDatum(h.format);
	values[2] = CStringGetTextDatum(h.execution_id);
	values[3] = Int64GetDatum((int64) h.attempt_index);
	values[4] = CStringGetTextDatum(h.attempt_id_text);
	values[5] = CStringGetTextDatum(h.lease_id_text);
	/* u64 fields beyond bigint show as negative; engine ops reject them */
	values[6] = Int64GetDatum((int64) h.lease_epoch);
	values[7] = Int64GetDatum((int64) h.lease_ttl_ms);
	values[8] = CStringGetTextDatum(h.lane_id);
	values[9] = CStringGetTextDatum(h.worker_instance_id);
	return ff_result_row(fcinfo, CurrentMemoryContext, values, nulls);
}

PG_FUNCTION_INFO_V1(ff_handle_encode_sql);
Datum
ff_handle_encode_sql(PG_FUNCTION_ARGS)
{
	FFHandle	h;
	char	   *backend = text_to_cstring(PG_GETARG_TEXT_PP(8));

	if (strcmp(backend, "postgres") == 0)
		h.backend = FF_BACKEND_POSTGRES;
	else if (strcmp(backend, "valkey") == 0)
		h.backend = FF_BACKEND_VALKEY;
	else if (strcmp(backend, "sqlite") == 0)
		h.backend = FF_BACKEND_SQLITE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: unknown backend \"%s\"", backend),
				 errhint("Use postgres, valkey or sqlite.")));
	if (PG_GETARG_INT32(1) < 0 || PG_GETARG_INT64(4) < 0 || PG_GETARG_INT64(5) < 0)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input",
				 "attempt index, lease epoch and ttl must not be negative");
	h.execution_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	h.attempt_index = (uint32) PG_GETARG_INT32(1);
	h.attempt_id_text = text_to_cstring(PG_GETARG_TEXT_PP(2));
	h.lease_id_text = text_to_cstring(PG_GETARG_TEXT_PP(3));
	h.lease_epoch = (uint64) PG_GETARG_INT64(4);
	h.lease_ttl_ms = (uint64) PG_GETARG_INT64(5);
	h.lane_id = text_to_cstring(PG_GETARG_TEXT_PP(6));
	h.worker_instance_id = text_to_cstring(PG_GETARG_TEXT_PP(7));
	PG_RETURN_BYTEA_P(ff_handle_encode(&h));
}
