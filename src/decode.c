#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "auth.h"
#include "buf.h"
#include "decode.h"
#include "password.h"
#include "id.h"
#include "log.h"
#include "utf8.h"

struct limits decode_limits = {
	.username_max = 64,
	.chat_name_max = 128,
	.text_max = 4096,
};

static bool vfail(char *msg, size_t msgsz, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static bool vfail(char *msg, size_t msgsz, const char *fmt, va_list ap)
{
	vsnprintf(msg, msgsz, fmt, ap);
	return false;
}

static bool fail(char *msg, size_t msgsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *msg, size_t msgsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(msg, msgsz, fmt, ap);
	va_end(ap);
	return false;
}

bool decode_fail(struct decode_ctx *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(d->msg, d->msgsz, fmt, ap);
	va_end(ap);
	return false;
}

/* True when v is a number jansson could not hold as an integer: a real
 * (integers were read as reals) at or beyond 2^63 in magnitude. */
static bool huge(const json_t *v)
{
	return json_is_real(v) && (json_real_value(v) >= 9223372036854775808.0
	    || json_real_value(v) <= -9223372036854775808.0);
}

/* True when a client's key can be quoted in a message as it is: a short
 * run of printable ASCII (a field name chatd could have), so the message
 * stays short and well-formed whatever the client sent. */
static bool quotable(const char *key)
{
	size_t i;

	for (i = 0; key[i]; i++)
		if (i >= 64 || key[i] < 0x20 || key[i] > 0x7E)
			return false;
	return i > 0;
}

/* The member of object o whose value, or one of whose array elements, is
 * such a number; NULL when none is, or when its key is not quotable.
 * Borrowed from o. */
static const char *huge_member(const json_t *o)
{
	const json_t *v, *e;
	const char *key;
	size_t j;

	json_object_foreach((json_t *)o, key, v) {
		bool found = huge(v);

		json_array_foreach(v, j, e)
			found = found || huge(e);
		if (found)
			return quotable(key) ? key : NULL;
	}
	return NULL;
}

/* Writes the 400 message for a body whose integer is out of int64 range,
 * naming the top-level field that holds it. Used only on that error path:
 * the body is parsed again with integers read as reals. */
static void overflow_message(const char *body, size_t len, char *msg,
    size_t msgsz)
{
	json_t *root = json_loadb(body, len, JSON_DECODE_INT_AS_REAL, NULL);
	const char *field = json_is_object(root) ? huge_member(root) : NULL;

	if (field)
		fail(msg, msgsz, "field '%s' is not a valid id: out of range",
		    field);
	else
		fail(msg, msgsz, "a number in the request body is out of range");
	json_decref(root);
}

json_t *decode_body(const char *body, size_t len, char *msg, size_t msgsz)
{
	json_error_t err;
	json_t *root;

	if (len == 0) {
		fail(msg, msgsz, "request body is empty; expected a JSON object");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		switch (json_error_code(&err)) {
		case json_error_out_of_memory:
			log_error("out of memory parsing a request body");
			abort();	/* the policy of buf.h */
		case json_error_invalid_utf8:
			fail(msg, msgsz, "request body is not valid UTF-8");
			break;
		case json_error_null_character:
		case json_error_null_byte_in_key:
			fail(msg, msgsz, "request body holds U+0000");
			break;
		case json_error_numeric_overflow:
			overflow_message(body, len, msg, msgsz);
			break;
		case json_error_stack_overflow:
			fail(msg, msgsz, "request body is nested too deeply");
			break;
		case json_error_duplicate_key:
			fail(msg, msgsz, "duplicate key in request body");
			break;
		default:
			fail(msg, msgsz, "request body is not valid JSON "
			    "(line %d, column %d)", err.line, err.column);
		}
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fail(msg, msgsz, "request body must be a JSON object");
		return NULL;
	}
	return root;
}

const char *decode_text_or_blank(const json_t *root, const char *name,
    size_t max, bool *blank, struct decode_ctx *d)
{
	const json_t *v = json_object_get(root, name);
	const char *s;
	size_t len, n;

	if (v == NULL)
		return decode_fail(d, "field '%s' is required", name), NULL;
	if (!json_is_string(v))
		return decode_fail(d, "field '%s' must be a string", name), NULL;
	s = json_string_value(v);
	len = json_string_length(v);
	if (!utf8_valid(s, len))
		return decode_fail(d, "field '%s' is not valid UTF-8 or holds "
		    "U+0000", name), NULL;
	*blank = utf8_blank(s, len);
	if (*blank)
		return s;
	n = utf8_length(s, len);
	if (n > max)
		return decode_fail(d, "field '%s' is too long: %zu characters, "
		    "at most %zu", name, n, max), NULL;
	return s;
}

const char *decode_text(const json_t *root, const char *name, size_t max,
    struct decode_ctx *d)
{
	bool blank;
	const char *s = decode_text_or_blank(root, name, max, &blank, d);

	if (s != NULL && blank)
		return decode_fail(d, "field '%s' must not be empty", name),
		    NULL;
	return s;
}

bool decode_opt_text(const json_t *root, const char *name, size_t max,
    const char **out, struct decode_ctx *d)
{
	const json_t *v = json_object_get(root, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	*out = decode_text(root, name, max, d);
	return *out != NULL;
}

const char *decode_password(const json_t *root, const char *name,
    size_t *len, struct decode_ctx *d)
{
	const json_t *v = json_object_get(root, name);
	const char *s;

	if (v == NULL)
		return decode_fail(d, "field '%s' is required", name), NULL;
	if (!json_is_string(v))
		return decode_fail(d, "field '%s' must be a string", name), NULL;
	s = json_string_value(v);
	*len = json_string_length(v);
	if (!utf8_valid(s, *len))
		return decode_fail(d, "field '%s' is not valid UTF-8 or holds "
		    "U+0000", name), NULL;
	if (*len < PASSWORD_MIN || *len > PASSWORD_MAX)
		return decode_fail(d, "field '%s' must be %d to %d bytes "
		    "long", name, PASSWORD_MIN, PASSWORD_MAX), NULL;
	return s;
}

bool decode_id(const json_t *root, const char *name, bool required,
    int64_t *out, struct decode_ctx *d)
{
	const json_t *v = json_object_get(root, name);

	if (v == NULL)
		return required ? decode_fail(d, "field '%s' is required",
		    name) : true;
	if (!id_from_json(v, out))
		return decode_fail(d, "field '%s' is not a valid id", name);
	return true;
}

bool decode_acting_user(const json_t *root, const char *name, int64_t *out,
    bool *other, struct decode_ctx *d)
{
	int64_t caller = d->caller->user;

	*other = false;
	if (d->caller->pending) {	/* the caller is not known yet */
		*out = -1;
		return decode_id(root, name, false, out, d);
	}
	if (caller == 0)
		return decode_id(root, name, true, out, d);
	*out = caller;
	if (!decode_id(root, name, false, out, d))
		return false;
	*other = *out != caller;
	return true;
}

bool decode_ids(const json_t *root, const char *name, const char **literal,
    size_t *n, struct decode_ctx *d)
{
	const json_t *ids = json_object_get(root, name), *v;
	struct buf *b = d->scratch;
	size_t i, start = b->len;
	int64_t id;

	if (ids == NULL)
		return decode_fail(d, "field '%s' is required", name);
	if (!json_is_array(ids))
		return decode_fail(d, "field '%s' must be an array of ids",
		    name);
	buf_putc(b, '{');
	json_array_foreach(ids, i, v) {
		char *dst;

		if (!id_from_json(v, &id)) {
			b->len = start;
			return decode_fail(d, "%s[%zu] is not a valid id", name,
			    i);
		}
		dst = buf_reserve(b, 22);
		if (i > 0)
			*dst++ = ',', b->len++;
		b->len += id_format(id, dst);
	}
	buf_putc(b, '}');
	*literal = b->data + start;
	*n = json_array_size(ids);
	return true;
}

bool decode_int(const json_t *root, const char *name, int min, int max,
    int *out, struct decode_ctx *d)
{
	const json_t *v = json_object_get(root, name);

	if (v == NULL)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return decode_fail(d, "field '%s' must be an integer from %d to "
		    "%d", name, min, max);
	*out = (int)json_integer_value(v);
	return true;
}

const char *decode_header(const struct decode_ctx *d, const char *param)
{
	return d->envp ? FCGX_GetParam(param, (char **)d->envp) : NULL;
}

bool decode_idempotency_key(const char *value, struct decode_ctx *d)
{
	size_t i, len = strlen(value);

	if (len == 0 || len > IDEMPOTENCY_KEY_MAX)
		return decode_fail(d, "header 'Idempotency-Key' must be 1 to "
		    "%d characters", IDEMPOTENCY_KEY_MAX);
	for (i = 0; i < len; i++)
		if (value[i] < 0x20 || value[i] > 0x7E)
			return decode_fail(d, "header 'Idempotency-Key' must "
			    "be printable ASCII");
	return true;
}

bool decode_message(const json_t *root, const char **text, int64_t *file,
    const char **key, struct decode_ctx *d)
{
	const json_t *t = json_object_get(root, "text");
	const json_t *f = json_object_get(root, "file");

	*file = 0;
	if (f != NULL && !json_is_null(f)) {	/* null: none, as absent */
		if (!decode_id(root, "file", true, file, d))
			return false;
		if (*file == 0)
			return decode_fail(d, "field 'file': no file has id 0");
	}
	/* With a file the text may be left out or "". */
	if (*file != 0 && (t == NULL || (json_is_string(t) &&
	    json_string_length(t) == 0)))
		*text = "";
	else
		*text = decode_text(root, "text", decode_limits.text_max, d);
	if (*text == NULL)
		return false;
	*key = decode_header(d, "HTTP_IDEMPOTENCY_KEY");
	return *key == NULL || decode_idempotency_key(*key, d);
}
