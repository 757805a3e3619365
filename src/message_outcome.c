#include "config.h"

#include <string.h>

#include "log.h"
#include "message_outcome.h"
#include "reply.h"

enum api_error message_outcome(const char *outcome, const char *chat,
    const char *author, const char *file, struct reply *r)
{
	if (strcmp(outcome, "created") == 0 ||
	    strcmp(outcome, "replayed") == 0)
		return API_OK;
	if (strcmp(outcome, "no_chat") == 0)
		return reply_fail(r, API_NOT_FOUND, "chat %s does not exist",
		    chat);
	if (strcmp(outcome, "no_author") == 0)
		return reply_fail(r, API_NOT_FOUND, "user %s does not exist",
		    author);
	if (strcmp(outcome, "not_member") == 0)
		return reply_fail(r, API_FORBIDDEN, "user %s is not a member of "
		    "chat %s", author, chat);
	if (strcmp(outcome, "no_file") == 0)
		return reply_fail(r, API_NOT_FOUND, "file %s not found among "
		    "user %s's uploads", file, author);
	if (strcmp(outcome, "key_reused") == 0)
		return reply_fail(r, API_IDEMPOTENCY_KEY_REUSED, "this "
		    "Idempotency-Key was already used by user %s for another "
		    "message (another chat, text or file); nothing was stored",
		    author);
	log_error("messages: unexpected outcome '%s'", outcome);
	return reply_fail(r, API_INTERNAL, "internal error");
}
