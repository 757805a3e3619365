/* POST /messages/edit {"message", "text"} -> 204: the author of message
 * replaces its text and sets its edited_at (API.md 2.4). text is checked
 * as messages/add checks it, except that "" (or only whitespace, stored
 * as "") is taken for a message that carries a file. 404 for no such
 * message, 403 for anyone but its author (or an author who has left the
 * chat), 400 for an empty text of a message without a file. */
#include "config.h"

#include "decode.h"
#include "message_change.h"
#include "route.h"

struct messages_edit_req {
	int64_t caller, message;
	const char *text;	/* borrowed from the body; "" when blank */
};

/* sql/010_edit_search.sql: outcome, a word. */
static const struct query messages_edit_q = {"messages_edit",
    "SELECT outcome FROM chatd_message_edit($1, $2, $3)", 3};

static bool messages_edit_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_edit_req *req = out;
	bool blank;

	req->caller = d->caller->user;
	if (!decode_id(root, "message", true, &req->message, d))
		return false;
	req->text = decode_text_or_blank(root, "text",
	    decode_limits.text_max, &blank, d);
	/* As messages/add with a file: "" empties the text, white space
	 * alone is no text at all. */
	if (req->text != NULL && blank && *req->text != '\0')
		return decode_fail(d, "field 'text' must not be only white space "
		    "(\"\" empties the text of a message with a file; one with "
		    "no file needs a text)");
	return req->text != NULL;
}

static enum api_error messages_edit(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_edit_req *in = arg;

	return message_change(db, &messages_edit_q, in->caller, in->message,
	    in->text, r);
}

const struct route route_messages_edit = {
	.path = "/messages/edit", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct messages_edit_req),
	.decode = messages_edit_decode, .handle = messages_edit,
	.queries = (const struct query *const[]){&messages_edit_q, NULL},
};
