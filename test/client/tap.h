/*
 * tap.h - a minimal TAP producer for the client tests.
 *
 * Each test program prints "ok N - ..." / "not ok N - ..." lines and, at the
 * end, the plan "1..N" (test/suites/client.sh renumbers them and treats a
 * missing plan as a crash). Diagnostics go to stdout as "# ..." lines.
 */
#ifndef FF_TEST_TAP_H
#define FF_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowfabric.h"

static int	tap_count;
static int	tap_failures;

__attribute__((format(printf, 4, 5)))
static int
tap_ok(int pass, const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
	{
		tap_failures++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

static void
tap_diag_error(const ff_error *e)
{
	if (e == NULL)
		return;
	printf("#   error kind %d (%s) sqlstate '%s' retryable=%d\n#   message: %s\n",
		   (int) e->kind, ff_status_name(e->kind), e->sqlstate, (int) e->retryable,
		   e->message ? e->message : "(none)");
	if (e->detail)
		printf("#   detail: %s\n", e->detail);
}

/* got == want; on failure shows the client's last error */
#define is_status(got, want, client, ...) \
	do { \
		ff_status	_g = (got); \
		ff_status	_w = (want); \
		if (!tap_ok(_g == _w, __FILE__, __LINE__, __VA_ARGS__)) \
		{ \
			printf("#   got status %d (%s), want %d (%s)\n", (int) _g, ff_status_name(_g), \
				   (int) _w, ff_status_name(_w)); \
			if ((client) != NULL) \
				tap_diag_error(ff_client_last_error(client)); \
		} \
	} while (0)

#define is_int(got, want, ...) \
	do { \
		long long	_g = (long long) (got); \
		long long	_w = (long long) (want); \
		if (!tap_ok(_g == _w, __FILE__, __LINE__, __VA_ARGS__)) \
			printf("#   got %lld, want %lld\n", _g, _w); \
	} while (0)

#define is_str(got, want, ...) \
	do { \
		const char *_g = (got); \
		const char *_w = (want); \
		int			_p = (_g == NULL && _w == NULL) || (_g && _w && strcmp(_g, _w) == 0); \
		if (!tap_ok(_p, __FILE__, __LINE__, __VA_ARGS__)) \
			printf("#   got '%s', want '%s'\n", _g ? _g : "(null)", _w ? _w : "(null)"); \
	} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failures ? 1 : 0;
}

#endif
