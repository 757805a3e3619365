-- chatd schema, version 3: every chat carries its member ids, sorted, so
-- that chats/get reads one row per chat instead of gathering each chat's
-- members from chat_members (5,000 index scans for a user in 5,000 chats).
--
-- chat_members stays the truth (membership checks use its primary key);
-- chats.members is a copy that statement-level triggers keep equal to it
-- in the transaction that changes it, whoever writes chat_members. Rows of
-- chat_members are only inserted and deleted, never updated (both columns
-- are the key); TRUNCATE chat_members must truncate chats too.

ALTER TABLE chats ADD COLUMN members bigint[] NOT NULL DEFAULT '{}';

-- Rewrites chats.members for every chat named in the transition table
-- "changed". The chats are locked first, in id order (no deadlock between
-- two such statements); the UPDATE that follows is a new statement, so in
-- READ COMMITTED it sees the members a concurrent writer committed while
-- we waited for its lock.
CREATE FUNCTION chatd_members_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM chats
	  WHERE id IN (SELECT chat_id FROM changed)
	  ORDER BY id FOR NO KEY UPDATE;
	UPDATE chats c
	   SET members = coalesce((SELECT array_agg(m.user_id ORDER BY m.user_id)
	                             FROM chat_members m
	                            WHERE m.chat_id = c.id), '{}')
	 WHERE c.id IN (SELECT chat_id FROM changed);
	RETURN NULL;
END
$$;

CREATE TRIGGER chat_members_inserted AFTER INSERT ON chat_members
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_members_sync();
CREATE TRIGGER chat_members_deleted AFTER DELETE ON chat_members
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_members_sync();

-- The chats that exist already.
UPDATE chats c
   SET members = s.members
  FROM (SELECT chat_id, array_agg(user_id ORDER BY user_id) AS members
          FROM chat_members GROUP BY chat_id) s
 WHERE c.id = s.chat_id;
