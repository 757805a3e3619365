-- chatd schema, version 10: editing, deleting and searching messages
-- (API.md 2.4).
--
-- An edit and a delete take the chat's row lock (FOR NO KEY UPDATE, as
-- every writer of a chat does: sql/006_membership.sql) before the
-- message's row lock, so that edits, deletes, new messages and membership
-- changes of one chat serialize, and two of them never wait on each other
-- in opposite order (chatd_message_locked).

-- Search: PostgreSQL full-text search with the `simple` configuration
-- (no stemming, no stop words: any language is searched by its words as
-- written), after a full Unicode lowercasing by ICU's root locale, since
-- `simple` lowercases by the database's LC_CTYPE, which under the C locale
-- leaves "Привет" and "привет" two words. Both functions are the one
-- definition of a message's words and of a query's: the index is built on
-- the first, the search statement calls the second (src/api/
-- messages_search.c). Names are schema-qualified because an index
-- expression may be evaluated with another search_path (a restore, an
-- ANALYZE); the first is a plain SQL body so that it is inlined and the
-- index matches it.
CREATE FUNCTION chatd_search_words(p_text text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
	pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
	                       pg_catalog.lower(p_text COLLATE "und-x-icu"));

-- A query, in the syntax of websearch_to_tsquery: words (all must match),
-- "quoted phrases", OR, and -word to exclude one; it never fails on a
-- syntax error. Notices (a query with no word) are not sent to chatd's
-- log: a client can send such a query as often as it likes.
CREATE FUNCTION chatd_search_query(p_query text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET client_min_messages = warning
RETURN
	pg_catalog.websearch_to_tsquery('pg_catalog.simple'::pg_catalog.regconfig,
	                                pg_catalog.lower(p_query COLLATE "und-x-icu"));

-- Whether a query can be answered from the index: it has a word, and
-- every message it matches holds one of its words (querytree() is 'T'
-- for a query that only excludes, such as "-word", which would read
-- every message of every chat). messages/search refuses the others.
CREATE FUNCTION chatd_search_usable(p_query tsquery) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
	pg_catalog.querytree(p_query) NOT IN ('', 'T');

-- The index: a chat's messages by word. messages/search probes it once
-- per chat of the caller (chat_id = the chat, words @@ the query), so a
-- common word costs the matches in the caller's chats, not the millions
-- it has in all of them. btree_gin gives GIN its bigint column; it is a
-- trusted extension, which the database's owner may create.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_search_idx ON messages
	USING gin (chat_id, chatd_search_words(text));

-- The message p_message and its chat as p_caller may change them, both
-- locked, the chat first: every column NULL when there is no such message
-- (or it was deleted while this waited for the lock). member: p_caller is
-- a member of the chat.
CREATE FUNCTION chatd_message_locked(p_caller bigint, p_message bigint,
	OUT chat_id bigint, OUT author_id bigint, OUT file_id bigint,
	OUT created_at timestamptz, OUT owner_id bigint, OUT member boolean)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT m.chat_id INTO chat_id FROM messages m WHERE m.id = p_message;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT c.owner_id INTO owner_id FROM chats c WHERE c.id = chat_id
	   FOR NO KEY UPDATE;
	SELECT m.author_id, m.file_id, m.created_at
	  INTO author_id, file_id, created_at
	  FROM messages m WHERE m.id = p_message FOR UPDATE;
	IF NOT FOUND THEN
		chat_id := NULL;
		owner_id := NULL;
		RETURN;
	END IF;
	member := EXISTS (SELECT 1 FROM chat_members cm
	                  WHERE cm.chat_id = chatd_message_locked.chat_id
	                    AND cm.user_id = p_caller);
END
$$;

-- messages/edit: p_caller sets the text of message p_message to p_text
-- ("" only for a message that carries a file) and its edited_at to now
-- (never before its created_at). outcome:
--   'edited'      done;
--   'no_message'  no such message (or it was deleted meanwhile);
--   'not_author'  p_caller is not its author, or no longer a member of
--                 its chat;
--   'no_text'     p_text is "" and the message has no file.
-- Every refusal changes nothing.
CREATE FUNCTION chatd_message_edit(p_caller bigint, p_message bigint,
	p_text text, OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	m record;
BEGIN
	SELECT * INTO m FROM chatd_message_locked(p_caller, p_message);
	IF m.chat_id IS NULL THEN
		outcome := 'no_message';
	ELSIF m.author_id <> p_caller OR NOT m.member THEN
		outcome := 'not_author';
	ELSIF p_text = '' AND m.file_id IS NULL THEN
		outcome := 'no_text';
	ELSE
		UPDATE messages
		   SET text = p_text,
		       edited_at = greatest(clock_timestamp(), m.created_at)
		 WHERE id = p_message;
		outcome := 'edited';
	END IF;
END
$$;

-- messages/delete: p_caller deletes message p_message, as its author or as
-- the chat's owner, being a member of the chat. The row is deleted (its
-- id is never reused); when it was the chat's newest, the chat's
-- last_message_id and last_message_at become those of the newest message
-- that remains (NULL when none does), so chats/get's order and unread
-- counts stay exact. outcome:
--   'deleted'     done;
--   'no_message'  no such message (or it was deleted meanwhile);
--   'forbidden'   p_caller is neither its author nor the chat's owner, or
--                 not a member of the chat.
CREATE FUNCTION chatd_message_delete(p_caller bigint, p_message bigint,
	OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	m record;
BEGIN
	SELECT * INTO m FROM chatd_message_locked(p_caller, p_message);
	IF m.chat_id IS NULL THEN
		outcome := 'no_message';
	ELSIF (m.author_id <> p_caller AND m.owner_id IS DISTINCT FROM p_caller)
	   OR NOT m.member THEN
		outcome := 'forbidden';
	ELSE
		DELETE FROM messages WHERE id = p_message;
		UPDATE chats c
		   SET (last_message_id, last_message_at) =
		       (SELECT x.id, x.created_at FROM messages x
		         WHERE x.chat_id = m.chat_id ORDER BY x.id DESC LIMIT 1)
		 WHERE c.id = m.chat_id AND c.last_message_id = p_message;
		outcome := 'deleted';
	END IF;
END
$$;
