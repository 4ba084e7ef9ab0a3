/*
 * internal.h - private declarations shared by the libflowfabric sources.
 *
 * Areas: core.c (connection, statement execution, column decoding),
 * result.c (what the calls share: argument checks, common parameters, field
 * tables that decode reply rows into result structs), errors.c (SQLSTATE ->
 * ff_status table), ids.c (crc16, partitions, handle hex), exec.c (lifecycle
 * operations and reads), reconcile.c, events.c (outbox readers and
 * subscriptions), worker.c (worker runtime). Later areas add their own file
 * and statement definitions the same way.
 */
#ifndef FLOWFABRIC_CLIENT_INTERNAL_H
#define FLOWFABRIC_CLIENT_INTERNAL_H

#include <stddef.h>
#include <string.h>

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

/* ids.c: the value of a hex digit, -1 for anything else */
FFC_HIDDEN int ffc_hexval(char c);

/* errors.c */
FFC_HIDDEN bool ffc_sqlstate_is_connection(const char *sqlstate);

/*
 * result.c: what every area's calls share - usage errors, common parameters,
 * and decoding reply rows into result structs with field tables.
 *
 * A field table lists a struct's members in the order of the reply's
 * columns (type + offset); the same table decodes a row and frees what the
 * decoding allocated, so a result struct's clear function and its decoder
 * cannot drift apart.
 */
FFC_HIDDEN ff_status ffc_usage(ff_client *c, const char *what);	/* FF_ERR_USAGE */
/* FF_ERR_USAGE "<fn>: <what>" */
FFC_HIDDEN ff_status ffc_usage_of(ff_client *c, const char *fn, const char *what);
/* a call's argument check: FF_ERR_USAGE "<the call>: <what>" unless there is
 * a client and cond holds */
#define FFC_REQUIRE(c, cond, what) \
	do { \
		if ((c) == NULL || !(cond)) \
			return ffc_usage_of(c, __func__, what); \
	} while (0)
FFC_HIDDEN ff_status ffc_oom(ff_client *c);	/* FF_ERR_OUT_OF_MEMORY */
/* a handle as bytea (NULL handle or data: SQL NULL) */
FFC_HIDDEN void ffc_param_handle(ffc_params *p, const ff_handle *h);
/* v, or dflt when v is 0 (listing limits, batch sizes) */
FFC_HIDDEN void ffc_param_int32_default(ffc_params *p, int32_t v, int32_t dflt);

typedef enum ffc_field_type
{
	FFC_F_TEXT,					/* char * (NULL stays NULL) */
	FFC_F_I64,					/* int64_t (NULL -> 0) */
	FFC_F_I32,					/* int32_t (NULL -> 0) */
	FFC_F_BOOL,					/* bool (NULL -> false) */
	FFC_F_F64,					/* double from float8 (NULL -> 0) */
	FFC_F_BYTES,				/* ff_bytes */
	FFC_F_HANDLE,				/* ff_handle */
	FFC_F_TEXTS,				/* char ** from text[], its size_t count at off2 */
	FFC_F_CHARS,				/* text into a char[off2] (longer: protocol error) */
	FFC_F_I64_HAS,				/* int64_t, and the bool at off2 = not NULL */
	FFC_F_I32_HAS,				/* int32_t, and the bool at off2 = not NULL */
	FFC_F_FLAG,					/* bool from an outcome: names[1] -> true,
								 * names[0] -> false (names[0] NULL: anything
								 * else, NULL included, is false) */
	FFC_F_ENUM,					/* an enum (int) from text: the index of the
								 * name in names[off2]; NULL -> 0, unknown text
								 * is a protocol error */
	FFC_F_SKIP					/* a column the caller reads itself */
} ffc_field_type;

/* or'ed into a type: a NULL in this column is a protocol error */
#define FFC_F_NOTNULL 0x100

typedef struct ffc_field
{
	int			type;			/* ffc_field_type, maybe | FFC_F_NOTNULL */
	size_t		off;
	size_t		off2;
	const char *const *names;
} ffc_field;

#define FFC_FLD(t, s, m)			{FFC_F_##t, offsetof(s, m), 0, NULL}
#define FFC_FLD_REQ(t, s, m)		{FFC_F_##t | FFC_F_NOTNULL, offsetof(s, m), 0, NULL}
#define FFC_FLD2(t, s, m, m2)		{FFC_F_##t, offsetof(s, m), offsetof(s, m2), NULL}
#define FFC_FLD_CHARS(s, m)			{FFC_F_CHARS, offsetof(s, m), sizeof(((s *) 0)->m), NULL}
#define FFC_FLD_FLAG(s, m, names)	{FFC_F_FLAG, offsetof(s, m), 2, names}
#define FFC_FLD_ENUM(s, m, names)	{FFC_F_ENUM, offsetof(s, m), FFC_LEN(names), names}
#define FFC_FLD_ENUM_REQ(s, m, names) \
	{FFC_F_ENUM | FFC_F_NOTNULL, offsetof(s, m), FFC_LEN(names), names}
#define FFC_FLD_SKIP				{FFC_F_SKIP, 0, 0, NULL}
#define FFC_LEN(a)					(sizeof(a) / sizeof((a)[0]))
#define FFC_NF(fields)				((int) FFC_LEN(fields))

/* the name of enum value v in table (NULL out of range) */
#define FFC_NAME_OF(table, v) \
	((int) (v) >= 0 && (size_t) (v) < FFC_LEN(table) ? (table)[(int) (v)] : NULL)
/* the index of name in names[0..n) (NULL entries never match), or -1 */
FFC_HIDDEN int ffc_name_index(const char *const *names, size_t n, const char *name);
FFC_HIDDEN ff_status ffc_get_texts(ff_client *c, const PGresult *res, int row, int col,
								   char ***items, size_t *n);	/* SQL NULL: none */
FFC_HIDDEN void ffc_free_texts(char **items, size_t n);
FFC_HIDDEN ff_status ffc_decode_row(ff_client *c, const PGresult *res, int row, int first_col,
									const ffc_field *f, int nf, void *base);
/* frees what decoding allocated in *base (NULL: nothing) */
FFC_HIDDEN void ffc_free_fields(const ffc_field *f, int nf, void *base);
/* a result struct's clear function: frees, then zeroes size bytes (NULL: nothing) */
FFC_HIDDEN void ffc_clear_fields(const ffc_field *f, int nf, void *base, size_t size);
FFC_HIDDEN void ffc_free_list(const ffc_field *f, int nf, size_t elem_size, void *items,
							  size_t count);

#define FFC_CLEAR_RECORD(r, fields) ffc_clear_fields(fields, FFC_NF(fields), r, sizeof(*(r)))
/* a list struct { items, count, ... }: frees every item, zeroes the struct */
#define FFC_CLEAR_LIST(l, fields) \
	do { \
		if ((l) != NULL) \
		{ \
			ffc_free_list(fields, FFC_NF(fields), sizeof(*(l)->items), (l)->items, (l)->count); \
			memset((l), 0, sizeof(*(l))); \
		} \
	} while (0)

/*
 * Rows first_col.. of every row of res into a new array (NULL for none);
 * on failure nothing is left allocated.
 */
FFC_HIDDEN ff_status ffc_decode_rows(ff_client *c, const PGresult *res, int first_col,
									 const ffc_field *f, int nf, size_t elem_size,
									 void **items, size_t *count);
/*
 * A reply of one record with a list in it: every row repeats the record's
 * columns (f, the first nf) and carries one item in the columns after them;
 * a record without items is one row with the item columns NULL. The record
 * goes to *base, the items to a new array. At least one row is required.
 */
FFC_HIDDEN ff_status ffc_decode_nested(ff_client *c, const PGresult *res, const ffc_field *f,
									   int nf, void *base, const ffc_field *item_f, int item_nf,
									   size_t item_size, void **items, size_t *count);
/*
 * Runs st (freeing p; the reply has nf columns) and decodes its row into
 * *base, which is zeroed first and again on failure. found NULL: exactly one
 * row is required; else at most one, *found tells. base NULL: the row is
 * checked and decoded, then dropped.
 */
FFC_HIDDEN ff_status ffc_run_row(ff_client *c, const ffc_stmt *st, ffc_params *p,
								 const ffc_field *f, int nf, void *base, size_t size, bool *found);
#define FFC_RUN_ROW(c, st, p, fields, out, found) \
	ffc_run_row(c, st, p, fields, FFC_NF(fields), out, sizeof(*(out)), found)
/* Runs st (freeing p) and decodes every row into a new array */
FFC_HIDDEN ff_status ffc_run_list(ff_client *c, const ffc_stmt *st, ffc_params *p,
								  const ffc_field *f, int nf, size_t elem_size, void **items,
								  size_t *count);
#define FFC_RUN_LIST(c, st, p, fields, l) \
	(memset((l), 0, sizeof(*(l))), \
	 ffc_run_list(c, st, p, fields, FFC_NF(fields), sizeof(*(l)->items), (void **) &(l)->items, \
				  &(l)->count))

/* An outbox reader: the events after the cursor, at most max_events (0:
 * 100), into a new array */
FFC_HIDDEN ff_status ffc_read_events(ff_client *c, const ffc_stmt *st, const ffc_field *f,
									 int nf, size_t item_size, int64_t after_event_id,
									 int32_t max_events, void **items, size_t *count);
#define FFC_READ_EVENTS(c, st, fields, after, max, l) \
	(memset((l), 0, sizeof(*(l))), \
	 ffc_read_events(c, st, fields, FFC_NF(fields), sizeof(*(l)->items), after, max, \
					 (void **) &(l)->items, &(l)->count))

/* exec.c: ff_create_result's columns (also the tail of a batch create's rows) */
FFC_HIDDEN extern const ffc_field ffc_create_result_fields[3];

/* One row, one column: text (NULL stays NULL), int32 (*found: not NULL) */
FFC_HIDDEN ff_status ffc_scalar_text(ff_client *c, const ffc_stmt *st, ffc_params *p, char **out);
FFC_HIDDEN ff_status ffc_scalar_int32(ff_client *c, const ffc_stmt *st, ffc_params *p,
									  int32_t *out, bool *found);
/* Runs st (freeing p), a one-column reply whose rows are not needed */
FFC_HIDDEN ff_status ffc_run_discard(ff_client *c, const ffc_stmt *st, ffc_params *p);
/* A one-pass reconciler: st takes the batch size (0: SQL NULL, the engine's
 * default) and returns how many things it changed; *changed may be NULL. */
FFC_HIDDEN ff_status ffc_reconcile(ff_client *c, const ffc_stmt *st, int32_t batch_size,
								   int32_t *changed);
/* defines the public call ff_client_<name>(c, batch_size, changed) as one
 * ffc_reconcile pass of st */
#define FFC_RECONCILE_CALL(name, st) \
	ff_status \
	ff_client_##name(ff_client *c, int32_t batch_size, int32_t *changed) \
	{ \
		return ffc_reconcile(c, st, batch_size, changed); \
	}

/* time helpers (core.c) */
FFC_HIDDEN int64_t ffc_monotonic_ms(void);
FFC_HIDDEN void ffc_sleep_ms(int64_t ms);

#endif							/* FLOWFABRIC_CLIENT_INTERNAL_H */
