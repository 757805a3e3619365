-- chatd schema, version 7: a session's once-a-minute marks of use as a
-- function, which a statement that checks its own session (AUTH_SESSION_IS
-- in src/auth.h) calls only when they are due. As UPDATEs in the statement
-- itself they would open both tables and their indexes for writing on
-- every request, though they change a row once a minute.
CREATE FUNCTION chatd_session_used(p_session bigint, p_user bigint)
RETURNS boolean
LANGUAGE sql VOLATILE AS $$
	UPDATE sessions SET last_used_at = now() WHERE id = p_session;
	UPDATE users SET last_seen_at = now()
	 WHERE id = p_user AND (last_seen_at IS NULL
	    OR last_seen_at < now() - interval '1 minute');
	SELECT true;
$$;
