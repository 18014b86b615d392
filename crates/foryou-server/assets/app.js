// Foryou web client: vertical player, watch-time measurement, interactions, pages.
'use strict';

const $ = (sel, el = document) => el.querySelector(sel);
const view = $('#view');
// The session lives in an HttpOnly cookie the script never sees; writes echo the CSRF cookie.
const state = { me: null, muted: true, personalized: localStorage.getItem('fy_personalized') !== 'false' };
function csrf() { const m = document.cookie.match(/(?:^|;\s*)fy_csrf=([0-9a-f]+)/); return m ? m[1] : ''; }

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'bg') el.style.backgroundImage = `url("${v}")`;
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid.nodeType ? kid : document.createTextNode(String(kid)));
  return el;
}

function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 2200);
}

// What the server says, in words for people: "password: must be ..." becomes
// "The password must be ...", and codes that need no detail get a sentence of their own.
const FIELD_NAMES = { handle: 'Your handle', password: 'The password', birthdate: 'The date of birth', country: 'The country code', caption: 'The caption', text: 'The comment', sound_id: 'The sound' };
const CODE_TEXT = {
  internal: 'Something went wrong on our side. Please try again.',
  unauthorized: 'Please log in again.',
  busy: 'Foryou is busy right now. Please try again in a few seconds.',
};
function humanError(data, status) {
  const e = data && data.error;
  if (!e) return status >= 500 ? CODE_TEXT.internal : 'That did not work. Please try again.';
  if (CODE_TEXT[e.code] && e.code !== 'unauthorized') return CODE_TEXT[e.code];
  const m = /^([a-z_]+)(?:\[\d+\])?(?:\.([a-z_]+))?: (.*)$/.exec(e.message || '');
  let text = e.message || '';
  if (m) {
    const field = m[2] || m[1];
    text = FIELD_NAMES[field] ? `${FIELD_NAMES[field]} ${m[3]}` : m[3].charAt(0).toUpperCase() + m[3].slice(1);
  } else text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : text + '.';
}

async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  if (!res.ok) {
    if (res.status === 401 && state.me && path !== '/v1/sessions') { state.me = null; askToJoin(); }
    const err = new Error(humanError(data, res.status));
    err.status = res.status;
    throw err;
  }
  return data;
}

// Signed out, anything that needs an account leads to sign-up, and back here after it.
function askToJoin() {
  const here = location.hash.slice(1) || '/';
  location.hash = `#/signup?next=${encodeURIComponent(here)}`;
}
function needsAccount() { if (state.me) return false; askToJoin(); return true; }

function fmt(n) { return n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'K' : String(n); }
function uid() { return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10); }

// ---- events: batched, sent every few seconds and when the page is hidden --------------------
const outbox = [];
// Signed out, nothing is recorded: the visitor's viewing is not stored anywhere.
function track(ev) { if (!state.me) return; outbox.push({ id: uid(), ...ev }); if (outbox.length >= 20) flush(); }
async function flush(keepalive = false) {
  if (!outbox.length || !state.me) return;
  const events = outbox.splice(0, 100);
  try {
    await fetch('/v1/events', { method: 'POST', keepalive, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() }, body: JSON.stringify({ events }) })
      .then(r => { if (!r.ok && r.status >= 500) throw new Error('retry'); });
  } catch (_) { outbox.unshift(...events); }
}
setInterval(flush, 4000);
addEventListener('pagehide', () => { finishWatch(); flush(true); });
document.addEventListener('visibilitychange', () => { if (document.hidden) { finishWatch(); flush(true); } });

// ---- watch time: real playing time of the active video, replays included ---------------------
let watch = null; // { item, ms, last }
function startWatch(item) {
  finishWatch();
  watch = { item, ms: 0, last: performance.now() };
}
function tickWatch() {
  if (!watch) return;
  const now = performance.now();
  const v = watch.item.video;
  if (!v.paused && !v.ended && v.readyState >= 2) watch.ms += (now - watch.last) * (v.playbackRate || 1);
  watch.last = now;
}
setInterval(tickWatch, 200);
function finishWatch() {
  if (!watch) return;
  tickWatch();
  const { item, ms } = watch;
  watch = null;
  const dur = item.data.duration_ms;
  const quick = ms < Math.min(2000, dur * 0.2);
  track({ kind: quick ? 'skip' : 'view', video_id: item.data.id, watch_ms: Math.round(ms) });
}

// ---- the vertical feed ---------------------------------------------------------------------------
function reasonsPanel(item) {
  const p = h('div', { class: 'panel', 'data-panel': 'why' },
    h('button', { class: 'close', onclick: () => p.remove(), 'aria-label': 'close' }, '✕'),
    h('h3', {}, 'Why this video'),
    h('ul', {}, (item.data.reasons || []).map(r => h('li', { 'data-code': r.code }, r.text))),
    h('p', {}, h('button', { class: 'secondary', onclick: toggleMode }, state.personalized ? 'Switch to the non-personalised feed' : 'Switch back to the personalised feed'), ' ',
      h('button', { class: 'secondary', onclick: refreshInterests }, 'Refresh: forget my interests')));
  return p;
}

async function commentsPanel(item) {
  const list = h('ul', { class: 'comments' });
  const input = h('input', { name: 'comment', placeholder: 'Add a comment…', maxlength: 1000 });
  // Replying: the comment answered (the server files it in that comment's thread).
  let replyTo = null;
  const replying = h('p', { class: 'replying', hidden: true });
  const setReply = c => {
    replyTo = c;
    replying.hidden = !c;
    replying.replaceChildren(...(c ? ['Replying to @' + c.author.handle + ' ', h('button', { class: 'secondary', type: 'button', onclick: () => setReply(null) }, 'cancel')] : []));
    input.placeholder = c ? `Reply to @${c.author.handle}…` : 'Add a comment…';
    if (c) input.focus();
  };
  const p = h('div', { class: 'panel', 'data-panel': 'comments' },
    h('button', { class: 'close', onclick: () => p.remove(), 'aria-label': 'close' }, '✕'),
    h('h3', {}, 'Comments'), list, replying,
    h('form', { onsubmit: async e => {
      e.preventDefault();
      if (needsAccount()) return;
      const text = input.value.trim();
      if (!text) return;
      const ev = { id: uid(), kind: 'comment', video_id: item.data.id, text };
      if (replyTo) ev.target = replyTo.id;
      const thread = replyTo ? (replyTo.reply_to || replyTo.id) : null;
      try {
        await api('POST', '/v1/events', { events: [ev] });
        input.value = '';
        setReply(null);
        item.data.counts.comments += 1;
        item.update();
        await load();
        if (thread) openThread(thread);
      } catch (err) { toast(err.message); }
    } }, input, h('button', { class: 'primary' }, 'Post')));
  const threads = new Map();
  // One comment: who, what, a heart with its likes, Reply, Report; a top-level comment's
  // thread opens below it.
  function row(c) {
    const heart = h('button', { class: 'comment-like', 'aria-label': 'like this comment' });
    const paint = () => { heart.classList.toggle('on', c.liked); heart.replaceChildren('♥ ', fmt(c.likes)); };
    heart.onclick = async () => {
      if (needsAccount()) return;
      const liked = !c.liked;
      c.liked = liked; c.likes += liked ? 1 : -1; paint();
      try { await api('POST', '/v1/events', { events: [{ id: uid(), kind: liked ? 'like_comment' : 'unlike_comment', target: c.id }] }); }
      catch (err) { c.liked = !liked; c.likes += liked ? -1 : 1; paint(); toast(err.message); }
    };
    paint();
    const flag = state.me && state.me.id !== c.author.id ? h('button', { class: 'flag', title: 'Report this comment', 'aria-label': 'report this comment', onclick: async () => {
      try { await api('POST', '/v1/reports', { comment_id: c.id, reason: 'harassment' }); toast('Reported: a moderator will look at it'); } catch (ex) { toast(ex.message); }
    } }, '⚑') : null;
    const reply = h('button', { class: 'reply', onclick: () => { if (!needsAccount()) setReply(c); } }, 'Reply');
    const li = h('li', { 'data-comment': c.id }, h('b', {}, '@' + c.author.handle), ' ', h('span', { class: 'text' }, c.text),
      h('div', { class: 'comment-actions' }, heart, reply, flag));
    if (!c.reply_to) {
      const sub = h('ul', { class: 'replies' });
      const more = c.reply_count ? h('button', { class: 'view-replies', onclick: () => openThread(c.id) }, `View ${c.reply_count} ${c.reply_count === 1 ? 'reply' : 'replies'}`) : null;
      threads.set(c.id, { sub, more });
      li.append(more || '', sub);
    }
    return li;
  }
  async function openThread(id) {
    const t = threads.get(id);
    if (!t) return;
    try {
      const page = await api('GET', `/v1/comments/${id}/replies?limit=100`);
      t.sub.replaceChildren(...page.replies.map(row));
      if (t.more) t.more.remove();
    } catch (err) { toast(err.message); }
  }
  async function load() {
    try {
      const page = await api('GET', `/v1/videos/${item.data.id}/comments?limit=50`);
      threads.clear();
      const rows = page.comments.map(row);
      if (page.next_cursor) rows.push(h('li', { class: 'more' }, `and ${page.total - page.comments.length} more`));
      list.replaceChildren(...(rows.length ? rows : [h('li', {}, 'No comments yet.')]));
    } catch (err) { toast(err.message); }
  }
  load();
  return p;
}

function makeItem(data) {
  const video = h('video', { src: data.media_url, poster: data.poster_url, loop: true, muted: true, playsinline: true, preload: 'metadata', 'data-id': data.id });
  video.muted = state.muted;
  const likeBtn = h('button', { class: 'like', 'aria-label': 'like' });
  const commentBtn = h('button', { class: 'comment', 'aria-label': 'comments' });
  const followBtn = h('button', { class: 'follow', 'aria-label': 'follow' });
  const favBtn = h('button', { class: 'fav', 'aria-label': 'add to favourites' });
  const item = { data, video, el: null, update: null };
  const mute = h('button', { class: 'mute', onclick: e => { e.stopPropagation(); setMuted(!state.muted); } });
  item.update = () => {
    likeBtn.classList.toggle('on', data.liked);
    likeBtn.replaceChildren('♥', h('small', { class: 'count' }, fmt(data.counts.likes)));
    commentBtn.replaceChildren('✎', h('small', {}, fmt(data.counts.comments)));
    favBtn.classList.toggle('on', data.saved);
    favBtn.setAttribute('aria-label', data.saved ? 'remove from favourites' : 'add to favourites');
    favBtn.replaceChildren('★', h('small', {}, fmt(data.counts.saves)));
    followBtn.classList.toggle('on', data.following);
    followBtn.replaceChildren(data.following ? '✓' : '+', h('small', {}, data.following ? 'Following' : 'Follow'));
    mute.textContent = state.muted ? '♪ Tap to unmute' : '♪ on';
  };
  likeBtn.onclick = async () => {
    if (needsAccount()) return;
    const liked = !data.liked;
    data.liked = liked; data.counts.likes += liked ? 1 : -1; item.update();
    try { await api('POST', '/v1/events', { events: [{ id: uid(), kind: liked ? 'like' : 'unlike', video_id: data.id }] }); }
    catch (err) { data.liked = !liked; data.counts.likes += liked ? -1 : 1; item.update(); toast(err.message); }
  };
  favBtn.onclick = async () => {
    if (needsAccount()) return;
    const saved = !data.saved;
    data.saved = saved; data.counts.saves += saved ? 1 : -1; item.update();
    try {
      await api('POST', '/v1/events', { events: [{ id: uid(), kind: saved ? 'save' : 'unsave', video_id: data.id }] });
      toast(saved ? 'Added to your favourites' : 'Removed from your favourites');
    } catch (err) { data.saved = !saved; data.counts.saves += saved ? -1 : 1; item.update(); toast(err.message); }
  };
  followBtn.onclick = async () => {
    if (needsAccount()) return;
    const f = !data.following;
    try {
      await api('POST', '/v1/events', { events: [{ id: uid(), kind: f ? 'follow' : 'unfollow', video_id: data.id }] });
      data.following = f; item.update(); toast(f ? `Following @${data.creator.handle}` : `Unfollowed @${data.creator.handle}`);
    } catch (err) { toast(err.message); }
  };
  commentBtn.onclick = async () => { closePanels(item); item.el.append(await commentsPanel(item)); };
  const share = h('button', { class: 'share', 'aria-label': 'share', onclick: async () => {
    const url = `${location.origin}/#/v/${data.id}`;
    try { await navigator.clipboard.writeText(url); } catch (_) { /* clipboard may be unavailable */ }
    track({ kind: 'share', video_id: data.id });
    toast('Link copied');
  } }, '↗', h('small', {}, 'Share'));
  const nope = h('button', { class: 'not-interested', 'aria-label': 'not interested', onclick: () => {
    closePanels(item);
    const choose = target => () => {
      track({ kind: 'not_interested', video_id: data.id, target });
      flush();
      panel.remove();
      toast('Got it: you will see less of this');
      next(1);
    };
    const panel = h('div', { class: 'panel', 'data-panel': 'nope' }, h('h3', {}, 'Not interested in…'),
      h('p', {}, h('button', { class: 'secondary', onclick: choose('video') }, 'this video'), ' ',
        h('button', { class: 'secondary', onclick: choose('creator') }, '@' + data.creator.handle), ' ',
        h('button', { class: 'secondary', onclick: choose('sound') }, 'this sound'), ' ',
        h('button', { class: 'secondary', onclick: () => panel.remove() }, 'cancel')));
    item.el.append(panel);
  } }, '⊘', h('small', {}, 'Nope'));
  const save = data.download_url ? h('a', { class: 'save', href: data.download_url, download: '', 'aria-label': 'download' }, '⤓', h('small', {}, 'Download')) : null;
  const why = h('button', { class: 'why', 'aria-label': 'why this video', onclick: () => { closePanels(item); item.el.append(reasonsPanel(item)); } }, 'ⓘ', h('small', {}, 'Why'));
  const report = h('button', { class: 'report', 'aria-label': 'report', onclick: () => {
    closePanels(item);
    const send = reason => async () => {
      try { await api('POST', '/v1/reports', { video_id: data.id, reason }); panel.remove(); toast('Reported: a moderator of its region will look at it'); } catch (ex) { toast(ex.message); }
    };
    const names = { spam: 'Spam', harassment: 'Harassment', nudity: 'Nudity', violence: 'Violence', under_13: 'The creator is under 13', other: 'Something else' };
    const panel = h('div', { class: 'panel', 'data-panel': 'report' }, h('h3', {}, 'Report this video'),
      h('p', {}, ...Object.entries(names).map(([k, v]) => h('button', { class: 'secondary', onclick: send(k) }, v)), ' ',
        h('button', { class: 'secondary', onclick: () => panel.remove() }, 'cancel')));
    item.el.append(panel);
  } }, '⚑', h('small', {}, 'Report'));
  // Less frequent actions wait behind "More", so the rail fits a small phone's screen.
  const extras = [save, state.me ? nope : null, state.me && state.me.id !== data.creator.id ? report : null].filter(Boolean);
  const more = extras.length ? h('button', { class: 'more', 'aria-label': 'more actions', onclick: () => {
    closePanels(item);
    const panel = h('div', { class: 'panel', 'data-panel': 'more' },
      h('button', { class: 'close', onclick: () => panel.remove(), 'aria-label': 'close' }, '✕'),
      h('h3', {}, 'More'), h('div', { class: 'more-actions' }, ...extras));
    item.el.append(panel);
  } }, '⋯', h('small', {}, 'More')) : null;
  // One tap pauses or plays; a double tap likes (never unlikes) with a heart where you tapped.
  let tapTimer = null;
  video.addEventListener('click', () => {
    if (tapTimer) return;
    tapTimer = setTimeout(() => { tapTimer = null; if (video.paused) video.play().catch(() => {}); else video.pause(); }, 250);
  });
  video.addEventListener('dblclick', ev => {
    clearTimeout(tapTimer); tapTimer = null;
    if (needsAccount()) return;
    const r = item.el.getBoundingClientRect();
    const heart = h('div', { class: 'heart' }, '♥');
    // Set through the CSSOM: the Content-Security-Policy allows no inline style attributes.
    heart.style.left = `${ev.clientX - r.left}px`;
    heart.style.top = `${ev.clientY - r.top}px`;
    item.el.append(heart);
    setTimeout(() => heart.remove(), 900);
    if (!data.liked) likeBtn.onclick();
  });
  // The progress bar: follows playback, and dragging it moves through the video.
  const progress = h('input', { type: 'range', class: 'progress', min: 0, max: 1000, value: 0, 'aria-label': 'position in the video' });
  video.addEventListener('timeupdate', () => { if (video.duration) progress.value = Math.round(1000 * video.currentTime / video.duration); });
  progress.addEventListener('input', () => { if (video.duration) video.currentTime = video.duration * progress.value / 1000; });
  // The spinning disc opens the sound's page.
  const disc = h('a', { class: 'disc', href: `#/sound/${data.sound.id}`, title: data.sound.title, 'aria-label': `sound: ${data.sound.title}` }, h('span', { class: 'face' }, '♪'));
  video.addEventListener('play', () => disc.classList.add('spinning'));
  video.addEventListener('pause', () => disc.classList.remove('spinning'));
  item.el = h('section', { class: 'item', 'data-id': data.id }, video, mute, progress,
    h('div', { class: 'side' }, state.me && state.me.id === data.creator.id ? null : followBtn, likeBtn, commentBtn, favBtn, share, why, more, disc),
    h('div', { class: 'info' },
      data.boosted ? h('button', { class: 'promoted', title: 'Promoted by Foryou staff; the promotion and its reason are in the public transparency log', onclick: () => { closePanels(item); item.el.append(reasonsPanel(item)); } }, 'Promoted') : null,
      h('a', { class: 'who', href: `#/u/${encodeURIComponent(data.creator.handle)}` }, '@' + data.creator.handle),
      captionEl(data.caption),
      data.effects && data.effects.length ? h('div', { class: 'effects' }, ...data.effects.map(e => h('a', { class: 'effect', href: `#/effect/${e}` }, '✦ ' + e.replace('_', ' ')))) : null,
      h('a', { class: 'sound', href: `#/sound/${data.sound.id}` }, '♪ ' + data.sound.title)));
  item.el._item = item;
  item.update();
  return item;
}

function closePanels(item) { item.el.querySelectorAll('.panel').forEach(p => p.remove()); }

function setMuted(m) {
  state.muted = m;
  document.querySelectorAll('.item').forEach(el => { el._item.video.muted = m; el._item.update(); });
}

let feedCtx = null;
function activeItem() { return feedCtx && feedCtx.active; }
function next(dir) {
  if (!feedCtx) return;
  const items = [...feedCtx.box.children];
  const i = items.indexOf(feedCtx.active && feedCtx.active.el);
  const target = items[Math.max(0, Math.min(items.length - 1, i + dir))];
  if (target) target.scrollIntoView({ behavior: 'smooth' });
}

addEventListener('keydown', e => {
  if (!feedCtx || /INPUT|TEXTAREA/.test(document.activeElement.tagName)) return;
  if (e.key === 'ArrowDown' || e.key === 'j') { e.preventDefault(); next(1); }
  if (e.key === 'ArrowUp' || e.key === 'k') { e.preventDefault(); next(-1); }
  if (e.key === 'm') setMuted(!state.muted);
});

// Feeds are kept while you look at a profile or a sound, so Back returns to the same video.
const feeds = new Map();
function renderFeed(key, source) {
  const kept = feeds.get(key);
  if (kept) {
    feedCtx = kept;
    view.replaceChildren(kept.box);
    kept.box.scrollTop = kept.scrollTop;
    if (kept.active) { kept.active.video.play().catch(() => {}); startWatch(kept.active); }
    return;
  }
  const box = h('div', { class: 'feed', id: 'feed' });
  view.replaceChildren(box);
  const ctx = { key, box, active: null, loading: false, done: false, seen: new Set(), cursor: null, scrollTop: 0 };
  feedCtx = ctx;
  feeds.set(key, ctx);
  box.addEventListener('scroll', () => { ctx.scrollTop = box.scrollTop; }, { passive: true });
  const io = new IntersectionObserver(entries => {
    for (const en of entries) {
      const item = en.target._item;
      if (en.isIntersecting && en.intersectionRatio >= 0.6) {
        if (ctx.active !== item) {
          if (ctx.active) ctx.active.video.pause();
          ctx.active = item;
          item.video.muted = state.muted;
          item.video.play().catch(() => {});
          startWatch(item);
          const rest = [...box.children].indexOf(item.el);
          if (box.children.length - rest <= 3) more();
        }
      } else if (ctx.active === item && en.intersectionRatio < 0.4) {
        item.video.pause();
      }
    }
  }, { root: box, threshold: [0, 0.4, 0.6, 1] });
  async function more() {
    if (ctx.loading || ctx.done) return;
    ctx.loading = true;
    try {
      await flush();
      const page = await source(ctx.cursor);
      ctx.cursor = page.next_cursor;
      if (page.screen_time_reminder && !state.reminded) {
        state.reminded = true;
        box.parentNode.append(h('div', { class: 'panel reminder', role: 'alert', 'data-panel': 'reminder' }, h('h3', {}, 'Time for a break?'), h('p', {}, page.screen_time_reminder),
          h('button', { class: 'primary', onclick: e => e.target.closest('.reminder').remove() }, 'OK')));
      }
      const fresh = page.items.filter(d => !ctx.seen.has(d.id));
      fresh.forEach(d => { ctx.seen.add(d.id); const it = makeItem(d); box.append(it.el); io.observe(it.el); });
      if (!fresh.length && (page.next_cursor === null || page.next_cursor === undefined)) ctx.done = true;
      if (!box.children.length) box.append(h('div', { class: 'empty' }, 'Nothing here yet. ', h('a', { href: '#/upload' }, 'Upload a video'), ' or follow some creators.'));
    } catch (err) { toast(err.message); } finally { ctx.loading = false; }
  }
  more();
}

function leaveFeed() {
  if (feedCtx && feedCtx.active) feedCtx.active.video.pause();
  feedCtx = null;
}

function toggleMode() {
  state.personalized = !state.personalized;
  feeds.clear();
  localStorage.setItem('fy_personalized', String(state.personalized));
  toast(state.personalized ? 'Personalised For You' : 'Non-personalised For You: popular, not based on your activity');
  route();
}

async function refreshInterests() {
  if (needsAccount()) return;
  try { await api('POST', '/v1/feed/refresh'); feeds.clear(); toast('Your For You starts fresh; follows are kept'); route(); } catch (err) { toast(err.message); }
}

// ---- pages ---------------------------------------------------------------------------------------
function authPage(kind, params) {
  leaveFeed();
  const next = params.get('next') || '/';
  const nextQ = params.get('next') ? `?next=${encodeURIComponent(next)}` : '';
  const err = h('p', { class: 'error' });
  const fields = kind === 'signup'
    ? [h('input', { name: 'handle', placeholder: 'handle', required: true, autocomplete: 'username' }),
       h('input', { name: 'password', type: 'password', placeholder: 'password (10+ characters)', minlength: 10, required: true, autocomplete: 'new-password' }),
       h('label', {}, 'Birthdate ', h('input', { name: 'birthdate', type: 'date', required: true })),
       h('input', { name: 'country', placeholder: 'country code, e.g. DE or US', required: true, maxlength: 2 })]
    : [h('input', { name: 'handle', placeholder: 'handle', required: true, autocomplete: 'username' }),
       h('input', { name: 'password', type: 'password', placeholder: 'password', required: true, autocomplete: 'current-password' })];
  const submit = h('button', { class: 'primary', type: 'submit' }, kind === 'signup' ? 'Sign up' : 'Log in');
  const form = h('form', { class: 'box', onsubmit: async e => {
    e.preventDefault();
    if (submit.disabled) return;
    const f = Object.fromEntries(new FormData(form));
    submit.disabled = true;
    err.textContent = '';
    try {
      if (kind === 'signup') {
        const acc = await api('POST', '/v1/accounts', { handle: f.handle, password: f.password, birthdate: f.birthdate, country: f.country.toUpperCase() });
        toast(`Welcome! Your data lives in region ${acc.region}`);
      }
      await api('POST', '/v1/sessions', { handle: f.handle, password: f.password, cookie: true });
      await loadMe();
      feeds.clear();
      location.hash = '#' + (next.startsWith('/') ? next : '/');
    } catch (ex) { err.textContent = ex.message; } finally { submit.disabled = false; }
  } }, ...fields, submit, err);
  view.replaceChildren(h('div', { class: 'page' }, h('h1', {}, kind === 'signup' ? 'Create your account' : 'Log in to Foryou'), form,
    h('p', {}, kind === 'signup' ? h('a', { href: '#/login' + nextQ }, 'I have an account') : h('a', { href: '#/signup' + nextQ }, 'Create an account')),
    kind === 'signup' ? h('p', {}, h('a', { href: '#/ask-parent', id: 'ask-parent-link' }, 'Under 13? Ask a parent to set up a supervised account')) : null));
}

// A child gives a parent's address; nothing else is asked or kept.
function askParentPage() {
  leaveFeed();
  const err = h('p', { class: 'error' });
  const email = h('input', { name: 'parent_email', type: 'email', required: true, placeholder: "your parent's e-mail address" });
  const form = h('form', { class: 'box', id: 'ask-parent-form', onsubmit: async e => {
    e.preventDefault();
    err.textContent = '';
    try {
      await api('POST', '/v1/consent/requests', { parent_email: email.value });
      form.replaceChildren(h('p', { id: 'ask-parent-sent' }, 'We sent your parent a link. When they set up your account, they will give you your handle and password. Until then you can keep watching.'),
        h('a', { href: '#/' }, h('button', { class: 'primary', type: 'button' }, 'Keep watching')));
    } catch (ex) { err.textContent = ex.message; }
  } }, h('p', {}, 'A parent can set up a supervised account for you: private, with no comments, and with the limits they choose. We only keep their address until they answer.'),
    email, h('button', { class: 'primary', type: 'submit' }, 'Send'), err);
  view.replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'Ask a parent'), form));
}

// The page a parent's consent link opens: signed in, they make the supervised account.
async function consentPage(token) {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  let req;
  try { req = await api('GET', `/v1/consent/${encodeURIComponent(token)}`); } catch (ex) { page.replaceChildren(h('p', { class: 'error' }, ex.message)); return; }
  if (!state.me) {
    page.replaceChildren(h('h1', {}, 'A supervised account for your child'),
      h('p', {}, `This link was sent to ${req.sent_to}. Sign in with your own account (or create one) to set up your child's account.`),
      h('p', {}, h('a', { href: `#/login?next=${encodeURIComponent('/consent/' + token)}` }, h('button', { class: 'primary' }, 'Sign in')), ' ',
        h('a', { href: `#/signup?next=${encodeURIComponent('/consent/' + token)}` }, 'Create an account')));
    return;
  }
  const err = h('p', { class: 'error' });
  const form = h('form', { class: 'box', id: 'consent-form', onsubmit: async e => {
    e.preventDefault();
    err.textContent = '';
    const f = Object.fromEntries(new FormData(form));
    try {
      const acc = await api('POST', `/v1/consent/${encodeURIComponent(token)}`, { handle: f.handle, password: f.password, birthdate: f.birthdate, country: f.country.toUpperCase() });
      page.replaceChildren(h('h1', {}, 'Done'), h('p', { id: 'consent-done' }, `@${acc.handle} can now sign in with the password you chose. Manage the account from `, h('a', { href: '#/family' }, 'your Family page'), '.'));
    } catch (ex) { err.textContent = ex.message; }
  } },
    h('input', { name: 'handle', placeholder: "your child's handle", required: true }),
    h('input', { name: 'password', type: 'password', placeholder: 'their password (10+ characters)', minlength: 10, required: true, autocomplete: 'new-password' }),
    h('label', {}, 'Their birthdate ', h('input', { name: 'birthdate', type: 'date', required: true })),
    h('input', { name: 'country', placeholder: 'country code, e.g. DE or US', required: true, maxlength: 2 }),
    h('button', { class: 'primary', type: 'submit' }, 'I consent: create the supervised account'), err);
  page.replaceChildren(h('h1', {}, 'A supervised account for your child'),
    h('p', {}, 'The account is private and cannot be found, followed or commented on; it shows no mature or untested videos, learns nothing about your child, and stops for the day after 60 minutes (you can change that). You can erase it at any time.'),
    form);
}

// Family Pairing: a parent invites and sets controls; a teen enters the code or leaves.
async function familyPage() {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  let fam, mine;
  try { [fam, mine] = await Promise.all([api('GET', '/v1/family'), api('GET', '/v1/me/settings')]); } catch (ex) { page.replaceChildren(h('p', { class: 'error' }, ex.message)); return; }
  const parts = [h('h1', {}, 'Family Pairing')];
  if (mine.band === 'adult') {
    const code = h('p', { id: 'family-code' });
    parts.push(h('p', {}, 'Link your teen\'s account to yours: they enter a code from here in their own Family page. You then set their limits; you see their settings, never what they watch or write.'),
      h('button', { class: 'primary', id: 'family-invite', onclick: async () => {
        try { const r = await api('POST', '/v1/family/invitations'); code.textContent = `Code: ${r.code} (valid for an hour, once)`; } catch (ex) { toast(ex.message); }
      } }, 'Get a code for my teen'), code);
    for (const c of fam.children) {
      const err = h('p', { class: 'error' });
      const limit = h('input', { name: 'daily_limit_min', type: 'number', min: 15, max: 720, value: c.daily_limit_min ?? '', placeholder: 'no limit' });
      const restricted = h('input', { type: 'checkbox', name: 'restricted', checked: c.restricted });
      const pub = h('input', { type: 'checkbox', name: 'may_be_public', checked: c.may_be_public, disabled: c.band !== 'older_teen' });
      const comments = h('select', { name: 'comments', disabled: c.supervised },
        ...[['', 'Their choice'], ['followers', 'Followers at most'], ['nobody', 'No one']].map(([v, t]) => h('option', { value: v, selected: (c.comments || '') === v }, t)));
      const form = h('form', { class: 'box child', 'data-child': c.id, onsubmit: async e => {
        e.preventDefault();
        err.textContent = '';
        try {
          await api('PUT', `/v1/family/${c.id}`, { daily_limit_min: limit.value ? Number(limit.value) : null, restricted: restricted.checked, comments: comments.value || null, may_be_public: pub.checked });
          toast('Saved: in force from their next request');
          familyPage();
        } catch (ex) { err.textContent = ex.message; }
      } },
        h('h2', {}, '@' + c.handle, c.supervised ? ' (supervised)' : ''),
        h('p', {}, `Watched today: ${c.minutes_today} min · account ${c.settings.private ? 'private' : 'public'} · comments from ${c.settings.comments}`),
        h('label', {}, 'Daily limit (minutes) ', limit),
        h('label', {}, restricted, ' Restricted mode (no mature or untested videos)'),
        h('label', {}, 'Who may comment ', comments),
        h('label', {}, pub, ' May be public (16–17 only)'),
        h('button', { class: 'primary', type: 'submit' }, 'Save'),
        c.supervised
          ? h('button', { class: 'danger', type: 'button', onclick: async () => {
              const password = prompt(`Your password, to erase @${c.handle}'s account and everything of it:`);
              if (!password) return;
              try { await api('DELETE', `/v1/family/${c.id}/account`, { password }); toast('Erased'); familyPage(); } catch (ex) { toast(ex.message); }
            } }, 'Erase this account')
          : h('button', { class: 'secondary', type: 'button', onclick: async () => {
              try { await api('DELETE', `/v1/family/${c.id}`); familyPage(); } catch (ex) { toast(ex.message); }
            } }, 'Unlink'),
        err);
      parts.push(form);
    }
  } else if (fam.parent) {
    const c = fam.controls;
    parts.push(h('p', { id: 'family-parent' }, `Linked to @${fam.parent.handle}. They set: daily limit ${c.daily_limit_min ? c.daily_limit_min + ' min' : 'none'}, restricted mode ${c.restricted ? 'on' : 'off'}. They see your settings, never what you watch or write.`),
      c.supervised ? null : h('button', { class: 'secondary', onclick: async () => {
        try { await api('DELETE', '/v1/family'); familyPage(); } catch (ex) { toast(ex.message); }
      } }, 'Leave Family Pairing'));
  } else {
    const err = h('p', { class: 'error' });
    const code = h('input', { name: 'code', placeholder: 'code from your parent', required: true });
    parts.push(h('form', { class: 'box', id: 'family-join', onsubmit: async e => {
      e.preventDefault();
      err.textContent = '';
      try { await api('POST', '/v1/family/links', { code: code.value }); familyPage(); } catch (ex) { err.textContent = ex.message; }
    } }, h('p', {}, 'Enter the code your parent got from their Family page to link your accounts.'), code, h('button', { class: 'primary', type: 'submit' }, 'Link'), err));
  }
  page.replaceChildren(...parts);
}

// A poster from a frame that has really been decoded: seek a little way in and wait for the
// frame, then check the canvas is not blank before using it.
async function posterFrom(file) {
  const url = URL.createObjectURL(file);
  try {
    const v = h('video', { muted: true, playsinline: true, preload: 'auto' });
    v.muted = true;
    const once = (ev, ms) => new Promise((ok, no) => { v.addEventListener(ev, ok, { once: true }); v.addEventListener('error', no, { once: true }); setTimeout(() => no(new Error('timeout')), ms); });
    v.src = url;
    await once('loadedmetadata', 5000);
    const seeked = once('seeked', 5000);
    v.currentTime = Math.min(1, (v.duration || 1) / 3);
    await seeked;
    if (v.readyState < 2) await once('loadeddata', 3000);
    if (v.requestVideoFrameCallback) await new Promise(ok => { v.requestVideoFrameCallback(() => ok()); setTimeout(ok, 500); });
    const c = h('canvas', { width: v.videoWidth, height: v.videoHeight });
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < px.length; i += 4 * 97) if (px[i] + px[i + 1] + px[i + 2] > 24) lit++;
    if (!lit) return null;
    return await new Promise(ok => c.toBlob(ok, 'image/png'));
  } catch (_) { return null; } finally { URL.revokeObjectURL(url); }
}

function uploadPage(params) {
  leaveFeed();
  const err = h('p', { class: 'error' });
  const bar = h('progress', { max: 100, value: 0, hidden: true });
  const file = h('input', { type: 'file', name: 'file', accept: 'video/mp4,video/webm', required: true });
  const caption = h('textarea', { name: 'caption', rows: 3, maxlength: 2200, placeholder: 'Caption with #hashtags' });
  const sound = h('input', { name: 'sound_id', placeholder: 'sound id (optional: use this sound)', value: params.get('sound') || '' });
  const mature = h('input', { type: 'checkbox', name: 'mature' });
  const post = h('button', { class: 'primary', type: 'submit' }, 'Post');
  const form = h('form', { class: 'box', onsubmit: async e => {
    e.preventDefault();
    if (post.disabled) return;
    err.textContent = '';
    if (!file.files[0]) { err.textContent = 'Choose a video file first.'; return; }
    post.disabled = true;
    post.textContent = 'Posting…';
    const done = () => { post.disabled = false; post.textContent = 'Post'; bar.hidden = true; };
    const fd = new FormData();
    fd.append('file', file.files[0]);
    fd.append('caption', caption.value);
    if (sound.value.trim()) fd.append('sound_id', sound.value.trim());
    if (mature.checked) fd.append('mature', 'true');
    const poster = await posterFrom(file.files[0]);
    if (poster) fd.append('poster', poster, 'poster.png');
    bar.hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/videos');
    xhr.setRequestHeader('X-CSRF-Token', csrf());
    xhr.upload.onprogress = ev => { if (ev.lengthComputable) bar.value = Math.round(100 * ev.loaded / ev.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 201) { toast('Posted!'); feeds.clear(); location.hash = `#/u/${encodeURIComponent(state.me.handle)}`; }
      else { done(); err.textContent = humanError(data, xhr.status); }
    };
    xhr.onerror = () => { done(); err.textContent = 'The upload was interrupted. Check your connection and try again.'; };
    xhr.send(fd);
  } }, file, caption, sound, h('label', {}, mature, ' Mature content (never shown to people under 18)'), post, bar, err);
  // Trending sounds of your region, each one tap from being the video's sound.
  const trending = h('div', { class: 'trending-sounds' });
  api('GET', '/v1/sounds/trending?limit=8').then(t => {
    if (!t.sounds.length) return;
    trending.replaceChildren(h('h2', {}, 'Trending sounds in your region'), h('ul', {}, ...t.sounds.map(s => h('li', {},
      h('button', { class: 'secondary', type: 'button', onclick: () => { sound.value = s.id; toast(`Using “${s.title}”`); } }, 'Use'), ' ',
      h('a', { href: `#/sound/${s.id}` }, '♪ ' + s.title), ` · ${fmt(s.recent_videos)} new videos`))));
  }).catch(() => { /* the list is a convenience */ });
  view.replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'Upload a video'),
    h('p', {}, 'MP4 (H.264 with AAC, Opus or FLAC) or WebM (VP8/VP9/AV1), up to 60 seconds.'), form, trending));
}

// A caption whose hashtags open their pages.
function captionEl(text) {
  const parts = text.split(/(#[\p{L}\p{N}_]+)/u);
  return h('div', { class: 'caption' }, ...parts.map((t, i) => i % 2 ? h('a', { class: 'tag', href: `#/tag/${encodeURIComponent(t.slice(1).toLowerCase())}` }, t) : t));
}

async function hashtagPage(tag) {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  try {
    const t = await api('GET', `/v1/hashtags/${encodeURIComponent(tag)}`);
    page.replaceChildren(h('h1', {}, '#' + t.tag), h('p', {}, `${fmt(t.video_count)} videos`), grid(t.videos));
  } catch (err) { page.replaceChildren(h('p', { class: 'error' }, err.message)); }
}

async function effectPage(name) {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  try {
    const e = await api('GET', `/v1/effects/${encodeURIComponent(name)}`);
    page.replaceChildren(h('h1', {}, '✦ ' + e.effect.replace('_', ' ')), h('p', {}, `${fmt(e.video_count)} videos made with this effect`),
      h('a', { href: '#/studio' }, h('button', { class: 'primary' }, 'Try this effect')), grid(e.videos));
  } catch (err) { page.replaceChildren(h('p', { class: 'error' }, err.message)); }
}

async function searchPage(q) {
  leaveFeed();
  const input = h('input', { type: 'search', name: 'q', value: q, placeholder: 'Search creators, sounds, #hashtags, captions', maxlength: 64, 'aria-label': 'search' });
  const results = h('div', { class: 'results' });
  const form = h('form', { class: 'search', onsubmit: e => { e.preventDefault(); location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`; } }, input, h('button', { class: 'primary' }, 'Search'));
  view.replaceChildren(h('div', { class: 'page' }, form, results));
  input.focus();
  if (!q.trim()) return;
  try {
    const r = await api('GET', `/v1/search?q=${encodeURIComponent(q.trim())}`);
    const section = (title, items) => items.length ? [h('h2', {}, title), h('ul', {}, ...items)] : [];
    results.replaceChildren(
      ...section('Creators', r.creators.map(c => h('li', {}, h('a', { href: `#/u/${encodeURIComponent(c.handle)}` }, '@' + c.handle), ` · ${fmt(c.followers)} followers`))),
      ...section('Hashtags', r.hashtags.map(t => h('li', {}, h('a', { href: `#/tag/${encodeURIComponent(t.tag)}` }, '#' + t.tag), ` · ${fmt(t.video_count)} videos`))),
      ...section('Sounds', r.sounds.map(s => h('li', {}, h('a', { href: `#/sound/${s.id}` }, '♪ ' + s.title), ` · ${fmt(s.video_count)} videos`))),
      ...(r.videos.length ? [h('h2', {}, 'Videos'), grid(r.videos)] : []),
      ...(r.creators.length + r.hashtags.length + r.sounds.length + r.videos.length ? [] : [h('p', {}, `Nothing found for “${r.q}”.`)]));
  } catch (err) { results.replaceChildren(h('p', { class: 'error' }, err.message)); }
}

// A generated avatar: the handle's first letter on a colour of its own (set through the CSSOM,
// which the Content-Security-Policy allows where style attributes are not).
function avatar(handle) {
  let hash = 0;
  for (const c of handle) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  const el = h('div', { class: 'avatar', 'aria-hidden': 'true' }, (handle[0] || '?').toUpperCase());
  el.style.background = `hsl(${hash % 360}deg 55% 45%)`;
  return el;
}

function grid(videos) {
  return h('div', { class: 'grid' }, videos.map(v => h('a', { href: `#/v/${v.id}`, 'data-id': v.id, bg: v.poster_url }, h('span', {}, '▶ ' + fmt(v.counts.views)))));
}

async function profilePage(handle) {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  try {
    const [p, { videos }] = await Promise.all([api('GET', `/v1/users/${encodeURIComponent(handle)}`), api('GET', `/v1/users/${encodeURIComponent(handle)}/videos`)]);
    const mine = state.me && state.me.id === p.id;
    const follow = h('button', { class: p.followed_by_me ? 'secondary' : 'primary', onclick: async () => {
      if (needsAccount()) return;
      try { await api('POST', '/v1/events', { events: [{ id: uid(), kind: p.followed_by_me ? 'unfollow' : 'follow', target: p.id }] }); profilePage(handle); } catch (err) { toast(err.message); }
    } }, p.followed_by_me ? 'Following' : 'Follow');
    page.replaceChildren(h('div', { class: 'profile-head' }, avatar(p.handle), h('h1', {}, '@' + p.handle)),
      p.bio ? h('p', { class: 'bio' }, p.bio) : null,
      h('div', { class: 'stats' }, h('span', {}, h('b', {}, fmt(p.following)), ' following'), h('span', { class: 'followers' }, h('b', {}, fmt(p.followers)), ' followers'), h('span', {}, h('b', {}, fmt(p.likes_received)), ' likes')),
      mine ? h('a', { href: '#/upload' }, h('button', { class: 'primary' }, 'Upload')) : follow,
      !mine && state.me ? h('p', {}, h('select', { id: 'report-account', onchange: async e => {
        const reason = e.target.value;
        if (!reason) return;
        try { await api('POST', '/v1/reports', { account: p.id, reason }); toast('Reported: a moderator of their region will look at it'); } catch (ex) { toast(ex.message); }
        e.target.value = '';
      } }, h('option', { value: '' }, 'Report this account…'), h('option', { value: 'under_13' }, 'They are under 13'), h('option', { value: 'harassment' }, 'Harassment'), h('option', { value: 'spam' }, 'Spam'), h('option', { value: 'other' }, 'Something else'))) : null,
      mine ? h('p', { class: 'privacy-links' }, h('a', { href: '#/settings', id: 'settings-link' }, 'Privacy and settings'), ' · ', h('a', { href: '/v1/me/export', download: '', id: 'export-link' }, 'Download my data'), ' (everything Foryou keeps about you, as one archive)') : null,
      mine ? profileTabs(videos) : videos.length ? grid(videos) : h('p', {}, 'No videos yet.'));
  } catch (err) { page.replaceChildren(h('p', { class: 'error' }, err.message)); }
}

// Your own profile: your videos, and your favourites (only you see them).
function profileTabs(videos) {
  const body = h('div', {});
  const tab = (name, label, show) => h('button', { class: 'tab', 'data-tab': name, onclick: e => {
    e.currentTarget.parentNode.querySelectorAll('.tab').forEach(t => t.classList.toggle('on', t === e.currentTarget));
    show();
  } }, label);
  const mineTab = tab('videos', 'Videos', () => body.replaceChildren(videos.length ? grid(videos) : h('p', {}, 'No videos yet.')));
  const favTab = tab('favourites', '★ Favourites', async () => {
    body.replaceChildren('Loading…');
    try {
      const { videos: saved } = await api('GET', '/v1/me/favorites');
      body.replaceChildren(h('p', { class: 'hint' }, 'Only you can see your favourites.'), saved.length ? grid(saved) : h('p', {}, 'Nothing saved yet: tap ★ on a video.'));
    } catch (err) { body.replaceChildren(h('p', { class: 'error' }, err.message)); }
  });
  mineTab.classList.add('on');
  body.replaceChildren(videos.length ? grid(videos) : h('p', {}, 'No videos yet.'));
  return h('div', {}, h('div', { class: 'profile-tabs' }, mineTab, favTab), body);
}

// Your own choices; the server applies the limits of your age band and says when it refuses.
async function settingsPage() {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  const render = ({ settings: s, limits }) => {
    const err = h('p', { class: 'error' });
    const personalised = h('input', { type: 'checkbox', name: 'personalised', checked: s.personalised, disabled: !limits.personalised });
    const priv = h('input', { type: 'checkbox', name: 'private', checked: s.private, disabled: !limits.may_be_public });
    const comments = h('select', { name: 'comments' },
      ...['everyone', 'followers', 'nobody'].map(v => h('option', { value: v, selected: s.comments === v, disabled: (v === 'everyone' && !limits.comments_from_everyone) || (v === 'followers' && !limits.comments_from_followers) }, { everyone: 'Everyone', followers: 'Followers', nobody: 'No one' }[v])));
    const filters = h('input', { name: 'filters', value: s.filters.join(', '), placeholder: 'words or #hashtags, comma-separated' });
    const downloads = h('input', { type: 'checkbox', name: 'downloads', checked: s.downloads, disabled: !limits.downloads });
    const watchHistory = h('input', { type: 'checkbox', name: 'watch_history', checked: s.watch_history });
    const shared = h('input', { type: 'checkbox', name: 'shared_statistics', checked: s.shared_statistics });
    const bio = h('input', { name: 'bio', value: s.bio || '', maxlength: 80, placeholder: 'A line about you, on your profile' });
    const form = h('form', { class: 'box', id: 'settings-form', onsubmit: async e => {
      e.preventDefault();
      err.textContent = '';
      try {
        const body = { personalised: personalised.checked, private: priv.checked, comments: comments.value, filters: filters.value.split(',').map(x => x.trim()).filter(Boolean), downloads: downloads.checked, watch_history: watchHistory.checked, shared_statistics: shared.checked, bio: bio.value };
        render(await api('PUT', '/v1/me/settings', body));
        feeds.clear();
        toast('Saved: in force from your next request');
      } catch (ex) { err.textContent = ex.message; }
    } },
      h('label', {}, 'Bio ', bio),
      h('label', {}, personalised, ' Personalised For You feed (off: ranked by popularity, and nothing is learned from what you do)'),
      h('label', {}, priv, ' Private account (not suggested to others; your videos only for your followers)', limits.may_be_public ? null : h('small', {}, ' — always on under 16')),
      h('label', {}, 'Who may comment on your videos ', comments),
      h('label', {}, 'Keep videos with these words out of my feed ', filters),
      h('label', {}, downloads, ' Others may download my videos', limits.downloads ? null : h('small', {}, ' — never under 18')),
      h('h3', {}, 'Data Foryou may use'),
      h('label', {}, watchHistory, ' What I watch (watch time, skips) to choose my videos; off: only what I like, share, follow or mark not interested'),
      h('label', {}, shared, ' My activity in the anonymous (differentially private) statistics regions share'),
      h('button', { class: 'primary', type: 'submit' }, 'Save'), err);
    const requests = h('div', { id: 'follow-requests' });
    api('GET', '/v1/me/follow-requests').then(({ requests: list }) => {
      if (!list.length) return;
      const decide = (id, kind) => async () => {
        try { await api('POST', '/v1/events', { events: [{ id: uid(), kind, target: id }] }); settingsPage(); } catch (ex) { toast(ex.message); }
      };
      requests.replaceChildren(h('h2', {}, 'Follow requests'), ...list.map(r => h('p', {}, '@' + r.handle, ' ',
        h('button', { class: 'primary', onclick: decide(r.id, 'approve_follower') }, 'Approve'), ' ',
        h('button', { class: 'secondary', onclick: decide(r.id, 'decline_follower') }, 'Decline'))));
    }).catch(() => {});
    const nope = h('div', { id: 'not-interested' });
    api('GET', '/v1/me/not-interested').then(n => {
      const undo = (video, target) => async () => {
        try { await api('POST', '/v1/events', { events: [{ id: uid(), kind: 'undo_not_interested', video_id: video, target }] }); feeds.clear(); settingsPage(); } catch (ex) { toast(ex.message); }
      };
      const rows = [
        ...n.videos.map(v => h('p', {}, 'Video \u201c' + (v.caption || v.video_id) + '\u201d ', h('button', { class: 'secondary', onclick: undo(v.video_id, 'video') }, 'Undo'))),
        ...n.creators.filter(c => c.video_id).map(c => h('p', {}, 'Creator @' + c.handle + ' ', h('button', { class: 'secondary', onclick: undo(c.video_id, 'creator') }, 'Undo'))),
        ...n.sounds.filter(s => s.video_id).map(s => h('p', {}, 'Sound \u201c' + s.title + '\u201d ', h('button', { class: 'secondary', onclick: undo(s.video_id, 'sound') }, 'Undo'))),
      ];
      if (rows.length) nope.replaceChildren(h('h2', {}, 'Not interested'), ...rows);
    }).catch(() => {});
    const decisions = h('div', { id: 'moderation' });
    api('GET', '/v1/me/moderation').then(({ decisions: list }) => {
      if (!list.length) return;
      decisions.replaceChildren(h('h2', {}, 'Moderation of your videos'), ...list.map(d => {
        const appeal = async () => {
          const text = prompt('Why should the video come back?');
          if (!text) return;
          try { await api('POST', `/v1/me/moderation/${d.id}/appeal`, { text }); settingsPage(); } catch (ex) { toast(ex.message); }
        };
        return h('p', {}, `Video ${d.video_id}: ${d.status.replace('_', ' ')} — \u201c${d.decision}\u201d `,
          d.status === 'removed' ? h('button', { class: 'secondary', onclick: appeal }, 'Appeal') : null);
      }));
    }).catch(() => {});
    const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', placeholder: 'your password' });
    const eraseErr = h('p', { class: 'error' });
    const erase = h('form', { class: 'box', id: 'erase-form', onsubmit: async e => {
      e.preventDefault();
      eraseErr.textContent = '';
      if (!confirm('Erase your account, your videos, comments, likes and everything Foryou learned about you, in every region? This cannot be undone.')) return;
      try {
        const { receipt } = await api('DELETE', '/v1/me', { password: pw.value });
        state.me = null;
        feeds.clear();
        page.replaceChildren(h('h1', {}, 'Your account is erased'),
          h('p', {}, `Everything of yours is gone from every region: ${receipt.videos} video(s), ${receipt.comments} comment(s), ${receipt.records} record(s), and the keys your activity was sealed under.`),
          h('p', {}, 'Your receipt (keep it to prove the erasure was logged; its SHA-256 is entry ', h('code', {}, String(receipt.log_index)), ' of the transparency log):'),
          h('pre', { id: 'erasure-receipt' }, receipt.receipt),
          h('p', {}, h('a', { href: '#/' }, 'Back to Foryou')));
        renderMenu();
      } catch (ex) { eraseErr.textContent = ex.message; }
    } },
      h('h2', {}, 'Delete my account'),
      h('p', {}, 'Erases your account and everything of yours everywhere. Download your data first if you want a copy.'),
      h('label', {}, 'Password ', pw),
      h('button', { class: 'danger', type: 'submit', id: 'erase-button' }, 'Erase my account'), eraseErr);
    page.replaceChildren(h('h1', {}, 'Privacy and settings'), form, requests, nope, decisions,
      h('p', {}, h('a', { href: '/v1/me/export', download: '' }, 'Download my data'), ' · ', h('a', { href: '#/family', id: 'family-link' }, 'Family Pairing')), erase);
  };
  try { render(await api('GET', '/v1/me/settings')); } catch (ex) { page.replaceChildren(h('p', { class: 'error' }, ex.message)); }
}

async function soundPage(id) {
  leaveFeed();
  const page = h('div', { class: 'page' }, 'Loading…');
  view.replaceChildren(page);
  try {
    const s = await api('GET', `/v1/sounds/${id}`);
    page.replaceChildren(h('h1', {}, '♪ ' + s.title),
      h('p', {}, `${s.video_count} videos · first used by `, h('a', { href: `#/u/${encodeURIComponent(s.creator.handle)}` }, '@' + s.creator.handle)),
      s.audio_url ? h('audio', { class: 'sound-audio', src: s.audio_url, controls: true, preload: 'metadata' }) : h('p', {}, 'This sound has no audio to play.'),
      h('a', { href: `#/upload?sound=${s.id}` }, h('button', { class: 'primary' }, 'Use this sound')),
      grid(s.videos));
  } catch (err) { page.replaceChildren(h('p', { class: 'error' }, err.message)); }
}

async function loadMe() {
  if (!csrf()) { state.me = null; return; }
  try { state.me = await api('GET', '/v1/me'); } catch (_) { state.me = null; }
}

function renderMenu() {
  const m = $('#menu');
  const search = h('a', { href: '#/search', id: 'nav-search', 'aria-label': 'Search' }, '⌕');
  if (state.me) {
    m.replaceChildren(search, h('a', { href: '#/studio', id: 'nav-studio' }, 'Create'), h('a', { href: '#/upload', id: 'nav-upload', 'aria-label': 'Upload' }, '+', h('span', { class: 'label' }, ' Upload')), h('a', { href: `#/u/${encodeURIComponent(state.me.handle)}`, id: 'nav-profile' }, '@' + state.me.handle),
      h('button', { id: 'nav-logout', onclick: async () => { try { await flush(); await api('DELETE', '/v1/sessions'); } catch (_) { /* already gone */ } state.me = null; feeds.clear(); location.hash = '#/'; route(); } }, 'Log out'));
  } else {
    m.replaceChildren(search, h('a', { href: '#/login' }, 'Log in'), h('a', { href: '#/signup' }, 'Sign up'));
  }
}

let meLoaded = false;
async function route() {
  finishWatch();
  const [path, query] = (location.hash.slice(1) || '/').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  if (!meLoaded) { meLoaded = true; await loadMe(); }
  renderMenu();
  document.querySelectorAll('#tabs a').forEach(a => a.classList.toggle('on', (a.dataset.tab === 'following') === (parts[0] === 'following') && (!parts[0] || parts[0] === 'following')));
  // Watching needs no account; following, uploading and your own pages do.
  if (['following', 'upload', 'settings', 'family'].includes(parts[0]) && !state.me) { askToJoin(); return; }
  if (['login', 'signup'].includes(parts[0]) && state.me) { location.hash = '#' + (params.get('next') || '/'); return; }
  const forYou = cursor => api('GET', `/v1/feed?mode=foryou&limit=8&personalized=${state.personalized && !!state.me}` + (cursor ? `&cursor=${cursor}` : ''));
  switch (parts[0]) {
    case undefined: return renderFeed('foryou', forYou);
    case 'following': return renderFeed('following', cursor => api('GET', '/v1/feed?mode=following&limit=8' + (cursor ? `&cursor=${cursor}` : '')));
    // A shared link: that video first, then the For You feed goes on below it.
    case 'v': return renderFeed('v/' + parts[1], async cursor => {
      if (cursor === null) {
        const shared = { ...(await api('GET', `/v1/videos/${encodeURIComponent(parts[1] || '')}`)), reasons: [{ code: 'shared_link', text: 'you opened this video from a link' }] };
        const rest = await forYou(null);
        return { items: [shared, ...rest.items], next_cursor: rest.next_cursor === undefined ? null : rest.next_cursor };
      }
      return forYou(cursor);
    });
    case 'login': return authPage('login', params);
    case 'signup': return authPage('signup', params);
    case 'upload': return uploadPage(params);
    case 'studio': return studioPage();
    case 'u': return profilePage(decodeURIComponent(parts[1] || ''));
    case 'sound': return soundPage(parts[1]);
    case 'tag': return hashtagPage(decodeURIComponent(parts[1] || ''));
    case 'effect': return effectPage(parts[1] || '');
    case 'search': return searchPage(params.get('q') || '');
    case 'settings': return settingsPage();
    case 'family': return familyPage();
    case 'ask-parent': return askParentPage();
    case 'consent': return consentPage(parts[1] || '');
    default: leaveFeed(); view.replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'Not found'), h('a', { href: '#/' }, 'Back to For You')));
  }
}

addEventListener('hashchange', route);
route();
