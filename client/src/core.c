/*
 * core.c - the ff_client connection: connect / reconnect, error capture,
 * parameter assembly, prepared-statement execution with the retry rules,
 * binary result decoding, and the engine-information calls.
 *
 * Every engine call goes through ffc_exec():
 *   1. make sure the connection is usable (reconnect if it is broken, also
 *      when the server closed an idle connection, which is noticed by reading
 *      pending input before sending anything);
 *   2. PQprepare the statement once per connection;
 *   3. PQexecPrepared with binary results (bytea parameters binary too);
 *   4. on failure, outside an explicit transaction: a statement marked
 *      resend_safe is sent once more after a lost connection; 40001 / 40P01
 *      are retried up to 3 attempts in all (then FF_ERR_RETRY_EXHAUSTED);
 *      a prepared statement that vanished (26000) is prepared again.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------------------------------------
 * memory and time
 * ------------------------------------------------------------------------ */
char *
ffc_strdup(const char *s)
{
	size_t		n;
	char	   *d;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

void *
ffc_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

void
ff_free(void *p)
{
	free(p);
}

int64_t
ffc_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ffc_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------------
 * errors
 * ------------------------------------------------------------------------ */
void
ffc_clear_error(ff_client *c)
{
	ff_error_clear(&c->err);
}

ff_status
ffc_set_error(ff_client *c, ff_status kind, const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return ffc_error_set(&c->err, kind, NULL, buf, NULL, NULL);
}

/* libpq messages end with a newline; drop it (and "ERROR:  " prefixes) */
static char *
trimmed_copy(const char *msg)
{
	char	   *d;
	size_t		n;

	if (msg == NULL)
		return ffc_strdup("");
	d = ffc_strdup(msg);
	if (d == NULL)
		return NULL;
	n = strlen(d);
	while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == ' '))
		d[--n] = '\0';
	return d;
}

ff_status
ffc_error_from_result(ff_error *err, const PGresult *res, PGconn *conn)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	bool		broken = conn == NULL || PQstatus(conn) == CONNECTION_BAD;
	ff_status	kind;
	char	   *msg;
	ff_status	r;

	if (res == NULL && !broken)
		return ffc_error_set(err, FF_ERR_OUT_OF_MEMORY, NULL, "out of memory", NULL, NULL);

	if (sqlstate && sqlstate[0])
		kind = ff_status_from_sqlstate(sqlstate);
	else
		kind = broken ? FF_ERR_CONNECTION : FF_ERR_POSTGRES;
	if (broken)
		kind = FF_ERR_CONNECTION;

	if (primary)
		msg = ffc_strdup(primary);
	else if (res && PQresultErrorMessage(res)[0])
		msg = trimmed_copy(PQresultErrorMessage(res));
	else
		msg = trimmed_copy(conn ? PQerrorMessage(conn) : "no connection");
	if (msg == NULL)
		return ffc_error_set(err, FF_ERR_OUT_OF_MEMORY, NULL, "out of memory", NULL, NULL);
	if (msg[0] == '\0' && broken)
	{
		free(msg);
		msg = ffc_strdup("connection to the server was lost");
	}
	r = ffc_error_set(err, kind, sqlstate, msg, detail, hint);
	free(msg);
	return r;
}

/* ------------------------------------------------------------------------
 * connection
 * ------------------------------------------------------------------------ */
static void
quiet_notices(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

static void
forget_prepared(ff_client *c)
{
	c->n_prepared = 0;
}

ff_status
ff_client_connect(const char *conninfo, ff_client **out, ff_error *err)
{
	ff_client  *c;

	if (err)
		memset(err, 0, sizeof(*err));
	if (out == NULL)
	{
		if (err)
			ffc_error_set(err, FF_ERR_USAGE, NULL, "ff_client_connect: out is NULL", NULL, NULL);
		return FF_ERR_USAGE;
	}
	*out = NULL;
	c = ffc_calloc(1, sizeof(ff_client));
	if (c == NULL || (c->conninfo = ffc_strdup(conninfo ? conninfo : "")) == NULL)
	{
		free(c);
		if (err)
			ffc_error_set(err, FF_ERR_OUT_OF_MEMORY, NULL, "out of memory", NULL, NULL);
		return FF_ERR_OUT_OF_MEMORY;
	}
	c->conn = PQconnectdb(c->conninfo);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		ff_status	s;

		if (c->conn == NULL)
			s = ffc_error_set(&c->err, FF_ERR_OUT_OF_MEMORY, NULL, "out of memory", NULL, NULL);
		else
		{
			char	   *msg = trimmed_copy(PQerrorMessage(c->conn));

			s = ffc_error_set(&c->err, FF_ERR_CONNECTION, NULL,
							  msg ? msg : "could not connect", NULL, NULL);
			free(msg);
		}
		if (err)
			ff_error_copy(err, &c->err);
		ff_client_close(c);
		return s;
	}
	PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
	*out = c;
	return FF_OK;
}

void
ff_client_close(ff_client *c)
{
	if (c == NULL)
		return;
	if (c->conn)
		PQfinish(c->conn);
	for (size_t i = 0; i < c->n_channels; i++)
		free(c->channels[i]);
	free(c->channels);
	free(c->prepared);
	free(c->conninfo);
	ff_error_clear(&c->err);
	free(c);
}

const ff_error *
ff_client_last_error(const ff_client *c)
{
	return c ? &c->err : NULL;
}

unsigned long
ff_client_reconnect_count(const ff_client *c)
{
	return c ? c->reconnects : 0;
}

int
ff_client_backend_pid(const ff_client *c)
{
	if (c == NULL || c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
		return 0;
	return PQbackendPID(c->conn);
}

int
ff_client_socket(const ff_client *c)
{
	if (c == NULL || c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
		return -1;
	return PQsocket(c->conn);
}

struct pg_conn *
ff_client_pgconn(ff_client *c)
{
	return c ? c->conn : NULL;
}

static ff_status
issue_listen(ff_client *c, const char *verb, const char *channel)
{
	char	   *ident;
	char	   *sql;
	PGresult   *res;
	ff_status	s = FF_OK;

	ident = PQescapeIdentifier(c->conn, channel, strlen(channel));
	if (ident == NULL)
		return ffc_error_from_result(&c->err, NULL, c->conn);
	sql = malloc(strlen(ident) + 16);
	if (sql == NULL)
	{
		PQfreemem(ident);
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	}
	sprintf(sql, "%s %s", verb, ident);
	PQfreemem(ident);
	res = PQexec(c->conn, sql);
	free(sql);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		s = ffc_error_from_result(&c->err, res, c->conn);
	PQclear(res);
	return s;
}

ff_status
ff_client_reconnect(ff_client *c)
{
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_clear_error(c);
	PQreset(c->conn);
	forget_prepared(c);
	if (PQstatus(c->conn) != CONNECTION_OK)
	{
		char	   *msg = trimmed_copy(PQerrorMessage(c->conn));
		ff_status	s = ffc_error_set(&c->err, FF_ERR_CONNECTION, NULL,
									  msg ? msg : "could not reconnect", NULL, NULL);

		free(msg);
		return s;
	}
	c->reconnects++;
	PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
	for (size_t i = 0; i < c->n_channels; i++)
	{
		ff_status	s;
		bool		seen = false;

		for (size_t j = 0; j < i; j++)
			if (strcmp(c->channels[j], c->channels[i]) == 0)
				seen = true;
		if (seen)
			continue;
		s = issue_listen(c, "LISTEN", c->channels[i]);
		if (s != FF_OK)
			return s;
	}
	/* notifications sent while we were away are lost: tell the listener */
	if (c->n_channels > 0)
		c->notifications++;
	return FF_OK;
}

/*
 * Usable connection before sending: reconnect when broken. A connection the
 * server closed while we were idle is detected by reading what is pending
 * (the server's FATAL message / EOF) without blocking.
 */
ff_status
ffc_ensure_connected(ff_client *c)
{
	if (c->conn && PQstatus(c->conn) == CONNECTION_OK)
	{
		struct pollfd pfd;
		int			fd = PQsocket(c->conn);

		if (fd < 0)
			return ff_client_reconnect(c);
		/*
		 * Read what is pending: a terminated backend sends its FATAL message
		 * (libpq treats it as a notice while idle) and then EOF, which makes
		 * the connection bad. Notifications stay queued for PQnotifies.
		 */
		for (int i = 0; i < 4; i++)
		{
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, 0) <= 0)
				break;
			if (!PQconsumeInput(c->conn) || PQstatus(c->conn) != CONNECTION_OK)
				return ff_client_reconnect(c);
			(void) PQisBusy(c->conn);	/* parse what was read */
		}
		return FF_OK;
	}
	return ff_client_reconnect(c);
}

/*
 * LISTEN, remembered so that a reconnect LISTENs again. The list keeps one
 * entry per ffc_listen call (two subscriptions may share a channel); the
 * channel is UNLISTENed when its last entry goes.
 */
static bool
channel_listed(ff_client *c, const char *channel)
{
	for (size_t i = 0; i < c->n_channels; i++)
		if (strcmp(c->channels[i], channel) == 0)
			return true;
	return false;
}

ff_status
ffc_listen(ff_client *c, const char *channel)
{
	char	  **grown;
	char	   *copy;
	ff_status	s = FF_OK;

	grown = realloc(c->channels, (c->n_channels + 1) * sizeof(char *));
	if (grown == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	c->channels = grown;
	copy = ffc_strdup(channel);
	if (copy == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	if (!channel_listed(c, channel))
	{
		s = ffc_ensure_connected(c);
		if (s == FF_OK)
			s = issue_listen(c, "LISTEN", channel);
	}
	if (s != FF_OK)
	{
		free(copy);
		return s;
	}
	c->channels[c->n_channels++] = copy;
	return FF_OK;
}

ff_status
ffc_unlisten(ff_client *c, const char *channel)
{
	for (size_t i = 0; i < c->n_channels; i++)
	{
		if (strcmp(c->channels[i], channel) == 0)
		{
			free(c->channels[i]);
			c->channels[i] = c->channels[--c->n_channels];
			if (!channel_listed(c, channel) && c->conn &&
				PQstatus(c->conn) == CONNECTION_OK &&
				PQtransactionStatus(c->conn) == PQTRANS_IDLE)
				return issue_listen(c, "UNLISTEN", channel);
			return FF_OK;
		}
	}
	return FF_OK;
}

int
ffc_consume_notifications(ff_client *c)
{
	PGnotify   *n;
	int			count = c->notifications;

	c->notifications = 0;
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
		return -1;
	if (!PQconsumeInput(c->conn))
		return -1;
	while ((n = PQnotifies(c->conn)) != NULL)
	{
		count++;
		PQfreemem(n);
	}
	return count;
}

/* ------------------------------------------------------------------------
 * parameters
 * ------------------------------------------------------------------------ */
void
ffc_params_init(ffc_params *p)
{
	memset(p, 0, sizeof(*p));
}

void
ffc_params_free(ffc_params *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->owned[i]);
	memset(p, 0, sizeof(*p));
}

static int
next_param(ffc_params *p)
{
	if (p->n >= FFC_MAX_PARAMS)
	{
		p->oom = true;
		return -1;
	}
	return p->n++;
}

void
ffc_param_text(ffc_params *p, const char *s)
{
	int			i = next_param(p);

	if (i < 0)
		return;
	p->values[i] = s;
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void
ffc_param_bytes(ffc_params *p, const void *data, size_t len, bool is_null)
{
	int			i = next_param(p);

	if (i < 0)
		return;
	if (len > 0x7fffffff)
	{
		p->oom = true;
		return;
	}
	/* libpq sends a NULL value pointer as SQL NULL: use a dummy for empty */
	p->values[i] = is_null ? NULL : (data ? (const char *) data : "");
	p->lengths[i] = is_null ? 0 : (int) len;
	p->formats[i] = 1;
}

static void
param_owned_text(ffc_params *p, char *s)
{
	int			i;

	if (s == NULL)
	{
		p->oom = true;
		return;
	}
	i = next_param(p);
	if (i < 0)
	{
		free(s);
		return;
	}
	p->owned[i] = s;
	p->values[i] = s;
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void
ffc_param_int64(ffc_params *p, int64_t v)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	param_owned_text(p, ffc_strdup(buf));
}

void
ffc_param_int64_or_null(ffc_params *p, int64_t v, bool is_null)
{
	if (is_null)
		ffc_param_text(p, NULL);
	else
		ffc_param_int64(p, v);
}

void
ffc_param_int32_or_null(ffc_params *p, int32_t v, bool is_null)
{
	if (is_null)
		ffc_param_text(p, NULL);
	else
		ffc_param_int64(p, v);
}

/* text[] as an array literal: {"a","b"} with " and \ escaped */
void
ffc_param_text_array(ffc_params *p, const char *const *items, size_t n)
{
	size_t		len = 3;
	char	   *buf;
	char	   *o;

	for (size_t i = 0; i < n; i++)
	{
		if (items == NULL || items[i] == NULL)
		{
			/* a NULL element: let the engine reject it (YFV03) */
			len += 5;
			continue;
		}
		len += 3 + 2 * strlen(items[i]);
	}
	buf = malloc(len);
	if (buf == NULL)
	{
		param_owned_text(p, NULL);
		return;
	}
	o = buf;
	*o++ = '{';
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			*o++ = ',';
		if (items == NULL || items[i] == NULL)
		{
			memcpy(o, "NULL", 4);
			o += 4;
			continue;
		}
		*o++ = '"';
		for (const char *s = items[i]; *s; s++)
		{
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	param_owned_text(p, buf);
}

/* ------------------------------------------------------------------------
 * execution
 * ------------------------------------------------------------------------ */
static ff_status
ensure_prepared(ff_client *c, const ffc_stmt *st)
{
	PGresult   *res;

	for (size_t i = 0; i < c->n_prepared; i++)
		if (c->prepared[i] == st)
			return FF_OK;
	if (c->n_prepared == c->cap_prepared)
	{
		size_t		cap = c->cap_prepared ? c->cap_prepared * 2 : 16;
		const ffc_stmt **grown = realloc(c->prepared, cap * sizeof(*grown));

		if (grown == NULL)
			return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
		c->prepared = grown;
		c->cap_prepared = cap;
	}
	res = PQprepare(c->conn, st->name, st->sql, st->nparams, st->types);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		ff_status	s = ffc_error_from_result(&c->err, res, c->conn);
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		/* prepared by an earlier connection state we lost track of */
		if (state && strcmp(state, "42P05") == 0)
		{
			PQclear(res);
			ffc_clear_error(c);
			c->prepared[c->n_prepared++] = st;
			return FF_OK;
		}
		PQclear(res);
		return s;
	}
	PQclear(res);
	c->prepared[c->n_prepared++] = st;
	return FF_OK;
}

ff_status
ffc_exec(ff_client *c, const ffc_stmt *st, ffc_params *p, PGresult **res_out)
{
	int			resends = 0;
	int			conflicts = 0;
	int			reprepares = 0;
	int			prepare_retries = 0;

	*res_out = NULL;
	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_clear_error(c);
	if (p->oom)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory assembling parameters");
	if (p->n != st->nparams)
		return ffc_set_error(c, FF_ERR_USAGE, "internal: %s takes %d parameters, got %d",
							 st->name, st->nparams, p->n);

	for (;;)
	{
		ff_status	s;
		bool		in_txn;
		PGresult   *res;
		ExecStatusType es;

		s = ffc_ensure_connected(c);
		if (s != FF_OK)
			return s;
		in_txn = PQtransactionStatus(c->conn) != PQTRANS_IDLE;

		s = ensure_prepared(c, st);
		if (s != FF_OK)
		{
			/* nothing was executed: safe to try again on a new connection */
			if (s == FF_ERR_CONNECTION && !in_txn && prepare_retries++ < 1)
				continue;
			return s;
		}

		res = PQexecPrepared(c->conn, st->name, p->n, p->values, p->lengths, p->formats, 1);
		es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK)
		{
			*res_out = res;
			return FF_OK;
		}
		s = ffc_error_from_result(&c->err, res, c->conn);
		PQclear(res);
		if (in_txn)
			return s;
		if (s == FF_ERR_CONNECTION)
		{
			if (PQstatus(c->conn) == CONNECTION_BAD && st->resend_safe && resends++ < 1)
				continue;
			return s;
		}
		if ((strcmp(c->err.sqlstate, "26000") == 0 || strcmp(c->err.sqlstate, "0A000") == 0) &&
			reprepares++ < 1)
		{
			/* the prepared statement vanished (DISCARD ALL) or went stale */
			if (strcmp(c->err.sqlstate, "0A000") == 0)
				PQclear(PQexec(c->conn, "DEALLOCATE ALL"));
			forget_prepared(c);
			continue;
		}
		if (s == FF_ERR_SERIALIZATION_FAILURE || s == FF_ERR_DEADLOCK)
		{
			if (++conflicts < 3)
			{
				ffc_sleep_ms(5 * conflicts);
				continue;
			}
			c->err.kind = FF_ERR_RETRY_EXHAUSTED;
			c->err.retryable = true;
			return FF_ERR_RETRY_EXHAUSTED;
		}
		return s;
	}
}

/* ------------------------------------------------------------------------
 * result decoding (binary format)
 * ------------------------------------------------------------------------ */
ff_status
ffc_expect_columns(ff_client *c, const PGresult *res, int ncols)
{
	if (PQnfields(res) != ncols)
		return ffc_set_error(c, FF_ERR_PROTOCOL,
							 "unexpected reply: %d columns instead of %d (extension version?)",
							 PQnfields(res), ncols);
	return FF_OK;
}

bool
ffc_isnull(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) != 0;
}

static uint64_t
be_uint(const unsigned char *p, int n)
{
	uint64_t	v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static ff_status
type_error(ff_client *c, const PGresult *res, int col, const char *want)
{
	return ffc_set_error(c, FF_ERR_PROTOCOL,
						 "unexpected reply: column \"%s\" has type oid %u, expected %s",
						 PQfname(res, col), (unsigned) PQftype(res, col), want);
}

ff_status
ffc_get_int64(ff_client *c, const PGresult *res, int row, int col, int64_t *out)
{
	const unsigned char *v = (const unsigned char *) PQgetvalue(res, row, col);
	int			len = PQgetlength(res, row, col);
	Oid			t = PQftype(res, col);

	*out = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if ((t == FFC_INT8OID && len == 8) || (t == FFC_INT4OID && len == 4) ||
		(t == FFC_INT2OID && len == 2))
	{
		uint64_t	u = be_uint(v, len);
		int			bits = len * 8;

		if (bits < 64 && (u & ((uint64_t) 1 << (bits - 1))))
			u |= ~(uint64_t) 0 << bits; /* sign-extend */
		*out = (int64_t) u;
		return FF_OK;
	}
	return type_error(c, res, col, "an integer");
}

ff_status
ffc_get_int32(ff_client *c, const PGresult *res, int row, int col, int32_t *out)
{
	int64_t		v;
	ff_status	s = ffc_get_int64(c, res, row, col, &v);

	*out = (int32_t) v;
	if (s == FF_OK && (v > INT32_MAX || v < INT32_MIN))
		return type_error(c, res, col, "a 32-bit integer");
	return s;
}

ff_status
ffc_get_bool(ff_client *c, const PGresult *res, int row, int col, bool *out)
{
	*out = false;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != FFC_BOOLOID || PQgetlength(res, row, col) != 1)
		return type_error(c, res, col, "boolean");
	*out = PQgetvalue(res, row, col)[0] != 0;
	return FF_OK;
}

ff_status
ffc_get_bytes(ff_client *c, const PGresult *res, int row, int col, ff_bytes *out)
{
	int			len;

	out->data = NULL;
	out->len = 0;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	if (PQftype(res, col) != FFC_BYTEAOID)
		return type_error(c, res, col, "bytea");
	len = PQgetlength(res, row, col);
	out->data = malloc(len > 0 ? (size_t) len : 1);
	if (out->data == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	memcpy(out->data, PQgetvalue(res, row, col), (size_t) len);
	out->len = (size_t) len;
	return FF_OK;
}

ff_status
ffc_get_text(ff_client *c, const PGresult *res, int row, int col, char **out)
{
	const char *v;
	int			len;
	Oid			t = PQftype(res, col);
	char	   *d;

	*out = NULL;
	if (PQgetisnull(res, row, col))
		return FF_OK;
	v = PQgetvalue(res, row, col);
	len = PQgetlength(res, row, col);
	if (t == FFC_UUIDOID)
	{
		static const char hex[] = "0123456789abcdef";
		char	   *o;

		if (len != 16)
			return type_error(c, res, col, "uuid");
		d = malloc(37);
		if (d == NULL)
			return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
		o = d;
		for (int i = 0; i < 16; i++)
		{
			unsigned char b = (unsigned char) v[i];

			if (i == 4 || i == 6 || i == 8 || i == 10)
				*o++ = '-';
			*o++ = hex[b >> 4];
			*o++ = hex[b & 15];
		}
		*o = '\0';
		*out = d;
		return FF_OK;
	}
	if (t == FFC_JSONBOID)
	{
		/* binary jsonb: version byte 1, then the text */
		if (len < 1 || v[0] != 1)
			return type_error(c, res, col, "jsonb version 1");
		v++;
		len--;
	}
	else if (t == FFC_INT8OID || t == FFC_INT4OID || t == FFC_INT2OID)
	{
		int64_t		n;
		char		buf[32];
		ff_status	s = ffc_get_int64(c, res, row, col, &n);

		if (s != FF_OK)
			return s;
		snprintf(buf, sizeof(buf), "%" PRId64, n);
		*out = ffc_strdup(buf);
		return *out ? FF_OK : ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	}
	else if (t != FFC_TEXTOID && t != FFC_JSONOID && t != 1043 /* varchar */ && t != 19 /* name */ )
		return type_error(c, res, col, "text");
	d = malloc((size_t) len + 1);
	if (d == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	memcpy(d, v, (size_t) len);
	d[len] = '\0';
	*out = d;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * buffers
 * ------------------------------------------------------------------------ */
void
ff_bytes_clear(ff_bytes *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void
ff_handle_clear(ff_handle *h)
{
	if (h == NULL)
		return;
	free(h->data);
	h->data = NULL;
	h->len = 0;
}

ff_status
ff_handle_copy(ff_handle *dst, const ff_handle *src)
{
	if (dst == NULL || src == NULL)
		return FF_ERR_USAGE;
	dst->data = NULL;
	dst->len = 0;
	if (src->data == NULL)
		return FF_OK;
	dst->data = malloc(src->len ? src->len : 1);
	if (dst->data == NULL)
		return FF_ERR_OUT_OF_MEMORY;
	memcpy(dst->data, src->data, src->len);
	dst->len = src->len;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * engine information and clock
 * ------------------------------------------------------------------------ */
static const ffc_stmt st_ping = {
	"ff_c_ping", "SELECT ff_ping()", 0, {0}, true
};
static const ffc_stmt st_time = {
	"ff_c_server_time", "SELECT ff_server_time_ms()", 0, {0}, true
};
static const ffc_stmt st_caps = {
	"ff_c_capabilities", "SELECT ff_capabilities()", 0, {0}, true
};

/* ffc_run runs st (freeing p) and checks the column count; rows are the caller's. */
ff_status
ffc_run(ff_client *c, const ffc_stmt *st, ffc_params *p, int ncols, PGresult **res)
{
	ff_status	s = ffc_exec(c, st, p, res);

	ffc_params_free(p);
	if (s != FF_OK)
		return s;
	s = ffc_expect_columns(c, *res, ncols);
	if (s != FF_OK)
	{
		PQclear(*res);
		*res = NULL;
	}
	return s;
}

ff_status
ffc_exactly_one_row(ff_client *c, const PGresult *res)
{
	if (PQntuples(res) != 1)
		return ffc_set_error(c, FF_ERR_PROTOCOL, "unexpected reply: %d rows instead of 1",
							 PQntuples(res));
	return FF_OK;
}

ff_status
ff_client_ping(ff_client *c)
{
	static const ffc_field ok_field[] = {{FFC_F_BOOL, 0, 0, NULL}};
	ffc_params	p;
	bool		ok = false;
	ff_status	s;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_params_init(&p);
	s = FFC_RUN_ROW(c, &st_ping, &p, ok_field, &ok, NULL);
	if (s == FF_OK && !ok)
		s = ffc_set_error(c, FF_ERR_PROTOCOL, "ff_ping() did not return true");
	return s;
}

ff_status
ff_client_server_time_ms(ff_client *c, int64_t *out)
{
	static const ffc_field ms_field[] = {{FFC_F_I64, 0, 0, NULL}};
	ffc_params	p;
	int64_t		v;
	ff_status	s;

	if (c == NULL || out == NULL)
		return ffc_usage(c, "out is NULL");
	ffc_params_init(&p);
	s = FFC_RUN_ROW(c, &st_time, &p, ms_field, &v, NULL);
	if (s == FF_OK)
		*out = v;
	return s;
}

ff_status
ff_client_capabilities(ff_client *c, char **json_out)
{
	ffc_params	p;

	if (c == NULL || json_out == NULL)
		return ffc_usage(c, "json_out is NULL");
	ffc_params_init(&p);
	return ffc_scalar_text(c, &st_caps, &p, json_out);
}
