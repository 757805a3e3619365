-- messages/add, version 2. The outcome is a word that src/api/messages_add.c
-- matches by name (no parallel list of numbers), and an Idempotency-Key that
-- the author already used for another request is refused (API.md section 1):
--   'created'     message_id is the new message;
--   'replayed'    message_id is the author's earlier message with p_key,
--                 which has this chat and this text; nothing is stored;
--   'key_reused'  the author's earlier message with p_key has another chat
--                 or another text; nothing is stored, message_id is NULL;
--   'no_chat'     no such chat;  'no_author'  no such author;
--   'not_member'  the author is not a member of the chat.
-- Writers of one chat are serialized by a row lock on the chat, taken
-- before the message id is drawn and held to commit: id order is commit
-- order, so a reader paging with "after" never misses a message.
DROP FUNCTION chatd_message_add(bigint, bigint, text, text);
CREATE FUNCTION chatd_message_add(p_chat bigint, p_author bigint,
	p_text text, p_key text, OUT outcome text, OUT message_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	last_at timestamptz;
	created timestamptz;
	same boolean;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM chat_members
	               WHERE chat_id = p_chat AND user_id = p_author) THEN
		outcome := CASE
			WHEN NOT EXISTS (SELECT 1 FROM chats WHERE id = p_chat)
				THEN 'no_chat'
			WHEN NOT EXISTS (SELECT 1 FROM users WHERE id = p_author)
				THEN 'no_author'
			ELSE 'not_member' END;
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
		SELECT id, chat_id = p_chat AND text = p_text
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
	UPDATE chats SET last_message_at = created WHERE id = p_chat;
	outcome := 'created';
END
$$;
