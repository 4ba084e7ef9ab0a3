/*
 * common.c - what ffctl's commands share beyond parsing and output (main.c,
 * output.c): stop signals and the clock, option helpers, verb dispatch for
 * the NOUN VERB commands, and the three command shapes several areas have -
 * running a family of reconcilers, listing page by page after a cursor, and
 * reading or following an outbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ffctl.h"

const ffctl_optspec ffctl_no_options[] = {{NULL, false}};

/* ------------------------------------------------------------------------
 * signals and time
 * ------------------------------------------------------------------------ */
volatile sig_atomic_t ffctl_interrupted;

static void
on_stop_signal(int signo)
{
	(void) signo;
	ffctl_interrupted = 1;
}

void
ffctl_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int64_t
ffctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ffctl_sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------------
 * a growing string
 * ------------------------------------------------------------------------ */
void
ffctl_sb_add(ffctl_sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 64;
		char	   *g;

		while (b->len + n + 1 > cap)
			cap *= 2;
		g = realloc(b->data, cap);
		if (g == NULL)
		{
			b->oom = true;
			return;
		}
		b->data = g;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ffctl_sb_str(ffctl_sbuf *b, const char *s)
{
	ffctl_sb_add(b, s, strlen(s));
}

/* s as a JSON string literal */
void
ffctl_sb_json(ffctl_sbuf *b, const char *s)
{
	ffctl_sb_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		char		esc[8];

		if (*p == '"' || *p == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) *p;
			ffctl_sb_add(b, esc, 2);
		}
		else if (*p < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			ffctl_sb_str(b, esc);
		}
		else
			ffctl_sb_add(b, (const char *) p, 1);
	}
	ffctl_sb_add(b, "\"", 1);
}

/* ------------------------------------------------------------------------
 * options
 * ------------------------------------------------------------------------ */
void
ffctl_instance_id(char *buf, size_t len)
{
	char		host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s/ffctl-%ld", host, (long) getpid());
}

size_t
ffctl_opt_all(const ffctl_args *a, const char *name, const char **out)
{
	int			n = ffctl_opt_count(a, name);

	for (int i = 0; i < n; i++)
		out[i] = ffctl_opt_n(a, name, i);
	return (size_t) n;
}

bool
ffctl_only_options(const ffctl_args *a, const char *command, const char *verb,
				   const char *const *allowed)
{
	for (int i = 0; i < a->nopts; i++)
	{
		const char *n = a->names[i];
		bool		ok = strcmp(n, "json") == 0 || strcmp(n, "dsn") == 0;

		for (int k = 0; !ok && allowed && allowed[k]; k++)
			ok = strcmp(n, allowed[k]) == 0;
		if (!ok)
		{
			ffctl_usage_error(command, "%s does not take --%s", verb, n);
			return false;
		}
	}
	return true;
}

bool
ffctl_payload_option(const ffctl_args *a, ff_bytes *file, const void **data, size_t *len)
{
	const char *text = ffctl_opt(a, "payload");
	const char *path = ffctl_opt(a, "payload-file");

	*data = NULL;
	*len = 0;
	if (path && !ffctl_read_file(path, file))
		return false;
	if (text)
	{
		*data = text;
		*len = strlen(text);
	}
	else if (file->data)
	{
		*data = file->data;
		*len = file->len;
	}
	return true;
}

char *
ffctl_read_trimmed(const char *path, const char *trim)
{
	ff_bytes	b = {0};
	size_t		n;
	char	   *out;

	if (!ffctl_read_file(path, &b))
		return NULL;
	n = b.len;
	while (n > 0 && strchr(trim, b.data[n - 1]) != NULL && b.data[n - 1] != '\0')
		n--;
	out = malloc(n + 1);
	if (out)
	{
		memcpy(out, b.data, n);
		out[n] = '\0';
	}
	ff_bytes_clear(&b);
	return out;
}

void
ffctl_partition_key(const char *partition, int n, char *pk, size_t len)
{
	if (partition == NULL)
		snprintf(pk, len, "{fp:%d}", n);
	else if (partition[0] == '{')
		snprintf(pk, len, "%s", partition);
	else
		snprintf(pk, len, "{fp:%s}", partition);
}

ff_client *
ffctl_handle_command(int argc, char **argv, const ffctl_optspec *spec, const char *expected,
					 ffctl_args *a, ff_handle *h, int *rc)
{
	ff_client  *c;

	*rc = FFCTL_EXIT_USAGE;
	if (!ffctl_parse(argc, argv, spec, a))
		return NULL;
	if (a->npos != 1)
	{
		ffctl_usage_error(argv[0], "%s",
						  expected ? expected : "expected one HANDLE (hex, as printed by ffctl claim)");
		return NULL;
	}
	if (ff_handle_from_hex(a->pos[0], h) != FF_OK)
	{
		ffctl_usage_error(argv[0], "HANDLE is not hex");
		return NULL;
	}
	c = ffctl_connect(a, rc);
	if (c == NULL)
		ff_handle_clear(h);
	return c;
}

/* ------------------------------------------------------------------------
 * items, tags
 * ------------------------------------------------------------------------ */
void
ffctl_print_items(const ffctl_args *a, ffctl_json *j, const void *items, size_t n, size_t size,
				  ffctl_item_printer print, const void *ctx)
{
	ffctl_json	doc;
	ffctl_json *out = j ? j : &doc;

	if (a->json && j == NULL)
		jw_doc_begin_array(&doc);
	for (size_t i = 0; i < n; i++)
	{
		if (a->json)
			jw_obj_begin(out);
		print(a, out, ctx, (const char *) items + i * size, i);
		if (a->json)
			jw_obj_end(out);
	}
	if (a->json && j == NULL)
		jw_doc_end_array(&doc);
}

int
ffctl_tag_command(int argc, char **argv, const ffctl_tag_calls *t)
{
	ffctl_args	a = {0};
	ff_client  *c;
	int			rc;
	char		what[32];

	if (!ffctl_parse(argc, argv, ffctl_no_options, &a))
		return FFCTL_EXIT_USAGE;
	if (!((a.npos == 3 && strcmp(a.pos[0], "get") == 0) || (a.npos == 4 && strcmp(a.pos[0], "set") == 0)))
		return ffctl_usage_error(t->command, "expected: get %s KEY | set %s KEY VALUE", t->id_name,
								 t->id_name);
	c = ffctl_connect(&a, &rc);
	if (c == NULL)
		return rc;
	snprintf(what, sizeof(what), "%s %s", t->command, a.pos[0]);
	if (strcmp(a.pos[0], "get") == 0)
	{
		char	   *v = NULL;

		if (t->get(c, a.pos[1], a.pos[2], &v) != FF_OK)
			rc = ffctl_fail(&a, c, what);
		else if (a.json)
		{
			ffctl_json	j;

			jw_doc_begin(&j);
			jw_kv_str(&j, "value", v);
			jw_doc_end(&j);
		}
		else if (v == NULL)
		{
			fprintf(stderr, "ffctl %s: no tag %s on %s%s\n", what, a.pos[2], t->owner, a.pos[1]);
			rc = FFCTL_EXIT_NOT_FOUND;
		}
		else
			printf("%s\n", v);
		ff_free(v);
	}
	else if (t->set(c, a.pos[1], a.pos[2], a.pos[3]) != FF_OK)
		rc = ffctl_fail(&a, c, what);
	else if (a.json)
		printf("{\"ok\":true}\n");
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * NOUN VERB dispatch
 * ------------------------------------------------------------------------ */
int
ffctl_dispatch(int argc, char **argv, const char *noun, const char *usage,
			   const ffctl_verb *verbs, size_t nverbs, const char *verb_list)
{
	int			v = 1;
	char	  **sub;
	int			subc = 0;
	int			rc;

	while (v < argc && argv[v][0] == '-')
	{
		if (strcmp(argv[v], "--help") == 0 || strcmp(argv[v], "-h") == 0)
		{
			printf("%s\n", usage);
			return FFCTL_EXIT_OK;
		}
		if (strcmp(argv[v], "--dsn") == 0)
			v++;
		else if (strcmp(argv[v], "--json") != 0 && strncmp(argv[v], "--dsn=", 6) != 0)
			break;
		v++;
	}
	if (v >= argc || argv[v][0] == '-')
		return ffctl_usage_error(noun, "expected a verb: %s", verb_list);
	for (size_t i = 0; i < nverbs; i++)
	{
		if (strcmp(argv[v], verbs[i].name) != 0)
			continue;
		sub = calloc((size_t) argc, sizeof(char *));
		if (sub == NULL)
			return FFCTL_EXIT_ERROR;
		for (int k = 0; k < argc; k++)
			if (k != v)
				sub[subc++] = argv[k];
		rc = verbs[i].fn(subc, sub);
		free(sub);
		return rc;
	}
	return ffctl_usage_error(noun, "unknown verb \"%s\"", argv[v]);
}

/* ------------------------------------------------------------------------
 * reconcilers
 * ------------------------------------------------------------------------ */
#define MAX_RECONCILERS 16

/* one pass's counts: a JSON object, a line per reconciler, or (looping) one
 * line naming those that changed something */
static void
print_pass(const ffctl_args *a, const ffctl_reconcilers *sp, const bool *chosen,
		   const int32_t *changed, bool looping)
{
	if (a->json)
	{
		ffctl_json	j;

		jw_doc_begin(&j);
		for (size_t k = 0; k < sp->n; k++)
			if (chosen[k])
				jw_kv_int(&j, sp->r[k].key, changed[k]);
		jw_doc_end(&j);
	}
	else if (!looping)
	{
		for (size_t k = 0; k < sp->n; k++)
			if (chosen[k])
				printf(sp->line_format, sp->r[k].name, (int) changed[k]);
	}
	else
	{
		int			total = 0;

		for (size_t k = 0; k < sp->n; k++)
			total += changed[k];
		if (total > 0)
		{
			for (size_t k = 0; k < sp->n; k++)
				if (chosen[k] && changed[k] > 0)
					printf("%s=%d ", sp->r[k].name, (int) changed[k]);
			putchar('\n');
		}
	}
}

int
ffctl_run_reconcilers(const ffctl_args *a, const ffctl_reconcilers *sp, int64_t batch,
					  int64_t loop_ms)
{
	bool		chosen[MAX_RECONCILERS] = {false};
	bool		looping = sp->loop && loop_ms > 0;
	ff_client  *c;
	int			rc;

	for (int i = sp->first_name; i < a->npos; i++)
	{
		bool		all = strcmp(a->pos[i], "all") == 0;
		bool		known = all;

		for (size_t k = 0; k < sp->n; k++)
			if (all || strcmp(a->pos[i], sp->r[k].name) == 0)
				chosen[k] = known = true;
		if (!known)
			return ffctl_usage_error(sp->command, "unknown reconciler \"%s\"", a->pos[i]);
	}
	if (a->npos <= sp->first_name)
		for (size_t k = 0; k < sp->n; k++)
			chosen[k] = true;
	if (sp->max_batch == 0 && (batch < 0 || batch > 100000000))
		batch = -1;				/* the engine reports the range */
	c = ffctl_connect(a, &rc);
	if (c == NULL)
		return rc;
	if (looping)
		ffctl_catch_stop_signals();
	do
	{
		int32_t		changed[MAX_RECONCILERS] = {0};

		for (size_t k = 0; k < sp->n && rc == FFCTL_EXIT_OK; k++)
			if (chosen[k] && sp->r[k].fn(c, (int32_t) batch, &changed[k]) != FF_OK)
				rc = ffctl_fail(a, c, sp->fail_label ? sp->fail_label : sp->r[k].name);
		if (rc != FFCTL_EXIT_OK)
		{
			if (!looping || ff_client_last_error(c)->kind != FF_ERR_CONNECTION)
				break;
			rc = FFCTL_EXIT_OK; /* keep looping over connection trouble */
		}
		else
			print_pass(a, sp, chosen, changed, looping);
		fflush(stdout);
		if (looping && !ffctl_interrupted)
			ffctl_sleep_ms(loop_ms);
	} while (looping && !ffctl_interrupted);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * listings
 * ------------------------------------------------------------------------ */
int
ffctl_list_pages(const ffctl_args *a, const ffctl_listing *spec, const void *ctx,
				 const char *first_cursor, int64_t limit, int32_t page_limit, bool all)
{
	char	   *cursor = first_cursor ? strdup(first_cursor) : NULL;
	ffctl_json	j;
	int			rc;
	ff_client  *c = ffctl_connect(a, &rc);

	if (c == NULL)
	{
		free(cursor);
		return rc;
	}
	if (a->json)
		jw_doc_begin_array(&j);
	else
		fputs(spec->header, stdout);
	for (;;)
	{
		size_t		n = 0;
		char	   *next = NULL;

		if (spec->page(a, c, &j, ctx, cursor, page_limit, &n, &next) != FF_OK)
		{
			rc = ffctl_fail(a, c, spec->command);
			break;
		}
		free(cursor);
		cursor = next;
		if (!all || n == 0 || (int64_t) n < page_limit)
		{
			if (!all && n > 0 && !a->json && (int64_t) n == limit)
				fprintf(stderr, spec->more_hint, cursor);
			break;
		}
	}
	if (a->json && rc == FFCTL_EXIT_OK)
		jw_doc_end_array(&j);
	free(cursor);
	ff_client_close(c);
	return rc;
}

/* ------------------------------------------------------------------------
 * outboxes
 * ------------------------------------------------------------------------ */
typedef union event_list
{
	ff_completion_event_list completion;
	ff_lease_event_list lease;
	ff_signal_event_list signal;
} event_list;

/* the event id is each event's first member */
_Static_assert(offsetof(ff_completion_event, event_id) == 0 &&
			   offsetof(ff_lease_event, event_id) == 0 &&
			   offsetof(ff_signal_event, event_id) == 0, "event_id comes first");

/* a batch of events: after `after` (s NULL), or the subscription's next */
static ff_status
fetch_events(ff_client *c, ff_subscription *s, ff_event_source source, int64_t after,
			 int32_t limit, int wait, event_list *l)
{
	memset(l, 0, sizeof(*l));
	if (source == FF_EVENTS_LEASE)
		return s ? ff_subscription_next_lease_events(s, wait, &l->lease)
			: ff_client_lease_events(c, after, limit, &l->lease);
	if (source == FF_EVENTS_SIGNAL)
		return s ? ff_subscription_next_signal_events(s, wait, &l->signal)
			: ff_client_signal_events(c, after, limit, &l->signal);
	return s ? ff_subscription_next_completions(s, wait, &l->completion)
		: ff_client_completion_events(c, after, limit, &l->completion);
}

/* the events of a batch: the first, how many, each's size */
static const char *
event_items(ff_event_source source, const event_list *l, size_t *n, size_t *size)
{
	if (source == FF_EVENTS_LEASE)
	{
		*n = l->lease.count;
		*size = sizeof(ff_lease_event);
		return (const char *) l->lease.items;
	}
	if (source == FF_EVENTS_SIGNAL)
	{
		*n = l->signal.count;
		*size = sizeof(ff_signal_event);
		return (const char *) l->signal.items;
	}
	*n = l->completion.count;
	*size = sizeof(ff_completion_event);
	return (const char *) l->completion.items;
}

static void
clear_events(ff_event_source source, event_list *l)
{
	if (source == FF_EVENTS_LEASE)
		ff_lease_event_list_clear(&l->lease);
	else if (source == FF_EVENTS_SIGNAL)
		ff_signal_event_list_clear(&l->signal);
	else
		ff_completion_event_list_clear(&l->completion);
}

typedef struct outbox_read
{
	const ffctl_args *a;
	const char *command;
	ff_event_source source;
	ffctl_event_printer print;
	const void *ctx;
	int64_t		after;
	int64_t		limit;
	int64_t		count;
	int64_t		timeout;
	int64_t		poll_ms;
	bool		has_count;
	bool		has_timeout;
} outbox_read;

/* prints a batch's events (at most max printed); returns how many printed,
 * *last the last event's id and *n the batch's size */
static int64_t
print_events(const outbox_read *o, const event_list *l, int64_t max, size_t *n, int64_t *last)
{
	size_t		size;
	const char *items = event_items(o->source, l, n, &size);
	int64_t		printed = 0;

	for (size_t i = 0; i < *n && printed < max; i++)
		if (o->print(o->a, o->ctx, o->source, items + i * size))
			printed++;
	if (*n > 0)
		*last = *(const int64_t *) (items + (*n - 1) * size);
	return printed;
}

/* everything readable after the cursor, page by page */
static int
read_pages(const outbox_read *o, ff_client *c)
{
	int64_t		after = o->after;

	for (;;)
	{
		event_list	l;
		size_t		n;

		if (fetch_events(c, NULL, o->source, after, (int32_t) o->limit, 0, &l) != FF_OK)
			return ffctl_fail(o->a, c, o->command);
		print_events(o, &l, INT64_MAX, &n, &after);
		clear_events(o->source, &l);
		if ((int64_t) n < o->limit)
			return FFCTL_EXIT_OK;
	}
}

/* a subscription from the cursor until interrupted, --count events printed
 * or --timeout-ms passed */
static int
follow(const outbox_read *o, ff_client *c)
{
	ff_subscription *s = NULL;
	ff_subscription_options so = {0};
	int64_t		printed = 0;
	int64_t		deadline;
	int			rc = FFCTL_EXIT_OK;

	ffctl_catch_stop_signals();
	so.batch_size = (int32_t) o->limit;
	so.poll_interval_ms = (int32_t) (o->poll_ms > 0 ? o->poll_ms : 1000);
	if (ff_subscription_open(c, o->source, o->after, &so, &s) != FF_OK)
		return ffctl_fail(o->a, c, o->command);
	deadline = ffctl_mono_ms() + o->timeout;
	while (!ffctl_interrupted && (!o->has_count || printed < o->count))
	{
		event_list	l;
		int			wait = 1000;
		ff_status	st;
		size_t		n;
		int64_t		last;

		if (o->has_timeout)
		{
			int64_t		left = deadline - ffctl_mono_ms();

			if (left <= 0)
				break;
			if (left < wait)
				wait = (int) left;
		}
		st = fetch_events(c, s, o->source, 0, 0, wait, &l);
		printed += print_events(o, &l, o->has_count ? o->count - printed : INT64_MAX, &n, &last);
		clear_events(o->source, &l);
		fflush(stdout);
		if (st != FF_OK)
		{
			/* connection trouble: report, keep following (the cursor is kept) */
			if (st != FF_ERR_CONNECTION)
			{
				rc = ffctl_fail(o->a, c, o->command);
				break;
			}
			fprintf(stderr, "ffctl %s: %s; retrying\n", o->command,
					ff_client_last_error(c)->message);
			ffctl_sleep_ms(1000);
		}
	}
	if (rc == FFCTL_EXIT_OK && o->has_count && printed < o->count)
		rc = FFCTL_EXIT_EMPTY;
	ff_subscription_close(s);
	return rc;
}

int
ffctl_read_outbox(const ffctl_args *a, const char *command, ff_event_source source,
				  ffctl_event_printer print, const void *ctx, const char *conflict)
{
	outbox_read o = {a, command, source, print, ctx, 0, 100, 0, 0, 1000, false, false};
	ff_client  *c;
	int			rc;

	if (a->npos > 0 || !ffctl_opt_int64(a, "after", &o.after, NULL) ||
		!ffctl_opt_int64(a, "limit", &o.limit, NULL) ||
		!ffctl_opt_int64(a, "count", &o.count, &o.has_count) ||
		!ffctl_opt_int64(a, "timeout-ms", &o.timeout, &o.has_timeout) ||
		!ffctl_opt_int64(a, "poll-ms", &o.poll_ms, NULL))
		return ffctl_usage_error(command, "bad arguments");
	if (!ffctl_flag(a, "follow") && (o.has_count || o.has_timeout))
		return ffctl_usage_error(command, "--count and --timeout-ms go with --follow");
	if (conflict)
		return ffctl_usage_error(command, "%s", conflict);
	if (o.after < 0 || o.limit < 1 || o.limit > 10000)
		return ffctl_usage_error(command, "--after >= 0, --limit 1..10000");
	c = ffctl_connect(a, &rc);
	if (c == NULL)
		return rc;
	rc = ffctl_flag(a, "follow") ? follow(&o, c) : read_pages(&o, c);
	ff_client_close(c);
	return rc;
}
