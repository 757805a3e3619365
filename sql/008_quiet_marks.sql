-- chatd schema, version 8: marks of use that wait for no disk, and the
-- users seen lately by an index.
--
-- A session's marks of use (chatd_session_used, version 7) are the only
-- write of a read (chats/get, messages/get with a session) and of the
-- session lookup that an endpoint makes in a statement of its own. With
-- p_alone, the transaction, which writes nothing else, commits without
-- waiting for its WAL to reach the disk: a read pays no flush once a
-- minute per session, and a crash can lose at most the last fraction of a
-- second of marks, which makes a session look used, and its user seen, up
-- to a minute earlier than they were. A statement that writes anything
-- else passes false, and its commit waits as every write's does.
CREATE FUNCTION chatd_session_used(p_session bigint, p_user bigint,
                                   p_alone boolean)
RETURNS boolean
LANGUAGE sql VOLATILE AS $$
	SELECT set_config('synchronous_commit', 'off', true) WHERE p_alone;
	SELECT chatd_session_used(p_session, p_user);
$$;

-- users/list with status "active": the users seen within the presence
-- window, found by this index rather than by reading every user (a
-- million users, 1.9 s, when a few are online). Users never seen are not
-- in it. last_seen_at changes at most once a minute per user.
CREATE INDEX users_seen_idx ON users (last_seen_at)
	WHERE last_seen_at IS NOT NULL;
