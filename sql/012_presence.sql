-- Presence (REALTIME.md 4): one row per open event stream (GET /events,
-- a WebSocket or an EventSource; nchan sends no hooks for a long-poll),
-- written when nchan subscribes it and deleted when it unsubscribes
-- (nchan_subscribe_request / nchan_unsubscribe_request, through nginx's
-- loopback server, to chatd's internal /_chatd/stream/ route). id is
-- nginx's $request_id of the subscriber request. A row goes with its
-- session: a stream that outlives its session (the relay closes it) or
-- an nginx that stopped without unsubscribing leaves no row past the
-- session's end.
CREATE TABLE streams (
	id          text PRIMARY KEY,
	user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_id  bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	opened_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX streams_user_idx ON streams (user_id);

-- A stream p_id of p_user's session p_session opened. outcome: 'first'
-- when it is the user's only open stream now (a presence event, online,
-- is in the outbox), 'more' when the user had one already, 'no_session'
-- when the session has ended meanwhile (nothing written), 'again' for an
-- id already open. The user's row lock orders the opens and closes of
-- one user, so that exactly one of them sees the first and the last.
CREATE FUNCTION chatd_stream_open(p_id text, p_user bigint,
	p_session bigint, OUT outcome text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM FROM users WHERE id = p_user FOR NO KEY UPDATE;
	IF NOT EXISTS (SELECT FROM sessions
	               WHERE id = p_session AND user_id = p_user) THEN
		outcome := 'no_session';
		RETURN;
	END IF;
	INSERT INTO streams (id, user_id, session_id)
	VALUES (p_id, p_user, p_session) ON CONFLICT (id) DO NOTHING;
	IF NOT FOUND THEN
		outcome := 'again';
	ELSIF EXISTS (SELECT FROM streams WHERE user_id = p_user
	              AND id <> p_id) THEN
		outcome := 'more';
	ELSE
		INSERT INTO event_outbox (type, user_id, online)
		VALUES ('presence', p_user, true);
		outcome := 'first';
	END IF;
END
$$;

-- The stream p_id closed. outcome: 'last' when the user has no open
-- stream now (a presence event, offline, is in the outbox), 'more' when
-- another is open, 'unknown' for an id not open (closed already, or its
-- session ended).
CREATE FUNCTION chatd_stream_close(p_id text, OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	u bigint;
BEGIN
	SELECT user_id INTO u FROM streams WHERE id = p_id;
	IF NOT FOUND THEN
		outcome := 'unknown';
		RETURN;
	END IF;
	PERFORM FROM users WHERE id = u FOR NO KEY UPDATE;
	DELETE FROM streams WHERE id = p_id;
	IF NOT FOUND THEN
		outcome := 'unknown';
	ELSIF EXISTS (SELECT FROM streams WHERE user_id = u) THEN
		outcome := 'more';
	ELSE
		INSERT INTO event_outbox (type, user_id, online)
		VALUES ('presence', u, false);
		outcome := 'last';
	END IF;
END
$$;
