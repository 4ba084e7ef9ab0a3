/*
 * util.c - see util.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static PGconn *admin_conn;

const char *
test_conninfo(void)
{
	const char *s = getenv("FF_TEST_CONNINFO");

	return s ? s : "";
}

const char *
test_conninfo_with(const char *extra)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s %s", test_conninfo(), extra);
	return buf;
}

ff_client *
test_client(void)
{
	ff_client  *c = NULL;
	ff_error	e = {0};

	if (ff_client_connect(test_conninfo(), &c, &e) != FF_OK)
	{
		printf("Bail out! cannot connect: %s\n", e.message ? e.message : "?");
		ff_error_clear(&e);
		exit(2);
	}
	return c;
}

PGconn *
admin(void)
{
	if (admin_conn == NULL || PQstatus(admin_conn) != CONNECTION_OK)
	{
		if (admin_conn)
			PQfinish(admin_conn);
		admin_conn = PQconnectdb(test_conninfo());
		if (PQstatus(admin_conn) != CONNECTION_OK)
		{
			printf("Bail out! admin connection: %s\n", PQerrorMessage(admin_conn));
			exit(2);
		}
		PQclear(PQexec(admin_conn, "SET client_min_messages = warning"));
	}
	return admin_conn;
}

static PGresult *
admin_query(const char *fmt, va_list ap)
{
	char		sql[8192];
	PGresult   *res;

	vsnprintf(sql, sizeof(sql), fmt, ap);
	res = PQexec(admin(), sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		printf("# admin SQL failed: %s\n#   %s", sql, PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

bool
admin_exec(const char *fmt,...)
{
	va_list		ap;
	PGresult   *res;

	va_start(ap, fmt);
	res = admin_query(fmt, ap);
	va_end(ap);
	PQclear(res);
	return res != NULL;
}

char *
admin_str(const char *fmt,...)
{
	va_list		ap;
	PGresult   *res;
	char	   *out = NULL;

	va_start(ap, fmt);
	res = admin_query(fmt, ap);
	va_end(ap);
	if (res && PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
	{
		const char *v = PQgetvalue(res, 0, 0);

		out = malloc(strlen(v) + 1);
		strcpy(out, v);
	}
	PQclear(res);
	return out;
}

long long
admin_int(const char *fmt,...)
{
	va_list		ap;
	PGresult   *res;
	long long	out = -1;

	va_start(ap, fmt);
	res = admin_query(fmt, ap);
	va_end(ap);
	if (res && PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
		out = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

const char *
unique_lane(const char *prefix)
{
	static char bufs[16][64];
	static int	n;
	char	   *b = bufs[n % 16];

	snprintf(b, sizeof(bufs[0]), "%s-%ld-%d", prefix, (long) getpid(), n);
	n++;
	return b;
}

char *
make_execution(ff_client *c, const char *lane, const char *payload, const char *policy_json)
{
	ff_create_args a = {0};
	ff_create_result r = {0};
	char	   *id;

	a.lane_id = lane;
	a.input_payload = payload;
	a.input_payload_len = payload ? strlen(payload) : 0;
	a.policy_json = policy_json;
	if (ff_client_create_execution(c, &a, &r) != FF_OK)
	{
		printf("# make_execution failed: %s\n", ff_client_last_error(c)->message);
		return NULL;
	}
	id = r.execution_id;
	r.execution_id = NULL;
	ff_create_result_clear(&r);
	return id;
}

bool
claim_as(ff_client *c, const char *lane, const char *worker_id, const char *const *caps,
		 size_t ncaps, int64_t ttl_ms, ff_claimed *out)
{
	ff_claim_args a = {0};
	ff_claim_list l = {0};
	char		instance[128];

	memset(out, 0, sizeof(*out));
	snprintf(instance, sizeof(instance), "%s/1", worker_id);
	a.lane_id = lane;
	a.worker_id = worker_id;
	a.worker_instance_id = instance;
	a.capabilities = caps;
	a.n_capabilities = ncaps;
	a.lease_ttl_ms = ttl_ms;
	if (ff_client_claim(c, &a, &l) != FF_OK)
	{
		printf("# claim on %s failed: %s\n", lane, ff_client_last_error(c)->message);
		return false;
	}
	if (l.count != 1)
	{
		ff_claim_list_clear(&l);
		return false;
	}
	*out = l.items[0];
	memset(&l.items[0], 0, sizeof(l.items[0]));
	ff_claim_list_clear(&l);
	return true;
}

bool
claim_one(ff_client *c, const char *lane, int64_t ttl_ms, ff_claimed *out)
{
	return claim_as(c, lane, "test-worker", NULL, 0, ttl_ms, out);
}

int
admin_ids(long long *ids, int max, const char *fmt,...)
{
	char		sql[1024];
	va_list		ap;
	PGresult   *res;
	int			n;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	res = PQexec(admin(), sql);
	n = PQntuples(res);
	for (int i = 0; i < n && i < max; i++)
		ids[i] = atoll(PQgetvalue(res, i, 0));
	PQclear(res);
	return n;
}

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
expect_error_at(const char *file, int line, ff_client *cl, ff_status got, ff_status want,
				const char *sqlstate, bool retryable, const char *what)
{
	const ff_error *e = ff_client_last_error(cl);
	const char *code = sqlstate ? sqlstate : ff_status_sqlstate(want);
	char		prefix[128];

	if (!tap_ok(got == want, file, line, "%s -> %s", what, ff_status_name(want)))
	{
		printf("#   got status %d (%s), want %d (%s)\n", (int) got, ff_status_name(got),
			   (int) want, ff_status_name(want));
		tap_diag_error(e);
	}
	tap_ok(e->kind == want, file, line, "%s: last_error kind matches the return", what);
	if (code && !tap_ok(strcmp(e->sqlstate, code) == 0, file, line, "%s: SQLSTATE %s", what, code))
		printf("#   got '%s', want '%s'\n", e->sqlstate, code);
	tap_ok(e->retryable == retryable, file, line, "%s: retryable is %s", what,
		   retryable ? "true" : "false");
	if (code && code[0] == 'Y')
	{
		snprintf(prefix, sizeof(prefix), "%s: ", ff_status_name(want));
		tap_ok(e->message && strncmp(e->message, prefix, strlen(prefix)) == 0, file, line,
			   "%s: message starts with '%s'", what, prefix);
	}
}

const char *
ffctl_bin(void)
{
	return getenv("FFCTL") ? getenv("FFCTL") : "client/bin/ffctl";
}

int
ffctl_run(char *out, size_t outlen, const char *fmt,...)
{
	char		args[1024];
	char		cmd[1400];
	va_list		ap;
	FILE	   *f;
	size_t		n = 0;
	int			st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", ffctl_bin(), args);
	out[0] = '\0';
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (n + 1 < outlen && fgets(out + n, (int) (outlen - n), f) != NULL)
		n = strlen(out);
	st = pclose(f);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

void
wait_backend_gone(int pid)
{
	for (int i = 0; i < 500; i++)
	{
		if (admin_int("SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid) == 0)
		{
			sleep_ms(50);		/* the socket closes a moment after */
			return;
		}
		sleep_ms(10);
	}
}
