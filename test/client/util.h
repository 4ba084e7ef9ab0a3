/*
 * util.h - helpers shared by the client tests: the connection string, an
 * admin (superuser) libpq session for set-up and for reading the engine's
 * tables, and small conveniences.
 */
#ifndef FF_TEST_UTIL_H
#define FF_TEST_UTIL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowfabric.h"

/* conninfo of the test database ($FF_TEST_CONNINFO, default "") */
const char *test_conninfo(void);

/* a conninfo with extra options appended (static buffer) */
const char *test_conninfo_with(const char *extra);

/* opens a client or exits the test program with a "Bail out!" */
ff_client  *test_client(void);

/* the admin session (lazily opened) */
PGconn	   *admin(void);

/* runs SQL on the admin session; returns false (and prints why) on error */
bool		admin_exec(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* first column of the first row as a malloc'ed string (NULL if NULL / error) */
char	   *admin_str(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* first column as an integer (-1 on NULL or error) */
long long	admin_int(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* a lane name unique to this run: "<prefix>-<pid>-<counter>" (static buffer
 * per call, up to 16 live) */
const char *unique_lane(const char *prefix);

/* creates an execution on lane with a text payload; returns its id (malloc) */
char	   *make_execution(ff_client *c, const char *lane, const char *payload,
						   const char *policy_json);

/* claims exactly one execution of lane (ttl 0 = default); false if none */
bool		claim_one(ff_client *c, const char *lane, int64_t ttl_ms, ff_claimed *out);
/* the same as worker worker_id ("<worker_id>/1") offering caps */
bool		claim_as(ff_client *c, const char *lane, const char *worker_id, const char *const *caps,
					 size_t ncaps, int64_t ttl_ms, ff_claimed *out);

/* the first column of every row as integers (at most max stored); returns the
 * row count */
int			admin_ids(long long *ids, int max, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* a monotonic clock in ms */
long long	mono_ms(void);

/*
 * TAP checks of a call that must fail: the status, the client's last error
 * kind, its SQLSTATE (sqlstate, or the kind's; none for client-side kinds),
 * its retryable flag, and a "kind: " message prefix for engine errors.
 */
#define expect_error(cl, got, want, sqlstate, retryable, what) \
	expect_error_at(__FILE__, __LINE__, cl, got, want, sqlstate, retryable, what)
void		expect_error_at(const char *file, int line, ff_client *cl, ff_status got, ff_status want,
							const char *sqlstate, bool retryable, const char *what);

/* the ffctl binary ($FFCTL, default client/bin/ffctl) */
const char *ffctl_bin(void);

/* runs "ffctl ARGS" with stderr into out (trailing newlines cut); returns its
 * exit status (-1 if it could not run) */
int			ffctl_run(char *out, size_t outlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* waits until pid is gone from pg_stat_activity (max ~5 s) */
void		wait_backend_gone(int pid);

void		sleep_ms(int ms);

#endif
