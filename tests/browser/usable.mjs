// What "a usable chat list" means, for tests/browser/chat.test.mjs and
// contrib/bench/web (webload.mjs), which both run chatListNow in the page.
//
// chatListNow() — run in the page (page.evaluate, or an init script as
// window.__chatdListNow): null without a chat list, else {ids, inSight,
// missed, filled}: the data-chat-id of every chat item in the DOM, in
// order; how many of them are (at least partly) in the list's visible
// area; how many of those a click at their middle would miss (the element
// there is not a button inside the item); and whether the items reach the
// bottom of the visible area. The list is usable when ids are the first of
// chats/get in its order, filled (or ids are all of chats/get) and missed 0.
export function chatListNow() {
	const list = document.querySelector('[data-testid="chat-list"]');
	if (!list) return null;
	const bottom = Math.min(list.getBoundingClientRect().bottom, window.innerHeight);
	const items = [...list.querySelectorAll('[data-testid="chat-item"]')];
	const inSight = items.filter((e) => e.getBoundingClientRect().top < bottom);
	const missed = inSight.filter((e) => {
		const r = e.getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, Math.min(r.top + r.height / 2, bottom - 1));
		return !(hit && e.contains(hit) && hit.closest('button'));
	}).length;
	const last = items[items.length - 1];
	return {
		ids: items.map((e) => e.dataset.chatId), inSight: inSight.length, missed,
		filled: !!last && last.getBoundingClientRect().bottom >= bottom,
	};
}
