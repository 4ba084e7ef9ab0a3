/*
 * ids.c
 *		Execution ids ({fp:N}:<uuid>), partitions, lane ids, tag keys and
 *		capability tokens: wire-compatible with FlowFabric.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "flowfabric.h"

#define FF_CAPS_MAX_TOKENS	256
#define FF_CAPS_MAX_BYTES	4096

/*
 * ff_crc16 computes CRC16/XMODEM (poly 0x1021, init 0, no reflection), the
 * Valkey-cluster slot CRC upstream uses for partitions.
 */
uint16
ff_crc16(const unsigned char *data, size_t len)
{
	uint16		crc = 0;

	for (size_t i = 0; i < len; i++)
	{
		crc ^= (uint16) data[i] << 8;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? (uint16) ((crc << 1) ^ 0x1021) : (uint16) (crc << 1);
	}
	return crc;
}

int
ff_solo_partition(const char *lane, size_t len)
{
	return ff_crc16((const unsigned char *) lane, len) % FF_NUM_FLOW_PARTITIONS;
}

static int
ff_flow_partition(const pg_uuid_t *flow_id)
{
	return ff_crc16(flow_id->data, UUID_LEN) % FF_NUM_FLOW_PARTITIONS;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * ff_parse_uuid accepts the forms upstream's lenient parser does: hyphenated,
 * 32 plain hex digits, braced, and urn:uuid:, in either case.
 */
bool
ff_parse_uuid(const char *s, pg_uuid_t *out)
{
	size_t		len = strlen(s);
	int			nibbles = 0;

	if (len >= 9 && pg_strncasecmp(s, "urn:uuid:", 9) == 0)
	{
		s += 9;
		len -= 9;
	}
	if (len >= 2 && s[0] == '{' && s[len - 1] == '}')
	{
		s++;
		len -= 2;
	}
	if (len == 36)
	{
		if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
			return false;
	}
	else if (len != 32)
		return false;

	for (size_t i = 0; i < len; i++)
	{
		int			v;

		if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23))
			continue;
		v = hex_value(s[i]);
		if (v < 0)
			return false;
		if (nibbles % 2 == 0)
			out->data[nibbles / 2] = (unsigned char) (v << 4);
		else
			out->data[nibbles / 2] |= (unsigned char) v;
		nibbles++;
	}
	return nibbles == 32;
}

char *
ff_uuid_to_cstring(const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	char	   *buf = palloc(37);
	int			pos = 0;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[pos++] = '-';
		buf[pos++] = hex[uuid->data[i] >> 4];
		buf[pos++] = hex[uuid->data[i] & 0x0f];
	}
	buf[pos] = '\0';
	return buf;
}

/*
 * The strong random source is read in blocks: pg_strong_random costs about
 * 8 000 instructions a call under OpenSSL whatever the size, and a claim of
 * 64 executions needs 128 UUIDs (measured: 7% of a batched claim). The pool
 * is per process and first filled on use, so forked backends never share
 * it; bytes handed out are wiped from it.
 */
static uint8 random_pool[1024];
static Size random_pool_used = sizeof(random_pool);

static void
strong_random_bytes(uint8 *out, Size n)
{
	Assert(n <= sizeof(random_pool));
	if (random_pool_used + n > sizeof(random_pool))
	{
		if (!pg_strong_random(random_pool, sizeof(random_pool)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random values")));
		random_pool_used = 0;
	}
	memcpy(out, random_pool + random_pool_used, n);
	explicit_bzero(random_pool + random_pool_used, n);
	random_pool_used += n;
}

/* ff_exec_key_cmp orders execution keys as the engine locks them: (partition, uuid). */
int
ff_exec_key_cmp(const FFExecKey *a, const FFExecKey *b)
{
	if (a->partition != b->partition)
		return a->partition < b->partition ? -1 : 1;
	return memcmp(&a->uuid, &b->uuid, sizeof(pg_uuid_t));
}

/* ff_random_uuid makes a version 4 UUID from the strong random source. */
void
ff_random_uuid(pg_uuid_t *out)
{
	strong_random_bytes(out->data, UUID_LEN);
	out->data[6] = (out->data[6] & 0x0f) | 0x40;
	out->data[8] = (out->data[8] & 0x3f) | 0x80;
}

/*
 * ff_time_ordered_uuid makes a version 7 UUID (RFC 9562): 48 bits of Unix
 * time in milliseconds, then 12 bits of the sub-millisecond fraction (method
 * 3), then random bits. New execution ids use it so that the indexes keyed
 * by (partition_key, execution_id) grow at the end of each partition's range
 * instead of at random pages. Ids made by one backend increase strictly even
 * when the clock stands still or steps back.
 */
void
ff_time_ordered_uuid(pg_uuid_t *out)
{
	static uint64 last_tick;	/* ms << 12 | sub-ms fraction */
	struct timespec ts;
	uint64		tick;

	clock_gettime(CLOCK_REALTIME, &ts);
	tick = ((uint64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000) << 12 |
		(uint64) (ts.tv_nsec % 1000000) * 4096 / 1000000;
	if (tick <= last_tick)
		tick = last_tick + 1;
	last_tick = tick;

	strong_random_bytes(out->data + 8, UUID_LEN - 8);
	for (int i = 0; i < 6; i++)
		out->data[i] = (uint8) (tick >> (12 + 8 * (5 - i)));
	out->data[6] = 0x70 | (uint8) ((tick >> 8) & 0x0f);
	out->data[7] = (uint8) tick;
	out->data[8] = (out->data[8] & 0x3f) | 0x80;
}

/*
 * ff_try_parse_execution_id parses "{fp:N}:<uuid>" the way upstream does
 * (N an unsigned 16-bit decimal, leading zeros allowed), and additionally
 * requires N to name one of the 256 partitions.
 */
bool
ff_try_parse_execution_id(const char *id, FFExecKey *key, const char **problem)
{
	const char *close;
	const char *p;
	long		n = 0;

	if (strncmp(id, "{fp:", 4) != 0 || (close = strstr(id + 4, "}:")) == NULL)
	{
		*problem = "missing {fp:N}: hash tag";
		return false;
	}
	p = id + 4;
	if (*p == '+')
		p++;
	if (p == close)
	{
		*problem = "partition index is not a number";
		return false;
	}
	for (; p < close; p++)
	{
		if (*p < '0' || *p > '9')
		{
			*problem = "partition index is not a number";
			return false;
		}
		n = n * 10 + (*p - '0');
		if (n > PG_UINT16_MAX)
		{
			*problem = "partition index does not fit in 16 bits";
			return false;
		}
	}
	if (n >= FF_NUM_FLOW_PARTITIONS)
	{
		*problem = "partition index is out of range (0..255)";
		return false;
	}
	if (!ff_parse_uuid(close + 2, &key->uuid))
	{
		*problem = "invalid uuid";
		return false;
	}
	key->partition = (int16) n;
	return true;
}

void
ff_parse_execution_id(const char *id, FFExecKey *key)
{
	const char *problem;

	if (!ff_try_parse_execution_id(id, key, &problem))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: malformed execution id \"%s\"", id),
				 errdetail("%s", problem),
				 errhint("Execution ids look like {fp:86}:550e8400-e29b-41d4-a716-446655440000.")));
}

char *
ff_format_execution_id(const FFExecKey *key)
{
	return psprintf("{fp:%d}:%s", key->partition, ff_uuid_to_cstring(&key->uuid));
}

/*
 * ff_check_lane enforces upstream's LaneId rules: 1..64 bytes, each a
 * printable ASCII character (space allowed).
 */
void
ff_check_lane(const char *lane, size_t len)
{
	if (len == 0)
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lane id must not be empty");
	if (len > FF_LANE_ID_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: lane id is %zu bytes long", len),
				 errdetail("Lane ids are at most %d bytes.", FF_LANE_ID_MAX_BYTES)));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) lane[i];

		if (c < 0x20 || c > 0x7e)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: lane id has a non-printable byte at position %zu", i),
					 errdetail("Lane ids are printable ASCII (0x20..0x7e).")));
	}
}

/* ff_check_tag_key enforces ^[a-z][a-z0-9_]*\.[a-z0-9_][a-z0-9_.]*$ */
void
ff_check_tag_key(const char *key)
{
	const char *p = key;
	bool		ok = (*p >= 'a' && *p <= 'z');

	if (ok)
	{
		for (p++; (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'; p++)
			;
		ok = (*p == '.');
	}
	if (ok)
	{
		p++;
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
		for (; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.';
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_TAG_KEY),
				 errmsg("invalid_tag_key: invalid tag key \"%s\"", key),
				 errhint("Tag keys are namespaced, e.g. \"app.owner\": they must match ^[a-z][a-z0-9_]*\\.[a-z0-9_][a-z0-9_.]*$.")));
}

/*
 * ff_check_capabilities validates capability tokens with upstream's rules:
 * non-empty, no comma, no whitespace or control byte, at most 256 tokens and
 * 4096 bytes in all.
 */
void
ff_check_capabilities(ArrayType *caps, const char *what, int errcode_value)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	size_t		total = 0;

	if (ARR_NDIM(caps) > 1)
		ereport(ERROR,
				(errcode(errcode_value),
				 errmsg("invalid_capabilities: %s must be a one-dimensional array", what)));
	deconstruct_array(caps, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n > FF_CAPS_MAX_TOKENS)
		ereport(ERROR,
				(errcode(errcode_value),
				 errmsg("invalid_capabilities: %s has %d tokens", what, n),
				 errdetail("At most %d capability tokens are allowed.", FF_CAPS_MAX_TOKENS)));
	for (int i = 0; i < n; i++)
	{
		text	   *t;
		const char *s;
		int			len;

		if (nulls[i])
			ereport(ERROR,
					(errcode(errcode_value),
					 errmsg("invalid_capabilities: %s contains a null token", what)));
		t = DatumGetTextPP(elems[i]);
		s = VARDATA_ANY(t);
		len = VARSIZE_ANY_EXHDR(t);
		if (len == 0)
			ereport(ERROR,
					(errcode(errcode_value),
					 errmsg("invalid_capabilities: %s contains an empty token", what)));
		for (int j = 0; j < len; j++)
		{
			unsigned char c = (unsigned char) s[j];

			if (c == ',')
				ereport(ERROR,
						(errcode(errcode_value),
						 errmsg("invalid_capabilities: capability token \"%.*s\" contains a comma", len, s)));
			if (c <= 0x20 || c == 0x7f)
				ereport(ERROR,
						(errcode(errcode_value),
						 errmsg("invalid_capabilities: capability token %d contains whitespace or a control character", i + 1)));
		}
		total += len + 1;
	}
	if (total > FF_CAPS_MAX_BYTES + 1)
		ereport(ERROR,
				(errcode(errcode_value),
				 errmsg("invalid_capabilities: %s is %zu bytes long", what, total - 1),
				 errdetail("Capability sets are at most %d bytes as a comma-separated list.", FF_CAPS_MAX_BYTES)));
}

/* SQL-callable wrappers */

PG_FUNCTION_INFO_V1(ff_random_uuid_sql);
Datum
ff_random_uuid_sql(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = palloc(sizeof(pg_uuid_t));

	ff_random_uuid(uuid);
	PG_RETURN_UUID_P(uuid);
}

PG_FUNCTION_INFO_V1(ff_crc16_sql);
Datum
ff_crc16_sql(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_INT32(ff_crc16((unsigned char *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)));
}

PG_FUNCTION_INFO_V1(ff_solo_partition_sql);
Datum
ff_solo_partition_sql(PG_FUNCTION_ARGS)
{
	text	   *lane = PG_GETARG_TEXT_PP(0);

	ff_check_lane(VARDATA_ANY(lane), VARSIZE_ANY_EXHDR(lane));
	PG_RETURN_INT32(ff_solo_partition(VARDATA_ANY(lane), VARSIZE_ANY_EXHDR(lane)));
}

PG_FUNCTION_INFO_V1(ff_flow_partition_sql);
Datum
ff_flow_partition_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ff_flow_partition(PG_GETARG_UUID_P(0)));
}

PG_FUNCTION_INFO_V1(ff_execution_partition_sql);
Datum
ff_execution_partition_sql(PG_FUNCTION_ARGS)
{
	FFExecKey	key;

	ff_parse_execution_id(text_to_cstring(PG_GETARG_TEXT_PP(0)), &key);
	PG_RETURN_INT32(key.partition);
}

PG_FUNCTION_INFO_V1(ff_canonical_execution_id_sql);
Datum
ff_canonical_execution_id_sql(PG_FUNCTION_ARGS)
{
	FFExecKey	key;

	ff_parse_execution_id(text_to_cstring(PG_GETARG_TEXT_PP(0)), &key);
	PG_RETURN_TEXT_P(cstring_to_text(ff_format_execution_id(&key)));
}

PG_FUNCTION_INFO_V1(ff_split_execution_id_sql);
Datum
ff_split_execution_id_sql(PG_FUNCTION_ARGS)
{
	FFExecKey	key;
	pg_uuid_t  *uuid = palloc(sizeof(pg_uuid_t));
	Datum		values[2];
	bool		nulls[2] = {false, false};

	ff_parse_execution_id(text_to_cstring(PG_GETARG_TEXT_PP(0)), &key);
	*uuid = key.uuid;
	values[0] = Int16GetDatum(key.partition);
	values[1] = UUIDPGetDatum(uuid);
	return ff_result_row(fcinfo, CurrentMemoryContext, values, nulls);
}

PG_FUNCTION_INFO_V1(ff_parse_partition_key_sql);
Datum
ff_parse_partition_key_sql(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	size_t		len = strlen(s);
	long		n = 0;
	bool		ok = len > 5 && strncmp(s, "{fp:", 4) == 0 && s[len - 1] == '}';

	for (size_t i = 4; ok && i < len - 1; i++)
	{
		ok = s[i] >= '0' && s[i] <= '9';
		n = n * 10 + (s[i] - '0');
		ok = ok && n < FF_NUM_FLOW_PARTITIONS;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_INPUT),
				 errmsg("invalid_input: malformed partition key \"%s\"", s),
				 errhint("Execution partition keys look like {fp:N} with N in 0..255.")));
	PG_RETURN_INT16((int16) n);
}

static Datum
new_execution_id(FunctionCallInfo fcinfo, int partition)
{
	FFExecKey	key;

	key.partition = (int16) partition;
	if (PG_ARGISNULL(1))
		ff_time_ordered_uuid(&key.uuid);
	else
		key.uuid = *PG_GETARG_UUID_P(1);
	PG_RETURN_TEXT_P(cstring_to_text(ff_format_execution_id(&key)));
}

PG_FUNCTION_INFO_V1(ff_new_execution_id_sql);
Datum
ff_new_execution_id_sql(PG_FUNCTION_ARGS)
{
	text	   *lane;

	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lane_id must not be null");
	lane = PG_GETARG_TEXT_PP(0);
	ff_check_lane(VARDATA_ANY(lane), VARSIZE_ANY_EXHDR(lane));
	return new_execution_id(fcinfo, ff_solo_partition(VARDATA_ANY(lane), VARSIZE_ANY_EXHDR(lane)));
}

PG_FUNCTION_INFO_V1(ff_new_flow_execution_id_sql);
Datum
ff_new_flow_execution_id_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "flow_id must not be null");
	return new_execution_id(fcinfo, ff_flow_partition(PG_GETARG_UUID_P(0)));
}

PG_FUNCTION_INFO_V1(ff_check_lane_id_sql);
Datum
ff_check_lane_id_sql(PG_FUNCTION_ARGS)
{
	text	   *lane;

	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_INPUT, "invalid_input", "lane_id must not be null");
	lane = PG_GETARG_TEXT_PP(0);
	ff_check_lane(VARDATA_ANY(lane), VARSIZE_ANY_EXHDR(lane));
	PG_RETURN_TEXT_P(lane);
}

PG_FUNCTION_INFO_V1(ff_check_tag_key_sql);
Datum
ff_check_tag_key_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ff_error(ERRCODE_FF_INVALID_TAG_KEY, "invalid_tag_key", "tag key must not be null");
	ff_check_tag_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}
