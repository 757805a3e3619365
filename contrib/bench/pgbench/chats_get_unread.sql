-- contrib/bench/pgbench/chats_get_unread.sql — chats/get with a bearer
-- token: the session check, then the caller's chats with their read
-- markers and unread counts (as chats_get.sql, with $2 true).
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- user_lo, user_hi (the caller: LO = HI).
\set user random(:user_lo, :user_hi)
\set id 0
-- @query auth_session :tok_id :idle
-- @query chats_get_few :user true \aset
\if :id = 0
-- @query chats_get_all :user true \aset
\endif
