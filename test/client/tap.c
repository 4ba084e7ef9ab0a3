/*
 * tap.c - the TAP producer of tap.h: one counter per test program.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

int			tap_count;
int			tap_failures;

int
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

void
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

int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failures ? 1 : 0;
}
