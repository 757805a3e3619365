#include "config.h"

#include <string.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "log.h"
#include "membership.h"
#include "reply.h"

/* sql/006_membership.sql: outcome, a word. */
static const struct query membership_q = {"membership_change",
    "SELECT outcome FROM chatd_member_change($1, $2, $3, $4)", 4};

/* Does chat $1 exist, and is user $2 a member? */
static const struct query membership_of = {"membership_of",
    "SELECT EXISTS (SELECT FROM chat_members"
    "  WHERE chat_id = c.id AND user_id = $2)"
    " FROM chats c WHERE c.id = $1", 2};

const struct query *const membership_queries[] = {&membership_q,
    &membership_of, NULL};

bool membership_decode(const json_t *root, void *out, struct decode_ctx *d)
{
	struct membership_req *req = out;

	req->caller = d->caller->user;
	return decode_id(root, "chat", true, &req->chat, d) &&
	    decode_id(root, "user", true, &req->user, d);
}

enum api_error membership_refuse(struct reply *r, bool exists,
    const char *chat)
{
	if (!exists)
		return reply_fail(r, API_NOT_FOUND, "chat %s does not exist",
		    chat);
	return reply_fail(r, API_FORBIDDEN, "the session's user is not a "
	    "member of chat %s", chat);
}

enum api_error membership_check(struct db *db, const char *chat,
    int64_t user, struct reply *r)
{
	char id[21];
	const char *params[2] = {chat, id};
	enum api_error err;
	PGresult *res;
	bool exists, member;

	id_format(user, id);
	res = db_query(db, &membership_of, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	exists = PQntuples(res) == 1;
	member = exists && *PQgetvalue(res, 0, 0) != 0;
	PQclear(res);
	return member ? API_OK : membership_refuse(r, exists, chat);
}

bool membership_refused(const char *outcome, const char *chat,
    struct reply *r, enum api_error *err)
{
	bool no_chat = strcmp(outcome, "no_chat") == 0;

	if (!no_chat && strcmp(outcome, "not_member") != 0)
		return false;
	*err = membership_refuse(r, !no_chat, chat);
	return true;
}

/* The answer to the function's outcome, whose words are listed in the
 * migration. */
static enum api_error answer(const char *outcome, const char *chat,
    const char *user, struct reply *r)
{
	enum api_error err;

	if (strcmp(outcome, "added") == 0 || strcmp(outcome, "already") == 0 ||
	    strcmp(outcome, "removed") == 0) {
		reply_no_content(r);
		return API_OK;
	}
	if (membership_refused(outcome, chat, r, &err))
		return err;
	if (strcmp(outcome, "private") == 0)
		return reply_fail(r, API_CONFLICT, "chat %s is private: its two "
		    "members never change", chat);
	if (strcmp(outcome, "fixed") == 0)
		return reply_fail(r, API_FORBIDDEN, "chat %s has no owner: its "
		    "members are fixed", chat);
	if (strcmp(outcome, "not_owner") == 0)
		return reply_fail(r, API_FORBIDDEN, "only the owner of chat %s "
		    "adds or removes others", chat);
	if (strcmp(outcome, "no_user") == 0)
		return reply_fail(r, API_NOT_FOUND, "user %s does not exist",
		    user);
	if (strcmp(outcome, "no_member") == 0)
		return reply_fail(r, API_NOT_FOUND, "user %s is not a member of "
		    "chat %s", user, chat);
	log_error("chats/members: unexpected outcome '%s'", outcome);
	return reply_fail(r, API_INTERNAL, "internal error");
}

enum api_error membership_change(struct db *db,
    const struct membership_req *in, bool add, struct reply *r)
{
	char caller[21], chat[21], user[21];
	const char *params[4] = {caller, chat, user, add ? "true" : "false"};
	char outcome[16];
	enum api_error err;

	id_format(in->caller, caller);
	id_format(in->chat, chat);
	id_format(in->user, user);
	if (!db_word(db, &membership_q, params, outcome, sizeof outcome, &err))
		return reply_db_error(r, err);
	return answer(outcome, chat, user, r);
}
