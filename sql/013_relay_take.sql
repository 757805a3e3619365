-- chatd schema, version 13: the relay's take made cheap (REALTIME.md 2).
--
-- Measured on 10 events a take (CPU of the relay's backend, 300 takes):
-- 3.4 ms a take as version 11 ran it, 0.97 ms as below. Most of it was
-- planning: PostgreSQL's plan cache, comparing the plan it would keep
-- with the plans made for each call's parameters, never kept one for the
-- take's statement and planned it anew on every call. The take keeps a
-- generic plan (plan_cache_mode, for this function only); its plan is
-- good for any batch. Beside that:
--   - the channels are worked out inside the statement, not by a call of
--     chatd_event_channels per event (a function with subqueries is not
--     inlined: a query of its own per call), by the same rule;
--   - a chat is read only for a chat.created (as a join, every message's
--     chat row was read and then dropped);
--   - a take that found nothing writes nothing: relay_state is updated
--     only when events were numbered. The advisory lock alone serialises
--     the takes (the row lock of version 11 was a second serialisation,
--     and a write in every idle take);
--   - chatd_json_time is STABLE, as to_char() is, so that it is inlined
--     (declared IMMUTABLE it was a call of its own, twice a message).

CREATE OR REPLACE FUNCTION chatd_json_time(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE RETURN
	CASE WHEN p_at IS NULL THEN 'null' ELSE
	'"' || to_char(p_at AT TIME ZONE 'UTC',
	               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' END;

-- As version 11's (sql/011_events.sql), faster: see above.
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
		 WHERE o.seq IN (SELECT x.seq FROM event_outbox x
		                  ORDER BY x.seq LIMIT p_limit)
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
	             ELSE coalesce(ch.list, '') END, i.data
	  FROM ins i
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
	        WHERE i.session_id IS NULL) ch ON true
	 ORDER BY i.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		UPDATE relay_state s SET last_id = base + n;
	END IF;
END
$$;

-- The relay vacuums the outbox itself (REALTIME.md 2), and neither it nor
-- autovacuum gives the queue's empty pages back: that takes an exclusive
-- lock the writers' inserts would wait for, and the next inserts extend
-- the table again.
ALTER TABLE event_outbox SET (vacuum_truncate = false);
