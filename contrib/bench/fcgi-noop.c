/*
 * contrib/bench/fcgi-noop.c: the cheapest FastCGI responder libfcgi
 * allows, a ceiling for contrib/bench/run. It reads each request's body and
 * answers 200 {"id":"1"} without looking at anything. nginx -> this program
 * is the cost of the FastCGI hop itself: what chatd's no-database path
 * would cost if chatd's own work were free.
 *
 * Built by the runner (cc -O2 fcgi-noop.c -lfcgi) and started under
 * spawn-fcgi, which hands it the listening socket as fd 0.
 */
#include <stdlib.h>

#include <fcgiapp.h>

int main(void)
{
	static const char reply[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 11\r\n"
	    "\r\n"
	    "{\"id\":\"1\"}\n";
	FCGX_Request req;
	char drain[4096];

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return EXIT_FAILURE;
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(drain, sizeof drain, req.in) > 0)
			;
		FCGX_PutStr(reply, (int)sizeof reply - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return EXIT_SUCCESS;
}
