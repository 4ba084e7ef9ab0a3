/*
 * ffctl.h - declarations shared by the ffctl sources: command-line parsing,
 * output (human and --json), exit codes and the commands.
 *
 * One file per area: cmd_exec.c (enqueue, claim and the handle commands),
 * cmd_read.c (describe, result, list, lanes, tag, ping, time, capabilities),
 * cmd_events.c, cmd_worker.c, cmd_reconcile.c. Later areas add theirs and a
 * line in the command table of main.c. What several commands do alike
 * (reconciler families, paged listings, outbox readers, NOUN VERB dispatch,
 * option helpers) is in common.c.
 */
#ifndef FFCTL_H
#define FFCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flowfabric.h"

/* exit codes (docs/ffctl.md) */
#define FFCTL_EXIT_OK			0
#define FFCTL_EXIT_ERROR		1	/* engine / PostgreSQL error not listed below */
#define FFCTL_EXIT_USAGE		2	/* bad command line */
#define FFCTL_EXIT_CONNECTION	3	/* cannot connect, connection lost */
#define FFCTL_EXIT_NOT_FOUND	4	/* no such execution (or YFN... error) */
#define FFCTL_EXIT_LEASE_LOST	5	/* stale_lease, lease_expired, lease_revoked,
									 * execution_not_active */
#define FFCTL_EXIT_EMPTY		6	/* claim found nothing; events --count not
									 * reached before --timeout-ms */

/* ---- command line ---- */
typedef struct ffctl_optspec
{
	const char *name;			/* long name without "--" */
	bool		has_arg;
} ffctl_optspec;

#define FFCTL_MAX_OPTS 64
#define FFCTL_MAX_POS 16

typedef struct ffctl_args
{
	const char *names[FFCTL_MAX_OPTS];
	const char *values[FFCTL_MAX_OPTS];	/* NULL for flags */
	int			nopts;
	const char *pos[FFCTL_MAX_POS];
	int			npos;
	/* global options */
	const char *dsn;
	bool		json;
} ffctl_args;

/* Parses argv (after the command name) against spec plus the global options
 * --dsn, --json and --help. Prints a message and returns false on error. */
bool		ffctl_parse(int argc, char **argv, const ffctl_optspec *spec, ffctl_args *a);
const char *ffctl_opt(const ffctl_args *a, const char *name);	/* last value */
bool		ffctl_flag(const ffctl_args *a, const char *name);
/* the i-th value of a repeated option, NULL past the end */
const char *ffctl_opt_n(const ffctl_args *a, const char *name, int i);
int			ffctl_opt_count(const ffctl_args *a, const char *name);

/* integer option: false (and a message) if present but not an integer */
bool		ffctl_opt_int64(const ffctl_args *a, const char *name, int64_t *out, bool *present);

/* ---- connection and errors ---- */
ff_client  *ffctl_connect(const ffctl_args *a, int *exit_code);
int			ffctl_exit_code(ff_status s);
/* reports the client's last error (stderr; JSON when --json); returns the exit code */
int			ffctl_fail(const ffctl_args *a, ff_client *c, const char *what);
int			ffctl_fail_error(const ffctl_args *a, const ff_error *e, const char *what);
int			ffctl_usage_error(const char *command, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* reads a whole file ("-" = stdin) */
bool		ffctl_read_file(const char *path, ff_bytes *out);

/* ---- output ---- */
typedef struct ffctl_json
{
	FILE	   *f;
	int			depth;
	bool		first[32];
	bool		after_key;
} ffctl_json;

void		jw_init(ffctl_json *j, FILE *f);
void		jw_obj_begin(ffctl_json *j);
void		jw_obj_end(ffctl_json *j);
void		jw_arr_begin(ffctl_json *j);
void		jw_arr_end(ffctl_json *j);
void		jw_key(ffctl_json *j, const char *key);
void		jw_str(ffctl_json *j, const char *s);	/* NULL -> null */
void		jw_int(ffctl_json *j, int64_t v);
void		jw_bool(ffctl_json *j, bool v);
void		jw_null(ffctl_json *j);
void		jw_raw(ffctl_json *j, const char *json);	/* NULL -> null */
/* key_str: value as a string if it is UTF-8 text, else key_str + "_hex" */
void		jw_bytes(ffctl_json *j, const char *key, const ff_bytes *b);
void		jw_kv_str(ffctl_json *j, const char *key, const char *s);
void		jw_kv_int(ffctl_json *j, const char *key, int64_t v);
void		jw_kv_bool(ffctl_json *j, const char *key, bool v);
void		jw_kv_ms(ffctl_json *j, const char *key, int64_t ms);	/* null unless > 0 */
void		jw_kv_strings(ffctl_json *j, const char *key, char *const *items, size_t n);
/* one JSON document (an object, or an array) on its own line of stdout */
void		jw_doc_begin(ffctl_json *j);
void		jw_doc_end(ffctl_json *j);
void		jw_doc_begin_array(ffctl_json *j);
void		jw_doc_end_array(ffctl_json *j);

bool		ffctl_is_text(const unsigned char *data, size_t len);
/* "2026-01-02T03:04:05.678Z" */
void		ffctl_format_time(int64_t ms, char *buf, size_t len);
/* human: label padded to 20 columns */
void		ffctl_kv(const char *label, const char *fmt,...) __attribute__((format(printf, 2, 3)));
/* human: "LABEL  <time> (<ms>)", or "-" unless ms > 0 */
void		ffctl_kv_time(const char *label, int64_t ms);
/* s, or "-" when it is NULL or empty */
const char *ffctl_dash(const char *s);
/* human rendering of a payload: the text, or "<N bytes> hex" */
void		ffctl_print_bytes(FILE *f, const ff_bytes *b);

/* ---- helpers the commands share (common.c) ---- */
#define FFCTL_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FFCTL_UNUSED __attribute__((unused))

extern const ffctl_optspec ffctl_no_options[];

/* a growing string (data NULL until something is added; oom sticks) */
typedef struct ffctl_sbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} ffctl_sbuf;

void		ffctl_sb_add(ffctl_sbuf *b, const char *s, size_t n);
void		ffctl_sb_str(ffctl_sbuf *b, const char *s);
void		ffctl_sb_json(ffctl_sbuf *b, const char *s);	/* as a JSON string */

/* SIGINT / SIGTERM set ffctl_interrupted (commands that follow or loop) */
extern volatile sig_atomic_t ffctl_interrupted;
void		ffctl_catch_stop_signals(void);
int64_t		ffctl_mono_ms(void);
void		ffctl_sleep_ms(int64_t ms);

/* "HOST/ffctl-PID": the worker instance id claims use by default */
void		ffctl_instance_id(char *buf, size_t len);
/* the values of a repeated option (out holds FFCTL_MAX_OPTS); returns how many */
size_t		ffctl_opt_all(const ffctl_args *a, const char *name, const char **out);
/* a verb's options: false (and a message) for one it does not take */
bool		ffctl_only_options(const ffctl_args *a, const char *command, const char *verb,
							   const char *const *allowed);
/* --payload TEXT or --payload-file PATH (read into *file): the bytes to send
 * (NULL, 0: neither); false if the file cannot be read */
bool		ffctl_payload_option(const ffctl_args *a, ff_bytes *file, const void **data,
								 size_t *len);
/* a file's text without the trailing characters in trim (malloc'ed; NULL if
 * it cannot be read) */
char	   *ffctl_read_trimmed(const char *path, const char *trim);
/* the key of --partition P ("{fp:N}" or N), or of partition n without it */
void		ffctl_partition_key(const char *partition, int n, char *pk, size_t len);
/* a command taking one HANDLE: parses (spec), decodes the handle, connects;
 * NULL (*rc the exit code) after a message. expected: the usage message for
 * a missing handle (NULL: the usual one). */
ff_client  *ffctl_handle_command(int argc, char **argv, const ffctl_optspec *spec,
								 const char *expected, ffctl_args *a, ff_handle *h, int *rc);

/*
 * Items for people (print writes each as it likes) or as JSON objects in an
 * array: print is called with the item's object open. j NULL: the array is
 * its own document; else the items go into j's open array.
 */
typedef void (*ffctl_item_printer) (const ffctl_args *a, ffctl_json *j, const void *ctx,
									const void *item, size_t index);

void		ffctl_print_items(const ffctl_args *a, ffctl_json *j, const void *items, size_t n,
							  size_t size, ffctl_item_printer print, const void *ctx);
#define FFCTL_PRINT_LIST(a, j, l, print, ctx) \
	ffctl_print_items(a, j, (l)->items, (l)->count, sizeof(*(l)->items), print, ctx)

/* TAG: "get ID KEY" prints the value, "set ID KEY VALUE" */
typedef struct ffctl_tag_calls
{
	const char *command;		/* "tag", "flow tag" */
	const char *id_name;		/* usage: "EXECUTION_ID", "FLOW_ID" */
	const char *owner;			/* "not found" message: "", "flow " */
	ff_status	(*get) (ff_client *c, const char *id, const char *key, char **value_out);
	ff_status	(*set) (ff_client *c, const char *id, const char *key, const char *value);
} ffctl_tag_calls;

int			ffctl_tag_command(int argc, char **argv, const ffctl_tag_calls *calls);

/* "ffctl NOUN VERB ...": argv[0] = NOUN, then main's global options, then the
 * user's words; the verb is taken out and the rest goes to it with argv[0] =
 * NOUN (so --help prints the noun's usage) */
typedef struct ffctl_verb
{
	const char *name;
	int			(*fn) (int argc, char **argv);
} ffctl_verb;

int			ffctl_dispatch(int argc, char **argv, const char *noun, const char *usage,
						   const ffctl_verb *verbs, size_t nverbs, const char *verb_list);

/* a family of reconcilers run by name ("all", or none named: every one) */
typedef struct ffctl_reconciler
{
	const char *name;			/* on the command line */
	const char *key;			/* in --json output */
	ff_status	(*fn) (ff_client *c, int32_t batch_size, int32_t *changed);
} ffctl_reconciler;

typedef struct ffctl_reconcilers
{
	const char *command;		/* usage errors */
	const char *fail_label;		/* engine errors (NULL: the reconciler's name) */
	const char *line_format;	/* human output: name, changed */
	const ffctl_reconciler *r;
	size_t		n;
	int			first_name;		/* the positional index of the first name */
	int64_t		max_batch;		/* > 0: --batch must be 0..max_batch; 0: the
								 * engine judges it */
	bool		loop;			/* --loop-ms N repeats until interrupted */
} ffctl_reconcilers;

/* the reconcilers a names, with the caller's --batch (and --loop-ms; 0: once) */
int			ffctl_run_reconcilers(const ffctl_args *a, const ffctl_reconcilers *spec,
								  int64_t batch, int64_t loop_ms);

/*
 * A listing read page by page after a cursor. page() reads one page of at
 * most page_limit items after cursor, prints them (JSON into j's array) and
 * sets *count and *next (the last item's cursor, malloc'ed). --all reads on
 * while pages come full; without it, a page of --limit items ends with the
 * more hint (a format with the cursor) on stderr.
 */
typedef ff_status (*ffctl_page_fn) (const ffctl_args *a, ff_client *c, ffctl_json *j,
									const void *ctx, const char *cursor, int32_t limit,
									size_t *count, char **next);

typedef struct ffctl_listing
{
	const char *command;		/* engine errors */
	const char *header;			/* human output's first line (printf format) */
	const char *more_hint;
	ffctl_page_fn page;
} ffctl_listing;

int			ffctl_list_pages(const ffctl_args *a, const ffctl_listing *spec, const void *ctx,
							 const char *cursor, int64_t limit, int32_t page_limit, bool all);

/*
 * An outbox read after a cursor (the options --after, --limit, --follow,
 * --count, --timeout-ms, --poll-ms): everything readable, or followed through
 * a subscription. print() prints one event unless the command's filter drops
 * it (returns false).
 */
typedef bool (*ffctl_event_printer) (const ffctl_args *a, const void *ctx, ff_event_source source,
									 const void *event);

/* conflict: a usage message for options that do not go together (NULL: none) */
int			ffctl_read_outbox(const ffctl_args *a, const char *command, ff_event_source source,
							  ffctl_event_printer print, const void *ctx, const char *conflict);

/* ---- commands: each returns the exit code ---- */
int			cmd_enqueue(int argc, char **argv);
/* cmd_batch.c: ffctl enqueue --file JOBS.jsonl (batched) */
int			ffctl_enqueue_file(const ffctl_args *a);
int			cmd_claim(int argc, char **argv);
int			cmd_renew(int argc, char **argv);
int			cmd_progress(int argc, char **argv);
int			cmd_complete(int argc, char **argv);
int			cmd_fail(int argc, char **argv);
int			cmd_cancel(int argc, char **argv);
int			cmd_delay(int argc, char **argv);
int			cmd_describe(int argc, char **argv);
int			cmd_result(int argc, char **argv);
int			cmd_list(int argc, char **argv);
int			cmd_lanes(int argc, char **argv);
int			cmd_tag(int argc, char **argv);
int			cmd_ping(int argc, char **argv);
int			cmd_time(int argc, char **argv);
int			cmd_capabilities(int argc, char **argv);
int			cmd_events(int argc, char **argv);
int			cmd_worker(int argc, char **argv);
int			cmd_reconcile(int argc, char **argv);
/* cmd_suspend.c: suspension, waitpoints and signals */
int			cmd_suspend(int argc, char **argv);
int			cmd_signal(int argc, char **argv);
int			cmd_waitpoint(int argc, char **argv);
int			cmd_waitpoints(int argc, char **argv);
int			cmd_suspended(int argc, char **argv);
int			cmd_observe(int argc, char **argv);
int			cmd_claim_resumed(int argc, char **argv);
int			cmd_resume(int argc, char **argv);
int			cmd_approve(int argc, char **argv);
int			cmd_hmac(int argc, char **argv);
int			cmd_signals(int argc, char **argv);
int			cmd_suspension(int argc, char **argv);

/* cmd_flow.c: flows (ffctl flow VERB ..., ffctl wait-children) */
extern const char ffctl_flow_usage[];
int			cmd_flow(int argc, char **argv);
int			cmd_wait_children(int argc, char **argv);

/* cmd_operator.c: operator controls, lanes, workers (docs/operator.md) */
int			cmd_operator_cancel(int argc, char **argv);
int			cmd_replay(int argc, char **argv);
int			cmd_revoke(int argc, char **argv);
int			cmd_priority(int argc, char **argv);
int			cmd_workers(int argc, char **argv);
int			cmd_lane(int argc, char **argv);

/* cmd_stream.c: streams (ffctl tail, summary, append; docs/streams.md) */
int			cmd_tail(int argc, char **argv);
int			cmd_summary(int argc, char **argv);
int			cmd_append(int argc, char **argv);

/* cmd_budget.c: budgets, quotas and admission control (docs/budgets.md) */
extern const char ffctl_budget_usage[];
extern const char ffctl_quota_usage[];
int			cmd_budget(int argc, char **argv);
int			cmd_quota(int argc, char **argv);

#endif
