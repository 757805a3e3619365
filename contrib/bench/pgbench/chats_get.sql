-- contrib/bench/pgbench/chats_get.sql — what chatd's chats/get runs: the
-- user's chats in one result when they are at most CHATS_WHOLE_MAX of
-- src/api/chats_get.c (chats_get_few, which yields no row at all for a user
-- in more); only when that yields no row, all of the user's chats
-- (chats_get_all, which chatd streams in single-row mode and pgbench reads
-- as one result); and only when that yields none either, the user's
-- existence (chats_get_user: 404 or []). user random in user_lo..user_hi.
-- Template: see users_add.sql. Variables (pgbench -D): user_lo, user_hi.
-- \aset leaves id at 0 when no row came back.
\set user random(:user_lo, :user_hi)
\set id 0
-- @query chats_get_few :user false \aset
\if :id = 0
-- @query chats_get_all :user false \aset
\if :id = 0
-- @query chats_get_user :user
\endif
\endif
