/*
 * notify.h
 *		Outbox notifications, immediate or deferred to the reconciler worker
 *		(notify.c). ff_notify_event itself is declared in flowfabric.h.
 */
#ifndef FF_NOTIFY_H
#define FF_NOTIFY_H

#include "flowfabric.h"

/*
 * The payload of a deferred notification: it stands for "events were
 * committed on this channel", however many, so it cannot be an event id.
 */
#define FF_NOTIFY_DEFERRED_PAYLOAD	"deferred"

/*
 * ff_notify_send_channels queues, in the current transaction, one NOTIFY
 * with the deferred payload on each outbox channel whose bit is set in
 * channels (bits as ff_notify_event records them).
 */
extern void ff_notify_send_channels(uint32 channels);

#endif							/* FF_NOTIFY_H */
