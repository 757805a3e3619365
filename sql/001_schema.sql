-- chatd schema, version 1: users, chats, their members, messages.
-- Ids are bigint identities; times are timestamptz with microseconds.

CREATE TABLE users (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username    text NOT NULL UNIQUE,
	created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- last_message_at is kept by chatd_message_add() in the transaction that
-- inserts the message, so listing a user's chats never scans messages.
CREATE TABLE chats (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name             text NOT NULL UNIQUE,
	created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
	last_message_at  timestamptz
);

CREATE TABLE chat_members (
	chat_id  bigint NOT NULL REFERENCES chats (id),
	user_id  bigint NOT NULL REFERENCES users (id),
	PRIMARY KEY (chat_id, user_id)
);
-- chats/get: the chats of one user.
CREATE INDEX chat_members_user_idx ON chat_members (user_id, chat_id);

-- Within one chat, id order is commit order (see chatd_message_add), and
-- created_at never decreases along it.
CREATE TABLE messages (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	chat_id          bigint NOT NULL REFERENCES chats (id),
	author_id        bigint NOT NULL REFERENCES users (id),
	text             text NOT NULL,
	created_at       timestamptz NOT NULL,
	idempotency_key  text
);
-- messages/get: a chat's messages in order, and any page of them.
CREATE INDEX messages_chat_idx ON messages (chat_id, id);
-- messages/add retries: one message per author and Idempotency-Key.
CREATE UNIQUE INDEX messages_idempotency_idx
	ON messages (author_id, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
