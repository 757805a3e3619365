-- contrib/bench/pgbench/chats_add.sql — what chatd's chats/add runs: a
-- random name (digits) and three random users of member_lo..member_hi.
-- The one difference from chatd: chatd sends the members as one bigint[]
-- parameter, here they are three parameters in ARRAY[...]::bigint[].
-- Template: see users_add.sql. Variables (pgbench -D): member_lo,
-- member_hi.
\set name random(1, 9000000000000000000)
\set u1 random(:member_lo, :member_hi)
\set u2 random(:member_lo, :member_hi)
\set u3 random(:member_lo, :member_hi)
-- @query chats_add :name ARRAY[:u1,:u2,:u3]::bigint[] NULL
