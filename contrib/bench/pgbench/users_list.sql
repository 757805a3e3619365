-- contrib/bench/pgbench/users_list.sql — users/list with a bearer token: the
-- session check, then a page of 100 users after a random id.
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, peer_lo, peer_hi.
\set after random(:peer_lo, :peer_hi)
-- @query auth_session :tok_id :idle
-- @query users_list_all :caller :after 100
