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

static const ffc_field completion_fields[] = {
	FFC_FLD(I64, ff_completion_event, event_id),
	FFC_FLD(TEXT, ff_completion_event, execution_id),
	FFC_FLD(TEXT, ff_completion_event, flow_id),
	FFC_FLD(TEXT, ff_completion_event, outcome),
	FFC_FLD(TEXT, ff_completion_event, ns),
	FFC_FLD(TEXT, ff_completion_event, lane_id),
	FFC_FLD2(I32_HAS, ff_completion_event, attempt_index, has_attempt_index),
	FFC_FLD(I64, ff_completion_event, occurred_at_ms),
};

static const ffc_field lease_fields[] = {
	FFC_FLD(I64, ff_lease_event, event_id),
	FFC_FLD(TEXT, ff_lease_event, execution_id),
	FFC_FLD(I32, ff_lease_event, attempt_index),
	FFC_FLD(TEXT, ff_lease_event, lease_id),
	FFC_FLD(I64, ff_lease_event, lease_epoch),
	FFC_FLD(TEXT, ff_lease_event, event_type),
	FFC_FLD(TEXT, ff_lease_event, reason),
	FFC_FLD(TEXT, ff_lease_event, worker_id),
	FFC_FLD(TEXT, ff_lease_event, worker_instance_id),
	FFC_FLD(TEXT, ff_lease_event, ns),
	FFC_FLD(I64, ff_lease_event, occurred_at_ms),
};

void
ff_completion_event_list_clear(ff_completion_event_list *l)
{
	FFC_CLEAR_LIST(l, completion_fields);
}

void
ff_lease_event_list_clear(ff_lease_event_list *l)
{
	FFC_CLEAR_LIST(l, lease_fields);
}

ff_status
ff_client_completion_events(ff_client *c, int64_t after_event_id, int32_t max_events,
							ff_completion_event_list *out)
{
	if (c == NULL || out == NULL)
		return ffc_usage(c, "out is required");
	return FFC_READ_EVENTS(c, &st_completion_events, completion_fields, after_event_id,
						   max_events, out);
}

ff_status
ff_client_lease_events(ff_client *c, int64_t after_event_id, int32_t max_events,
					   ff_lease_event_list *out)
{
	if (c == NULL || out == NULL)
		return ffc_usage(c, "out is required");
	return FFC_READ_EVENTS(c, &st_lease_events, lease_fields, after_event_id, max_events, out);
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

/* a list's item count, and the last item's event id (0 for none) */
#define LAST_EVENT_ID(l, n) ((n) = (l)->count, (n) > 0 ? (l)->items[(n) - 1].event_id : 0)

/* One read after the cursor into *out; *n = events read (cursor advanced). */
static ff_status
fetch(ff_subscription *s, void *out, size_t *n)
{
	ff_status	st;
	int64_t		last;

	if (s->source == FF_EVENTS_COMPLETION)
	{
		st = ff_client_completion_events(s->c, s->cursor, s->batch_size, out);
		last = LAST_EVENT_ID((ff_completion_event_list *) out, *n);
	}
	else if (s->source == FF_EVENTS_SIGNAL)
	{
		st = ff_client_signal_events(s->c, s->cursor, s->batch_size, out);
		last = LAST_EVENT_ID((ff_signal_event_list *) out, *n);
	}
	else
	{
		st = ff_client_lease_events(s->c, s->cursor, s->batch_size, out);
		last = LAST_EVENT_ID((ff_lease_event_list *) out, *n);
	}
	if (st != FF_OK)
		*n = 0;
	else if (*n > 0)
		s->cursor = last;
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

/* the checks of the ff_subscription_next_* calls, then the wait */
static ff_status
next_events(ff_subscription *s, ff_event_source source, const char *what, int timeout_ms,
			void *out, size_t out_size)
{
	if (s == NULL || out == NULL)
		return s ? ffc_set_error(s->c, FF_ERR_USAGE, "out is required") : FF_ERR_USAGE;
	memset(out, 0, out_size);
	if (s->source != source)
		return ffc_set_error(s->c, FF_ERR_USAGE, "this subscription is not for %s: use %s",
							 what, reader_of(s));
	return sub_next(s, timeout_ms, out);
}

ff_status
ff_subscription_next_completions(ff_subscription *s, int timeout_ms,
								 ff_completion_event_list *out)
{
	return next_events(s, FF_EVENTS_COMPLETION, "completions", timeout_ms, out, sizeof(*out));
}

ff_status
ff_subscription_next_lease_events(ff_subscription *s, int timeout_ms, ff_lease_event_list *out)
{
	return next_events(s, FF_EVENTS_LEASE, "lease events", timeout_ms, out, sizeof(*out));
}

ff_status
ff_subscription_next_signal_events(ff_subscription *s, int timeout_ms, ff_signal_event_list *out)
{
	return next_events(s, FF_EVENTS_SIGNAL, "signal events", timeout_ms, out, sizeof(*out));
}
