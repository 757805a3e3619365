-- The two writes that take more than one statement, as functions so that
-- each request is one round trip and one transaction.

-- chats/add. Creates the chat p_name with the members p_users (repeats
-- count once), or nothing:
--   new_chat set               created;
--   missing_user set           that user does not exist (the lowest such id);
--   both NULL                  the name is taken.
CREATE FUNCTION chatd_chat_add(p_name text, p_users bigint[],
	OUT new_chat bigint, OUT missing_user bigint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT min(u) INTO missing_user
	  FROM unnest(p_users) AS u
	 WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = u);
	IF missing_user IS NOT NULL THEN
		RETURN;
	END IF;
	INSERT INTO chats (name) VALUES (p_name)
	ON CONFLICT (name) DO NOTHING
	RETURNING id INTO new_chat;
	IF new_chat IS NOT NULL THEN
		INSERT INTO chat_members (chat_id, user_id)
		SELECT DISTINCT new_chat, u FROM unnest(p_users) AS u;
	END IF;
END
$$;

-- messages/add. outcome:
--   0  created message_id;
--   1  replay: message_id is the author's earlier message with p_key;
--   2  no such chat;  3  no such author;  4  author is not a member.
-- Writers of one chat are serialized by a row lock on the chat, taken
-- before the message id is drawn and held to commit: id order is commit
-- order, so a reader paging with "after" never misses a message.
CREATE FUNCTION chatd_message_add(p_chat bigint, p_author bigint,
	p_text text, p_key text, OUT outcome int, OUT message_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	last_at timestamptz;
	created timestamptz;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM chat_members
	               WHERE chat_id = p_chat AND user_id = p_author) THEN
		outcome := CASE
			WHEN NOT EXISTS (SELECT 1 FROM chats WHERE id = p_chat) THEN 2
			WHEN NOT EXISTS (SELECT 1 FROM users WHERE id = p_author) THEN 3
			ELSE 4 END;
		RETURN;
	END IF;
	SELECT last_message_at INTO last_at
	  FROM chats WHERE id = p_chat FOR NO KEY UPDATE;
	created := greatest(clock_timestamp(), last_at);
	INSERT INTO messages (chat_id, author_id, text, created_at,
	                      idempotency_key)
	VALUES (p_chat, p_author, p_text, created, p_key)
	ON CONFLICT (author_id, idempotency_key)
	   WHERE idempotency_key IS NOT NULL DO NOTHING
	RETURNING id INTO message_id;
	IF message_id IS NULL THEN
		SELECT id INTO message_id FROM messages
		 WHERE author_id = p_author AND idempotency_key = p_key;
		outcome := 1;
		RETURN;
	END IF;
	UPDATE chats SET last_message_at = created WHERE id = p_chat;
	outcome := 0;
END
$$;
