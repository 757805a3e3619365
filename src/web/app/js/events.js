// The signed-in user's live events (API.md 2.13): an EventSource on
// GET /events (same origin, the session cookie) for what happens now, and
// POST /events/get {"after"} for what a lost connection missed.
//
// Contract of EventFeed:
// - onEvent(event) is called once per stored event id (duplicates between
//   the stream and a catch-up are dropped), catch-ups oldest first; events
//   the stream brings while a catch-up runs wait for it and follow it.
//   Typing notices (id null) are passed on as they come.
// - onState('live') when the stream is open, onState('offline') otherwise.
// - onReset() when the server no longer holds the events after our
//   position (410 gone): the caller reloads its state; the feed continues
//   from the newest event.
// - After an error the feed reconnects by itself, with a backoff of 1 s
//   doubling to 16 s, and at once when the browser says it is online. When
//   the browser says it is offline the stream is closed at once (an open
//   connection may otherwise hang on unnoticed), and a stream silent for
//   longer than two of nginx's 30 s pings is taken for lost.
import { call, idLess } from './api.js';

const PAGE = 1000;
const SILENCE_MS = 65000;

export class EventFeed {
  constructor({ onEvent, onState, onReset }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onReset = onReset;
    this.last = null;        // the greatest event id handled, a string
    this.seen = new Set();   // recent ids, against duplicates
    this.es = null;
    this.catching = false;
    this.queue = [];
    this.delay = 1000;
    this.timer = null;
    this.stopped = true;
    this.onOnline = () => this.reconnect(0);
    this.onOffline = () => this.lost();
    this.watchdog = null;
  }

  // start() takes the newest event id as the position (what happened
  // before it is in the state the caller loads next) and opens the stream.
  async start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    await this.takeNewestPosition();
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.es) this.es.close();
    this.es = null;
    this.onState('offline');
  }

  async takeNewestPosition() {
    const newest = await call('/events/get', { limit: 1 });
    this.last = newest.length ? newest[newest.length - 1].id : '0';
  }

  connect() {
    if (this.stopped) return;
    if (this.es) this.es.close();
    const es = new EventSource('/events');
    this.es = es;
    es.onopen = () => {
      if (es !== this.es) return;
      this.delay = 1000;
      this.alive();
      this.onState('live');
      this.catchUp();
    };
    es.onmessage = (m) => {
      if (es !== this.es) return;
      this.alive();
      let ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      if (this.catching) this.queue.push(ev); else this.deliver(ev);
    };
    es.addEventListener('ping', () => { if (es === this.es) this.alive(); });
    es.onerror = () => { if (es === this.es) this.lost(); };
  }

  // alive(): the stream spoke; lost() if it falls silent.
  alive() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.lost(), SILENCE_MS);
  }

  // lost(): close the stream, say so, and try again after the backoff.
  lost() {
    clearTimeout(this.watchdog);
    if (this.es) this.es.close();
    this.es = null;
    this.onState('offline');
    if (navigator.onLine === false) return;   // 'online' brings us back
    this.reconnect(this.delay);
    this.delay = Math.min(this.delay * 2, 16000);
  }

  reconnect(ms) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), ms);
  }

  // catchUp() reads every event after this.last, page by page, then the
  // ones the stream brought meanwhile.
  async catchUp() {
    if (this.catching) return;
    this.catching = true;
    try {
      for (;;) {
        let page;
        try {
          page = await call('/events/get', { after: this.last, limit: PAGE });
        } catch (e) {
          if (e.status === 410) {
            await this.takeNewestPosition();
            this.onReset();
            break;
          }
          throw e;
        }
        for (const ev of page) this.deliver(ev);
        if (page.length < PAGE) break;
      }
    } catch (e) {
      this.lost();
    } finally {
      this.catching = false;
      const queued = this.queue;
      this.queue = [];
      for (const ev of queued) this.deliver(ev);
    }
  }

  deliver(ev) {
    if (ev.id == null) { this.onEvent(ev); return; }
    if (this.seen.has(ev.id)) return;
    this.seen.add(ev.id);
    if (this.seen.size > 5000) {
      // Sets iterate in insertion order: drop the oldest half.
      let n = 2500;
      for (const id of this.seen) { if (n-- === 0) break; this.seen.delete(id); }
    }
    if (this.last === null || idLess(this.last, ev.id)) this.last = ev.id;
    this.onEvent(ev);
  }
}
