-- contrib/bench/pgbench/members_churn.sql — chats/members/add or /remove,
-- at random, of a random user in the caller's chat (src/membership.c):
-- the session check, then the change.
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, chat, peer_lo, peer_hi.
\set user random(:peer_lo, :peer_hi)
\set add random(0, 1)
-- @query auth_session :tok_id :idle
-- @query membership_change :caller :chat :user :add
