-- chatd schema, version 5: accounts and sessions (API.md 2.1).
--
-- A user made by users/add has no password_hash and cannot log in. Tokens
-- are never stored: a session keeps BLAKE2b-512 of its token in two halves,
-- token_id (looked up) and token_check (compared by chatd in constant time;
-- src/token.h). A session has ended when expires_at (its absolute
-- lifetime) has passed, or when it has been idle longer than chatd's
-- --session-idle; logout deletes it.
ALTER TABLE users
	ADD COLUMN password_hash  text,
	ADD COLUMN email          text,
	ADD COLUMN last_seen_at   timestamptz,
	ADD COLUMN is_admin       boolean NOT NULL DEFAULT false;

CREATE TABLE sessions (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_id      bytea NOT NULL UNIQUE,
	token_check   bytea NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
	last_used_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
	expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Failed logins of an account, for the limit of API.md 2.1 (at most
-- --login-failures an hour). Rows older than an hour no longer count and
-- are deleted by the login that finds them.
CREATE TABLE login_failures (
	user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX login_failures_user_idx ON login_failures (user_id, at);
