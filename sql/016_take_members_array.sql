-- chatd schema, version 16: the relay's take reads a chat event's
-- recipients from chats.members (REALTIME.md 2).
--
-- A message (and a chat.created, message.edited, message.deleted) goes to
-- the chat's members. Version 14 gathered them from chat_members for
-- every event: a bitmap scan of the chat's rows, a hash aggregate to merge
-- them with the other recipients, a sort and string_agg, about a
-- microsecond a member (a 1,000-member chat: a millisecond of the take
-- per message). chats.members (sql/003_chat_member_lists.sql) holds the
-- same ids, sorted, kept in the transaction that changes chat_members; so
-- an event for the members alone (user_id NULL) reads that one array and
-- prints it. The member added or removed that a chat.member_added or
-- chat.member_removed names, and presence, keep version 14's union.
--
-- The rest of the function is version 14's, restated as CREATE OR
-- REPLACE must.

CREATE OR REPLACE FUNCTION chatd_events_take(p_limit int)
RETURNS TABLE (id bigint, channels text, body text)
SET plan_cache_mode = force_generic_plan
LANGUAGE plpgsql AS $$
DECLARE
	base bigint;
	n bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('chatd_events_take'));
	SELECT s.last_id INTO base FROM relay_state s;
	RETURN QUERY
	WITH taken AS (
		DELETE FROM event_outbox o
		 WHERE o.seq = ANY (ARRAY(SELECT x.seq FROM event_outbox x
		                           ORDER BY x.seq LIMIT p_limit))
		RETURNING o.*),
	built AS (
		SELECT t.*, CASE t.type
		       WHEN 'message.created' THEN mj.json
		       WHEN 'message.edited' THEN mj.json
		       WHEN 'message.deleted' THEN
		            '{"id":' || chatd_json_id(t.message_id) || '}'
		       WHEN 'chat.created' THEN cj.json
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
		  LEFT JOIN LATERAL (
		       SELECT '{"id":' || chatd_json_id(c.id) ||
		              ',"name":' || to_json(c.name)::text ||
		              ',"type":' || to_json(c.type)::text ||
		              ',"owner":' || chatd_json_id(c.owner_id) || '}' AS json
		         FROM chats c
		        WHERE t.type = 'chat.created' AND c.id = t.chat_id
		       OFFSET 0) cj ON true
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
	SELECT i.id, CASE WHEN i.session_id IS NOT NULL
	             THEN 's' || i.session_id::text
	             WHEN i.members AND i.user_id IS NULL THEN
	                  CASE WHEN cardinality(mc.members) > 0
	                  THEN 'u' || array_to_string(mc.members, ',u')
	                  ELSE '' END
	             ELSE coalesce(ch.list, '') END, i.data
	  FROM ins i
	  LEFT JOIN LATERAL (
	       SELECT c.members FROM chats c
	        WHERE i.members AND i.user_id IS NULL AND c.id = i.chat_id
	       OFFSET 0) mc ON true
	  LEFT JOIN LATERAL (
	       SELECT string_agg('u' || r.u::text, ',' ORDER BY r.u) AS list
	         FROM (SELECT cm.user_id AS u FROM chat_members cm
	                WHERE i.members AND cm.chat_id = i.chat_id
	               UNION
	               SELECT CASE WHEN c.pair_low = i.user_id THEN c.pair_high
	                           ELSE c.pair_low END
	                 FROM chats c
	                WHERE i.type = 'presence' AND c.type = 'private'
	                  AND (c.pair_low = i.user_id OR c.pair_high = i.user_id)
	               UNION
	               SELECT i.user_id WHERE i.user_id IS NOT NULL) r
	        WHERE i.session_id IS NULL
	          AND NOT (i.members AND i.user_id IS NULL)) ch ON true
	 ORDER BY i.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		UPDATE relay_state s SET last_id = base + n;
	END IF;
END
$$;
