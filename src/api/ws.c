/* GET /ws -> the seed 003 WebSocket (API.md 2.7, REALTIME.md 5). No
 * session is needed to open it: seed 003 puts the token in every frame,
 * and POST /ws/frame checks it there. chatd only names the connection:
 * X-Accel-Redirect to /_chatd/ws/<32 hex>, a channel id of 16 random
 * bytes that nobody else knows, where nginx's nchan holds the connection
 * (nginx/chatd.conf). A request that is not a WebSocket handshake
 * (no "Upgrade: websocket") is 400, answered here in the API's JSON. */
#include "config.h"

#include <stdio.h>
#include <strings.h>

#include <sodium.h>

#include "decode.h"
#include "reply.h"
#include "route.h"

#define WS_CHANNEL_BYTES 16
#define WS_REDIRECT "/_chatd/ws/"

struct ws_req {
	bool upgrade;	/* Upgrade: websocket was asked for */
};

static bool ws_decode(const json_t *root, void *out, struct decode_ctx *d)
{
	struct ws_req *req = out;
	const char *up = decode_header(d, "HTTP_UPGRADE");

	(void)root;
	req->upgrade = up != NULL && strcasecmp(up, "websocket") == 0;
	return true;
}

static enum api_error ws(struct db *db, const void *arg, struct reply *r)
{
	const struct ws_req *in = arg;
	unsigned char id[WS_CHANNEL_BYTES];
	char hex[2 * WS_CHANNEL_BYTES + 1];
	char to[sizeof WS_REDIRECT + sizeof hex];

	(void)db;
	if (!in->upgrade)
		return reply_fail(r, API_BAD_REQUEST, "GET /ws is a WebSocket: "
		    "the request must carry \"Upgrade: websocket\"");
	randombytes_buf(id, sizeof id);
	sodium_bin2hex(hex, sizeof hex, id, sizeof id);
	snprintf(to, sizeof to, WS_REDIRECT "%s", hex);
	if (!reply_header(r, "X-Accel-Redirect", to))
		return reply_fail(r, API_INTERNAL, "the WebSocket cannot be "
		    "opened");
	return API_OK;
}

const struct route route_ws = {
	.path = "/ws", .method = "GET", .body = BODY_NONE,
	.session = SESSION_NEVER,
	.req_size = sizeof(struct ws_req),
	.decode = ws_decode, .handle = ws,
};
