/*
 * cmd_batch.c - ffctl enqueue --file JOBS.jsonl: batched enqueue (issue 12).
 *
 * One JSON object per line; blank lines are skipped. Keys (all optional but
 * the lane, which may come from --lane):
 *   lane, namespace, kind, creator        strings
 *   payload          a string is sent as its UTF-8 bytes; any other JSON
 *                    value (object, array, number, ...) as its JSON text
 *   payload_hex      the payload as hex bytes (instead of payload)
 *   id, idempotency_key                   strings
 *   priority                              integer
 *   tags, policy                          objects
 *   caps                                  array of strings
 *   delay_ms, delay_until, deadline_ms, deadline_at    integers (ms)
 * The enqueue options --lane, --namespace, --kind, --policy, --cap and
 * --creator are defaults for lines without the key. Every line is parsed
 * before anything is sent. Consecutive lines with the same lane, namespace,
 * kind, policy, capabilities, delay, deadline and creator go to the engine
 * in one ff_create_executions call (at most --batch lines, default 1000), each
 * batch one transaction: a batch the engine rejects stops the run, and the
 * batches before it stay created. Prints one line per input line: the
 * execution id (--json: {"line", "execution_id", "public_state", "created"}).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffctl.h"

/* ------------------------------------------------------------------------
 * a small JSON reader: values are validated and kept as spans of the line
 * ------------------------------------------------------------------------ */
typedef enum
{
	JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ
} jv_type;

typedef struct jp
{
	const char *s;
	size_t		n;
	size_t		i;
	const char *err;
} jp;

static void
jp_ws(jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' ||
						   p->s[p->i] == '\n'))
		p->i++;
}

static bool jp_value(jp *p, jv_type *type, int depth);

static bool
jp_fail(jp *p, const char *why)
{
	if (p->err == NULL)
		p->err = why;
	return false;
}

static bool
jp_string(jp *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return jp_fail(p, "expected a string");
	for (p->i++; p->i < p->n; p->i++)
	{
		unsigned char c = (unsigned char) p->s[p->i];

		if (c == '"')
		{
			p->i++;
			return true;
		}
		if (c < 0x20)
			return jp_fail(p, "control character in a string");
		if (c == '\\')
		{
			if (++p->i >= p->n)
				break;
			c = (unsigned char) p->s[p->i];
			if (c == 'u')
			{
				for (int k = 1; k <= 4; k++)
					if (p->i + k >= p->n || !isxdigit((unsigned char) p->s[p->i + k]))
						return jp_fail(p, "bad \\u escape");
				p->i += 4;
			}
			else if (strchr("\"\\/bfnrt", c) == NULL)
				return jp_fail(p, "bad escape");
		}
	}
	return jp_fail(p, "unterminated string");
}

static bool
jp_value(jp *p, jv_type *type, int depth)
{
	char		c;

	if (depth > 64)
		return jp_fail(p, "nested too deeply");
	jp_ws(p);
	if (p->i >= p->n)
		return jp_fail(p, "expected a value");
	c = p->s[p->i];
	if (c == '"')
	{
		*type = JV_STR;
		return jp_string(p);
	}
	if (c == '{' || c == '[')
	{
		char		close = c == '{' ? '}' : ']';
		bool		first = true;

		*type = c == '{' ? JV_OBJ : JV_ARR;
		p->i++;
		for (;;)
		{
			jv_type		t;

			jp_ws(p);
			if (p->i < p->n && p->s[p->i] == close && first)
			{
				p->i++;
				return true;
			}
			if (c == '{')
			{
				if (!jp_string(p))
					return false;
				jp_ws(p);
				if (p->i >= p->n || p->s[p->i] != ':')
					return jp_fail(p, "expected ':'");
				p->i++;
			}
			if (!jp_value(p, &t, depth + 1))
				return false;
			jp_ws(p);
			first = false;
			if (p->i < p->n && p->s[p->i] == ',')
			{
				p->i++;
				continue;
			}
			if (p->i < p->n && p->s[p->i] == close)
			{
				p->i++;
				return true;
			}
			return jp_fail(p, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	if (p->n - p->i >= 4 && strncmp(p->s + p->i, "true", 4) == 0)
	{
		*type = JV_BOOL;
		p->i += 4;
		return true;
	}
	if (p->n - p->i >= 5 && strncmp(p->s + p->i, "false", 5) == 0)
	{
		*type = JV_BOOL;
		p->i += 5;
		return true;
	}
	if (p->n - p->i >= 4 && strncmp(p->s + p->i, "null", 4) == 0)
	{
		*type = JV_NULL;
		p->i += 4;
		return true;
	}
	if (c == '-' || isdigit((unsigned char) c))
	{
		size_t		start = p->i;

		if (p->s[p->i] == '-')
			p->i++;
		while (p->i < p->n && (isdigit((unsigned char) p->s[p->i]) || strchr(".eE+-", p->s[p->i])))
			p->i++;
		*type = JV_NUM;
		return p->i > start + (c == '-' ? 1 : 0) ? true : jp_fail(p, "bad number");
	}
	return jp_fail(p, "unexpected character");
}

/* appends code point cp as UTF-8 */
static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80)
	{
		o[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		o[0] = (char) (0xc0 | (cp >> 6));
		o[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		o[0] = (char) (0xe0 | (cp >> 12));
		o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char) (0xf0 | (cp >> 18));
	o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/* decodes a validated JSON string span (with its quotes); *len_out its length */
static char *
decode_string(const char *s, size_t n, size_t *len_out)
{
	char	   *out = malloc(n + 1);
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 1; i + 1 < n; i++)
	{
		if (s[i] != '\\')
		{
			out[o++] = s[i];
			continue;
		}
		i++;
		switch (s[i])
		{
			case 'b':
				out[o++] = '\b';
				break;
			case 'f':
				out[o++] = '\f';
				break;
			case 'n':
				out[o++] = '\n';
				break;
			case 'r':
				out[o++] = '\r';
				break;
			case 't':
				out[o++] = '\t';
				break;
			case 'u':
				{
					unsigned	cp = (unsigned) strtoul((char[5]) {s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0}, NULL, 16);

					i += 4;
					if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u')
					{
						unsigned	lo = (unsigned) strtoul((char[5]) {s[i + 3], s[i + 4], s[i + 5], s[i + 6], 0}, NULL, 16);

						if (lo >= 0xdc00 && lo < 0xe000)
						{
							cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
							i += 6;
						}
					}
					o += put_utf8(out + o, cp);
					break;
				}
			default:
				out[o++] = s[i];
				break;
		}
	}
	out[o] = '\0';
	if (len_out)
		*len_out = o;
	return out;
}

/* ------------------------------------------------------------------------
 * one job line
 * ------------------------------------------------------------------------ */
typedef struct job
{
	int			line;
	/* shared fields (a batch has equal ones) */
	char	   *lane;
	char	   *ns;
	char	   *kind;
	char	   *creator;
	char	   *policy;
	char	  **caps;
	size_t		ncaps;
	int64_t		delay_until;
	int64_t		deadline_at;
	/* per execution */
	unsigned char *payload;
	size_t		payload_len;
	char	   *id;
	char	   *key;
	int32_t		priority;
	char	   *tags;
} job;

static void
job_free(job *j)
{
	free(j->lane);
	free(j->ns);
	free(j->kind);
	free(j->creator);
	free(j->policy);
	for (size_t i = 0; i < j->ncaps; i++)
		free(j->caps[i]);
	free(j->caps);
	free(j->payload);
	free(j->id);
	free(j->key);
	free(j->tags);
}

static char *
span(const char *s, size_t from, size_t to)
{
	char	   *d = malloc(to - from + 1);

	if (d)
	{
		memcpy(d, s + from, to - from);
		d[to - from] = '\0';
	}
	return d;
}

static char *
opt_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* parses one line into j; false with *why on a bad line */
static bool
parse_job(const char *s, size_t n, job *j, int64_t now, const char **why)
{
	jp			p = {s, n, 0, NULL};
	bool		has_delay_ms = false,
				has_deadline_ms = false;
	int64_t		delay_ms = 0,
				deadline_ms = 0;

	jp_ws(&p);
	if (p.i >= n || s[p.i] != '{')
	{
		*why = "not a JSON object";
		return false;
	}
	p.i++;
	jp_ws(&p);
	if (p.i < n && s[p.i] == '}')
		p.i++;
	else
		for (;;)
		{
			size_t		k0,
						k1,
						v0;
			jv_type		t;
			char	   *key;

			jp_ws(&p);
			k0 = p.i;
			if (!jp_string(&p))
				break;
			k1 = p.i;
			jp_ws(&p);
			if (p.i >= n || s[p.i] != ':')
			{
				jp_fail(&p, "expected ':'");
				break;
			}
			p.i++;
			jp_ws(&p);
			v0 = p.i;
			if (!jp_value(&p, &t, 1))
				break;
			key = decode_string(s + k0, k1 - k0, NULL);
			if (key == NULL)
			{
				jp_fail(&p, "out of memory");
				break;
			}
#define STRING_FIELD(name, dst) \
			else if (strcmp(key, name) == 0) \
			{ \
				if (t != JV_STR) jp_fail(&p, "\"" name "\" must be a string"); \
				else { free(dst); dst = decode_string(s + v0, p.i - v0, NULL); } \
			}
#define INT_FIELD(name, dst, flag) \
			else if (strcmp(key, name) == 0) \
			{ \
				char *num = span(s, v0, p.i), *end = NULL; \
				if (t != JV_NUM || num == NULL) jp_fail(&p, "\"" name "\" must be an integer"); \
				else { dst = strtoll(num, &end, 10); if (*end) jp_fail(&p, "\"" name "\" must be an integer"); flag; } \
				free(num); \
			}
			if (0)
				;
			STRING_FIELD("lane", j->lane)
				STRING_FIELD("namespace", j->ns)
				STRING_FIELD("kind", j->kind)
				STRING_FIELD("creator", j->creator)
				STRING_FIELD("id", j->id)
				STRING_FIELD("idempotency_key", j->key)
				INT_FIELD("delay_until", j->delay_until,)
				INT_FIELD("deadline_at", j->deadline_at,)
				INT_FIELD("delay_ms", delay_ms, has_delay_ms = true)
				INT_FIELD("deadline_ms", deadline_ms, has_deadline_ms = true)
			else if (strcmp(key, "priority") == 0)
			{
				char	   *num = span(s, v0, p.i),
						   *end = NULL;
				long long	v = num ? strtoll(num, &end, 10) : 0;

				if (t != JV_NUM || num == NULL || *end || v < -100000 || v > 100000)
					jp_fail(&p, "\"priority\" must be an integer");
				else
					j->priority = (int32_t) v;
				free(num);
			}
			else if (strcmp(key, "payload") == 0)
			{
				free(j->payload);
				if (t == JV_STR)
					j->payload = (unsigned char *) decode_string(s + v0, p.i - v0, &j->payload_len);
				else
				{
					j->payload = (unsigned char *) span(s, v0, p.i);
					j->payload_len = p.i - v0;
				}
			}
			else if (strcmp(key, "payload_hex") == 0)
			{
				char	   *hex = t == JV_STR ? decode_string(s + v0, p.i - v0, NULL) : NULL;
				size_t		hl = hex ? strlen(hex) : 0;

				free(j->payload);
				j->payload = NULL;
				if (hex == NULL || hl % 2 != 0)
					jp_fail(&p, "\"payload_hex\" must be a string of hex digit pairs");
				else if ((j->payload = malloc(hl / 2 + 1)) != NULL)
				{
					j->payload_len = hl / 2;
					for (size_t i = 0; i < hl / 2; i++)
					{
						int			hi = hexval(hex[2 * i]),
									lo = hexval(hex[2 * i + 1]);

						if (hi < 0 || lo < 0)
						{
							jp_fail(&p, "\"payload_hex\" must be a string of hex digit pairs");
							break;
						}
						j->payload[i] = (unsigned char) (hi * 16 + lo);
					}
				}
				free(hex);
			}
			else if (strcmp(key, "tags") == 0 || strcmp(key, "policy") == 0)
			{
				char	  **dst = key[0] == 't' ? &j->tags : &j->policy;

				if (t != JV_OBJ)
					jp_fail(&p, key[0] == 't' ? "\"tags\" must be an object" : "\"policy\" must be an object");
				else
				{
					free(*dst);
					*dst = span(s, v0, p.i);
				}
			}
			else if (strcmp(key, "caps") == 0)
			{
				jp			q = {s, p.i, v0 + 1, NULL};

				if (t != JV_ARR)
					jp_fail(&p, "\"caps\" must be an array of strings");
				for (size_t i = 0; i < j->ncaps; i++)
					free(j->caps[i]);
				j->ncaps = 0;
				while (t == JV_ARR && p.err == NULL)
				{
					size_t		e0;
					char	  **g;

					jp_ws(&q);
					if (q.i < q.n && (s[q.i] == ']' || s[q.i] == ','))
					{
						if (s[q.i] == ']')
							break;
						q.i++;
						continue;
					}
					e0 = q.i;
					if (!jp_string(&q))
					{
						jp_fail(&p, "\"caps\" must be an array of strings");
						break;
					}
					g = realloc(j->caps, (j->ncaps + 1) * sizeof(char *));
					if (g == NULL)
						break;
					j->caps = g;
					j->caps[j->ncaps++] = decode_string(s + e0, q.i - e0, NULL);
				}
			}
			else
				jp_fail(&p, "unknown key (see ffctl enqueue --help)");
#undef STRING_FIELD
#undef INT_FIELD
			free(key);
			if (p.err)
				break;
			jp_ws(&p);
			if (p.i < n && s[p.i] == ',')
			{
				p.i++;
				continue;
			}
			if (p.i < n && s[p.i] == '}')
			{
				p.i++;
				break;
			}
			jp_fail(&p, "expected ',' or '}'");
			break;
		}
	if (p.err == NULL)
	{
		jp_ws(&p);
		if (p.i != n)
			jp_fail(&p, "trailing characters after the object");
	}
	if (p.err)
	{
		*why = p.err;
		return false;
	}
	if (has_delay_ms)
		j->delay_until = now + delay_ms;
	if (has_deadline_ms)
		j->deadline_at = now + deadline_ms;
	if (j->lane == NULL)
	{
		*why = "no lane (give \"lane\" or --lane)";
		return false;
	}
	return true;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* lines a and b may share one ff_create_executions call */
static bool
same_batch(const job *a, const job *b)
{
	if (!same_str(a->lane, b->lane) || !same_str(a->ns, b->ns) || !same_str(a->kind, b->kind) ||
		!same_str(a->creator, b->creator) || !same_str(a->policy, b->policy) ||
		a->delay_until != b->delay_until || a->deadline_at != b->deadline_at || a->ncaps != b->ncaps)
		return false;
	for (size_t i = 0; i < a->ncaps; i++)
		if (!same_str(a->caps[i], b->caps[i]))
			return false;
	return true;
}

static const char *
needs_server_time(const char *data, size_t len)
{
	/* a cheap over-approximation: fetch the clock if a relative time may occur */
	for (size_t i = 0; i + 8 < len; i++)
		if (memcmp(data + i, "delay_ms", 8) == 0 || (i + 11 < len && memcmp(data + i, "deadline_ms", 11) == 0))
			return "yes";
	return NULL;
}

int
ffctl_enqueue_file(const ffctl_args *a)
{
	const char *path = ffctl_opt(a, "file");
	ff_bytes	file = {0};
	job		   *jobs = NULL;
	size_t		njobs = 0,
				cap = 0;
	int64_t		batch = 1000,
				now = 0;
	ff_client  *c = NULL;
	int			rc = FFCTL_EXIT_OK;
	ffctl_json	jw;
	size_t		line_start = 0;
	int			line_no = 0;

	if (!ffctl_opt_int64(a, "batch", &batch, NULL) || batch < 1 || batch > 10000)
		return ffctl_usage_error("enqueue", "--batch wants 1..10000");
	if (ffctl_opt(a, "payload") || ffctl_opt(a, "payload-file") || ffctl_opt(a, "id") ||
		ffctl_opt(a, "idempotency-key") || ffctl_opt(a, "tag") || ffctl_opt(a, "tags") ||
		ffctl_opt(a, "priority") || ffctl_opt(a, "delay-ms") || ffctl_opt(a, "delay-until") ||
		ffctl_opt(a, "deadline-ms") || ffctl_opt(a, "deadline-at"))
		return ffctl_usage_error("enqueue", "with --file, payloads, ids, keys, tags, priorities, delays "
								 "and deadlines come from the lines");
	if (!ffctl_read_file(path, &file))
		return FFCTL_EXIT_ERROR;

	c = ffctl_connect(a, &rc);
	if (c == NULL)
	{
		ff_bytes_clear(&file);
		return rc;
	}
	if (needs_server_time((const char *) file.data, file.len) && ff_client_server_time_ms(c, &now) != FF_OK)
	{
		rc = ffctl_fail(a, c, "enqueue");
		goto out;
	}

	/* parse every line first: nothing is sent if one is bad */
	for (size_t i = 0; i <= file.len; i++)
	{
		const char *s;
		size_t		n;
		job		   *j;
		const char *why = NULL;
		bool		blank = true;

		if (i < file.len && file.data[i] != '\n')
			continue;
		line_no++;
		s = (const char *) file.data + line_start;
		n = i - line_start;
		line_start = i + 1;
		for (size_t k = 0; k < n; k++)
			if (!isspace((unsigned char) s[k]))
				blank = false;
		if (blank)
			continue;
		if (njobs == cap)
		{
			job		   *g = realloc(jobs, (cap ? cap * 2 : 256) * sizeof(job));

			if (g == NULL)
			{
				fprintf(stderr, "ffctl enqueue: out of memory\n");
				rc = FFCTL_EXIT_ERROR;
				goto out;
			}
			jobs = g;
			cap = cap ? cap * 2 : 256;
		}
		j = &jobs[njobs++];
		memset(j, 0, sizeof(*j));
		j->line = line_no;
		j->lane = opt_dup(ffctl_opt(a, "lane"));
		j->ns = opt_dup(ffctl_opt(a, "namespace"));
		j->kind = opt_dup(ffctl_opt(a, "kind"));
		j->policy = opt_dup(ffctl_opt(a, "policy"));
		j->creator = opt_dup(ffctl_opt(a, "creator") ? ffctl_opt(a, "creator") : "ffctl");
		if (ffctl_opt_count(a, "cap") > 0)
		{
			j->caps = calloc((size_t) ffctl_opt_count(a, "cap"), sizeof(char *));
			for (int k = 0; j->caps && k < ffctl_opt_count(a, "cap"); k++)
				j->caps[j->ncaps++] = strdup(ffctl_opt_n(a, "cap", k));
		}
		if (!parse_job(s, n, j, now, &why))
		{
			fprintf(stderr, "ffctl enqueue: %s, line %d: %s\n", path, line_no, why);
			rc = FFCTL_EXIT_USAGE;
			goto out;
		}
	}

	/* send consecutive compatible lines together */
	if (a->json)
		jw_init(&jw, stdout);
	for (size_t first = 0; first < njobs;)
	{
		size_t		last = first + 1;
		ff_create_batch_args ba = {0};
		ff_create_batch_item *items;
		ff_create_result_list l = {0};
		const job  *j0 = &jobs[first];

		while (last < njobs && last - first < (size_t) batch && same_batch(j0, &jobs[last]))
			last++;
		items = calloc(last - first, sizeof(ff_create_batch_item));
		if (items == NULL)
		{
			fprintf(stderr, "ffctl enqueue: out of memory\n");
			rc = FFCTL_EXIT_ERROR;
			goto out;
		}
		for (size_t k = first; k < last; k++)
		{
			ff_create_batch_item *it = &items[k - first];

			it->input_payload = jobs[k].payload;
			it->input_payload_len = jobs[k].payload_len;
			it->execution_id = jobs[k].id;
			it->idempotency_key = jobs[k].key;
			it->priority = jobs[k].priority;
			it->tags_json = jobs[k].tags;
		}
		ba.lane_id = j0->lane;
		ba.ns = j0->ns;
		ba.execution_kind = j0->kind;
		ba.required_capabilities = (const char *const *) j0->caps;
		ba.n_required_capabilities = j0->ncaps;
		ba.policy_json = j0->policy;
		ba.delay_until_ms = j0->delay_until;
		ba.execution_deadline_at_ms = j0->deadline_at;
		ba.creator_identity = j0->creator;
		if (ff_client_create_executions(c, &ba, items, last - first, &l) != FF_OK)
		{
			char		what[160];

			snprintf(what, sizeof(what), "enqueue (%s, lines %d-%d)", path, j0->line, jobs[last - 1].line);
			rc = ffctl_fail(a, c, what);
			free(items);
			goto out;
		}
		for (size_t k = 0; k < l.count; k++)
		{
			const ff_create_result *r = &l.items[k];

			if (a->json)
			{
				jw_doc_begin(&jw);
				jw_kv_int(&jw, "line", jobs[first + k].line);
				jw_kv_str(&jw, "execution_id", r->execution_id);
				jw_kv_str(&jw, "public_state", r->public_state);
				jw_kv_bool(&jw, "created", r->created);
				jw_doc_end(&jw);
			}
			else
			{
				printf("%s\n", r->execution_id);
				if (!r->created)
					fprintf(stderr, "ffctl enqueue: line %d not created: the execution already exists (%s)\n",
							jobs[first + k].line, r->public_state);
			}
		}
		ff_create_result_list_clear(&l);
		free(items);
		first = last;
	}
out:
	for (size_t k = 0; k < njobs; k++)
		job_free(&jobs[k]);
	free(jobs);
	ff_client_close(c);
	ff_bytes_clear(&file);
	return rc;
}
