/*
 * fuzz_token.c - waitpoint tokens (extension/suspend_hmac.c): the parser of
 * presented tokens and the token primitive. Input: secret, kid, message and
 * token separated by 0xff bytes. Oracles: ff_token_parse accepts exactly
 * "<kid>:<64 hex digits>" (else invalid_token, YFV08); the checker answers
 * ok / malformed / wrong_kid / signature_mismatch without raising; a token it
 * signs checks ok, and changing any one character of it does not.
 */
#include "ffz.h"

#include "utils/builtins.h"

#include "flowfabric.h"
#include "errors.h"
#include "suspend.h"

extern Datum ff_waitpoint_token_sign(PG_FUNCTION_ARGS);
extern Datum ff_waitpoint_token_check(PG_FUNCTION_ARGS);

typedef struct T
{
	const char *token;
	char	   *kid;
	uint8		digest[FF_HMAC_DIGEST_LEN];
	bytea	   *secret;
	const char *k;
	const char *msg;
	char	   *result;
} T;

static void
parse(void *p)
{
	T		   *t = p;

	ff_token_parse(t->token, &t->kid, t->digest);
}

static void
sign(void *p)
{
	T		   *t = p;
	LOCAL_FCINFO(fcinfo, 3);

	InitFunctionCallInfoData(*fcinfo, NULL, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = PointerGetDatum(t->secret);
	fcinfo->args[1].value = CStringGetTextDatum(t->k);
	fcinfo->args[2].value = CStringGetTextDatum(t->msg);
	t->result = text_to_cstring(DatumGetTextPP(ff_waitpoint_token_sign(fcinfo)));
}

static void
check(void *p)
{
	T		   *t = p;
	LOCAL_FCINFO(fcinfo, 4);

	InitFunctionCallInfoData(*fcinfo, NULL, 4, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = PointerGetDatum(t->secret);
	fcinfo->args[1].value = CStringGetTextDatum(t->k);
	fcinfo->args[2].value = CStringGetTextDatum(t->msg);
	fcinfo->args[3].value = CStringGetTextDatum(t->token);
	t->result = text_to_cstring(DatumGetTextPP(ff_waitpoint_token_check(fcinfo)));
}

static bool
well_formed(const char *token)
{
	const char *colon = strchr(token, ':');

	if (colon == NULL || colon == token || strlen(colon + 1) != 64)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *parts[4] = {"", "", "", ""};
	char	   *s = ffz_cstring(data, size);
	int			n = 0;
	int			code;
	T			t = {0};
	char	   *p = s;

	while (n < 4)
	{
		char	   *sep = strchr(p, '\xff');

		parts[n++] = p;
		if (!sep)
			break;
		*sep = '\0';
		p = sep + 1;
	}
	t.secret = (bytea *) cstring_to_text(parts[0]);
	t.k = parts[1];
	t.msg = parts[2];

	/* the presented-token parser */
	t.token = parts[3];
	if (ffz_run(parse, &t, &code, NULL))
	{
		if (!well_formed(t.token))
			ffz_fail("ff_token_parse accepted \"%s\"", t.token);
	}
	else if (code != ERRCODE_FF_INVALID_TOKEN)
		ffz_fail("ff_token_parse raised SQLSTATE %s", unpack_sql_state(code));
	else if (well_formed(t.token) && strlen(t.token) == strlen(parts[3]))
		ffz_fail("ff_token_parse refused a well-formed token \"%s\"", t.token);

	/* the checker never raises for any token */
	if (!ffz_run(check, &t, &code, NULL))
	{
		if (code != ERRCODE_FF_INVALID_KID)
			ffz_fail("ff_waitpoint_token_check raised SQLSTATE %s", unpack_sql_state(code));
	}
	else if (strcmp(t.result, "ok") == 0 && !well_formed(t.token))
		ffz_fail("a malformed token checked ok");

	/* sign, then check the signature and every one-character change of it */
	if (ffz_run(sign, &t, &code, NULL))
	{
		char	   *signed_token = t.result;
		size_t		len = strlen(signed_token);

		t.token = signed_token;
		if (!ffz_run(check, &t, &code, NULL) || strcmp(t.result, "ok") != 0)
			ffz_fail("a token just signed does not check ok");
		for (size_t i = strlen(t.k) + 1; i < len; i++)
		{
			char	   *bad = pstrdup(signed_token);

			bad[i] = bad[i] == '0' ? '1' : '0';
			t.token = bad;
			if (ffz_run(check, &t, &code, NULL) && strcmp(t.result, "ok") == 0)
				ffz_fail("a token with digit %zu changed still checks ok", i);
		}
	}
	else if (code != ERRCODE_FF_INVALID_KID)
		ffz_fail("ff_waitpoint_token_sign raised SQLSTATE %s", unpack_sql_state(code));
	ffz_reset();
	return 0;
}
