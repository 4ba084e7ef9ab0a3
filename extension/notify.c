/*
 * notify.c
 *		Announcing outbox events with NOTIFY, without putting NOTIFY in the
 *		engine's own commits.
 *
 * PostgreSQL serialises the commits of every transaction that has NOTIFYed:
 * PreCommit_Notify takes a cluster-wide lock and holds it until the commit
 * record is flushed, so with one NOTIFY per claim and completion the engine's
 * commits queue behind each other's WAL flushes. Subscribers use the
 * notifications only as wake-ups (they read the outboxes by cursor), so they
 * can be coalesced and sent by someone else, after the commit.
 *
 * flowfabric.notify (guc.c) chooses:
 *
 *	deferred	the default. ff_notify_event only records the channel in a
 *				backend-local set; when the transaction commits, the set is
 *				OR-ed into the shared-memory slot of the database's reconciler
 *				worker and its latch is set (bgworker.c). The worker sends one
 *				NOTIFY per pending channel, payload "deferred", in a short
 *				transaction of its own, within a few milliseconds. If no
 *				worker runs for the database (flowfabric.reconcilers = off,
 *				not started yet, exited), the event is announced as in
 *				immediate mode instead, so no wake-up is lost.
 *	immediate	NOTIFY in the transaction, the event id as payload.
 *	off			nothing; subscribers find the events by polling.
 *
 * The worker is looked for at every event and once more just before commit
 * (XACT_EVENT_PRE_COMMIT), while NOTIFY can still join the transaction. From
 * then until the bits are posted the transaction holds a ticket on the
 * worker's slot, and a worker that stops taking deferred notifications waits
 * for the tickets to drain before its last send (bgworker.c), so a worker
 * leaving in between costs no wake-up either.
 *
 * Only the fixed outbox channels below are deferred; any other channel (and
 * the per-attempt stream channels of stream.c, which do not come here) is
 * notified in the transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/async.h"

#include "bgworker.h"
#include "notify.h"

/* The outbox channels that can be deferred; bit i stands for channel i. */
static const char *const ff_notify_channels[] = {
	"ff_completion",
	"ff_lease_event",
	"ff_operator_event",
	"ff_signal_event",
};

/* Channels this transaction deferred; notified or posted at commit. */
static uint32 pending_channels = 0;

/* The slot this transaction holds a ticket on (PRE_COMMIT to COMMIT), or -1. */
static int	ticket_slot = -1;

/*
 * The pending set has been dealt with: an event written after that (by a
 * pre-commit callback running after ours) is notified in the transaction.
 */
static bool committing = false;

static bool xact_callback_registered = false;

static void ff_notify_xact_callback(XactEvent event, void *arg);

static uint32
channel_bit(const char *channel)
{
	for (int i = 0; i < (int) lengthof(ff_notify_channels); i++)
		if (strcmp(channel, ff_notify_channels[i]) == 0)
			return (uint32) 1 << i;
	return 0;
}

void
ff_notify_send_channels(uint32 channels)
{
	for (int i = 0; i < (int) lengthof(ff_notify_channels); i++)
		if (channels & ((uint32) 1 << i))
			Async_Notify(ff_notify_channels[i], FF_NOTIFY_DEFERRED_PAYLOAD);
}

void
ff_notify_event(const char *channel, int64 event_id)
{
	uint32		bit;

	if (ff_notify_mode == FF_NOTIFY_OFF)
		return;
	if (ff_notify_mode == FF_NOTIFY_DEFERRED && !committing &&
		(bit = channel_bit(channel)) != 0 && ff_bgw_notify_worker_slot() >= 0)
	{
		if (!xact_callback_registered)
		{
			RegisterXactCallback(ff_notify_xact_callback, NULL);
			xact_callback_registered = true;
		}
		/*
		 * Kept even if a subtransaction that wrote the event rolls back: a
		 * spurious wake-up costs a subscriber one empty read.
		 */
		pending_channels |= bit;
		return;
	}
	Async_Notify(channel, psprintf(INT64_FORMAT, event_id));
}

static void
ff_notify_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			committing = true;
			if (pending_channels == 0)
				break;
			ticket_slot = ff_bgw_notify_begin();
			if (ticket_slot < 0)
			{
				/* The worker left since the events were written: NOTIFY now. */
				ff_notify_send_channels(pending_channels);
				pending_channels = 0;
			}
			break;
		case XACT_EVENT_PRE_PREPARE:
			/*
			 * Nobody would post the channels when COMMIT PREPARED runs, so
			 * behave as immediate mode does: PREPARE refuses a transaction
			 * that has NOTIFYed.
			 */
			committing = true;
			if (pending_channels != 0)
				ff_notify_send_channels(pending_channels);
			pending_channels = 0;
			break;
		case XACT_EVENT_COMMIT:
			if (ticket_slot >= 0)
				ff_bgw_notify_post(ticket_slot, pending_channels);
			ticket_slot = -1;
			pending_channels = 0;
			committing = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* an error after PRE_COMMIT returns the ticket unused */
			if (ticket_slot >= 0)
				ff_bgw_notify_post(ticket_slot, 0);
			ticket_slot = -1;
			pending_channels = 0;
			committing = false;
			break;
		default:
			break;
	}
}
