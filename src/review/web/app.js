/* kestrel review: the grading UI. Keyboard first: arrows move, Space selects, the
 * scheme's keys grade the selection or the focused item (a whole group in the queue),
 * Z undoes, ? shows the keys. Pictures stay blurred (CSS filter) except the one item
 * under a held key or pointer; each unblur is reported to the server, which audits it.
 * No framework, nothing loaded from elsewhere: the page's CSP allows 'self' only. */
'use strict';

const S = {
  me: null, csrf: '', cats: [], keys: {},
  mode: 'queue',        // queue | group | verify | disputes | counts
  items: [], focus: 0, sel: new Set(),
  offset: 0, total: 0, limit: 100, all: false,
  group: null, queueOffset: 0, queueFocus: 0,
  unblurred: null, snoozeUntil: 0, detailTimer: 0,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k) e.append(k);
  return e;
}

async function api(method, path, body) {
  const opt = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') {
    opt.headers['Content-Type'] = 'application/json';
    opt.headers['X-CSRF-Token'] = S.csrf;
    opt.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opt);
  if (r.status === 401) {
    location.href = '/login';
    throw new Error('not logged in');
  }
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status));
  return j;
}

function status(text, bad) {
  const s = $('status');
  s.textContent = text;
  s.style.color = bad ? 'var(--bad)' : '';
}

function catLabel(code) {
  const c = S.cats.find((x) => x.code === code);
  return c ? c.label : code;
}

/* ---- welfare ---------------------------------------------------------------------- */

function showWelfare(w) {
  if (!w) return;
  const mix = Object.entries(w.mix || {}).map(([k, v]) => k + ':' + v).join(' ');
  $('welfare').textContent = 'today: viewed ' + w.viewed + ' · unblurred ' + w.unblurred +
    ' · graded ' + w.minutes + ' min' + (mix ? ' · mix ' + mix : '');
  maybeBreak(w.break_due, w.streak_minutes);
}

function maybeBreak(due, minutes) {
  if (!due || Date.now() < S.snoozeUntil) return;
  $('break-text').textContent = 'You have been grading for ' + minutes +
    ' minutes without a pause. Step away from the screen for a while.';
  $('break').hidden = false;
}

async function refreshWelfare() {
  try { showWelfare(await api('GET', '/api/welfare')); } catch (e) { /* shown elsewhere */ }
}

/* ---- loading views ----------------------------------------------------------------- */

async function load() {
  const m = S.mode;
  const grid = m === 'queue' || m === 'group' || m === 'verify';
  $('main').hidden = !grid;
  $('crumb').hidden = !grid;
  $('pager').hidden = !grid;
  $('disputes-view').hidden = m !== 'disputes';
  $('counts-view').hidden = m !== 'counts';
  $('all-label').hidden = m !== 'queue';
  for (const t of document.querySelectorAll('.tab'))
    t.classList.toggle('active', t.dataset.mode === m || (m === 'group' && t.dataset.mode === 'queue'));
  try {
    if (m === 'queue') {
      const j = await api('GET', '/api/queue?offset=' + S.offset + '&limit=' + S.limit + (S.all ? '&all=1' : ''));
      S.total = j.total;
      S.items = j.groups.map((g) => ({
        media: g.cover, group: g.id, size: g.size, open: g.open,
        label: g.exhibit + ' · ' + g.folder + '/' + g.name,
      }));
      $('crumb').textContent = 'Queue: ' + j.total + ' group(s) to grade, by exhibit and folder';
    } else if (m === 'group') {
      const j = await api('GET', '/api/group/' + S.group);
      S.total = j.members.length;
      S.items = j.members.map((x) => ({
        media: x.media, group: x.group, state: x.state, category: x.category, known: x.known,
        video: x.kind === 'video', dist: x.dist,
        label: x.exhibit + ' · ' + x.folder + '/' + x.name + ' · d' + x.dist,
      }));
      $('crumb').textContent = 'Group ' + S.group + ': ' + j.members.length +
        ' member(s). Grade members one by one, S splits one out, Esc goes back.';
    } else if (m === 'verify') {
      const j = await api('GET', '/api/verify?offset=' + S.offset + '&limit=' + S.limit);
      S.total = j.total;
      S.items = j.items.map((x) => ({
        media: x.media, group: x.group, video: x.kind === 'video',
        label: x.exhibit + ' · ' + x.folder + '/' + x.name,
      }));
      $('crumb').textContent = 'Verification: ' + j.total +
        ' graded item(s) to grade again, blind (the first grade is not shown)';
    } else if (m === 'disputes') {
      await loadDisputes();
      return;
    } else if (m === 'counts') {
      await loadCounts();
      return;
    }
  } catch (e) {
    status(e.message, true);
    S.items = [];
  }
  S.sel.clear();
  if (S.focus >= S.items.length) S.focus = Math.max(0, S.items.length - 1);
  render();
}

function pageInfo() {
  const from = S.items.length ? S.offset + 1 : 0;
  $('page-info').textContent = from + '–' + (S.offset + S.items.length) + ' of ' + S.total;
  $('prev').disabled = S.offset === 0 || S.mode === 'group';
  $('next').disabled = S.offset + S.items.length >= S.total || S.mode === 'group';
}

function tile(it, i) {
  const t = el('div', { class: 'tile', 'data-index': String(i), 'data-media': String(it.media) });
  const pic = el('div', { class: 'pic' });
  if (it.media) {
    const img = el('img', { alt: '', draggable: 'false', loading: 'lazy', src: '/api/thumb/' + it.media });
    img.addEventListener('error', () => pic.replaceChildren(el('span', { class: 'noimg', text: 'no preview' })));
    pic.append(img);
  }
  t.append(pic);
  if (it.size > 1) t.append(el('span', { class: 'badge', text: String(it.open) + '/' + String(it.size) }));
  if (it.video) t.append(el('span', { class: 'badge video', text: 'video' }));
  if (it.state && it.state !== 'none')
    t.append(el('span', { class: 'grade', text: it.state + (it.category ? ' ' + it.category : '') }));
  else if (it.known)
    t.append(el('span', { class: 'grade', text: 'hash set' }));
  t.append(el('div', { class: 'label', text: it.label, title: it.label }));
  t.addEventListener('click', () => { S.focus = i; paintFocus(); });
  t.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    S.focus = i;
    paintFocus();
    unblur(t, it.media);
  });
  t.addEventListener('pointerup', reblur);
  t.addEventListener('pointerleave', reblur);
  return t;
}

function render() {
  const g = $('grid');
  g.replaceChildren(...S.items.map(tile));
  if (!S.items.length)
    g.append(el('p', { class: 'hint', text: S.mode === 'verify' ? 'Nothing waits for verification.' : 'Nothing to grade here.' }));
  pageInfo();
  paintFocus();
}

function paintFocus() {
  const tiles = $('grid').querySelectorAll('.tile');
  tiles.forEach((t, i) => {
    t.classList.toggle('focus', i === S.focus);
    t.classList.toggle('selected', S.sel.has(i));
  });
  const f = tiles[S.focus];
  if (f) f.scrollIntoView({ block: 'nearest' });
  clearTimeout(S.detailTimer);
  S.detailTimer = setTimeout(loadDetail, 150);
}

async function loadDetail() {
  const d = $('detail');
  const it = S.items[S.focus];
  if (!it || !it.media) { d.replaceChildren(); return; }
  try {
    const j = await api('GET', '/api/media/' + it.media);
    const m = j.media;
    const head = el('div', {},
      el('h3', { text: 'Media ' + m.media + ' (' + m.type + ', ' + m.width + '×' + m.height + ')' }),
      el('div', { text: 'Group ' + m.group + ' · state ' + m.state + (m.category ? ' (' + catLabel(m.category) + ')' : '') }));
    const tb = el('table');
    for (const o of j.occurrences) {
      tb.append(el('tr', {}, el('td', { text: 'exhibit' }), el('td', { text: o.exhibit })));
      tb.append(el('tr', {}, el('td', { text: 'path' }), el('td', { text: o.path })));
      tb.append(el('tr', {}, el('td', { text: 'state' }), el('td', { text: o.state + (o.in_container ? ', in container' : '') })));
      tb.append(el('tr', {}, el('td', { text: 'modified' }), el('td', { text: o.mtime || '' })));
      tb.append(el('tr', {}, el('td', { text: 'accessed' }), el('td', { text: o.atime || '' })));
      tb.append(el('tr', {}, el('td', { text: 'created' }), el('td', { text: o.crtime || '' })));
      tb.append(el('tr', {}, el('td', { text: 'sha256' }), el('td', { text: o.sha256 })));
    }
    const parts = [head, el('h3', { text: j.occurrences.length + ' occurrence(s)' }), tb];
    if (j.exif) {
      const te = el('table');
      for (const [k, v] of Object.entries(j.exif))
        if (v !== '' && v !== null) te.append(el('tr', {}, el('td', { text: k }), el('td', { text: String(v) })));
      parts.push(el('h3', { text: 'EXIF' }), te);
    }
    d.replaceChildren(...parts);
  } catch (e) {
    d.replaceChildren(el('p', { class: 'error', text: e.message }));
  }
}

/* ---- unblur: one item, only while held ------------------------------------------------- */

function unblur(t, media) {
  if (!t || !media || S.unblurred) return;
  S.unblurred = t;
  t.classList.add('unblurred');
  api('POST', '/api/unblur', { media }).then(refreshWelfare).catch((e) => status(e.message, true));
}

function reblur() {
  if (S.unblurred) S.unblurred.classList.remove('unblurred');
  S.unblurred = null;
}

/* ---- grading ----------------------------------------------------------------------------- */

function targets() {
  const idx = S.sel.size ? [...S.sel].sort((a, b) => a - b) : [S.focus];
  return idx.map((i) => S.items[i]).filter(Boolean);
}

async function grade(code) {
  const ts = targets();
  if (!ts.length) return;
  try {
    let n = 0, last = null;
    if (S.mode === 'queue') {
      for (const t of ts) {
        last = await api('POST', '/api/grade', { group: t.group, category: code });
        n += last.graded;
      }
    } else if (S.mode === 'group') {
      last = await api('POST', '/api/grade', { media: ts.map((t) => t.media), category: code });
      n = last.graded;
    } else if (S.mode === 'verify') {
      last = await api('POST', '/api/verify', { media: ts.map((t) => t.media), category: code });
      status('Second grade ' + catLabel(code) + ': ' + last.agreed + ' agreed, ' + last.disputed + ' disputed. Z undoes.');
      await load();
      if (last) maybeBreak(last.break_due, last.streak_minutes);
      refreshWelfare();
      return;
    }
    status('Graded ' + n + ' item(s) as ' + catLabel(code) + '. Z undoes.');
    await load();
    if (last) maybeBreak(last.break_due, last.streak_minutes);
    refreshWelfare();
  } catch (e) {
    status(e.message, true);
  }
}

async function undo() {
  try {
    const j = await api('POST', '/api/undo', {});
    status('Undone: ' + j.undone + ' of ' + j.media + ' item(s).');
    await load();
  } catch (e) {
    status(e.message, true);
  }
}

async function split() {
  const it = S.items[S.focus];
  if (S.mode !== 'group' || !it) return;
  try {
    const j = await api('POST', '/api/split', { media: it.media });
    status('Media ' + it.media + ' is now group ' + j.group + ' of its own.');
    await load();
  } catch (e) {
    status(e.message, true);
  }
}

/* ---- disputes and counts ---------------------------------------------------------------- */

async function loadDisputes() {
  const v = $('disputes-view');
  const j = await api('GET', '/api/disputes');
  const rows = j.disputes.map((d) => {
    const sel = el('select', { 'aria-label': 'final category' });
    for (const c of S.cats) sel.append(el('option', { value: c.code, text: c.label }));
    const note = el('input', { placeholder: 'note (required)', size: '40', 'aria-label': 'note' });
    const btn = el('button', { text: 'Resolve' });
    btn.addEventListener('click', async () => {
      try {
        await api('POST', '/api/resolve', { media: d.media, category: sel.value, note: note.value });
        status('Dispute on media ' + d.media + ' resolved as ' + catLabel(sel.value) + '.');
        await loadDisputes();
      } catch (e) {
        status(e.message, true);
      }
    });
    const t = tile({ media: d.media, label: 'media ' + d.media }, -1);
    return el('div', { class: 'dispute', 'data-media': String(d.media) }, t,
      el('div', {},
        el('div', { text: 'First: ' + catLabel(d.category) + ' by ' + d.grader }),
        el('div', { text: 'Second: ' + catLabel(d.vcategory) + ' by ' + d.verifier }),
        el('div', {}, sel, note, btn)));
  });
  v.replaceChildren(el('h2', { text: j.disputes.length + ' dispute(s)' }), ...rows);
}

async function loadCounts() {
  const j = await api('GET', '/api/counts');
  const t = el('table', { id: 'counts-table' });
  const row = (k, v, id) => el('tr', {}, el('th', { text: k }), el('td', { text: String(v), id }));
  t.append(row('Groups still to grade', j.groups_open, 'c-groups'));
  t.append(row('Items still to grade', j.media_open, 'c-open'));
  t.append(row('Left out (hash set decided)', j.known, 'c-known'));
  t.append(row('Pending verification', j.pending, 'c-pending'));
  t.append(row('Verified', j.verified, 'c-verified'));
  t.append(row('Disputed', j.disputed, 'c-disputed'));
  t.append(row('Resolved', j.resolved, 'c-resolved'));
  for (const c of S.cats) t.append(row('Final: ' + c.label, j.final[c.code] || 0, 'c-final-' + c.code));
  $('counts-view').replaceChildren(el('h2', { text: 'Grading figures (only verified or resolved grades are final)' }), t);
}

/* ---- keys --------------------------------------------------------------------------------- */

function columns() {
  const tiles = $('grid').querySelectorAll('.tile');
  if (tiles.length < 2) return 1;
  const top = tiles[0].offsetTop;
  let n = 0;
  for (const t of tiles) { if (t.offsetTop !== top) break; n++; }
  return Math.max(1, n);
}

function setMode(m) {
  if (m === 'queue' && S.mode === 'group') {
    S.offset = S.queueOffset;
    S.focus = S.queueFocus;
  } else if (m !== S.mode) {
    S.offset = 0;
    S.focus = 0;
  }
  S.mode = m;
  reblur();
  load();
}

document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const k = ev.key;
  if (k === '?') { $('help').hidden = !$('help').hidden; ev.preventDefault(); return; }
  if (!$('help').hidden && k === 'Escape') { $('help').hidden = true; return; }
  if (!$('break').hidden) return;
  const gridMode = S.mode === 'queue' || S.mode === 'group' || S.mode === 'verify';
  if (!gridMode) return;
  const n = S.items.length;
  let f = S.focus;
  switch (k) {
    case 'ArrowRight': f = Math.min(n - 1, f + 1); break;
    case 'ArrowLeft': f = Math.max(0, f - 1); break;
    case 'ArrowDown': f = Math.min(n - 1, f + columns()); break;
    case 'ArrowUp': f = Math.max(0, f - columns()); break;
    case ' ':
      if (S.sel.has(f)) S.sel.delete(f); else S.sel.add(f);
      paintFocus();
      ev.preventDefault();
      return;
    case 'Enter':
      if (S.mode === 'queue' && S.items[f]) {
        S.queueOffset = S.offset;
        S.queueFocus = f;
        S.group = S.items[f].group;
        S.mode = 'group';
        S.focus = 0;
        load();
      }
      ev.preventDefault();
      return;
    case 'Escape':
      if (S.mode === 'group') setMode('queue');
      else { S.sel.clear(); paintFocus(); }
      return;
    case 'z': case 'Z': undo(); ev.preventDefault(); return;
    case 's': case 'S': split(); ev.preventDefault(); return;
    case 'u': case 'U':
      if (!ev.repeat) {
        const t = $('grid').querySelectorAll('.tile')[S.focus];
        if (t && S.items[S.focus]) unblur(t, S.items[S.focus].media);
      }
      ev.preventDefault();
      return;
    default: {
      const code = S.keys[k.toUpperCase()];
      if (code && !ev.repeat) { grade(code); ev.preventDefault(); }
      return;
    }
  }
  ev.preventDefault();
  if (f !== S.focus && f >= 0) { S.focus = f; paintFocus(); }
});

document.addEventListener('keyup', (ev) => {
  if (ev.key === 'u' || ev.key === 'U') reblur();
});
window.addEventListener('blur', reblur);

/* ---- start ---------------------------------------------------------------------------------- */

function applyLook() {
  const root = document.documentElement.style;
  root.setProperty('--blur', $('blur').value + 'px');
  root.setProperty('--grey', $('grey').checked ? '1' : '0');
  root.setProperty('--tile', $('size').value + 'px');
}

async function start() {
  const me = await api('GET', '/api/me');
  S.me = me;
  S.csrf = me.csrf;
  S.cats = me.categories;
  for (const c of S.cats) if (c.code.length === 1) S.keys[c.code.toUpperCase()] = c.code;
  $('help-grade-keys').textContent = S.cats.map((c) => c.code).join(', ');
  $('who').textContent = me.user + ' (' + me.role + ')';
  const verifier = me.role === 'verifier' || me.role === 'admin';
  $('tab-verify').hidden = !verifier;
  $('tab-disputes').hidden = !verifier;
  showWelfare(me.welfare);
  for (const t of document.querySelectorAll('.tab')) t.addEventListener('click', () => setMode(t.dataset.mode));
  for (const id of ['blur', 'grey', 'size']) $(id).addEventListener('input', applyLook);
  $('all').addEventListener('change', () => { S.all = $('all').checked; S.offset = 0; load(); });
  $('prev').addEventListener('click', () => { S.offset = Math.max(0, S.offset - S.limit); S.focus = 0; load(); });
  $('next').addEventListener('click', () => { S.offset += S.limit; S.focus = 0; load(); });
  $('help-close').addEventListener('click', () => { $('help').hidden = true; });
  $('break-snooze').addEventListener('click', () => { S.snoozeUntil = Date.now() + 15 * 60 * 1000; $('break').hidden = true; });
  const logout = async () => {
    try { await api('POST', '/api/logout', {}); } finally { location.href = '/login'; }
  };
  $('logout').addEventListener('click', logout);
  $('break-logout').addEventListener('click', logout);
  applyLook();
  await load();
  $('grid').focus();
  setInterval(refreshWelfare, 60000);
}

start().catch((e) => status(e.message, true));
