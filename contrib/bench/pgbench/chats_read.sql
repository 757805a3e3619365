-- contrib/bench/pgbench/chats_read.sql — chats/read: the session check,
-- then the caller's read marker in one chat moved to a random message of
-- it.
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, chat, message_lo, message_hi.
\set message random(:message_lo, :message_hi)
-- @query auth_session :tok_id :idle
-- @query chats_read :caller :chat :message
