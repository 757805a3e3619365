-- contrib/bench/pgbench/chats_get.sql — what chatd's chats/get runs: the
-- user's chats, and only when there are none the user's existence (404 or
-- []). user random in user_lo..user_hi.
-- Template: see users_add.sql. Variables (pgbench -D): user_lo, user_hi.
-- \aset leaves id at 0 when no row came back.
\set user random(:user_lo, :user_hi)
\set id 0
-- @query chats_of_user :user \aset
\if :id = 0
-- @query user_exists :user
\endif
