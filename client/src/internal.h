/*
 * internal.h - private declarations shared by the libflowfabric sources.
 *
 * Areas: core.c (connection, statement execution, result decoding), errors.c
 * (SQLSTATE -> ff_status table), ids.c (crc16, partitions, handle hex),
 * exec.c (lifecycle operations and reads), reconcile.c, events.c (outbox
 * readers and subscriptions), worker.c (worker runtime). Later areas add
 * their own file and statement definitions the same way.
 */
#ifndef FLOWFABRIC_CLIENT_INTERNAL_H
#define FLOWFABRIC_CLIENT_INTERNAL_H

#include <libpq-fe.h>

#include "flowfabric.h"

#define FFC_HIDDEN __attribute__((visibility("hidden")))

/* Type OIDs we send or read (fixed in every PostgreSQL release) */
#define FFC_BOOLOID		16
#define FFC_BYTEAOID	17
#define FFC_INT8OID		20
#define FFC_INT2OID		21
#define FFC_INT4OID		23
#define FFC_TEXTOID		25
#define FFC_JSONOID		114
#define FFC_TEXTARRAYOID 1009
#define FFC_UUIDOID		2950
#define FFC_JSONBOID	3802

#define FFC_MAX_PARAMS	16

/*
 * A statement the library prepares (lazily, once per connection) and runs
 * with PQexecPrepared. Each area defines its own as static const.
 */
typedef struct ffc_stmt
{
	const char *name;			/* prepared statement name, unique */
	const char *sql;
	int			nparams;
	Oid			types[FFC_MAX_PARAMS];
	bool		resend_safe;	/* may be sent again after a lost connection
								 * (reads, and calls the engine treats as
								 * replays) */
} ffc_stmt;

/* Parameters being assembled for one call */
typedef struct ffc_params
{
	int			n;
	const char *values[FFC_MAX_PARAMS];
	int			lengths[FFC_MAX_PARAMS];
	int			formats[FFC_MAX_PARAMS];
	char	   *owned[FFC_MAX_PARAMS];	/* buffers to free after the call */
	bool		oom;
} ffc_params;

struct ff_client
{
	PGconn	   *conn;
	char	   *conninfo;
	ff_error	err;
	const ffc_stmt **prepared;	/* statements prepared on this connection */
	size_t		n_prepared;
	size_t		cap_prepared;
	char	  **channels;		/* LISTEN channels, re-issued on reconnect */
	size_t		n_channels;
	unsigned long reconnects;
	int			notifications;	/* notifications consumed, not yet taken */
};

/* core.c: errors */
FFC_HIDDEN void ffc_clear_error(ff_client *c);
FFC_HIDDEN ff_status ffc_set_error(ff_client *c, ff_status kind, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
FFC_HIDDEN ff_status ffc_error_from_result(ff_error *err, const PGresult *res, PGconn *conn);
FFC_HIDDEN ff_status ffc_error_set(ff_error *err, ff_status kind, const char *sqlstate,
								   const char *message, const char *detail, const char *hint);

/* core.c: parameters */
FFC_HIDDEN void ffc_params_init(ffc_params *p);
FFC_HIDDEN void ffc_params_free(ffc_params *p);
FFC_HIDDEN void ffc_param_text(ffc_params *p, const char *s);	/* NULL = SQL NULL */
FFC_HIDDEN void ffc_param_bytes(ffc_params *p, const void *data, size_t len, bool is_null);
FFC_HIDDEN void ffc_param_int64(ffc_params *p, int64_t v);
FFC_HIDDEN void ffc_param_int64_or_null(ffc_params *p, int64_t v, bool is_null);
FFC_HIDDEN void ffc_param_int32_or_null(ffc_params *p, int32_t v, bool is_null);
FFC_HIDDEN void ffc_param_text_array(ffc_params *p, const char *const *items, size_t n);

/* core.c: execution. On FF_OK *res_out holds the result (PQclear it). */
FFC_HIDDEN ff_status ffc_exec(ff_client *c, const ffc_stmt *st, ffc_params *p,
							  PGresult **res_out);
FFC_HIDDEN ff_status ffc_ensure_connected(ff_client *c);
FFC_HIDDEN ff_status ffc_listen(ff_client *c, const char *channel);
FFC_HIDDEN ff_status ffc_unlisten(ff_client *c, const char *channel);
/* Reads pending input without blocking; returns notifications taken (>= 0),
 * or -1 if the connection broke. */
FFC_HIDDEN int ffc_consume_notifications(ff_client *c);

/* core.c: result decoding (binary format). Each checks the column type and
 * reports FF_ERR_PROTOCOL on a mismatch. */
FFC_HIDDEN ff_status ffc_expect_columns(ff_client *c, const PGresult *res, int ncols);
FFC_HIDDEN ff_status ffc_run(ff_client *c, const ffc_stmt *st, ffc_params *p, int ncols,
							 PGresult **res);
FFC_HIDDEN ff_status ffc_exactly_one_row(ff_client *c, const PGresult *res);
FFC_HIDDEN bool ffc_isnull(const PGresult *res, int row, int col);
FFC_HIDDEN ff_status ffc_get_text(ff_client *c, const PGresult *res, int row, int col,
								  char **out);	/* NULL stays NULL */
FFC_HIDDEN ff_status ffc_get_bytes(ff_client *c, const PGresult *res, int row, int col,
								   ff_bytes *out);
FFC_HIDDEN ff_status ffc_get_int64(ff_client *c, const PGresult *res, int row, int col,
								   int64_t *out);	/* NULL -> 0 */
FFC_HIDDEN ff_status ffc_get_int32(ff_client *c, const PGresult *res, int row, int col,
								   int32_t *out);	/* NULL -> 0 */
FFC_HIDDEN ff_status ffc_get_bool(ff_client *c, const PGresult *res, int row, int col,
								  bool *out);

/* core.c: memory */
FFC_HIDDEN char *ffc_strdup(const char *s);
FFC_HIDDEN void *ffc_calloc(size_t n, size_t size);

/* errors.c */
FFC_HIDDEN bool ffc_sqlstate_is_connection(const char *sqlstate);

/* time helpers (core.c) */
FFC_HIDDEN int64_t ffc_monotonic_ms(void);
FFC_HIDDEN void ffc_sleep_ms(int64_t ms);

#endif							/* FLOWFABRIC_CLIENT_INTERNAL_H */
