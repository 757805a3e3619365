-- chatd schema, version 9: files, messages that carry one, edits, and
-- avatars (API.md 2.4, 2.5).
--
-- A file is recorded once its bytes are in the store under the name chatd
-- chose (stored), never the client's; name is the client's, kept for
-- Content-Disposition and the URL. A file's row and bytes never change:
-- a message shows its name, size and type by joining files.
CREATE TABLE files (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	uploader_id   bigint NOT NULL REFERENCES users (id),
	name          text NOT NULL,
	size          bigint NOT NULL CHECK (size >= 0),
	content_type  text NOT NULL,
	sha256        bytea NOT NULL CHECK (length(sha256) = 32),
	stored        text NOT NULL UNIQUE,
	created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- The per-user quota sums an uploader's files.
CREATE INDEX files_uploader_idx ON files (uploader_id) INCLUDE (size);

-- A message carries at most one file; with a file its text may be "".
-- edited_at: the last edit's time, NULL if never edited. A deleted
-- message is deleted: its id leaves a gap, unread counts and the chat's
-- newest message are those of the messages that remain.
ALTER TABLE messages
	ADD COLUMN file_id    bigint REFERENCES files (id),
	ADD COLUMN edited_at  timestamptz;
-- A download's authorization: the messages that carry a file.
CREATE INDEX messages_file_idx ON messages (file_id, chat_id)
	WHERE file_id IS NOT NULL;

-- A user's avatar: an uploaded image, readable by any signed-in user.
ALTER TABLE users ADD COLUMN avatar_file_id bigint REFERENCES files (id);
CREATE INDEX users_avatar_idx ON users (avatar_file_id)
	WHERE avatar_file_id IS NOT NULL;
