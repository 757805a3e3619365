#include "config.h"

#include <stddef.h>
#include <string.h>

#include "db.h"
#include "id.h"
#include "log.h"
#include "message_change.h"
#include "reply.h"

/* The outcome words of sql/010_edit_search.sql, each with its answer,
 * whose message is "message <id>" and then why. */
static const struct {
	const char *word;
	enum api_error error;	/* API_OK: 204 */
	const char *why;
} outcomes[] = {
	{"edited", API_OK, ""},
	{"deleted", API_OK, ""},
	{"no_message", API_NOT_FOUND, " does not exist"},
	{"not_author", API_FORBIDDEN, ": only its author, a member of its "
	    "chat, may edit it"},
	{"forbidden", API_FORBIDDEN, ": only its author or the chat's owner, "
	    "a member of its chat, may delete it"},
	{"no_text", API_BAD_REQUEST, " carries no file: field 'text' must not "
	    "be empty"},
};

enum api_error message_change(struct db *db, const struct query *q,
    int64_t caller, int64_t message, const char *text, struct reply *r)
{
	char who[21], id[21];
	const char *params[3] = {who, id, text};
	char outcome[16];
	enum api_error err;
	size_t i;

	id_format(caller, who);
	id_format(message, id);
	if (!db_word(db, q, params, outcome, sizeof outcome, &err))
		return reply_db_error(r, err);
	for (i = 0; i < sizeof outcomes / sizeof *outcomes; i++) {
		if (strcmp(outcome, outcomes[i].word) != 0)
			continue;
		if (outcomes[i].error == API_OK) {
			reply_no_content(r);
			return API_OK;
		}
		return reply_fail(r, outcomes[i].error, "message %s%s", id,
		    outcomes[i].why);
	}
	log_error("%s: unexpected outcome '%s'", q->name, outcome);
	return reply_fail(r, API_INTERNAL, "internal error");
}
