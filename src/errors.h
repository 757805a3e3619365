/* The API's error vocabulary (API.md section 0): one row per error holds
 * its HTTP status, the status line's reason phrase and the machine-readable
 * code, so the three can never disagree. */
#ifndef CHATD_ERRORS_H
#define CHATD_ERRORS_H

#include <stdbool.h>

enum api_error {
	API_OK,
	API_BAD_REQUEST,
	API_UNAUTHORIZED,
	API_FORBIDDEN,
	API_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_CONFLICT,
	API_GONE,
	API_PAYLOAD_TOO_LARGE,
	API_IDEMPOTENCY_KEY_REUSED,
	API_TOO_MANY_REQUESTS,
	API_UNAVAILABLE,
	API_INTERNAL,
	API_ERROR__MAX
};

/* HTTP status of an error (200 for API_OK; 500 for a value out of range). */
int api_error_status(enum api_error e);
/* The "error" code string, e.g. "not_found" ("" for API_OK). Static. */
const char *api_error_code(enum api_error e);
/* The reason phrase of e's status, e.g. "Not Found". Static. */
const char *api_error_reason(enum api_error e);
/* True when the answer to e tells the client to retry (Retry-After). */
bool api_error_retry(enum api_error e);
/* The reason phrase of a status chatd sends: every status of the error
 * table and the successes 200, 201 and 204. Any other status is a bug in
 * chatd; it gets its class's generic phrase ("Error"), never another
 * status's. Static. */
const char *http_reason(int status);

#endif
