-- chatd schema, version 6: chat types, owners, membership changes and read
-- markers (API.md 2.3), messages to people (2.4).
--
-- A private chat belongs to the pair (pair_low, pair_high), its two
-- members, lower id first; there is one per pair (a unique index) and its
-- membership never changes. A group chat's name is unique among group
-- chats; a private chat's name is only a label. owner_id is the group
-- chat's owner, NULL for a private chat and for a chat that chats/add made
-- without a session (whose membership is fixed).
--
-- Every change of a chat's membership, and every new message, first takes
-- the chat's row lock (FOR NO KEY UPDATE) and holds it to commit. So a
-- message is never stored after its author's removal committed: the
-- writer that gets the lock second sees what the first one committed.
--
-- A member's read marker, chat_members.last_read, is a message id (NULL:
-- nothing read) that only moves forward. Unread counts are never stored:
-- chats/get counts the messages after the marker that others wrote, with
-- an index that holds the author, so the count is exact at every moment.

-- chats.last_message_id is the newest message's id, kept with
-- last_message_at: a member whose read marker is at or past it has no
-- unread message, which chats/get then knows without counting.
ALTER TABLE chats
	ADD COLUMN last_message_id bigint,
	ADD COLUMN type       text NOT NULL DEFAULT 'group'
	                      CHECK (type IN ('group', 'private')),
	ADD COLUMN owner_id   bigint REFERENCES users (id),
	ADD COLUMN pair_low   bigint REFERENCES users (id),
	ADD COLUMN pair_high  bigint REFERENCES users (id),
	ADD CHECK ((type = 'private') = (pair_low IS NOT NULL)),
	ADD CHECK ((type = 'private') = (pair_high IS NOT NULL)),
	ADD CHECK (pair_low < pair_high),
	ADD CHECK (type = 'group' OR owner_id IS NULL);
ALTER TABLE chats DROP CONSTRAINT chats_name_key;
CREATE UNIQUE INDEX chats_group_name_idx ON chats (name)
	WHERE type = 'group';
CREATE UNIQUE INDEX chats_pair_idx ON chats (pair_low, pair_high)
	WHERE type = 'private';
-- messages/broadcast: every private chat of one user.
CREATE INDEX chats_pair_high_idx ON chats (pair_high)
	WHERE type = 'private';

ALTER TABLE chat_members
	ADD COLUMN joined_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
	ADD COLUMN last_read  bigint;
UPDATE chat_members m SET joined_at = c.created_at
  FROM chats c WHERE c.id = m.chat_id;
UPDATE chats c SET last_message_id = (SELECT max(id) FROM messages
                                       WHERE chat_id = c.id)
 WHERE c.last_message_at IS NOT NULL;

-- The index of a chat's messages in order now carries their authors, so
-- that an unread count is an index-only scan.
CREATE INDEX messages_chat_author_idx ON messages (chat_id, id)
	INCLUDE (author_id);
DROP INDEX messages_chat_idx;

-- chats/add, version 2: as before, and p_owner (NULL without a session)
-- becomes the chat's owner and one of its members.
DROP FUNCTION chatd_chat_add(text, bigint[]);
CREATE FUNCTION chatd_chat_add(p_name text, p_users bigint[],
	p_owner bigint, OUT new_chat bigint, OUT missing_user bigint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT min(u) INTO missing_user
	  FROM unnest(p_users) AS u
	 WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = u);
	IF missing_user IS NOT NULL THEN
		RETURN;
	END IF;
	INSERT INTO chats (name, owner_id) VALUES (p_name, p_owner)
	ON CONFLICT (name) WHERE type = 'group' DO NOTHING
	RETURNING id INTO new_chat;
	IF new_chat IS NOT NULL THEN
		INSERT INTO chat_members (chat_id, user_id)
		SELECT DISTINCT new_chat, u
		  FROM unnest(p_users || p_owner) AS u WHERE u IS NOT NULL;
	END IF;
END
$$;

-- The private chat of p_a and p_b (p_a <> p_b), made now if the pair has
-- none, named p_name or, when that is NULL, after the two usernames:
--   chat_id set, created true   made now;
--   chat_id set, created false  it existed;
--   chat_id NULL                p_b does not exist (p_a is the caller).
-- Concurrent calls for one pair make one chat: the second INSERT waits on
-- the unique index for the first to commit, then finds its chat.
CREATE FUNCTION chatd_direct(p_a bigint, p_b bigint, p_name text,
	OUT chat_id bigint, OUT created boolean)
LANGUAGE plpgsql AS $$
DECLARE
	lo bigint := least(p_a, p_b);
	hi bigint := greatest(p_a, p_b);
	label text;
BEGIN
	created := false;
	SELECT id INTO chat_id FROM chats
	 WHERE type = 'private' AND pair_low = lo AND pair_high = hi;
	IF FOUND THEN
		RETURN;
	END IF;
	SELECT coalesce(p_name, string_agg(username, ', ' ORDER BY id))
	  INTO label FROM users WHERE id IN (lo, hi);
	IF (SELECT count(*) FROM users WHERE id IN (lo, hi)) < 2 THEN
		RETURN;
	END IF;
	INSERT INTO chats (name, type, pair_low, pair_high)
	VALUES (label, 'private', lo, hi)
	ON CONFLICT (pair_low, pair_high) WHERE type = 'private' DO NOTHING
	RETURNING id INTO chat_id;
	IF chat_id IS NULL THEN
		SELECT id INTO chat_id FROM chats
		 WHERE type = 'private' AND pair_low = lo AND pair_high = hi;
		RETURN;
	END IF;
	INSERT INTO chat_members (chat_id, user_id)
	VALUES (chat_id, lo), (chat_id, hi);
	created := true;
END
$$;

-- messages/add, version 3: the chat's row lock is taken before the
-- membership check, so the check and the insert see one membership (see
-- the top of this file). Outcomes as in version 2
-- (sql/004_message_outcomes.sql).
CREATE OR REPLACE FUNCTION chatd_message_add(p_chat bigint, p_author bigint,
	p_text text, p_key text, OUT outcome text, OUT message_id bigint)
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
	UPDATE chats SET last_message_at = created, last_message_id = message_id
	 WHERE id = p_chat;
	outcome := 'created';
END
$$;

-- messages/send: chatd_direct, then chatd_message_add, in one
-- transaction. outcome: 'no_user' (p_to does not exist), or one of
-- chatd_message_add's; chat_id is the private chat. A refusal changes
-- nothing: an Idempotency-Key already used for another message
-- ('key_reused') undoes the chat it opened (the block's subtransaction),
-- and chat_id is then NULL.
CREATE FUNCTION chatd_send(p_from bigint, p_to bigint, p_text text,
	p_key text, OUT outcome text, OUT message_id bigint,
	OUT chat_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		SELECT d.chat_id INTO chat_id FROM chatd_direct(p_from, p_to, NULL) d;
		IF chat_id IS NULL THEN
			outcome := 'no_user';
			RETURN;
		END IF;
		SELECT a.outcome, a.message_id INTO outcome, message_id
		  FROM chatd_message_add(chat_id, p_from, p_text, p_key) a;
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

-- messages/broadcast: one message p_text from p_from into their private
-- chat with every other user, the missing chats made first; the number of
-- messages stored, or NULL (nothing done) when p_from is not an
-- administrator and p_anyone (chatd's --broadcast anyone) is false. Set-based (a statement per step, not per user), and
-- every chat written is locked in id order before any message id is drawn
-- (id order stays commit order in each chat; no deadlock with another
-- broadcast).
CREATE FUNCTION chatd_broadcast(p_from bigint, p_text text,
	p_anyone boolean)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	at timestamptz;
	n bigint;
BEGIN
	IF NOT p_anyone AND
	   NOT coalesce((SELECT is_admin FROM users WHERE id = p_from), false) THEN
		RETURN NULL;
	END IF;
	-- The users without a private chat with p_from: NOT IN a list is a
	-- hashed subplan whatever the statistics say (an anti-join planned
	-- when the table was small compared every pair: 100 million rows).
	WITH made AS (
		INSERT INTO chats (name, type, pair_low, pair_high)
		SELECT CASE WHEN o.id < p_from THEN o.username || ', ' || f.username
		            ELSE f.username || ', ' || o.username END,
		       'private', least(o.id, p_from), greatest(o.id, p_from)
		  FROM users o CROSS JOIN (SELECT username FROM users
		                           WHERE id = p_from) f
		 WHERE o.id <> p_from
		   AND o.id NOT IN (SELECT pair_high FROM chats
		                     WHERE type = 'private' AND pair_low = p_from
		                    UNION ALL
		                    SELECT pair_low FROM chats
		                     WHERE type = 'private' AND pair_high = p_from)
		 ORDER BY o.id
		ON CONFLICT (pair_low, pair_high) WHERE type = 'private' DO NOTHING
		RETURNING id, pair_low, pair_high)
	INSERT INTO chat_members (chat_id, user_id)
	SELECT id, pair_low FROM made UNION ALL SELECT id, pair_high FROM made;

	-- p_from's private chats, each side by its own index.
	PERFORM 1 FROM chats
	  WHERE id IN (SELECT id FROM chats
	                WHERE type = 'private' AND pair_low = p_from
	               UNION ALL
	               SELECT id FROM chats
	                WHERE type = 'private' AND pair_high = p_from)
	  ORDER BY id FOR NO KEY UPDATE;
	at := clock_timestamp();
	WITH sent AS (
		INSERT INTO messages (chat_id, author_id, text, created_at)
		SELECT id, p_from, p_text, greatest(at, last_message_at)
		  FROM chats
		 WHERE id IN (SELECT id FROM chats
		               WHERE type = 'private' AND pair_low = p_from
		              UNION ALL
		              SELECT id FROM chats
		               WHERE type = 'private' AND pair_high = p_from)
		 ORDER BY id
		RETURNING id, chat_id, created_at)
	UPDATE chats c SET last_message_at = s.created_at, last_message_id = s.id
	  FROM sent s WHERE c.id = s.chat_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- chats/members/add and chats/members/remove: p_caller changes the
-- membership of p_chat for p_user, under the chat's row lock. outcome:
--   'added' | 'already' | 'removed'   done (or nothing to do);
--   'no_chat'      no such chat;
--   'not_member'   p_caller is not a member;
--   'private'      a private chat's members never change;
--   'fixed'        the chat has no owner (made without a session);
--   'not_owner'    p_caller is neither the owner nor (removing) p_user;
--   'no_user'      (add) p_user does not exist;
--   'no_member'    (remove) p_user is not a member.
-- When the owner leaves, the longest-standing remaining member (then the
-- lowest id) becomes the owner.
CREATE FUNCTION chatd_member_change(p_caller bigint, p_chat bigint,
	p_user bigint, p_add boolean, OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	c chats%ROWTYPE;
BEGIN
	SELECT * INTO c FROM chats WHERE id = p_chat FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		outcome := 'no_chat';
	ELSIF NOT EXISTS (SELECT 1 FROM chat_members
	                  WHERE chat_id = p_chat AND user_id = p_caller) THEN
		outcome := 'not_member';
	ELSIF c.type = 'private' THEN
		outcome := 'private';
	ELSIF c.owner_id IS NULL THEN
		outcome := 'fixed';
	ELSIF c.owner_id <> p_caller AND (p_add OR p_user <> p_caller) THEN
		outcome := 'not_owner';
	ELSIF p_add THEN
		IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user) THEN
			outcome := 'no_user';
			RETURN;
		END IF;
		INSERT INTO chat_members (chat_id, user_id) VALUES (p_chat, p_user)
		ON CONFLICT DO NOTHING;
		outcome := CASE WHEN FOUND THEN 'added' ELSE 'already' END;
	ELSE
		DELETE FROM chat_members WHERE chat_id = p_chat AND user_id = p_user;
		IF NOT FOUND THEN
			outcome := 'no_member';
			RETURN;
		END IF;
		IF p_user = c.owner_id THEN
			UPDATE chats SET owner_id = (SELECT user_id FROM chat_members
			                              WHERE chat_id = p_chat
			                              ORDER BY joined_at, user_id
			                              LIMIT 1)
			 WHERE id = p_chat;
		END IF;
		outcome := 'removed';
	END IF;
END
$$;

-- chats/read: moves p_caller's read marker in p_chat forward to p_message.
-- outcome: 'read' (done, or the marker was already past it), 'no_chat',
-- 'not_member', 'bad_message' (p_message is of another chat or beyond the
-- chat's last message).
CREATE FUNCTION chatd_read(p_caller bigint, p_chat bigint,
	p_message bigint, OUT outcome text)
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM chats WHERE id = p_chat) THEN
		outcome := 'no_chat';
	ELSIF NOT EXISTS (SELECT 1 FROM chat_members
	                  WHERE chat_id = p_chat AND user_id = p_caller) THEN
		outcome := 'not_member';
	ELSIF EXISTS (SELECT 1 FROM messages
	              WHERE id = p_message AND chat_id <> p_chat)
	   OR p_message > coalesce((SELECT max(id) FROM messages
	                            WHERE chat_id = p_chat), 0) THEN
		outcome := 'bad_message';
	ELSE
		UPDATE chat_members SET last_read = p_message
		 WHERE chat_id = p_chat AND user_id = p_caller
		   AND (last_read IS NULL OR last_read < p_message);
		outcome := 'read';
	END IF;
END
$$;
