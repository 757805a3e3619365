-- contrib/bench/pgbench/messages_send.sql — messages/send: the session
-- check, then a message to a random peer, without an Idempotency-Key.
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, peer_lo, peer_hi, msg_text.
\set peer random(:peer_lo, :peer_hi)
-- @query auth_session :tok_id :idle
-- @query messages_send :caller :peer :msg_text NULL NULL
