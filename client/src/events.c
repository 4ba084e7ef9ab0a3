/*
 * events.c - outbox readers (ff_completion_events, ff_lease_events) and
 * subscriptions (also to the signal-event outbox, whose reader
 * ff_client_signal_events is in suspend.c).
 *
 * A subscription is a cursor (the last event id handed to the caller) plus
 * LISTEN on the outbox's channel. Each ff_subscription_next_* call reads
 * "events after the cursor" and, when there are none, waits for a
 * notification or the poll interval, then reads again. Notifications are only
 * hints: the engine's delivery rule (docs/operations.md, "Outbox delivery")
 * makes event ids a safe cursor, so reading after the cursor never skips an
 * event that commits late and never returns one twice - including across a
 * lost connection, after which the client reconnects, LISTENs again, and the
 * next read catches up from the cursor.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const ffc_stmt st_completion_events = {
	"ff_c_completion_events",
	"SELECT event_id, execution_id, flow_id, outcome, namespace, lane_id, attempt_index, "
	"occurred_at_ms FROM ff_completion_events($1, $2)",
	2, {FFC_INT8OID, FFC_INT4OID}, true
};

static const ffc_stmt st_lease_events = {
	"ff_c_lease_events",
	"SELECT event_id, execution_id, attempt_index, lease_id, lease_epoch, event_type, "
	"reason, worker_id, worker_instance_id, namespace, occurred_at_ms "
	"FROM ff_lease_events($1, $2)",
	2, {FFC_INT8OID, FFC_INT4OID}, true
};

#define TRY(expr) do { if (s == FF_OK) s = (expr); } while (0)

void
ff_completion_event_list_clear(ff_completion_event_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		ff_completion_event *e = &l->items[i];

		free(e->execution_id);
		free(e->flow_id);
		free(e->outcome);
		free(e->ns);
		free(e->lane_id);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

void
ff_lease_event_list_clear(ff_lease_event_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
	{
		ff_lease_event *e = &l->items[i];

		free(e->execution_id);
		free(e->lease_id);
		free(e->event_type);
		free(e->reason);
		free(e->worker_id);
		free(e->worker_instance_id);
		free(e->ns);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static ff_status
read_events(ff_client *c, const ffc_stmt *st, int ncols, int64_t after, int32_t max_events,
			PGresult **res)
{
	ffc_params	p;
	ff_status	s;

	ffc_params_init(&p);
	ffc_param_int64(&p, after);
	ffc_param_int32_or_null(&p, max_events == 0 ? 100 : max_events, false);
	s = ffc_exec(c, st, &p, res);
	ffc_params_free(&p);
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
ff_client_completion_events(ff_client *c, int64_t after_event_id, int32_t max_events,
							ff_completion_event_list *out)
{
	PGresult   *res;
	ff_status	s;
	ff_completion_event_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return c ? ffc_set_error(c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	s = read_events(c, &st_completion_events, 8, after_event_id, max_events, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (l.items = ffc_calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_completion_event *e = &l.items[i];

		l.count++;
		e->has_attempt_index = !ffc_isnull(res, i, 6);
		TRY(ffc_get_int64(c, res, i, 0, &e->event_id));
		TRY(ffc_get_text(c, res, i, 1, &e->execution_id));
		TRY(ffc_get_text(c, res, i, 2, &e->flow_id));
		TRY(ffc_get_text(c, res, i, 3, &e->outcome));
		TRY(ffc_get_text(c, res, i, 4, &e->ns));
		TRY(ffc_get_text(c, res, i, 5, &e->lane_id));
		TRY(ffc_get_int32(c, res, i, 6, &e->attempt_index));
		TRY(ffc_get_int64(c, res, i, 7, &e->occurred_at_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_completion_event_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

ff_status
ff_client_lease_events(ff_client *c, int64_t after_event_id, int32_t max_events,
					   ff_lease_event_list *out)
{
	PGresult   *res;
	ff_status	s;
	ff_lease_event_list l = {0};
	int			n;

	if (c == NULL || out == NULL)
		return c ? ffc_set_error(c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	s = read_events(c, &st_lease_events, 11, after_event_id, max_events, &res);
	if (s != FF_OK)
		return s;
	n = PQntuples(res);
	if (n > 0 && (l.items = ffc_calloc((size_t) n, sizeof(*l.items))) == NULL)
		s = ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	for (int i = 0; i < n && s == FF_OK; i++)
	{
		ff_lease_event *e = &l.items[i];

		l.count++;
		TRY(ffc_get_int64(c, res, i, 0, &e->event_id));
		TRY(ffc_get_text(c, res, i, 1, &e->execution_id));
		TRY(ffc_get_int32(c, res, i, 2, &e->attempt_index));
		TRY(ffc_get_text(c, res, i, 3, &e->lease_id));
		TRY(ffc_get_int64(c, res, i, 4, &e->lease_epoch));
		TRY(ffc_get_text(c, res, i, 5, &e->event_type));
		TRY(ffc_get_text(c, res, i, 6, &e->reason));
		TRY(ffc_get_text(c, res, i, 7, &e->worker_id));
		TRY(ffc_get_text(c, res, i, 8, &e->worker_instance_id));
		TRY(ffc_get_text(c, res, i, 9, &e->ns));
		TRY(ffc_get_int64(c, res, i, 10, &e->occurred_at_ms));
	}
	PQclear(res);
	if (s != FF_OK)
	{
		ff_lease_event_list_clear(&l);
		return s;
	}
	*out = l;
	return FF_OK;
}

/* ------------------------------------------------------------------------
 * subscriptions
 * ------------------------------------------------------------------------ */
struct ff_subscription
{
	ff_client  *c;
	ff_event_source source;
	const char *channel;
	int64_t		cursor;
	int32_t		batch_size;
	int32_t		poll_interval_ms;
};

ff_status
ff_subscription_open(ff_client *c, ff_event_source source, int64_t after_event_id,
					 const ff_subscription_options *opts, ff_subscription **out)
{
	ff_subscription *s;
	ff_status	st;

	if (c == NULL)
		return FF_ERR_USAGE;
	ffc_clear_error(c);
	if (out == NULL ||
		(source != FF_EVENTS_COMPLETION && source != FF_EVENTS_LEASE &&
		 source != FF_EVENTS_SIGNAL) ||
		after_event_id < 0)
		return ffc_set_error(c, FF_ERR_USAGE,
							 "ff_subscription_open: bad source, cursor or out pointer");
	*out = NULL;
	s = ffc_calloc(1, sizeof(*s));
	if (s == NULL)
		return ffc_set_error(c, FF_ERR_OUT_OF_MEMORY, "out of memory");
	s->c = c;
	s->source = source;
	s->channel = source == FF_EVENTS_COMPLETION ? "ff_completion"
		: source == FF_EVENTS_SIGNAL ? "ff_signal_event" : "ff_lease_event";
	s->cursor = after_event_id;
	s->batch_size = opts && opts->batch_size > 0 ? opts->batch_size : 100;
	if (s->batch_size > 10000)
		s->batch_size = 10000;
	s->poll_interval_ms = opts && opts->poll_interval_ms > 0 ? opts->poll_interval_ms : 1000;
	st = ffc_listen(c, s->channel);
	if (st != FF_OK)
	{
		free(s);
		return st;
	}
	*out = s;
	return FF_OK;
}

void
ff_subscription_close(ff_subscription *s)
{
	if (s == NULL)
		return;
	ffc_unlisten(s->c, s->channel);
	free(s);
}

int
ff_subscription_socket(const ff_subscription *s)
{
	return s ? ff_client_socket(s->c) : -1;
}

int64_t
ff_subscription_cursor(const ff_subscription *s)
{
	return s ? s->cursor : 0;
}

ff_event_source
ff_subscription_source(const ff_subscription *s)
{
	return s ? s->source : 0;
}

/* One read after the cursor into *out; *n = events read (cursor advanced). */
static ff_status
fetch(ff_subscription *s, void *out, size_t *n)
{
	ff_status	st;

	*n = 0;
	if (s->source == FF_EVENTS_COMPLETION)
	{
		ff_completion_event_list *l = out;

		st = ff_client_completion_events(s->c, s->cursor, s->batch_size, l);
		if (st == FF_OK && l->count > 0)
		{
			*n = l->count;
			s->cursor = l->items[l->count - 1].event_id;
		}
	}
	else if (s->source == FF_EVENTS_SIGNAL)
	{
		ff_signal_event_list *l = out;

		st = ff_client_signal_events(s->c, s->cursor, s->batch_size, l);
		if (st == FF_OK && l->count > 0)
		{
			*n = l->count;
			s->cursor = l->items[l->count - 1].event_id;
		}
	}
	else
	{
		ff_lease_event_list *l = out;

		st = ff_client_lease_events(s->c, s->cursor, s->batch_size, l);
		if (st == FF_OK && l->count > 0)
		{
			*n = l->count;
			s->cursor = l->items[l->count - 1].event_id;
		}
	}
	return st;
}

static ff_status
sub_next(ff_subscription *s, int timeout_ms, void *out)
{
	int64_t		deadline = ffc_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int64_t		recheck = 0;	/* > 0: re-read soon (a hint found nothing yet) */

	for (;;)
	{
		size_t		n;
		ff_status	st;
		int64_t		now;
		int64_t		wait;
		int			fd;
		int			got;

		/* hints that arrived so far are covered by the read below */
		(void) ffc_consume_notifications(s->c);
		st = fetch(s, out, &n);
		if (st != FF_OK || n > 0 || timeout_ms == 0)
			return st;

		now = ffc_monotonic_ms();
		wait = recheck > 0 ? recheck : s->poll_interval_ms;
		if (timeout_ms > 0)
		{
			if (now >= deadline)
				return FF_OK;
			if (deadline - now < wait)
				wait = deadline - now;
		}
		fd = ff_client_socket(s->c);
		if (fd < 0)
		{
			ffc_sleep_ms(wait);
			continue;			/* the next read reconnects */
		}
		{
			struct pollfd pfd = {.fd = fd,.events = POLLIN};
			int			r = poll(&pfd, 1, (int) wait);

			if (r < 0 && errno == EINTR)
				return FF_OK;	/* let the caller look at its signals */
		}
		got = ffc_consume_notifications(s->c);
		if (got > 0)
			recheck = 10;		/* read now, then soon again if still nothing */
		else if (recheck > 0)
			recheck = recheck * 2 >= s->poll_interval_ms ? 0 : recheck * 2;
	}
}

/* the reader a subscription's events are read with */
static const char *
reader_of(const ff_subscription *s)
{
	return s->source == FF_EVENTS_COMPLETION ? "ff_subscription_next_completions"
		: s->source == FF_EVENTS_SIGNAL ? "ff_subscription_next_signal_events"
		: "ff_subscription_next_lease_events";
}

ff_status
ff_subscription_next_completions(ff_subscription *s, int timeout_ms,
								 ff_completion_event_list *out)
{
	if (s == NULL || out == NULL)
		return s ? ffc_set_error(s->c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	if (s->source != FF_EVENTS_COMPLETION)
		return ffc_set_error(s->c, FF_ERR_USAGE,
							 "this subscription is not for completions: use %s", reader_of(s));
	return sub_next(s, timeout_ms, out);
}

ff_status
ff_subscription_next_lease_events(ff_subscription *s, int timeout_ms, ff_lease_event_list *out)
{
	if (s == NULL || out == NULL)
		return s ? ffc_set_error(s->c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	if (s->source != FF_EVENTS_LEASE)
		return ffc_set_error(s->c, FF_ERR_USAGE,
							 "this subscription is not for lease events: use %s", reader_of(s));
	return sub_next(s, timeout_ms, out);
}

ff_status
ff_subscription_next_signal_events(ff_subscription *s, int timeout_ms, ff_signal_event_list *out)
{
	if (s == NULL || out == NULL)
		return s ? ffc_set_error(s->c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, sizeof(*out));
	if (s->source != FF_EVENTS_SIGNAL)
		return ffc_set_error(s->c, FF_ERR_USAGE,
							 "this subscription is not for signal events: use %s", reader_of(s));
	return sub_next(s, timeout_ms, out);
}
