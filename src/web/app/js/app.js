// The web client's entry point: decides between the sign-in view and the
// app, owns the signed-in state (the user, the chat list, the people list,
// the open chat, the event feed) and routes live events to them.
// URLs: / is the app; /chat/<id> is the app with that chat open.
import { call, setUnauthorizedHandler } from './api.js';
import { byTestId, showError } from './views.js';
import { EventFeed } from './events.js';
import { ChatList } from './chatlist.js';
import { UserList } from './userlist.js';
import { ChatPane } from './chat.js';
import { wireAuth, showAuthView } from './auth.js';
import { wireSearch } from './search.js';
import { wireGroupForm } from './group.js';

const app = {
  me: null,
  feed: null,
  chats: null,
  users: null,
  pane: null,
  pollTimer: null,
  usersReadAt: 0,   // Date.now() of the last users/list read
};

function chatFromPath() {
  const m = /^\/chat\/([0-9]+)$/.exec(location.pathname);
  return m ? m[1] : null;
}

// select(chatId): open the chat, in the URL too (a new history entry).
app.select = (chatId, push = true) => {
  if (push && chatFromPath() !== chatId) history.pushState(null, '', `/chat/${chatId}`);
  document.body.classList.add('chat-open');
  app.chats.select(chatId);
  return app.pane.open(chatId);
};

function closeChat() {
  document.body.classList.remove('chat-open');
  app.chats.select(null);
  app.pane.close();
}

// openDirect(userId): the private chat with the user, made if needed.
async function openDirect(userId) {
  const { id } = await call('/chats/direct', { user: userId });
  if (!app.chats.get(id)) await app.chats.load();
  await app.select(id);
}

function setConnection(state) {
  const node = byTestId('connection');
  node.textContent = state;
  node.classList.toggle('live', state === 'live');
}

function onEvent(ev) {
  const open = app.pane.chatId;
  const d = ev.data || {};
  switch (ev.type) {
  case 'message.created': {
    const mine = d.author === app.me.id;
    app.chats.message(d, !mine && !(open === d.chat && app.pane.isVisible()));
    if (open === d.chat) app.pane.added(d);
    break;
  }
  case 'message.edited':
    if (open === ev.chat) app.pane.edited(d);
    break;
  case 'message.deleted':
    if (open === ev.chat) app.pane.deleted(d.id);
    app.chats.reloadSoon();   // its time, its place, its unread count
    break;
  case 'chat.read':
    app.chats.read(ev.chat, d.message);
    break;
  case 'chat.created':
    app.chats.reloadSoon();
    break;
  case 'chat.member_added':
  case 'chat.member_removed':
    app.chats.reloadSoon();
    if (open === ev.chat) {
      if (ev.type === 'chat.member_removed' && d.user === app.me.id) closeChat();
      else app.pane.members.load(app.chats.get(open)).catch(() => {});
    }
    break;
  case 'presence':
    app.users.presence(d.user, d.online);
    break;
  case 'typing':
    if (open === ev.chat && d.user !== app.me.id) app.pane.typing(d.user);
    break;
  default:
    break;   // a type of a later version
  }
}

// onReset(): the server no longer has the events we missed: reload.
async function onReset() {
  app.users.forget();
  await Promise.all([app.chats.load(), app.users.load()]);
  if (app.pane.chatId) await app.pane.open(app.pane.chatId);
}

// The people list is read again now and then, as a fallback for what no
// event of ours tells (userlist.js): a new user, and the presence of users
// who are not our private-chat partners (whose "online" also lapses with
// the presence window, 5 minutes). Partners' dots move live, by presence
// events. Not while the page is hidden; when it is shown again after a
// missed turn, at once.
const REFRESH_SMALL_MS = 30000;    // one page of users/list
const REFRESH_LARGE_MS = 300000;   // 1,000 people or more: up to 5 pages
function refreshMs() { return app.users.users.size < 1000 ? REFRESH_SMALL_MS : REFRESH_LARGE_MS; }

function pollUsers() {
  clearTimeout(app.pollTimer);
  app.pollTimer = setTimeout(async () => {
    if (!app.me) return;
    if (document.visibilityState === 'visible') {
      app.usersReadAt = Date.now();
      await app.users.load().catch(() => {});
    }
    pollUsers();
  }, refreshMs());
}

document.addEventListener('visibilitychange', () => {
  if (!app.me || document.visibilityState !== 'visible') return;
  if (Date.now() - app.usersReadAt < refreshMs()) return;
  app.usersReadAt = Date.now();
  app.users.load().catch(() => {}).then(pollUsers);
});

// signedIn(): the app for the session the cookie holds.
async function signedIn() {
  app.me = await call('/users/me', {});
  byTestId('me').textContent = app.me.username;
  showAuthView(false);
  app.feed = new EventFeed({ onEvent, onState: setConnection, onReset });
  const feedStarted = app.feed.start().catch(() => setConnection('offline'));
  // The chat of the URL opens as soon as the chat list is there: its
  // authors' names come with its members (chats/members), so it does not
  // wait for the whole people list (five pages of users/list for 5,000
  // people, read one after another), which fills in beside it.
  app.usersReadAt = Date.now();
  const people = app.users.load().then(peopleLoaded);
  await Promise.all([feedStarted, app.chats.load()]);
  const chat = chatFromPath();
  if (chat) await app.select(chat, false);
  await people;
}

// peopleLoaded(): the people list is complete. An owner's panel opened
// before it offered only the people known then: it is filled again.
function peopleLoaded() {
  pollUsers();
  const members = app.pane.members;
  if (app.pane.chatId && !members.panel.hidden)
    return members.load(app.chats.get(app.pane.chatId)).catch(() => {});
  return undefined;
}

function signedOut() {
  if (app.feed) app.feed.stop();
  app.feed = null;
  app.me = null;
  clearTimeout(app.pollTimer);
  closeChat();
  app.chats.clear();
  app.users.clear();
  byTestId('search-results').replaceChildren();
  showAuthView(true);
}

function wire() {
  app.chats = new ChatList(byTestId('chat-list'), (id) => app.select(id));
  app.users = new UserList(byTestId('user-list'),
    (id) => openDirect(id).catch((e) => showError(document.getElementById('pane-error'), e)),
    (id) => app.chats.isPartner(id));
  app.pane = new ChatPane(app);
  wireAuth(signedIn);
  wireSearch(app);
  wireGroupForm(app);
  setUnauthorizedHandler(() => { if (app.me) signedOut(); });
  byTestId('logout').addEventListener('click', async () => {
    try { await call('/auth/logout', {}); } catch (e) { /* ended already */ }
    signedOut();
  });
  document.getElementById('back').addEventListener('click', () => {
    history.pushState(null, '', '/');
    closeChat();
  });
  window.addEventListener('popstate', () => {
    if (!app.me) return;
    const chat = chatFromPath();
    if (chat) app.select(chat, false); else closeChat();
  });
}

async function boot() {
  wire();
  try {
    await signedIn();
  } catch (e) {
    signedOut();
    if (e.status !== 401) showError(byTestId('auth-error'), e);
  }
}

boot();
