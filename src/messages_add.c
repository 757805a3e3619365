/* POST /messages/add {"chat", "author", "text"} [Idempotency-Key] ->
 * 201 {"id"}; 404 for an unknown chat or author; 403 for a non-member.
 * A repeated Idempotency-Key of the same author answers the earlier 201. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "handlers.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"

/* Outcomes of chatd_message_add() (sql/002_functions.sql). */
enum {
	OUTCOME_CREATED,
	OUTCOME_REPLAYED,
	OUTCOME_NO_CHAT,
	OUTCOME_NO_AUTHOR,
	OUTCOME_NOT_MEMBER
};

enum api_error messages_add(struct db *db, const union request *req,
    struct reply *r)
{
	const struct messages_add_req *in = &req->messages_add;
	char chat[21], author[21];
	const char *params[4] = {chat, author, in->text, in->idempotency_key};
	enum api_error err;
	PGresult *res;
	int outcome;

	id_format(in->chat, chat);
	id_format(in->author, author);
	res = db_query(db, Q_MESSAGE_ADD, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	outcome = pgbin_int4(PQgetvalue(res, 0, 0));
	switch (outcome) {
	case OUTCOME_CREATED:
	case OUTCOME_REPLAYED:
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, 1)));
		err = API_OK;
		break;
	case OUTCOME_NO_CHAT:
		err = reply_fail(r, API_NOT_FOUND, "chat %s does not exist",
		    chat);
		break;
	case OUTCOME_NO_AUTHOR:
		err = reply_fail(r, API_NOT_FOUND, "user %s does not exist",
		    author);
		break;
	case OUTCOME_NOT_MEMBER:
		err = reply_fail(r, API_FORBIDDEN, "user %s is not a member of "
		    "chat %s", author, chat);
		break;
	default:
		err = reply_fail(r, API_INTERNAL, "unexpected result");
	}
	PQclear(res);
	return err;
}
