/* The SQL chatd runs: one table of statements, prepared on every new
 * database connection and executed by their enum. Results are requested in
 * binary form (see pgbin.h); parameters are sent as text. */
#ifndef CHATD_QUERIES_H
#define CHATD_QUERIES_H

enum query {
	Q_USER_ADD,		/* $1 username -> id; no row: name taken */
	Q_USER_EXISTS,		/* $1 user id -> a row if it exists */
	Q_CHAT_ADD,		/* $1 name, $2 int8[] -> new_chat, missing_user */
	Q_CHAT_EXISTS,		/* $1 chat id -> a row if it exists */
	Q_CHATS_OF_USER,	/* $1 user -> id, name, created_at,
				   last_message_at, members int8[] */
	Q_MESSAGE_ADD,		/* $1 chat, $2 author, $3 text, $4 key ->
				   outcome, message_id */
	Q_MESSAGES_OLDEST,	/* $1 chat, $2 after, $3 before, $4 limit
				   (NULL: all) -> id, author_id, text,
				   created_at, oldest first */
	Q_MESSAGES_NEWEST,	/* the same, but the newest $4 of the range,
				   still oldest first */
	Q__MAX
};

struct query_def {
	const char *name;	/* prepared statement name */
	const char *sql;
	int nparams;
};

extern const struct query_def queries[Q__MAX];

#endif
