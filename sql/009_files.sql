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

-- files/upload: records the file chatd has moved into the store, when the
-- uploader's files and it stay within p_quota bytes (0: no quota).
-- file_id NULL past the quota; used: the bytes of the uploader's files
-- before this one. The uploader's row is locked first, so that two
-- uploads of one user at once cannot both pass the same quota.
CREATE FUNCTION chatd_file_add(p_user bigint, p_name text, p_size bigint,
	p_type text, p_sha256 bytea, p_stored text, p_quota bigint,
	OUT file_id bigint, OUT used bigint)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM FROM users WHERE id = p_user FOR NO KEY UPDATE;
	SELECT coalesce(sum(size), 0)::bigint INTO used
	  FROM files WHERE uploader_id = p_user;
	IF p_quota > 0 AND used + p_size > p_quota THEN
		RETURN;
	END IF;
	INSERT INTO files (uploader_id, name, size, content_type, sha256,
	                   stored)
	VALUES (p_user, p_name, p_size, p_type, p_sha256, p_stored)
	RETURNING id INTO file_id;
END
$$;

-- messages/add, version 4: p_file, a file of the author's to attach (NULL:
-- none). Outcomes as in version 3, and 'no_file' when p_file is not a
-- file the author uploaded (whether it exists is not told: ids cannot be
-- probed). A repeated Idempotency-Key replays only the same chat, text
-- and file. The old signature goes: chatd_send calls this one with its
-- default.
DROP FUNCTION chatd_message_add(bigint, bigint, text, text);
CREATE FUNCTION chatd_message_add(p_chat bigint, p_author bigint,
	p_text text, p_key text, p_file bigint DEFAULT NULL,
	OUT outcome text, OUT message_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	last_at timestamptz;
	created timestamptz;
	same boolean;
BEGIN
	SELECT last_message_at INTO last_at
	  FROM chats WHERE id = p_chat FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		outcome := 'no_chat';
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM chat_members
	               WHERE chat_id = p_chat AND user_id = p_author) THEN
		outcome := CASE
			WHEN NOT EXISTS (SELECT 1 FROM users WHERE id = p_author)
				THEN 'no_author'
			ELSE 'not_member' END;
		RETURN;
	END IF;
	IF p_file IS NOT NULL AND NOT EXISTS (SELECT 1 FROM files
	               WHERE id = p_file AND uploader_id = p_author) THEN
		outcome := 'no_file';
		RETURN;
	END IF;
	created := greatest(clock_timestamp(), last_at);
	INSERT INTO messages (chat_id, author_id, text, created_at,
	                      idempotency_key, file_id)
	VALUES (p_chat, p_author, p_text, created, p_key, p_file)
	ON CONFLICT (author_id, idempotency_key)
	   WHERE idempotency_key IS NOT NULL DO NOTHING
	RETURNING id INTO message_id;
	IF message_id IS NULL THEN
		SELECT id, chat_id = p_chat AND text = p_text AND
		       file_id IS NOT DISTINCT FROM p_file
		  INTO message_id, same
		  FROM messages
		 WHERE author_id = p_author AND idempotency_key = p_key;
		IF same THEN
			outcome := 'replayed';
		ELSE
			outcome := 'key_reused';
			message_id := NULL;
		END IF;
		RETURN;
	END IF;
	UPDATE chats SET last_message_at = created, last_message_id = message_id
	 WHERE id = p_chat;
	outcome := 'created';
END
$$;

-- messages/send, version 2: with p_file, as chatd_message_add version 4.
DROP FUNCTION chatd_send(bigint, bigint, text, text);
CREATE FUNCTION chatd_send(p_from bigint, p_to bigint, p_text text,
	p_key text, p_file bigint DEFAULT NULL, OUT outcome text,
	OUT message_id bigint, OUT chat_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		SELECT d.chat_id INTO chat_id FROM chatd_direct(p_from, p_to, NULL) d;
		IF chat_id IS NULL THEN
			outcome := 'no_user';
			RETURN;
		END IF;
		SELECT a.outcome, a.message_id INTO outcome, message_id
		  FROM chatd_message_add(chat_id, p_from, p_text, p_key, p_file) a;
		IF outcome NOT IN ('created', 'replayed') THEN
			RAISE EXCEPTION USING ERRCODE = 'triggered_action_exception',
			      MESSAGE = outcome;
		END IF;
	EXCEPTION WHEN triggered_action_exception THEN
		outcome := SQLERRM;
		message_id := NULL;
		chat_id := NULL;
	END;
END
$$;

-- users/avatar: p_file (NULL: none) becomes p_user's avatar. outcome:
-- 'set'; 'no_file' when it is not a file p_user uploaded; 'not_image'
-- when it is not an image by its content; 'too_large' past p_max bytes.
CREATE FUNCTION chatd_avatar(p_user bigint, p_file bigint, p_max bigint,
	OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	f files%ROWTYPE;
BEGIN
	IF p_file IS NOT NULL THEN
		SELECT * INTO f FROM files
		 WHERE id = p_file AND uploader_id = p_user;
		IF NOT FOUND THEN
			outcome := 'no_file';
			RETURN;
		ELSIF f.content_type NOT LIKE 'image/%' THEN
			outcome := 'not_image';
			RETURN;
		ELSIF f.size > p_max THEN
			outcome := 'too_large';
			RETURN;
		END IF;
	END IF;
	UPDATE users SET avatar_file_id = p_file WHERE id = p_user;
	outcome := 'set';
END
$$;
