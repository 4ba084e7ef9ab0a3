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

/* tap.c: the counts, one line per test, the plan */
extern int	tap_count;
extern int	tap_failures;

int			tap_ok(int pass, const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
/* "#" lines describing the client's last error */
void		tap_diag_error(const ff_error *e);
/* prints the plan; the exit status of the test program */
int			done_testing(void);

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

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

#endif
