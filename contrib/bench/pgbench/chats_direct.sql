-- contrib/bench/pgbench/chats_direct.sql — chats/direct: the session check,
-- then the private chat of the caller and a random peer (src/direct.c).
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, peer_lo, peer_hi.
\set peer random(:peer_lo, :peer_hi)
-- @query auth_session :tok_id :idle
-- @query direct_chat :caller :peer NULL
