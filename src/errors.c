#include "config.h"

#include <stddef.h>

#include "errors.h"

static const struct {
	int status;
	const char *reason;	/* RFC 9110's phrase */
	const char *code;
	bool retry;		/* sent with Retry-After */
} errors[API_ERROR__MAX] = {
	[API_OK] = {200, "OK", "", false},
	[API_BAD_REQUEST] = {400, "Bad Request", "bad_request", false},
	[API_UNAUTHORIZED] = {401, "Unauthorized", "unauthorized", false},
	[API_FORBIDDEN] = {403, "Forbidden", "forbidden", false},
	[API_NOT_FOUND] = {404, "Not Found", "not_found", false},
	[API_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed",
	    "method_not_allowed", false},
	[API_CONFLICT] = {409, "Conflict", "conflict", false},
	[API_GONE] = {410, "Gone", "gone", false},
	[API_PAYLOAD_TOO_LARGE] = {413, "Payload Too Large",
	    "payload_too_large", false},
	[API_IDEMPOTENCY_KEY_REUSED] = {422, "Unprocessable Content",
	    "idempotency_key_reused", false},
	[API_TOO_MANY_REQUESTS] = {429, "Too Many Requests",
	    "too_many_requests", true},
	[API_UNAVAILABLE] = {503, "Service Unavailable", "unavailable", true},
	[API_INTERNAL] = {500, "Internal Server Error", "internal", false},
};

static enum api_error valid(enum api_error e)
{
	return (unsigned)e < API_ERROR__MAX ? e : API_INTERNAL;
}

int api_error_status(enum api_error e)
{
	return errors[valid(e)].status;
}

const char *api_error_code(enum api_error e)
{
	return errors[valid(e)].code;
}

const char *api_error_reason(enum api_error e)
{
	return errors[valid(e)].reason;
}

bool api_error_retry(enum api_error e)
{
	return errors[valid(e)].retry;
}

const char *http_reason(int status)
{
	size_t i;

	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	}
	for (i = 0; i < API_ERROR__MAX; i++)
		if (errors[i].status == status)
			return errors[i].reason;
	return "Error";
}
