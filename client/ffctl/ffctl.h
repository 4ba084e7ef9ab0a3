/*
 * ffctl.h - declarations shared by the ffctl sources: command-line parsing,
 * output (human and --json), exit codes and the commands.
 *
 * One file per area: cmd_exec.c (enqueue, claim and the handle commands),
 * cmd_read.c (describe, result, list, lanes, tag, ping, time, capabilities),
 * cmd_events.c, cmd_worker.c, cmd_reconcile.c. Later areas add theirs and a
 * line in the command table of main.c.
 */
#ifndef FFCTL_H
#define FFCTL_H

#include <stdbool.h>
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

bool		ffctl_is_text(const unsigned char *data, size_t len);
/* "2026-01-02T03:04:05.678Z" */
void		ffctl_format_time(int64_t ms, char *buf, size_t len);
/* human: label padded to 20 columns */
void		ffctl_kv(const char *label, const char *fmt,...) __attribute__((format(printf, 2, 3)));
/* human rendering of a payload: the text, or "<N bytes> hex" */
void		ffctl_print_bytes(FILE *f, const ff_bytes *b);

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

#endif
