#include "config.h"

#include "errors.h"

static const struct {
	int status;
	const char *code;
} errors[API_ERROR__MAX] = {
	[API_OK] = {200, ""},
	[API_BAD_REQUEST] = {400, "bad_request"},
	[API_FORBIDDEN] = {403, "forbidden"},
	[API_NOT_FOUND] = {404, "not_found"},
	[API_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
	[API_CONFLICT] = {409, "conflict"},
	[API_PAYLOAD_TOO_LARGE] = {413, "payload_too_large"},
	[API_UNAVAILABLE] = {503, "unavailable"},
	[API_INTERNAL] = {500, "internal"},
};

int api_error_status(enum api_error e)
{
	if ((unsigned)e >= API_ERROR__MAX)
		e = API_INTERNAL;
	return errors[e].status;
}

const char *api_error_code(enum api_error e)
{
	if ((unsigned)e >= API_ERROR__MAX)
		e = API_INTERNAL;
	return errors[e].code;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}
