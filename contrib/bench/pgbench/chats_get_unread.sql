-- contrib/bench/pgbench/chats_get_unread.sql — chats/get with a bearer
-- token, as src/api/chats_get.c runs it: the caller's own list with read
-- markers and unread counts, checking the session in the same statement
-- (chats_get_mine); only when that yields no row (a caller in more than
-- CHATS_WHOLE_MAX chats, or in none), the session check alone and then
-- all of the caller's chats (chats_get_all, streamed by chatd).
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, tok_check,
-- idle, user_lo, user_hi (the caller: LO = HI).
\set user random(:user_lo, :user_hi)
\set id 0
-- @query chats_get_mine NULL true :tok_id :tok_check :idle \aset
\if :id = 0
-- @query auth_session :tok_id :idle
-- @query chats_get_all :user true
\endif
