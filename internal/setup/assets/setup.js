// The kiosk's setup page: built from the settings the kiosk sends (each
// field's labels, explanation and rule), tested part by part and saved
// through the kiosk's API. Keys and tokens are never sent here: a field
// that has one says "set" and an empty answer keeps it.
'use strict';

const app = document.getElementById('app');
const banner = document.getElementById('banner');
const saveButton = document.getElementById('save');
let S = null;           // what the kiosk sent
const inputs = {};      // key → function returning the typed value
const rows = {};        // key → the field's element
const clear = new Set(); // secrets (and the logo) to remove
let ended = false;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

// label is the English name with the Chinese ones under it.
function label(l, tag = 'span') {
  const zh = l.zhHant === l.zhHans ? l.zhHant : l.zhHant + ' · ' + l.zhHans;
  return el(tag, {}, l.en, zh && zh !== l.en ? el('span', { class: 'zh' }, zh) : null);
}

async function call(path, body, type) {
  const opts = { method: body === undefined ? 'GET' : 'POST', credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = type || 'application/json';
    opts.body = type ? body : JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = {};
  try { data = await resp.json(); } catch (e) { data = { error: 'The kiosk answered HTTP ' + resp.status }; }
  if (resp.status === 401 || resp.status === 404) end(data.error || 'This setup page has ended: show a new code on the kiosk.');
  return { status: resp.status, data };
}

function end(msg) {
  ended = true;
  document.getElementById('clock').textContent = '';
  document.getElementById('bar').hidden = true;
  banner.hidden = true;
  app.replaceChildren(el('div', { class: 'done' }, el('h2', {}, 'Setup page closed'), el('p', {}, msg)));
}

function value(key) {
  return inputs[key] ? inputs[key]() : (S.values[key] || '');
}

function visible(f) {
  if (!f.when) return true;
  const [k, v] = f.when.split('=');
  return value(k) === v;
}

function refreshVisibility() {
  for (const f of S.fields) rows[f.key].hidden = !visible(f);
  const w = S.fields.find(f => f.kind === 'wallets');
  if (w) rows[w.key].rebuild();
}

function fieldRow(f) {
  const row = el('div', { class: 'field', id: 'field-' + f.key });
  const id = 'in-' + f.key;
  const head = el('label', { for: id }, label(f.label));
  const help = el('p', { class: 'help' }, f.help);
  const rule = el('p', { class: 'rule', hidden: true });
  row.rule = rule;
  let control;
  const v = S.values[f.key] || '';
  switch (f.kind) {
    case 'choice':
      if (f.key === 'gateway') {
        let current = v;
        const buttons = f.choices.map(c => el('button', { type: 'button', 'aria-pressed': String(c.value === current), onclick: () => {
          current = c.value;
          buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(f.choices[i].value === current)));
          refreshVisibility();
        } }, label(c.label)));
        control = el('div', { class: 'segmented', id }, buttons);
        inputs[f.key] = () => current;
      } else {
        control = el('select', { id, onchange: refreshVisibility },
          f.optional ? el('option', { value: '' }, '—') : null,
          f.choices.map(c => el('option', { value: c.value, selected: c.value === v }, c.label.en + (c.label.zhHant !== c.label.en ? ' · ' + c.label.zhHant : ''))));
        inputs[f.key] = () => control.value;
      }
      break;
    case 'bool': {
      const box = el('input', { type: 'checkbox', id, checked: v === 'true' });
      control = el('div', { class: 'toggle' }, box, el('span', {}, 'On · 開 · 开'));
      inputs[f.key] = () => String(box.checked);
      break;
    }
    case 'number':
      control = el('input', { type: 'number', id, inputmode: 'numeric', min: f.min, max: f.max, value: v });
      inputs[f.key] = () => control.value;
      break;
    case 'secret': {
      const set = S.secrets[f.key];
      control = el('input', { type: 'password', id, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
        placeholder: set ? 'Set — type to replace it' : 'Not set' });
      if (set) head.append(el('span', { class: 'set' }, '✓ set'));
      inputs[f.key] = () => control.value;
      if (set && f.optional) {
        const box = el('input', { type: 'checkbox', onchange: () => { box.checked ? clear.add(f.key) : clear.delete(f.key); } });
        control = el('div', {}, control, el('label', { class: 'toggle' }, box, el('span', {}, 'Remove it')));
      }
      break;
    }
    case 'pin': {
      const a = el('input', { type: 'password', id, inputmode: 'numeric', autocomplete: 'new-password', placeholder: S.secrets[f.key] ? 'Set — type a new one to change it' : 'Not set' });
      const b = el('input', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', placeholder: 'The new PIN again', 'aria-label': 'The new PIN again' });
      control = el('div', {}, a, b);
      inputs[f.key] = () => (a.value === b.value ? a.value : null);
      break;
    }
    case 'wallets':
      control = walletList(f, row, v);
      break;
    default:
      control = el('input', { type: f.kind === 'url' ? 'url' : 'text', id, value: v, autocomplete: 'off', spellcheck: 'false',
        autocapitalize: 'off', maxlength: f.max || false });
      inputs[f.key] = () => control.value;
  }
  row.append(head, control, help, rule);
  rows[f.key] = row;
  return row;
}

// walletList is the gateway's wallets, ticked and ordered.
function walletList(f, row, v) {
  const list = el('ul', { class: 'wallets', id: 'in-' + f.key });
  let order = v ? v.split(',') : [];
  let ticked = new Set(order);
  let shown = '';
  const draw = () => {
    const gw = value('gateway');
    const choices = f.wallets[gw] || [];
    if (shown !== gw) {
      // Ticked first, in their order; the rest after, in the gateway's.
      const known = choices.map(c => c.value);
      order = order.filter(w => known.includes(w)).concat(known.filter(w => !order.includes(w)));
      if (![...ticked].some(w => known.includes(w))) ticked = new Set(known);
      shown = gw;
    }
    list.replaceChildren(...order.map((w, i) => {
      const c = choices.find(x => x.value === w);
      const box = el('input', { type: 'checkbox', checked: ticked.has(w), onchange: () => { box.checked ? ticked.add(w) : ticked.delete(w); } });
      const move = (d) => () => { const j = i + d; if (j < 0 || j >= order.length) return; [order[i], order[j]] = [order[j], order[i]]; draw(); };
      return el('li', {}, el('label', {}, box, c.label.en, el('span', { class: 'zh' }, c.label.zhHant)),
        el('button', { type: 'button', class: 'small', 'aria-label': 'Up', onclick: move(-1), disabled: i === 0 }, '↑'),
        el('button', { type: 'button', class: 'small', 'aria-label': 'Down', onclick: move(1), disabled: i === order.length - 1 }, '↓'));
    }));
  };
  row.rebuild = draw;
  inputs[f.key] = () => order.filter(w => ticked.has(w)).join(',');
  draw();
  return list;
}

function logoBlock() {
  const row = el('div', { class: 'field', id: 'field-logo' });
  const rule = el('p', { class: 'rule', hidden: true });
  const status = el('p', { class: 'help' }, S.logo ? 'A logo is set.' : 'No logo.');
  const preview = el('img', { class: 'preview', alt: 'The new logo', hidden: true });
  const file = el('input', { type: 'file', id: 'in-logo', accept: 'image/png,image/jpeg', onchange: async () => {
    rule.hidden = true;
    const f = file.files[0];
    if (!f) return;
    const r = await call('/setup/api/logo', f, f.type || 'application/octet-stream');
    if (r.data.ok) {
      status.textContent = 'New logo ready: ' + r.data.width + ' × ' + r.data.height + ' pixels (kept when you save).';
      clear.delete('logo');
      const reader = new FileReader();
      reader.onload = () => { preview.src = reader.result; preview.hidden = false; };
      reader.readAsDataURL(f);
    } else {
      rule.textContent = r.data.error || 'The logo was refused.';
      rule.hidden = false;
    }
  } });
  const remove = S.logo ? el('button', { type: 'button', class: 'small', onclick: () => { clear.add('logo'); status.textContent = 'The logo is removed when you save.'; } }, 'Remove the logo') : null;
  row.rule = rule;
  row.append(...[el('label', { for: 'in-logo' }, label({ en: 'Logo', zhHant: '標誌', zhHans: '标志' })), file, preview, status,
    el('p', { class: 'help' }, 'A PNG or JPEG of at most 2 MiB and 2000 pixels a side, shown on the customer screen.'), remove, rule].filter(Boolean));
  rows.logo = row;
  return row;
}

function change() {
  const values = {};
  for (const f of S.fields) {
    if (!visible(f)) continue;
    const v = inputs[f.key]();
    if (v === null) { showRule(f.key, 'The two PINs are not the same.'); throw new Error('pin'); }
    values[f.key] = v;
  }
  return { values, clear: [...clear] };
}

function showRule(key, text) {
  const row = rows[key];
  if (!row) return false;
  row.classList.add('bad');
  row.rule.textContent = text;
  row.rule.hidden = false;
  return true;
}

function clearRules() {
  for (const row of Object.values(rows)) {
    row.classList.remove('bad');
    row.rule.hidden = true;
  }
  banner.hidden = true;
}

// showRefusal puts each refused value under its field, the rest in the
// banner.
function showRefusal(data) {
  const loose = [];
  for (const e of data.fields || []) {
    const f = S.fields.find(x => x.key === e.key);
    if (!showRule(e.key, (f ? f.label.en + ' ' : '') + e.rule)) loose.push(e.key + ': ' + e.rule);
  }
  for (const p of data.problems || []) {
    if (!(data.fields || []).some(e => e.rule === p)) loose.push(p);
  }
  if (loose.length) showBanner(loose.join('\n'), false);
}

function showBanner(text, good, action) {
  banner.replaceChildren(el('div', {}, text), action || null);
  banner.className = good ? 'banner good' : 'banner';
  banner.hidden = false;
}

function showResult(section, t) {
  const box = document.getElementById('result-' + section);
  if (!box) return;
  box.textContent = (t.ok ? '✓ ' : '✗ ') + t.text;
  box.className = 'result ' + (t.ok ? 'good' : 'bad');
  box.hidden = false;
  if (!t.ok && t.field) showRule(t.field, 'See the test result below.');
}

async function test(section, part, button) {
  clearRules();
  let ch;
  try { ch = change(); } catch (e) { return; }
  button.disabled = true;
  const old = button.textContent;
  button.textContent = 'Testing…';
  try {
    const r = await call('/setup/api/test', { part, ...ch });
    if (r.status === 200) showResult(section, r.data.tests[0]);
    else showRefusal(r.data);
  } finally {
    button.disabled = false;
    button.textContent = old;
  }
}

async function save(force) {
  clearRules();
  let ch;
  try { ch = change(); } catch (e) { return; }
  saveButton.disabled = true;
  try {
    const r = await call('/setup/api/save', { ...ch, force });
    if (r.status === 200) {
      ended = true;
      document.getElementById('clock').textContent = '';
      const warn = (r.data.warnings || []).map(w => el('p', { class: 'help' }, 'Note: ' + w));
      document.getElementById('bar').hidden = true;
      app.replaceChildren(el('div', { class: 'done', id: 'saved' }, el('h2', {}, 'Saved ✓'),
        el('p', {}, r.data.demo ? 'Saved. The kiosk stays in demo mode until the gateway credentials are set.'
          : 'The kiosk uses the new settings as soon as no sale is under way. You can close this page.'),
        el('p', { class: 'zh' }, '已儲存 · 已保存'), warn));
      return;
    }
    if (r.status === 409 && r.data.tests) {
      for (const t of r.data.tests) {
        const s = S.sections.find(x => x.test === t.part);
        if (s) showResult(s.id, t);
      }
      const bad = r.data.tests.filter(t => !t.ok).map(t => t.text).join('\n');
      showBanner('Not saved: ' + bad, false, el('button', { type: 'button', onclick: () => save(true) }, 'Save anyway'));
      return;
    }
    if (r.status === 422) { showRefusal(r.data); return; }
    if (r.data.error && !ended) showBanner(r.data.error, false);
  } finally {
    saveButton.disabled = false;
  }
}

function tick() {
  if (ended || !S) return;
  const left = Math.max(0, Math.round((new Date(S.until) - Date.now()) / 1000));
  document.getElementById('clock').textContent = 'This page closes in ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') + ' unless you save.';
  if (left === 0) end('The code’s 10 minutes are up and nothing was saved. Show a new code on the kiosk to go on.');
}

async function start() {
  const r = await call('/setup/api/settings');
  if (r.status !== 200) return;
  S = r.data;
  const cards = S.sections.map(s => {
    const fields = S.fields.filter(f => f.section === s.id);
    if (!fields.length && s.id !== 'sale') return null;
    const card = el('section', { class: 'card', id: 'section-' + s.id }, label(s.title, 'h2'), el('p', { class: 'help' }, s.help), fields.map(fieldRow));
    if (s.id === 'sale') card.append(logoBlock());
    if (s.id === 'pos' && S.fingerprint) {
      card.append(el('div', { class: 'field' }, el('span', { class: 'label' }, label({ en: 'Kiosk certificate fingerprint', zhHant: '證書指紋', zhHans: '证书指纹' })),
        el('p', { class: 'fingerprint', id: 'fingerprint' }, S.fingerprint),
        el('p', { class: 'help' }, 'The POS must show the same SHA-256 fingerprint for the kiosk’s certificate it imported.')));
    }
    if (s.test) {
      const button = el('button', { type: 'button', class: 'test', id: 'test-' + s.id, onclick: () => test(s.id, s.test, button) }, s.testLabel);
      card.append(button, el('p', { class: 'result', id: 'result-' + s.id, role: 'status', hidden: true }));
    }
    return card;
  });
  app.replaceChildren(...cards.filter(Boolean));
  refreshVisibility();
  tick();
  setInterval(tick, 1000);
}

// Enter in a field tests nothing and saves nothing: only the buttons do.
app.addEventListener('submit', (e) => e.preventDefault());
saveButton.addEventListener('click', () => save(false));
document.getElementById('leave').addEventListener('click', async () => {
  await call('/setup/api/end', {});
  end('You left without saving: the kiosk keeps its settings.');
});
start();
