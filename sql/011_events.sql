-- chatd schema, version 11: real-time events (API.md 2.6, contrib/doc/
-- REALTIME.md section 1): the outbox that every change writes, the event
-- log that clients read, the relay's position, and typing.
--
-- The write path stays cheap: a change inserts one small row into
-- event_outbox in its own transaction, by a trigger, and nothing else (no
-- JSON, no recipients). The relay alone moves outbox rows into events
-- (chatd_events_take), numbering them in the order it takes them, one
-- take after another: an id a client has seen is never followed by a
-- smaller one. Recipients and JSON are worked out at that moment.
--
-- Which change writes which outbox row, and how:
--   messages INSERT (messages/add, /send, /broadcast, seed 003's frames)
--     one 'message.created' per message (a statement trigger);
--   messages UPDATE OF text        'message.edited' (row trigger);
--   messages DELETE                'message.deleted' (statement trigger);
--   chats INSERT (chats/add, chats/direct, /send and /broadcast opening a
--     private chat)                'chat.created' (statement trigger). The
--     members a chat is made with get chat.created and no member_added:
--     a chats/add of 1,000 users is one event to 1,000 users, not 1,000
--     events to each of them;
--   chat_members DELETE            'chat.member_removed' (statement
--     trigger), user_id the removed member, who gets this one event;
--   chatd_member_change 'added'    'chat.member_added': an explicit insert
--     (below), because a trigger on chat_members INSERT cannot tell a
--     member added to a chat from the members of a chat being made;
--   chat_members UPDATE of last_read, when it changes: 'chat.read', to the
--     member alone (row trigger; chatd_read updates only when the marker
--     moves forward);
--   sessions DELETE (logout, logout_all, password)  'session.ended'
--     (statement trigger): the relay closes that session's streams.
-- 'presence' rows are written by the presence code (sql/012_presence.sql:
-- user_id the user who came online or went offline, online).
--
-- Who gets a presence event of user U (API.md 2.13): U (their other
-- devices) and U's chat partners, the distinct members of every chat U is
-- a member of. On the stream: the partners of the moment the relay takes
-- the event (chatd_event_channels). In events/get: a caller C who shares
-- a chat with U at the moment of reading, and had shared it since before
-- the event was numbered: some chat has both C and U as members now, and
-- both joined it at or before the event's created_at (the rule of a
-- chat's events, for the pair). A partner met later does not read U's
-- earlier comings and goings.

CREATE TABLE event_outbox (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type        text NOT NULL CHECK (type IN ('message.created',
	            'message.edited', 'message.deleted', 'chat.created',
	            'chat.member_added', 'chat.member_removed', 'chat.read',
	            'presence', 'session.ended')),
	chat_id     bigint,
	user_id     bigint,		-- a recipient named directly
	message_id  bigint,
	session_id  bigint,
	online      boolean		-- presence only
);

-- The log. members: the event goes to the chat's members (those of the
-- moment it is taken, and, for events/get, those who are members now and
-- joined at or before created_at); user_id: to that user as well, and for
-- a presence event (members false) to that user's chat partners (above).
-- data:
-- the event's JSON text, {"id","type","chat","data"}, as clients get it;
-- NULL for a session.ended, which is no client's event (session_id set).
-- created_at is the time of the take: it grows with id.
CREATE TABLE events (
	id          bigint PRIMARY KEY,
	type        text NOT NULL,
	chat_id     bigint,
	user_id     bigint,
	members     boolean NOT NULL,
	session_id  bigint,
	data        text,
	created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- events/get: a chat's events in order, and a user's own.
CREATE INDEX events_chat_idx ON events (chat_id, id) INCLUDE (created_at)
	WHERE members;
CREATE INDEX events_user_idx ON events (user_id, id)
	WHERE user_id IS NOT NULL;
-- events/get: the presence events of each of the caller's partners.
CREATE INDEX events_presence_idx ON events (user_id, id) INCLUDE (created_at)
	WHERE type = 'presence';

-- One row. last_id: the largest id given out; published: how far the
-- relay has published (chatd_relay_published); horizon: the largest id
-- expired, so an events/get "after" below it is 410.
CREATE TABLE relay_state (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	last_id    bigint NOT NULL DEFAULT 0,
	published  bigint NOT NULL DEFAULT 0,
	horizon    bigint NOT NULL DEFAULT 0
);
INSERT INTO relay_state DEFAULT VALUES;

-- ---- the triggers: one outbox row per change, nothing else -------------

-- The statement triggers: one outbox row per row of "changed".
CREATE FUNCTION chatd_outbox_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	CASE TG_TABLE_NAME || ' ' || TG_OP
	WHEN 'messages INSERT' THEN
		INSERT INTO event_outbox (type, chat_id, message_id)
		SELECT 'message.created', chat_id, id FROM changed ORDER BY id;
	WHEN 'messages DELETE' THEN
		INSERT INTO event_outbox (type, chat_id, message_id)
		SELECT 'message.deleted', chat_id, id FROM changed ORDER BY id;
	WHEN 'chats INSERT' THEN
		INSERT INTO event_outbox (type, chat_id)
		SELECT 'chat.created', id FROM changed ORDER BY id;
	WHEN 'chat_members DELETE' THEN
		INSERT INTO event_outbox (type, chat_id, user_id)
		SELECT 'chat.member_removed', chat_id, user_id FROM changed;
	WHEN 'sessions DELETE' THEN
		INSERT INTO event_outbox (type, user_id, session_id)
		SELECT 'session.ended', user_id, id FROM changed;
	END CASE;
	RETURN NULL;
END
$$;
CREATE TRIGGER messages_created AFTER INSERT ON messages
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_outbox_rows();
CREATE TRIGGER messages_deleted AFTER DELETE ON messages
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_outbox_rows();
CREATE TRIGGER chats_created AFTER INSERT ON chats
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_outbox_rows();
CREATE TRIGGER chat_members_removed AFTER DELETE ON chat_members
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_outbox_rows();
CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_outbox_rows();

-- The row triggers: an edit, and a read marker that moved.
CREATE FUNCTION chatd_outbox_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'messages' THEN
		INSERT INTO event_outbox (type, chat_id, message_id)
		VALUES ('message.edited', NEW.chat_id, NEW.id);
	ELSE
		INSERT INTO event_outbox (type, chat_id, user_id, message_id)
		VALUES ('chat.read', NEW.chat_id, NEW.user_id, NEW.last_read);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER messages_edited AFTER UPDATE OF text, edited_at ON messages
	FOR EACH ROW EXECUTE FUNCTION chatd_outbox_row();
CREATE TRIGGER chat_members_read AFTER UPDATE OF last_read ON chat_members
	FOR EACH ROW WHEN (NEW.last_read IS DISTINCT FROM OLD.last_read)
	EXECUTE FUNCTION chatd_outbox_row();

-- chats/members/add: version 6 does the change; an 'added' writes its
-- chat.member_added in the same transaction (see the top of this file
-- for why this one is not a trigger). user_id names the new member.
ALTER FUNCTION chatd_member_change(bigint, bigint, bigint, boolean)
	RENAME TO chatd_member_change_v6;
CREATE FUNCTION chatd_member_change(p_caller bigint, p_chat bigint,
	p_user bigint, p_add boolean, OUT outcome text)
LANGUAGE plpgsql AS $$
BEGIN
	outcome := chatd_member_change_v6(p_caller, p_chat, p_user, p_add);
	IF outcome = 'added' THEN
		INSERT INTO event_outbox (type, chat_id, user_id)
		VALUES ('chat.member_added', p_chat, p_user);
	END IF;
END
$$;

-- ---- JSON as the API prints it (src/message_json.c, file_json.c) --------

-- A time: RFC 3339 UTC, six fractional digits (src/timefmt.c).
CREATE FUNCTION chatd_json_time(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
	CASE WHEN p_at IS NULL THEN 'null' ELSE
	'"' || to_char(p_at AT TIME ZONE 'UTC',
	               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' END;

-- An id: "42", or null.
CREATE FUNCTION chatd_json_id(p_id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
	coalesce('"' || p_id::text || '"', 'null');

-- A file's download URL, as filename_url() (src/filename.h) makes it.
CREATE FUNCTION chatd_file_url(p_id bigint, p_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
	'/files/' || p_id::text || '/' || CASE
	WHEN p_name = '.' THEN '_' WHEN p_name = '..' THEN '__' ELSE
	coalesce((SELECT string_agg(CASE
		WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90
		  OR b BETWEEN 97 AND 122 OR b IN (45, 46, 95, 126) THEN chr(b)
		WHEN b IN (47, 92) THEN '_'
		ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END, '' ORDER BY i)
	  FROM (SELECT i, get_byte(convert_to(p_name, 'UTF8'), i) AS b
	          FROM generate_series(0,
	               octet_length(convert_to(p_name, 'UTF8')) - 1) i) x),
	         '') END;

-- The "data" of an event is built by chatd_events_take below, in one
-- set-based statement: a scalar SQL function that reads a table (a message
-- object per call, say) cannot be inlined, and PostgreSQL ran each call as
-- a query of its own, 0.3-0.9 ms an event (measured: 1,000 rows took 895
-- ms; the same work as joins, 46 ms). The message object is exactly one
-- item of messages/get (API.md 2.4); a message.created or .edited of a
-- message deleted since has none (its message.deleted follows; the event
-- is dropped). Read when the row is taken, so an edit already made shows.

-- The nchan channels of an event of type p_type (REALTIME.md 3):
-- 's<session>' for a session.ended; else 'u<id>' of the chat's members now
-- (when members), of user_id, and for a presence event of every member
-- now of every chat user_id is a member of, comma-separated in id order,
-- each once; '' for nobody.
CREATE FUNCTION chatd_event_channels(p_type text, p_members boolean,
	p_chat bigint, p_user bigint, p_session bigint) RETURNS text
LANGUAGE sql STABLE RETURN CASE
	WHEN p_session IS NOT NULL THEN 's' || p_session::text
	ELSE coalesce((SELECT string_agg('u' || r.u::text, ',' ORDER BY r.u)
	       FROM (SELECT cm.user_id AS u FROM chat_members cm
	              WHERE p_members AND cm.chat_id = p_chat
	             UNION
	             SELECT partner.user_id FROM chat_members mine
	               JOIN chat_members partner
	                 ON partner.chat_id = mine.chat_id
	              WHERE p_type = 'presence' AND mine.user_id = p_user
	             UNION
	             SELECT p_user WHERE p_user IS NOT NULL) r), '')
	END;

-- ---- the relay's interface (REALTIME.md 1) ------------------------------

-- Moves up to p_limit outbox rows, oldest seq first, into events with the
-- next ids, and returns them in id order: (id, channels, body), body the
-- event's JSON, or NULL for a session.ended (channels 's<session>': the
-- relay deletes that channel). Callers are serialised by a transaction
-- advisory lock taken first, so ids follow the order of the takes even
-- with two callers at once; an outbox row committed after a take began
-- waits for the next take. A row whose event is dropped (its message was
-- deleted since) is deleted and takes no id.
CREATE FUNCTION chatd_events_take(p_limit int)
RETURNS TABLE (id bigint, channels text, body text)
LANGUAGE plpgsql AS $$
DECLARE
	base bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('chatd_events_take'));
	SELECT s.last_id INTO base FROM relay_state s FOR UPDATE;
	RETURN QUERY
	WITH taken AS (
		DELETE FROM event_outbox o
		 WHERE o.seq IN (SELECT x.seq FROM event_outbox x
		                  ORDER BY x.seq LIMIT p_limit)
		RETURNING o.*),
	built AS (
		SELECT t.*, CASE t.type
		       WHEN 'message.created' THEN mj.json
		       WHEN 'message.edited' THEN mj.json
		       WHEN 'message.deleted' THEN
		            '{"id":' || chatd_json_id(t.message_id) || '}'
		       WHEN 'chat.created' THEN
		            '{"id":' || chatd_json_id(c.id) ||
		            ',"name":' || to_json(c.name)::text ||
		            ',"type":' || to_json(c.type)::text ||
		            ',"owner":' || chatd_json_id(c.owner_id) || '}'
		       WHEN 'chat.member_added' THEN
		            '{"user":' || chatd_json_id(t.user_id) || '}'
		       WHEN 'chat.member_removed' THEN
		            '{"user":' || chatd_json_id(t.user_id) || '}'
		       WHEN 'chat.read' THEN
		            '{"message":' || chatd_json_id(t.message_id) || '}'
		       WHEN 'presence' THEN
		            '{"user":' || chatd_json_id(t.user_id) ||
		            ',"online":' || CASE WHEN t.online THEN 'true'
		                                 ELSE 'false' END || '}'
		       END AS data,
		       t.type NOT IN ('chat.read', 'presence', 'session.ended')
		           AS members
		  FROM taken t
		  LEFT JOIN chats c
		    ON t.type = 'chat.created' AND c.id = t.chat_id
		  LEFT JOIN LATERAL (
		       SELECT '{"id":' || chatd_json_id(m.id) ||
		              ',"chat":' || chatd_json_id(m.chat_id) ||
		              ',"author":' || chatd_json_id(m.author_id) ||
		              ',"text":' || to_json(m.text)::text ||
		              ',"created_at":' || chatd_json_time(m.created_at) ||
		              ',"type":' || CASE WHEN f.id IS NULL THEN '"text"'
		                  WHEN f.content_type LIKE 'image/%'
		                  THEN '"image"' ELSE '"file"' END ||
		              ',"file":' || CASE WHEN f.id IS NULL THEN 'null'
		                  ELSE '{"id":' || chatd_json_id(f.id) ||
		                  ',"name":' || to_json(f.name)::text ||
		                  ',"size":' || f.size::text ||
		                  ',"content_type":' ||
		                  to_json(f.content_type)::text ||
		                  ',"url":"' || chatd_file_url(f.id, f.name) ||
		                  '"}' END ||
		              ',"edited_at":' || chatd_json_time(m.edited_at) ||
		              '}' AS json
		         FROM messages m LEFT JOIN files f ON f.id = m.file_id
		        WHERE t.type IN ('message.created', 'message.edited')
		          AND m.id = t.message_id) mj ON true),
	kept AS (
		SELECT b.*, base + row_number() OVER (ORDER BY b.seq) AS eid
		  FROM built b
		 WHERE b.data IS NOT NULL OR b.type = 'session.ended'),
	ins AS (
		INSERT INTO events (id, type, chat_id, user_id, members,
		                    session_id, data)
		SELECT k.eid, k.type, k.chat_id, k.user_id, k.members,
		       k.session_id,
		       CASE WHEN k.data IS NOT NULL THEN
		       '{"id":"' || k.eid::text || '","type":"' || k.type ||
		       '","chat":' || chatd_json_id(k.chat_id) ||
		       ',"data":' || k.data || '}' END
		  FROM kept k
		RETURNING events.id, events.type, events.members, events.chat_id,
		          events.user_id, events.session_id, events.data)
	SELECT i.id, chatd_event_channels(i.type, i.members, i.chat_id,
	                                  i.user_id, i.session_id), i.data
	  FROM ins i ORDER BY i.id;
	UPDATE relay_state s
	   SET last_id = coalesce((SELECT max(e.id) FROM events e
	                            WHERE e.id > base), base);
END
$$;

-- The events already taken with id > p_after, at most p_limit, in id
-- order, as chatd_events_take returns them (channels from the members of
-- now): what a relay that restarted publishes again.
CREATE FUNCTION chatd_events_since(p_after bigint, p_limit int)
RETURNS TABLE (id bigint, channels text, body text)
LANGUAGE sql STABLE AS $$
	SELECT e.id, chatd_event_channels(e.type, e.members, e.chat_id,
	                                  e.user_id, e.session_id), e.data
	  FROM events e WHERE e.id > p_after ORDER BY e.id LIMIT p_limit;
$$;

-- Records that the relay has published every event up to p_id.
CREATE FUNCTION chatd_relay_published(p_id bigint) RETURNS void
LANGUAGE sql AS $$
	UPDATE relay_state SET published = p_id;
$$;

-- Deletes up to p_batch of the oldest events, those taken more than p_keep
-- ago, and returns how many; relay_state.horizon becomes the largest id
-- deleted (events/get refuses an "after" below it: 410). Only the p_batch
-- oldest rows are read (created_at grows with id), so a call that finds
-- nothing to delete costs one short index scan.
CREATE FUNCTION chatd_events_expire(p_keep interval, p_batch int)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	n int;
	top bigint;
BEGIN
	WITH gone AS (
		DELETE FROM events e
		 WHERE e.id IN (SELECT x.id FROM (SELECT y.id, y.created_at
		                                    FROM events y
		                                   ORDER BY y.id LIMIT p_batch) x
		                 WHERE x.created_at < clock_timestamp() - p_keep)
		RETURNING e.id)
	SELECT count(*), max(id) INTO n, top FROM gone;
	IF top IS NOT NULL THEN
		UPDATE relay_state SET horizon = greatest(horizon, top);
	END IF;
	RETURN n;
END
$$;

-- ---- typing (API.md 2.6, REALTIME.md 4) ---------------------------------

-- The time of a member's last typing notice that was sent on.
ALTER TABLE chat_members ADD COLUMN typing_at timestamptz;

-- chats/typing: p_user types in p_chat. outcome: 'typed' (sent on:
-- typing_at set and pg_notify('chatd_typing', '<chat>:<user>') in this
-- transaction), 'throttled' (the last one sent on is less than 3 s old:
-- nothing happens), 'no_chat', 'not_member'.
CREATE FUNCTION chatd_typing(p_chat bigint, p_user bigint,
	OUT outcome text)
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE chat_members SET typing_at = clock_timestamp()
	 WHERE chat_id = p_chat AND user_id = p_user
	   AND (typing_at IS NULL
	        OR typing_at < clock_timestamp() - interval '3 seconds');
	IF FOUND THEN
		PERFORM pg_notify('chatd_typing', p_chat::text || ':' ||
		                                  p_user::text);
		outcome := 'typed';
	ELSIF EXISTS (SELECT 1 FROM chat_members
	              WHERE chat_id = p_chat AND user_id = p_user) THEN
		outcome := 'throttled';
	ELSIF EXISTS (SELECT 1 FROM chats WHERE id = p_chat) THEN
		outcome := 'not_member';
	ELSE
		outcome := 'no_chat';
	END IF;
END
$$;

-- The typing event of p_user in p_chat, for the relay: channels the other
-- members ('' when none), body {"id":null,"type":"typing","chat","data":
-- {"user"}}. It is not stored.
CREATE FUNCTION chatd_typing_channels(p_chat bigint, p_user bigint,
	OUT channels text, OUT body text)
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT string_agg('u' || cm.user_id::text, ','
	                                   ORDER BY cm.user_id)
	                   FROM chat_members cm
	                  WHERE cm.chat_id = p_chat AND cm.user_id <> p_user),
	                ''),
	       '{"id":null,"type":"typing","chat":' || chatd_json_id(p_chat) ||
	       ',"data":{"user":' || chatd_json_id(p_user) || '}}';
$$;
