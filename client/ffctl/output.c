/*
 * output.c - ffctl's output helpers: a small streaming JSON writer and the
 * human-readable formats (times, payloads, key/value lines).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ffctl.h"

void
jw_init(ffctl_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

/* the separator before a value (not after a key) */
static void
sep(ffctl_json *j)
{
	if (j->after_key)
	{
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void
open_(ffctl_json *j, char ch)
{
	sep(j);
	fputc(ch, j->f);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = true;
}

static void
close_(ffctl_json *j, char ch)
{
	if (j->depth > 0)
		j->depth--;
	fputc(ch, j->f);
}

void
jw_obj_begin(ffctl_json *j)
{
	open_(j, '{');
}

void
jw_obj_end(ffctl_json *j)
{
	close_(j, '}');
}

void
jw_arr_begin(ffctl_json *j)
{
	open_(j, '[');
}

void
jw_arr_end(ffctl_json *j)
{
	close_(j, ']');
}

static void
write_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		switch (ch)
		{
			case '"':
				fputs("\\\"", f);
				break;
			case '\\':
				fputs("\\\\", f);
				break;
			case '\n':
				fputs("\\n", f);
				break;
			case '\r':
				fputs("\\r", f);
				break;
			case '\t':
				fputs("\\t", f);
				break;
			default:
				if (ch < 0x20 || ch == 0x7f)
					fprintf(f, "\\u%04x", ch);
				else
					fputc(ch, f);
		}
	}
	fputc('"', f);
}

void
jw_key(ffctl_json *j, const char *key)
{
	sep(j);
	write_string(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void
jw_str(ffctl_json *j, const char *s)
{
	sep(j);
	if (s == NULL)
		fputs("null", j->f);
	else
		write_string(j->f, s, strlen(s));
}

void
jw_int(ffctl_json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%lld", (long long) v);
}

void
jw_bool(ffctl_json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void
jw_null(ffctl_json *j)
{
	sep(j);
	fputs("null", j->f);
}

void
jw_raw(ffctl_json *j, const char *json)
{
	sep(j);
	fputs(json ? json : "null", j->f);
}

void
jw_kv_str(ffctl_json *j, const char *key, const char *s)
{
	jw_key(j, key);
	jw_str(j, s);
}

void
jw_kv_int(ffctl_json *j, const char *key, int64_t v)
{
	jw_key(j, key);
	jw_int(j, v);
}

void
jw_kv_bool(ffctl_json *j, const char *key, bool v)
{
	jw_key(j, key);
	jw_bool(j, v);
}

void
jw_kv_ms(ffctl_json *j, const char *key, int64_t ms)
{
	jw_key(j, key);
	if (ms > 0)
		jw_int(j, ms);
	else
		jw_null(j);
}

void
jw_kv_strings(ffctl_json *j, const char *key, char *const *items, size_t n)
{
	jw_key(j, key);
	jw_arr_begin(j);
	for (size_t i = 0; i < n; i++)
		jw_str(j, items[i]);
	jw_arr_end(j);
}

void
jw_doc_begin(ffctl_json *j)
{
	jw_init(j, stdout);
	jw_obj_begin(j);
}

void
jw_doc_end(ffctl_json *j)
{
	jw_obj_end(j);
	putchar('\n');
}

void
jw_doc_begin_array(ffctl_json *j)
{
	jw_init(j, stdout);
	jw_arr_begin(j);
}

void
jw_doc_end_array(ffctl_json *j)
{
	jw_arr_end(j);
	putchar('\n');
}

/* valid UTF-8 without NUL bytes */
bool
ffctl_is_text(const unsigned char *p, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = p[i];
		int			n;

		if (c == 0)
			return false;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			n = 1;
		else if ((c & 0xf0) == 0xe0)
			n = 2;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		for (int k = 1; k <= n; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

void
jw_bytes(ffctl_json *j, const char *key, const ff_bytes *b)
{
	char		hexkey[128];

	if (b == NULL || b->data == NULL)
	{
		jw_key(j, key);
		jw_null(j);
		return;
	}
	if (ffctl_is_text(b->data, b->len))
	{
		jw_key(j, key);
		sep(j);
		write_string(j->f, (const char *) b->data, b->len);
		return;
	}
	snprintf(hexkey, sizeof(hexkey), "%s_hex", key);
	jw_key(j, hexkey);
	sep(j);
	fputc('"', j->f);
	for (size_t i = 0; i < b->len; i++)
		fprintf(j->f, "%02x", b->data[i]);
	fputc('"', j->f);
}

void
ffctl_format_time(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t) (ms / 1000);
	struct tm	tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
	{
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms % 1000));
}

void
ffctl_kv(const char *label, const char *fmt,...)
{
	va_list		ap;

	printf("%-20s ", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
ffctl_kv_time(const char *label, int64_t ms)
{
	char		buf[40];

	if (ms <= 0)
	{
		ffctl_kv(label, "-");
		return;
	}
	ffctl_format_time(ms, buf, sizeof(buf));
	ffctl_kv(label, "%s (%lld)", buf, (long long) ms);
}

const char *
ffctl_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

void
ffctl_print_bytes(FILE *f, const ff_bytes *b)
{
	if (b == NULL || b->data == NULL)
	{
		fputs("-", f);
		return;
	}
	if (ffctl_is_text(b->data, b->len))
	{
		/* one trailing newline is the line's own end */
		fwrite(b->data, 1, b->len > 0 && b->data[b->len - 1] == '\n' ? b->len - 1 : b->len, f);
		return;
	}
	fprintf(f, "<%zu bytes> ", b->len);
	for (size_t i = 0; i < b->len && i < 64; i++)
		fprintf(f, "%02x", b->data[i]);
	if (b->len > 64)
		fputs("...", f);
}
