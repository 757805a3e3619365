// DOM building blocks. Every text from the server goes in as textContent
// (never innerHTML), so a message or a name can never become markup.

// el(tag, props, ...children): a new element. props: "class", "testid"
// (data-testid), "data" (an object of data-* attributes), "on" (an object
// of event listeners); any other key is set as an attribute. Children are
// nodes or strings (text); null and false are skipped.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'testid') node.dataset.testid = v;
    else if (k === 'data') Object.assign(node.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c == null || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}

const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth()
  && a.getDate() === b.getDate();
// One formatter of each kind for the page: a list of 5,000 chats formats
// 10,000 times, and toLocale*String makes a formatter on every call.
const timeOfDay = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const dayOnly = new Intl.DateTimeFormat([], { day: 'numeric', month: 'short', year: '2-digit' });
const full = new Intl.DateTimeFormat([], {
  year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
});

// timeEl(iso, testid): a <time> with the local time of day, or the date
// for another day; the full time is its title.
export function timeEl(iso, testid) {
  if (!iso) return el('time', { testid, class: 'time' });
  const d = new Date(iso);
  const text = sameDay(d, new Date()) ? timeOfDay.format(d) : dayOnly.format(d);
  return el('time', { testid, class: 'time', datetime: iso, title: full.format(d) }, text);
}

// showError(node, err): the API's message in an alert node, or hide it.
export function showError(node, err) {
  node.textContent = err ? err.message : '';
  node.hidden = !err;
}

// chatItem(chat, onOpen, selected): one entry of the chat list; a button
// inside the <li> so that it is reached and opened by keyboard; the open
// chat's entry is "selected" and its button aria-current.
export function chatItem(chat, onOpen, selected = false) {
  const unread = chat.unread > 0
    ? el('span', { testid: 'chat-unread', class: 'badge', 'aria-label': `${chat.unread} unread` }, String(chat.unread))
    : null;
  return el('li', { testid: 'chat-item', class: selected ? 'chat-item selected' : 'chat-item', data: { chatId: chat.id } },
    el('button', { type: 'button', class: 'item-button', 'aria-current': selected ? 'true' : null,
      on: { click: () => onOpen(chat.id) } },
    el('span', { testid: 'chat-name', class: 'name' }, chat.name),
    timeEl(chat.last_message_at, 'chat-time'),
    unread));
}

// userItem(user, onOpen): an entry of the people list; clicking opens the
// private chat with the user.
export function userItem(user, onOpen) {
  return el('li', { testid: 'user-item', class: 'user-item', data: { userId: user.id } },
    el('button', { type: 'button', class: 'item-button', on: { click: () => onOpen(user.id) },
      'aria-label': `Chat with ${user.username}${user.online ? ' (online)' : ''}` },
      user.online ? el('span', { testid: 'user-online', class: 'dot', title: 'online' }) : el('span', { class: 'dot off' }),
      el('span', { testid: 'user-name', class: 'name' }, user.username)));
}

// messageItem(msg, authorName, own, actions): one message of the open
// chat; own messages get edit and delete buttons (actions.edit(msg),
// actions.remove(msg)).
export function messageItem(msg, authorName, own, actions) {
  let attachment = null;
  if (msg.file && msg.type === 'image') {
    attachment = el('a', { href: msg.file.url, target: '_blank', rel: 'noopener', class: 'image-link' },
      el('img', { testid: 'message-image', src: msg.file.url, alt: msg.file.name, loading: 'lazy' }));
  } else if (msg.file) {
    attachment = el('a', { testid: 'message-file', href: msg.file.url, download: msg.file.name, class: 'file' },
      `${msg.file.name} (${formatSize(msg.file.size)})`);
  }
  const tools = own ? el('span', { class: 'tools' },
    el('button', { type: 'button', testid: 'message-edit', class: 'link', 'aria-label': 'Edit message', on: { click: () => actions.edit(msg) } }, 'Edit'),
    el('button', { type: 'button', testid: 'message-delete', class: 'link', 'aria-label': 'Delete message', on: { click: () => actions.remove(msg) } }, 'Delete')) : null;
  return el('li', { testid: 'message', class: own ? 'message own' : 'message', data: { messageId: msg.id } },
    el('div', { class: 'meta' },
      el('span', { testid: 'message-author', class: 'author' }, authorName),
      timeEl(msg.created_at, 'message-time'),
      msg.edited_at ? el('span', { class: 'edited' }, '(edited)') : null,
      tools),
    msg.text !== '' ? el('div', { testid: 'message-text', class: 'text' }, msg.text)
      : el('div', { testid: 'message-text', class: 'text empty' }),
    attachment);
}

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
