/*
 * util.c - see util.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
claim_one(ff_client *c, const char *lane, int64_t ttl_ms, ff_claimed *out)
{
	ff_claim_args a = {0};
	ff_claim_list l = {0};

	memset(out, 0, sizeof(*out));
	a.lane_id = lane;
	a.worker_id = "test-worker";
	a.worker_instance_id = "test-worker/1";
	a.lease_ttl_ms = ttl_ms;
	if (ff_client_claim(c, &a, &l) != FF_OK)
	{
		printf("# claim_one failed: %s\n", ff_client_last_error(c)->message);
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
