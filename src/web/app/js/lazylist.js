// LazyList: the DOM of a long list (5,000 chats, 5,000 people), rendered
// from the order of its keys without a long task: what fills the list's
// visible area at once, the rest in slices of a few milliseconds, one slice
// per animation frame, sooner where the user scrolls to.
//
// Contract:
// - The root's children are always the nodes of keys[0 .. count), in that
//   order (a rendered prefix); keys past it have no node yet and get one,
//   from the caller's model as it is then, when the prefix reaches them.
// - render(key, old) returns the node of key: old (its current node, or
//   undefined) when that is still right, else a new one. It is called for
//   a key when its node is first made and on every refresh(key).
// - The focus stays on the item it was on when that item's node is moved or
//   replaced (a keyboard user does not lose their place to a live update).
// - onComplete() is called once per set() when every key has its node.

const SLICE_MS = 6;     // rendering per animation frame, at most about
const GROW = 50;        // nodes added at once when the user nears the end
const MIN_ROW_PX = 28;  // no item is shorter: bounds the first screenful

// Lists with keys still to render, served in order of priority, one frame's
// budget shared between them.
const pending = new Set();
let frameAsked = false;

function askFrame() {
  if (frameAsked || pending.size === 0) return;
  frameAsked = true;
  requestAnimationFrame(() => {
    frameAsked = false;
    const end = performance.now() + SLICE_MS;
    const lists = [...pending].sort((a, b) => a.priority - b.priority);
    for (const list of lists) {
      while (!list.complete() && performance.now() < end) list.grow(10);
      if (list.complete()) pending.delete(list);
      if (performance.now() >= end) break;
    }
    askFrame();
  });
}

export class LazyList {
  // root: the <ul>, which scrolls on its own (overflow-y: auto); priority:
  // lower is rendered first when several lists wait.
  constructor(root, render, { priority = 0, onComplete = null } = {}) {
    this.root = root;
    this.render = render;
    this.priority = priority;
    this.onComplete = onComplete;
    this.keys = [];
    this.nodes = new Map();      // key -> node, for keys[0 .. count)
    this.keyOf = new WeakMap();  // node -> key
    this.count = 0;
    this.completeSaid = false;
    root.addEventListener('scroll', () => { if (this.nearEnd()) this.grow(GROW); }, { passive: true });
  }

  complete() { return this.count >= this.keys.length; }

  node(key) { return this.nodes.get(key); }

  // set(keys): the list is now these keys in this order. Nodes of keys kept
  // are reused (render(key, old) decides whether each is still right); at
  // least as many as were rendered before, and the first screenful, are in
  // the DOM when it returns.
  set(keys) {
    const focus = this.focused();
    const target = Math.min(keys.length, Math.max(this.count, this.firstScreenful()));
    const old = this.nodes;
    this.keys = keys.slice();
    this.nodes = new Map();
    this.count = 0;
    this.completeSaid = false;
    // Nodes that will not be in the new prefix go first, so that each kept
    // one is moved only when its place changed.
    const head = new Set(this.keys.slice(0, target));
    for (const [key, node] of old) if (!head.has(key)) node.remove();
    let cur = this.root.firstChild;
    for (; this.count < target; this.count++) {
      const key = this.keys[this.count];
      const prev = old.get(key);
      const node = this.make(key, prev);
      if (prev && prev !== node) {
        if (prev === cur) cur = cur.nextSibling;
        prev.remove();
      }
      if (node === cur) cur = cur.nextSibling;
      else this.root.insertBefore(node, cur);
    }
    while (cur) { const next = cur.nextSibling; cur.remove(); cur = next; }
    this.fillScreen();
    this.restore(focus);
    this.schedule();
  }

  clear() {
    this.keys = [];
    this.nodes = new Map();
    this.count = 0;
    this.root.replaceChildren();
    pending.delete(this);
  }

  // moveToFront(key): key becomes the first; rendered now if it was not.
  moveToFront(key) {
    const i = this.keys.indexOf(key);
    if (i < 0) return;
    const focus = this.focused();
    this.keys.splice(i, 1);
    this.keys.unshift(key);
    let node = this.nodes.get(key);
    if (!node) {
      node = this.make(key, undefined);
      this.count++;
    }
    if (this.root.firstChild !== node) this.root.prepend(node);
    this.restore(focus);
  }

  // refresh(key): render(key, old) again, if key is rendered; a key not
  // rendered yet is rendered from the model when its turn comes.
  refresh(key) {
    const old = this.nodes.get(key);
    if (!old) return;
    const focus = this.focused();
    const node = this.make(key, old);
    if (node !== old) old.replaceWith(node);
    this.restore(focus);
  }

  // grow(n): the next n keys rendered, at the end.
  grow(n) {
    if (this.complete()) return;
    const frag = document.createDocumentFragment();
    const end = Math.min(this.keys.length, this.count + n);
    for (; this.count < end; this.count++) frag.append(this.make(this.keys[this.count], undefined));
    this.root.append(frag);
    this.sayComplete();
  }

  sayComplete() {
    if (!this.complete() || this.completeSaid) return;
    this.completeSaid = true;
    pending.delete(this);
    if (this.onComplete) this.onComplete();
  }

  make(key, old) {
    const node = this.render(key, old);
    this.nodes.set(key, node);
    this.keyOf.set(node, key);
    return node;
  }

  schedule() {
    if (this.complete()) { this.sayComplete(); return; }
    pending.add(this);
    askFrame();
  }

  // firstScreenful(): an upper estimate of the rows the list can show.
  firstScreenful() {
    return Math.ceil(window.innerHeight / MIN_ROW_PX) + 1;
  }

  // fillScreen(): more rows while the last one rendered is in sight (a
  // list taller than the estimate, or rows shorter than MIN_ROW_PX).
  fillScreen() {
    while (!this.complete()) {
      const last = this.root.lastElementChild;
      if (!last) { this.grow(GROW); continue; }
      const bottom = Math.min(this.root.getBoundingClientRect().bottom, window.innerHeight);
      if (last.getBoundingClientRect().top >= bottom) break;
      this.grow(GROW);
    }
  }

  // nearEnd(): the user has scrolled to within a screen of the rendered end.
  nearEnd() {
    const r = this.root;
    return !this.complete() && r.scrollTop + 2 * r.clientHeight >= r.scrollHeight;
  }

  // focused(): the key of the item holding the focus, or undefined.
  focused() {
    const a = document.activeElement;
    if (!a || !this.root.contains(a)) return undefined;
    let n = a;
    while (n && n.parentNode !== this.root) n = n.parentNode;
    return n ? { key: this.keyOf.get(n), element: a } : undefined;
  }

  // restore(focus): the focus back on the item it was on (its element if
  // that is still in the page, else the item's first button).
  restore(focus) {
    if (!focus || document.activeElement === focus.element) return;
    const node = this.nodes.get(focus.key);
    if (!node) return;
    const target = node.contains(focus.element) ? focus.element : node.querySelector('button, [tabindex]');
    if (target) target.focus();   // and into sight, if it went out of it
  }
}
