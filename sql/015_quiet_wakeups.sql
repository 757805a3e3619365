-- chatd schema, version 15: a busy relay is not woken, and a message's
-- outbox row costs less (REALTIME.md 1 and 2).
--
-- The wake-ups. PostgreSQL 15 signals every backend of the database that
-- listens on any channel for every notify committed (async.c cannot tell
-- which channels a backend listens on). The relay UNLISTENs chatd_events
-- while it is busy, but it still listens on chatd_typing, so each
-- worker's wake-up after each write went on signalling its backend, which
-- woke to read the notify queue and find nothing for it. Measured on the
-- writes benchmark (4 posters, 2-member chats): the relay's backend used
-- 56 us a message listening on chatd_typing, 40 without, and the workers'
-- backends 15 us less. relay_wake says whether the relay wants wake-ups;
-- a worker notifies only when it does (src/events_notify.c).
--
-- No commit can be missed. The relay turns listening on by committing
-- listening = true, then LISTEN, then a take. A worker writes, commits,
-- and only then reads listening for its notify. If that read saw false,
-- its snapshot was taken before the relay's commit, so the write had
-- committed before the relay's take began: the take finds it. If it saw
-- true, the notify goes out, as before.
--
-- A relay that stops, crashes or loses its connection while busy leaves
-- false behind; the next one sets true when it connects, before it takes.
-- With no relay running (chatd serve --no-relay), nothing waits for the
-- wake-ups, whatever the flag says.
CREATE TABLE relay_wake (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	listening  boolean NOT NULL DEFAULT true
);
INSERT INTO relay_wake DEFAULT VALUES;

-- A message's outbox row by a row trigger. The statement trigger of
-- version 11 (chatd_outbox_rows, through a transition table) cost a
-- messages/add 30-45 us of PostgreSQL CPU, this one 14-30 (pgbench, 4
-- clients calling chatd_message_add, 5,000 each, against no trigger). A
-- messages/broadcast inserts a row per recipient in one statement: its
-- rows fire in the order they are inserted, which is their id order, as
-- version 11 ordered them.
CREATE FUNCTION chatd_outbox_row_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO event_outbox (type, chat_id, message_id)
	VALUES ('message.created', NEW.chat_id, NEW.id);
	RETURN NULL;
END
$$;
DROP TRIGGER messages_created ON messages;
CREATE TRIGGER messages_created AFTER INSERT ON messages
	FOR EACH ROW EXECUTE FUNCTION chatd_outbox_row_message();
