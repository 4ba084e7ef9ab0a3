/*
 * suspend_hmac.c
 *		The waitpoint HMAC keystore and the token primitive.
 *
 * A waitpoint token is "<kid>:<64 lowercase hex>", the hex being
 * HMAC-SHA256(secret of kid, "<kid>:<execution id>:<waitpoint id>") with the
 * canonical execution id ({fp:N}:<lowercase uuid>) and the lowercase
 * waitpoint uuid. Tokens are deterministic: the same secret, kid, execution
 * and waitpoint always give the same token.
 *
 * The keystore (ff_waitpoint_hmac) has exactly one active kid, which signs;
 * rotating retires it: it keeps verifying until now + grace_ms, then stops
 * (token_expired), and a later rotation deletes it. Secrets never leave this
 * file: no function returns one, and the table is not readable by PUBLIC.
 * Digests are compared in constant time.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hmac.h"
#include "utils/builtins.h"

#include "suspend.h"

#define MAX_SAFE_JSON_INTEGER	9007199254740991LL	/* 2^53 - 1 */
#define ROTATE_MIN_HEX			32	/* 128-bit secrets at least */
#define ROTATE_MAX_HEX			1024

static const char hexdigits[] = "0123456789abcdef";

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex_decode_strict decodes len hex digits (len even) into out; false if not hex. */
static bool
hex_decode_strict(const char *hex, size_t len, uint8 *out)
{
	if (len % 2 != 0)
		return false;
	for (size_t i = 0; i < len; i += 2)
	{
		int			hi = hex_nibble(hex[i]);
		int			lo = hex_nibble(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8) ((hi << 4) | lo);
	}
	return true;
}

/* hmac_digest computes HMAC-SHA256(secret, kid ":" message). */
static void
hmac_digest(const uint8 *secret, size_t secret_len, const char *kid, const char *message,
			uint8 *out)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (pg_hmac_init(ctx, secret, secret_len) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) kid, strlen(kid)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) ":", 1) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) message, strlen(message)) < 0 ||
		pg_hmac_final(ctx, out, FF_HMAC_DIGEST_LEN) < 0)
	{
		const char *err = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "HMAC-SHA256 failed: %s", err);
	}
	pg_hmac_free(ctx);
}

char *
ff_token_sign(const char *kid, const uint8 *secret, size_t secret_len, const char *message)
{
	uint8		digest[FF_HMAC_DIGEST_LEN];
	size_t		kid_len = strlen(kid);
	char	   *token = palloc(kid_len + 1 + 2 * FF_HMAC_DIGEST_LEN + 1);
	char	   *p = token;

	hmac_digest(secret, secret_len, kid, message, digest);
	memcpy(p, kid, kid_len);
	p += kid_len;
	*p++ = ':';
	for (int i = 0; i < FF_HMAC_DIGEST_LEN; i++)
	{
		*p++ = hexdigits[digest[i] >> 4];
		*p++ = hexdigits[digest[i] & 0xf];
	}
	*p = '\0';
	explicit_bzero(digest, sizeof(digest));
	return token;
}

static char *
token_message(const FFExecKey *exec, const pg_uuid_t *waitpoint_id)
{
	return psprintf("%s:%s", ff_format_execution_id(exec), ff_uuid_to_cstring(waitpoint_id));
}

char *
ff_waitpoint_token(const char *kid, bytea *secret, const FFExecKey *exec,
				   const pg_uuid_t *waitpoint_id)
{
	return ff_token_sign(kid, (uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
						 token_message(exec, waitpoint_id));
}

/*
 * ff_signing_key returns the active kid and its secret (in SPI memory), or
 * false when the keystore is empty.
 */
bool
ff_signing_key(char **kid, bytea **secret)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;

	ff_prepare(&plan, "SELECT kid, secret FROM ff_waitpoint_hmac WHERE active", 0, NULL);
	ff_execute(plan, NULL, NULL, true, 1);
	if (SPI_processed == 0)
		return false;
	*kid = ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*secret = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											   2, &isnull));
	return true;
}

#define token_error(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_FF_INVALID_TOKEN), \
			 errmsg("invalid_token: " __VA_ARGS__), \
			 errhint("Pass the waitpoint_token exactly as ff_suspend or ff_create_waitpoint returned it.")))

/*
 * ff_token_parse splits "<kid>:<64 hex>" (hex in either case), or raises
 * invalid_token for a missing or malformed token.
 */
void
ff_token_parse(const char *token, char **kid, uint8 *digest)
{
	const char *colon;

	if (token == NULL || *token == '\0')
		token_error("missing_token: waitpoint_token must not be empty");
	colon = strchr(token, ':');
	if (colon == NULL || colon == token)
		token_error("token malformed; expected kid:hex shape");
	if (strlen(colon + 1) != 2 * FF_HMAC_DIGEST_LEN ||
		!hex_decode_strict(colon + 1, 2 * FF_HMAC_DIGEST_LEN, digest))
		token_error("token malformed; expected %d hex digits after the kid",
					2 * FF_HMAC_DIGEST_LEN);
	*kid = pnstrdup(token, colon - token);
}

/*
 * ff_token_verify checks a presented token for (execution, waitpoint):
 * unknown kid -> invalid_kid, a retired kid past its grace -> token_expired,
 * wrong digest -> invalid_token.
 */
void
ff_token_verify(const char *token, const FFExecKey *exec, const pg_uuid_t *waitpoint_id,
				int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	uint8		presented[FF_HMAC_DIGEST_LEN];
	uint8		expected[FF_HMAC_DIGEST_LEN];
	char	   *kid;
	Datum		v[1];
	bytea	   *secret;
	bool		active;
	int64		expires_at;
	bool		isnull;
	int			mismatch;

	ff_token_parse(token, &kid, presented);
	ff_prepare(&plan,
			   "SELECT secret, active, expires_at_ms FROM ff_waitpoint_hmac WHERE kid = $1",
			   1, types);
	v[0] = CStringGetTextDatum(kid);
	ff_execute(plan, v, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_KID),
				 errmsg("invalid_kid: the token's kid \"%s\" is not in the keystore", kid),
				 errhint("The token was signed by a key that was rotated out, or it is forged.")));
	secret = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											  1, &isnull));
	active = ff_get_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	expires_at = ff_get_int64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, FF_NULL_MS);
	if (!active && (expires_at == FF_NULL_MS || expires_at <= now))
	{
		explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
		ereport(ERROR,
				(errcode(ERRCODE_FF_TOKEN_EXPIRED),
				 errmsg("token_expired: the token's kid \"%s\" was retired and its grace period ended", kid),
				 errdetail("The kid stopped verifying at %lld.", (long long) expires_at)));
	}
	hmac_digest((uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret), kid,
				token_message(exec, waitpoint_id), expected);
	explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
	mismatch = timingsafe_bcmp(expected, presented, FF_HMAC_DIGEST_LEN);
	explicit_bzero(expected, sizeof(expected));
	if (mismatch != 0)
		token_error("HMAC signature mismatch for waitpoint %s of execution %s",
					ff_uuid_to_cstring(waitpoint_id), ff_format_execution_id(exec));
}

/* Keystore administration */

static void
check_kid(const char *kid)
{
	size_t		len;

	if (kid == NULL || *kid == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_KID),
				 errmsg("invalid_kid: kid must be non-empty")));
	len = strlen(kid);
	if (len > FF_KID_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_KID),
				 errmsg("invalid_kid: kid is longer than %d bytes", FF_KID_MAX_BYTES)));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) kid[i];

		if (c == ':' || c <= 0x20 || c >= 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_KID),
					 errmsg("invalid_kid: kid \"%s\" may contain only printable ASCII other than ':' and space",
							kid)));
	}
}

/* decode_secret hex-decodes a secret whose length is already checked. */
static bytea *
decode_secret(const char *hex, const char *what)
{
	size_t		len = strlen(hex);
	bytea	   *secret = palloc(VARHDRSZ + len / 2);

	SET_VARSIZE(secret, VARHDRSZ + len / 2);
	if (!hex_decode_strict(hex, len, (uint8 *) VARDATA(secret)))
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_SECRET_HEX),
				 errmsg("invalid_secret_hex: %s is not valid hex", what)));
	return secret;
}

static bool
same_bytes(bytea *a, bytea *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		timingsafe_bcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* Serialise seed and rotate; signing and verification keep reading. */
static void
lock_keystore(void)
{
	if (SPI_execute("LOCK TABLE ff_waitpoint_hmac IN SHARE ROW EXCLUSIVE MODE", false, 0) < 0)
		elog(ERROR, "could not lock ff_waitpoint_hmac");
}

/* find_kid returns the stored secret of kid, or NULL. */
static bytea *
find_kid(const char *kid)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(kid)};
	bool		isnull;

	ff_prepare(&plan, "SELECT secret FROM ff_waitpoint_hmac WHERE kid = $1", 1, types);
	ff_execute(plan, v, NULL, false, 1);
	if (SPI_processed == 0)
		return NULL;
	return DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											&isnull));
}

static char *
active_kid(void)
{
	static SPIPlanPtr plan = NULL;

	ff_prepare(&plan, "SELECT kid FROM ff_waitpoint_hmac WHERE active", 0, NULL);
	ff_execute(plan, NULL, NULL, false, 1);
	if (SPI_processed == 0)
		return NULL;
	return ff_get_cstring(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static void
insert_kid(const char *kid, bytea *secret, int64 now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, BYTEAOID, INT8OID};
	Datum		v[3] = {CStringGetTextDatum(kid), PointerGetDatum(secret), Int64GetDatum(now)};

	ff_prepare(&plan,
			   "INSERT INTO ff_waitpoint_hmac (kid, secret, rotated_at_ms, active, expires_at_ms) "
			   "VALUES ($1, $2, $3, true, NULL)",
			   3, types);
	ff_execute(plan, v, NULL, false, 0);
}

/*
 * ff_seed_waitpoint_hmac_secret installs the first signing kid. Seeding the
 * same kid again is a no-op that reports whether the secret matched; seeding
 * a different kid while one is active is refused (rotate instead).
 */
PG_FUNCTION_INFO_V1(ff_seed_waitpoint_hmac_secret);
Datum
ff_seed_waitpoint_hmac_secret(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *kid = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *hex = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bytea	   *secret;
	bytea	   *existing;
	char	   *current;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		result;

	check_kid(kid);
	if (hex == NULL || strlen(hex) != 64)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_SECRET_HEX),
				 errmsg("invalid_secret_hex: secret_hex must be 64 hex characters (256-bit secret)")));
	secret = decode_secret(hex, "secret_hex");
	explicit_bzero(hex, strlen(hex));

	SPI_connect();
	lock_keystore();
	existing = find_kid(kid);
	if (existing != NULL)
	{
		values[0] = CStringGetTextDatum("already_seeded");
		values[2] = BoolGetDatum(same_bytes(existing, secret));
		explicit_bzero(VARDATA_ANY(existing), VARSIZE_ANY_EXHDR(existing));
	}
	else
	{
		current = active_kid();
		if (current != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FF_INVALID_INPUT),
					 errmsg("invalid_input: a different kid \"%s\" is already active", current),
					 errhint("Use ff_rotate_waitpoint_hmac_secret_all to change the signing kid.")));
		insert_kid(kid, secret, ff_now_ms());
		values[0] = CStringGetTextDatum("seeded");
		nulls[2] = true;
	}
	explicit_bzero(VARDATA(secret), VARSIZE(secret) - VARHDRSZ);
	values[1] = CStringGetTextDatum(kid);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/*
 * ff_rotate_waitpoint_hmac_secret_all makes new_kid the signing kid. The
 * previous active kid keeps verifying for grace_ms; kids whose grace ended
 * are deleted (gc_count). Rotating to an installed kid with the same secret
 * is a no-op, with another secret a rotation_conflict. One result row,
 * partition 0 (the keystore is global).
 */
PG_FUNCTION_INFO_V1(ff_rotate_waitpoint_hmac_secret_all);
Datum
ff_rotate_waitpoint_hmac_secret_all(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr gc_plan = NULL;
	static SPIPlanPtr retire_plan = NULL;
	static const Oid types[1] = {INT8OID};
	MemoryContext outer = CurrentMemoryContext;
	char	   *kid = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *hex = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64		grace_ms = PG_ARGISNULL(2) ? 86400000 : PG_GETARG_INT64(2);
	int64		now = ff_now_ms();
	size_t		hex_len;
	bytea	   *secret;
	bytea	   *existing;
	char	   *previous = NULL;
	int32		gc_count = 0;
	Datum		v[1];
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Datum		result;

	check_kid(kid);
	hex_len = hex ? strlen(hex) : 0;
	if (hex_len < ROTATE_MIN_HEX || hex_len > ROTATE_MAX_HEX || hex_len % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_SECRET_HEX),
				 errmsg("invalid_secret_hex: new_secret_hex must be an even number of hex digits, %d to %d",
						ROTATE_MIN_HEX, ROTATE_MAX_HEX)));
	secret = decode_secret(hex, "new_secret_hex");
	explicit_bzero(hex, hex_len);
	if (grace_ms < 0 || grace_ms > MAX_SAFE_JSON_INTEGER)
		ereport(ERROR,
				(errcode(ERRCODE_FF_INVALID_GRACE_MS),
				 errmsg("invalid_grace_ms: grace_ms must be between 0 and %lld",
						(long long) MAX_SAFE_JSON_INTEGER)));

	SPI_connect();
	lock_keystore();
	existing = find_kid(kid);
	if (existing != NULL)
	{
		bool		same = same_bytes(existing, secret);

		explicit_bzero(VARDATA_ANY(existing), VARSIZE_ANY_EXHDR(existing));
		if (!same)
			ereport(ERROR,
					(errcode(ERRCODE_FF_ROTATION_CONFLICT),
					 errmsg("rotation_conflict: kid \"%s\" is already installed with a different secret", kid),
					 errhint("Choose a new kid for a new secret.")));
		values[1] = CStringGetTextDatum("noop");
		nulls[2] = true;
	}
	else
	{
		ff_prepare(&gc_plan,
				   "DELETE FROM ff_waitpoint_hmac WHERE NOT active AND expires_at_ms <= $1", 1, types);
		v[0] = Int64GetDatum(now);
		ff_execute(gc_plan, v, NULL, false, 0);
		gc_count = (int32) SPI_processed;

		previous = active_kid();
		ff_prepare(&retire_plan,
				   "UPDATE ff_waitpoint_hmac SET active = false, expires_at_ms = $1 WHERE active",
				   1, types);
		v[0] = Int64GetDatum(now + grace_ms);
		ff_execute(retire_plan, v, NULL, false, 0);
		insert_kid(kid, secret, now);
		values[1] = CStringGetTextDatum("rotated");
		values[2] = previous ? CStringGetTextDatum(previous) : (Datum) 0;
		nulls[2] = previous == NULL;
	}
	explicit_bzero(VARDATA(secret), VARSIZE(secret) - VARHDRSZ);
	values[0] = Int32GetDatum(0);
	values[3] = CStringGetTextDatum(kid);
	values[4] = Int32GetDatum(gc_count);
	result = ff_result_row(fcinfo, outer, values, nulls);
	SPI_finish();
	return result;
}

/* The primitive, for test vectors and for systems that mint tokens themselves. */
PG_FUNCTION_INFO_V1(ff_waitpoint_token_sign);
Datum
ff_waitpoint_token_sign(PG_FUNCTION_ARGS)
{
	bytea	   *secret = PG_GETARG_BYTEA_PP(0);
	char	   *kid = text_to_cstring(PG_GETARG_TEXT_PP(1));

	check_kid(kid);
	PG_RETURN_TEXT_P(cstring_to_text(ff_token_sign(kid, (uint8 *) VARDATA_ANY(secret),
												   VARSIZE_ANY_EXHDR(secret),
												   text_to_cstring(PG_GETARG_TEXT_PP(2)))));
}

/*
 * ff_waitpoint_token_check verifies token against (secret, kid, message):
 * 'ok', 'malformed', 'wrong_kid' or 'signature_mismatch'.
 */
PG_FUNCTION_INFO_V1(ff_waitpoint_token_check);
Datum
ff_waitpoint_token_check(PG_FUNCTION_ARGS)
{
	bytea	   *secret = PG_GETARG_BYTEA_PP(0);
	char	   *kid = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *message = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *token = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *colon = strchr(token, ':');
	size_t		hex_len = colon ? strlen(colon + 1) : 0;
	uint8	   *presented = palloc(hex_len / 2 + 1);
	uint8		expected[FF_HMAC_DIGEST_LEN];
	const char *verdict;

	if (colon == NULL || colon == token)
		verdict = "malformed";
	else if ((size_t) (colon - token) != strlen(kid) || strncmp(token, kid, colon - token) != 0)
		verdict = "wrong_kid";
	else if (hex_len == 0 || !hex_decode_strict(colon + 1, hex_len, presented))
		verdict = "malformed";
	else if (hex_len != 2 * FF_HMAC_DIGEST_LEN)
		verdict = "signature_mismatch"; /* a truncated or padded digest */
	else
	{
		hmac_digest((uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret), kid, message,
					expected);
		verdict = timingsafe_bcmp(expected, presented, FF_HMAC_DIGEST_LEN) == 0
			? "ok" : "signature_mismatch";
	}
	PG_RETURN_TEXT_P(cstring_to_text(verdict));
}
