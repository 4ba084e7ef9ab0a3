/*
 * fuzz_handle.c - the attempt handle codec (extension/handle.c). Oracles:
 * malformed bytes raise corruption (YFV25), other backends'
 * handle_from_other_backend (YFV26), never anything else; a handle that
 * decodes re-encodes (when it is a v2 postgres handle) to bytes that decode
 * to the same fields.
 */
#include "ffz.h"

#include "utils/uuid.h"

#include "flowfabric.h"
#include "errors.h"

typedef struct Dec
{
	bytea	   *raw;
	FFHandle	h;
	bool		postgres;
} Dec;

static void
decode(void *p)
{
	Dec		   *d = p;

	memset(&d->h, 0, sizeof(d->h));
	if (d->postgres)
		ff_handle_decode_postgres(d->raw, &d->h);
	else
		ff_handle_decode(d->raw, &d->h);
}

typedef struct Enc
{
	const FFHandle *h;
	bytea	   *out;
} Enc;

static void
encode(void *p)
{
	Enc		   *e = p;

	e->out = ff_handle_encode(e->h);
}

static bool
same(const FFHandle *a, const FFHandle *b)
{
	return a->backend == b->backend && a->attempt_index == b->attempt_index &&
		a->lease_epoch == b->lease_epoch && a->lease_ttl_ms == b->lease_ttl_ms &&
		a->key.partition == b->key.partition &&
		memcmp(&a->key.uuid, &b->key.uuid, sizeof(pg_uuid_t)) == 0 &&
		memcmp(&a->attempt_id, &b->attempt_id, sizeof(pg_uuid_t)) == 0 &&
		memcmp(&a->lease_id, &b->lease_id, sizeof(pg_uuid_t)) == 0 &&
		strcmp(a->lane_id, b->lane_id) == 0 &&
		strcmp(a->worker_instance_id, b->worker_instance_id) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Dec			d;
	int			code;

	d.raw = (bytea *) ffz_text(data, size);
	for (int pass = 0; pass < 2; pass++)
	{
		d.postgres = pass == 1;
		if (!ffz_run(decode, &d, &code, NULL))
		{
			if (code != ERRCODE_FF_CORRUPTION && code != ERRCODE_FF_HANDLE_FROM_OTHER_BACKEND &&
				code != ERRCODE_FF_INVALID_INPUT)
				ffz_fail("handle decode raised SQLSTATE %s", unpack_sql_state(code));
			continue;
		}
		if (d.h.lane_id == NULL || d.h.worker_instance_id == NULL)
			ffz_fail("a decoded handle lacks its strings");
		if (d.h.backend == FF_BACKEND_POSTGRES && d.h.format == 2)
		{
			Enc			e = {&d.h, NULL};
			Dec			d2;

			if (!ffz_run(encode, &e, &code, NULL))
				continue;		/* fields the encoder refuses (e.g. too long) */
			d2.raw = e.out;
			d2.postgres = d.postgres;
			if (!ffz_run(decode, &d2, &code, NULL))
				ffz_fail("a re-encoded handle does not decode (%s)", unpack_sql_state(code));
			if (!same(&d.h, &d2.h))
				ffz_fail("a re-encoded handle decodes to other fields");
		}
	}
	ffz_reset();
	return 0;
}
