-- contrib/bench/pgbench/messages_add.sql — what chatd's messages/add runs
-- without an Idempotency-Key (the key parameter is NULL): author
-- user0 + r to chat chat0 + r, r random in 0..writers-1, text msg_text.
-- Every author is a member of the chat, so each call stores a message
-- (outcome 'created').
-- Template: see users_add.sql. Variables (pgbench -D): chat0, user0,
-- writers, msg_text.
\set r random(0, :writers - 1)
\set chat :chat0 + :r
\set author :user0 + :r
-- @query messages_add :chat :author :msg_text NULL
