/*
 * test_events.c - subscriptions: LISTEN wake-ups, timeouts, the non-blocking
 * form, and catch-up from the cursor across dropped connections with no gap
 * and no duplicate.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "util.h"

static ff_client *c;			/* producer */
static ff_client *sc;			/* subscriber's connection */

/* create + claim + complete one execution; returns its id (malloc) */
static char *
complete_one(const char *lane)
{
	char	   *id = make_execution(c, lane, NULL, NULL);
	ff_claimed	cl = {0};

	if (id && claim_one(c, lane, 0, &cl))
		ff_client_complete(c, &cl.handle, "r", 1);
	ff_claimed_clear(&cl);
	return id;
}

/* ids of this lane's completion events after cursor, from the table, in order */
static int
table_ids(const char *lane, long long after, long long *ids, int max)
{
	return admin_ids(ids, max, "SELECT ce.event_id FROM ff_completion_event ce JOIN ff_execution e "
					 "USING (partition_key, execution_id) WHERE e.lane_id = '%s' AND ce.event_id > %lld "
					 "ORDER BY 1", lane, after);
}

/* drains completions of `lane` until `want` arrived or timeout; stores ids */
static int
collect(ff_subscription *s, const char *lane, int want, long long *ids, int timeout_ms)
{
	int			got = 0;
	long long	end = mono_ms() + timeout_ms;

	while (got < want && mono_ms() < end)
	{
		ff_completion_event_list l = {0};
		ff_status	st = ff_subscription_next_completions(s, (int) (end - mono_ms()), &l);

		if (st != FF_OK)
		{
			printf("# next_completions: %s\n", ff_client_last_error(sc)->message);
			sleep_ms(50);
			continue;
		}
		for (size_t i = 0; i < l.count; i++)
			if (strcmp(l.items[i].lane_id, lane) == 0 && got < 1000)
				ids[got++] = l.items[i].event_id;
		ff_completion_event_list_clear(&l);
	}
	return got;
}

static long long
max_completion_id(void)
{
	return admin_int("SELECT coalesce(max(event_id), 0) FROM ff_completion_event");
}

static void
test_basic(void)
{
	const char *lane = unique_lane("sub");
	ff_subscription *s = NULL;
	ff_subscription_options o = {0};
	ff_completion_event_list l = {0};
	ff_lease_event_list ll = {0};
	long long	start = max_completion_id();
	long long	ids[16];
	long long	tids[16];
	long long	t0;
	char	   *id[3];

	o.poll_interval_ms = 10000;	/* wake-ups below must come from NOTIFY */
	is_status(ff_subscription_open(sc, FF_EVENTS_COMPLETION, start, &o, &s), FF_OK, sc,
			  "open a completion subscription");
	ok(ff_subscription_source(s) == FF_EVENTS_COMPLETION && ff_subscription_cursor(s) == start,
	   "source and cursor");
	ok(ff_subscription_socket(s) >= 0, "the socket is exposed");

	t0 = mono_ms();
	is_status(ff_subscription_next_completions(s, 0, &l), FF_OK, sc, "non-blocking next");
	ok(l.count == 0 && mono_ms() - t0 < 1000, "nothing yet, returned at once");
	ff_completion_event_list_clear(&l);

	t0 = mono_ms();
	is_status(ff_subscription_next_completions(s, 300, &l), FF_OK, sc, "next with a 300 ms timeout");
	ok(l.count == 0 && mono_ms() - t0 >= 280 && mono_ms() - t0 < 3000, "empty after the timeout (%lld ms)",
	   mono_ms() - t0);
	ff_completion_event_list_clear(&l);

	is_status(ff_subscription_next_lease_events(s, 0, &ll), FF_ERR_USAGE, sc,
			  "the lease reader on a completion subscription -> usage");

	for (int i = 0; i < 3; i++)
		id[i] = complete_one(lane);
	is_int(collect(s, lane, 3, ids, 5000), 3, "three completions arrive");
	is_int(table_ids(lane, start, tids, 16), 3, "three in the table");
	ok(ids[0] == tids[0] && ids[1] == tids[1] && ids[2] == tids[2], "same events, in event-id order");
	ok(ff_subscription_cursor(s) >= ids[2], "the cursor advanced");
	for (int i = 0; i < 3; i++)
		free(id[i]);

	/* a blocking wait is woken by NOTIFY (poll interval is 10 s) */
	{
		char		sql[512];
		PGresult   *res;
		int			got;

		/* one implicit transaction: create, wait, claim + complete */
		snprintf(sql, sizeof(sql),
				 "SELECT ff_create_execution('%s'); SELECT pg_sleep(0.3); "
				 "SELECT ff_complete(handle, NULL) FROM ff_claim('%s', 'w', 'w/1')", lane, lane);
		t0 = mono_ms();
		PQsendQuery(admin(), sql);
		got = collect(s, lane, 1, ids, 8000);
		while ((res = PQgetResult(admin())) != NULL)
			PQclear(res);
		is_int(got, 1, "a completion made while waiting is delivered");
		ok(mono_ms() - t0 < 3000, "woken by the notification (%lld ms, poll interval 10 s)", mono_ms() - t0);
	}
	ff_subscription_close(s);
}

static void
test_catch_up(void)
{
	const char *lane = unique_lane("catchup");
	ff_subscription *s = NULL;
	long long	start = max_completion_id();
	long long	ids[1000];
	long long	tids[1000];
	int			got = 0;
	int			pid;
	unsigned long rc0;
	char	   *id;

	is_status(ff_subscription_open(sc, FF_EVENTS_COMPLETION, start, NULL, &s), FF_OK, sc, "open for catch-up");

	/* a first batch, read normally */
	for (int i = 0; i < 4; i++)
		free(complete_one(lane));
	got = collect(s, lane, 4, ids, 5000);
	is_int(got, 4, "first four events read");

	/* drop the subscriber's connection, produce events while it is gone */
	pid = ff_client_backend_pid(sc);
	rc0 = ff_client_reconnect_count(sc);
	admin_exec("SELECT pg_terminate_backend(%d)", pid);
	wait_backend_gone(pid);
	for (int i = 0; i < 6; i++)
		free(complete_one(lane));
	got += collect(s, lane, 6, ids + got, 8000);
	is_int(got, 10, "after the drop, the six events of the outage are caught up");
	ok(ff_client_reconnect_count(sc) == rc0 + 1 && ff_client_backend_pid(sc) != pid,
	   "the subscription reconnected once");

	/* dropped during a blocking wait: the wait survives and LISTEN is back */
	{
		char		sql[512];
		PGresult   *res;
		int			n;

		pid = ff_client_backend_pid(sc);
		snprintf(sql, sizeof(sql),
				 "SELECT pg_sleep(0.2), pg_terminate_backend(%d); SELECT pg_sleep(0.5); "
				 "SELECT ff_create_execution('%s'); "
				 "SELECT ff_complete(handle, NULL) FROM ff_claim('%s', 'w', 'w/1')", pid, lane, lane);
		PQsendQuery(admin(), sql);
		n = collect(s, lane, 1, ids + got, 8000);
		while ((res = PQgetResult(admin())) != NULL)
			PQclear(res);
		got += n;
		is_int(n, 1, "dropped while waiting: the next event still arrives");
		ok(ff_client_reconnect_count(sc) == rc0 + 2, "reconnected again");
	}

	/* many events, the connection dropped several times along the way */
	for (int round = 0; round < 3; round++)
	{
		for (int i = 0; i < 10; i++)
			free(complete_one(lane));
		got += collect(s, lane, 3, ids + got, 5000);	/* read some, not all */
		pid = ff_client_backend_pid(sc);
		admin_exec("SELECT pg_terminate_backend(%d)", pid);
		wait_backend_gone(pid);
	}
	id = complete_one(lane);
	free(id);
	{
		int			want = table_ids(lane, start, tids, 1000);
		int			same = 1;

		got += collect(s, lane, want - got, ids + got, 10000);
		is_int(got, want, "every event of the lane delivered (%d)", want);
		for (int i = 0; i < got && i < want; i++)
			if (ids[i] != tids[i])
				same = 0;
		ok(same, "exactly the table's events, in order: no gap, no duplicate");
	}
	{
		ff_completion_event_list l = {0};

		ff_subscription_next_completions(s, 100, &l);
		is_int(l.count, 0, "nothing more after the last one");
		ff_completion_event_list_clear(&l);
	}
	ff_subscription_close(s);
}

static void
test_lease_events_and_event_loop(void)
{
	const char *lane = unique_lane("lsub");
	ff_subscription *ls = NULL;
	ff_subscription *cs = NULL;
	ff_lease_event_list l = {0};
	ff_completion_event_list cl = {0};
	long long	lstart = admin_int("SELECT coalesce(max(event_id), 0) FROM ff_lease_event");
	char		seq[256] = "";
	char	   *id = make_execution(c, lane, NULL, NULL);
	ff_claimed	claimed = {0};
	long long	end;
	bool		saw_completion = false;

	is_status(ff_subscription_open(sc, FF_EVENTS_LEASE, lstart, NULL, &ls), FF_OK, sc, "open a lease subscription");
	is_status(ff_subscription_open(sc, FF_EVENTS_COMPLETION, max_completion_id(), NULL, &cs), FF_OK, sc,
			  "and a completion subscription on the same client");
	is_status(ff_subscription_next_completions(ls, 0, &cl), FF_ERR_USAGE, sc,
			  "the completion reader on a lease subscription -> usage");
	claim_one(c, lane, 0, &claimed);
	ff_client_renew(c, &claimed.handle, NULL);
	ff_client_complete(c, &claimed.handle, NULL, 0);

	/* an event loop: poll the socket, then read without blocking */
	end = mono_ms() + 5000;
	while (mono_ms() < end && (strstr(seq, "released") == NULL || !saw_completion))
	{
		struct pollfd pfd = {.fd = ff_subscription_socket(ls),.events = POLLIN};

		poll(&pfd, 1, 200);
		if (ff_subscription_next_lease_events(ls, 0, &l) == FF_OK)
		{
			for (size_t i = 0; i < l.count; i++)
				if (strcmp(l.items[i].execution_id, id) == 0)
				{
					strcat(seq, l.items[i].event_type);
					strcat(seq, " ");
				}
		}
		ff_lease_event_list_clear(&l);
		if (ff_subscription_next_completions(cs, 0, &cl) == FF_OK)
			for (size_t i = 0; i < cl.count; i++)
				if (strcmp(cl.items[i].execution_id, id) == 0)
					saw_completion = true;
		ff_completion_event_list_clear(&cl);
	}
	is_str(seq, "acquired renewed released ", "lease events in order through the event loop");
	ok(saw_completion, "the completion subscription on the same client works too");
	ff_subscription_close(cs);
	/* closing one subscription keeps the other one's LISTEN */
	is_int(admin_int("SELECT count(*) FROM pg_listening_channels()"), 0, "(admin listens to nothing)");
	{
		PGresult   *res = PQexec(ff_client_pgconn(sc), "SELECT string_agg(c, ',' ORDER BY c) FROM pg_listening_channels() c");

		is_str(PQgetvalue(res, 0, 0), "ff_lease_event", "only ff_lease_event is still listened to");
		PQclear(res);
	}
	ff_subscription_close(ls);
	{
		PGresult   *res = PQexec(ff_client_pgconn(sc), "SELECT count(*) FROM pg_listening_channels()");

		is_str(PQgetvalue(res, 0, 0), "0", "closing the last subscription UNLISTENs");
		PQclear(res);
	}
	is_status(ff_subscription_open(sc, 7, 0, NULL, &ls), FF_ERR_USAGE, sc, "unknown source -> usage");
	is_status(ff_subscription_open(sc, FF_EVENTS_LEASE, -1, NULL, &ls), FF_ERR_USAGE, sc, "negative cursor -> usage");
	ff_claimed_clear(&claimed);
	free(id);
}

int
main(void)
{
	c = test_client();
	sc = test_client();
	test_basic();
	test_catch_up();
	test_lease_events_and_event_loop();
	ff_client_close(sc);
	ff_client_close(c);
	PQfinish(admin());
	return done_testing();
}
