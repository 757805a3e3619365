/* The API's error vocabulary (API.md section 0): each error has one HTTP
 * status and one machine-readable code. */
#ifndef CHATD_ERRORS_H
#define CHATD_ERRORS_H

enum api_error {
	API_OK,
	API_BAD_REQUEST,
	API_FORBIDDEN,
	API_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_CONFLICT,
	API_PAYLOAD_TOO_LARGE,
	API_UNAVAILABLE,
	API_INTERNAL,
	API_ERROR__MAX
};

/* HTTP status of an error (200 for API_OK). */
int api_error_status(enum api_error e);
/* The "error" code string, e.g. "not_found" ("" for API_OK). Static. */
const char *api_error_code(enum api_error e);
/* The status line text for a status code chatd sends, e.g. "Not Found". */
const char *http_reason(int status);

#endif
