// The customer display. It draws what the kiosk's last message says and
// decides nothing about a sale: no QR unless the link is live and the
// kiosk's last word offers one with time left on the kiosk's clock. It
// cannot act either: it sends the kiosk nothing.
'use strict';

const TOKEN = 'qrkiosk.display.token';
const $ = (id) => document.getElementById(id);

// What the page shows now, for the people and the tests watching it.
const state = {
  link: 'connecting', // connecting | live | stale | pairing
  seq: 0, page: '', order: '',
  qr: false, // a QR is drawn
  qrDraws: 0, // how many times one was drawn
  receipt: false, // the e-receipt's QR is drawn
  lastMessageAt: 0, // performance.now() of the kiosk's last message
  qrHiddenAt: 0, qrHiddenFor: '', // when and why the QR was last taken away
  cues: [],
};
window.qrkiosk = state;

let ws = null; // the live socket; messages of any other are ignored
let hello = null; // this socket's timing
let view = null; // this socket's last view
let deadline = 0; // performance.now() when the QR's time is up, by the kiosk's word
let staleTimer = 0, tickTimer = 0, retryTimer = 0, retries = 0;
// awake is false from the page being hidden (the tablet asleep, another
// app in front) until the kiosk's first word after it is visible again:
// a tablet that wakes shows no QR from before it slept, whatever its
// clocks say (some do not count the time asleep).
let awake = !document.hidden;

function setLink(link) {
  state.link = link;
  document.body.dataset.link = link;
  $('reconnect').hidden = link !== 'stale' && link !== 'connecting';
  $('pair').hidden = link !== 'pairing';
}

function connect() {
  clearTimeout(retryTimer);
  const token = localStorage.getItem(TOKEN);
  if (!token) {
    showPairing('');
    return;
  }
  if (state.link !== 'stale') setLink('connecting');
  hello = null;
  view = null; // a new link takes the kiosk's current view, never an old one
  const sock = new WebSocket(`wss://${location.host}/display/ws`, ['qrkiosk.display.v1', 'token.' + token]);
  ws = sock;
  // A link that never opens (the network half there) is given up on.
  clearTimeout(staleTimer);
  staleTimer = setTimeout(lost, 5000);
  sock.onmessage = (e) => { if (sock === ws) onMessage(e.data); };
  sock.onclose = (e) => { if (sock === ws) onClose(e.code); };
}

function onClose(code) {
  ws = null;
  clearTimeout(staleTimer);
  if (code === 4401) { // revoked, or never paired
    localStorage.removeItem(TOKEN);
    goStale('unpaired');
    showPairing('This display was removed on the kiosk: pair it again.');
    return;
  }
  goStale('closed');
  retryTimer = setTimeout(connect, Math.min(250 * 2 ** retries++, 3000));
}

function onMessage(data) {
  let m;
  try { m = JSON.parse(data); } catch { return; }
  state.lastMessageAt = performance.now();
  switch (m.t) {
    case 'hello':
      hello = m;
      retries = 0;
      break;
    case 'view':
      if (!hello) return;
      render(m);
      break;
    case 'hb':
      if (view && view.qr && m.seq === view.seq) sync(m.left_ms || 0);
      break;
    case 'cue':
      play(m.cue);
      break;
  }
  if (!hello) return;
  armStale();
  const woke = !awake && !document.hidden;
  if (woke) awake = true;
  if (view && state.link !== 'live') {
    setLink('live');
    show();
  } else if (woke && view) {
    show();
  }
}

// armStale hides the QR if the kiosk falls silent: a heartbeat comes well
// within stale_ms on a live link.
function armStale() {
  clearTimeout(staleTimer);
  staleTimer = setTimeout(lost, hello.stale_ms);
}

function lost() {
  const sock = ws;
  ws = null;
  if (sock) sock.close();
  goStale('silent');
  retryTimer = setTimeout(connect, 250);
}

// checkStale catches a link that died while timers were held back (the
// tablet asleep, the page in the background).
function checkStale() {
  if (state.link === 'live' && hello && performance.now() - state.lastMessageAt > hello.stale_ms) lost();
}

function goStale(why) {
  clearTimeout(tickTimer);
  hideQR(why);
  if (state.link !== 'pairing') setLink('stale');
}

function hideQR(why) {
  const c = $('qr');
  if (state.qr || !c.hidden) {
    c.hidden = true;
    c.width = c.height = 0; // nothing of it is left to draw
    state.qrHiddenAt = performance.now();
    state.qrHiddenFor = why;
  }
  state.qr = false;
}

// sync takes the kiosk's word on the time left, never more than the
// page's own count: a late message cannot lengthen it.
function sync(leftMs) {
  const d = performance.now() + leftMs;
  if (d < deadline) deadline = d;
  if (leftMs <= 0) tick();
}

function render(m) {
  view = m;
  state.seq = m.seq;
  state.page = m.page;
  state.order = m.order || '';
  deadline = m.qr ? performance.now() + m.left_ms : 0;
  if (m.qr) m.modules = unpack(m.qr);
  if (m.receipt) m.receiptModules = unpack(m.receipt);
  if (state.link === 'live') show();
}

// show draws the current view.
function show() {
  const v = view;
  clearTimeout(tickTimer);
  document.documentElement.lang = v.lang;
  const banner = $('banner');
  banner.hidden = !v.banner;
  banner.textContent = v.banner || '';
  for (const p of document.querySelectorAll('.page')) p.hidden = p.id !== v.page;
  switch (v.page) {
    case 'idle': showIdle(v); break;
    case 'creating':
      $('c-label').textContent = v.amount_label;
      $('c-amount').textContent = v.amount;
      lines($('c-title'), v.title);
      lines($('c-note'), v.note);
      break;
    case 'awaiting': showAwaiting(v); break;
    case 'result': showResult(v); break;
  }
  showReceipt(v);
  fit();
  if (v.page === 'awaiting' && v.qr) {
    drawQR();
    tick();
  } else {
    hideQR(v.page === 'awaiting' ? 'withdrawn' : v.page);
  }
}

function showIdle(v) {
  const logo = $('logo');
  if (v.logo && !logo.getAttribute('src')) logo.src = 'static/logo.png';
  logo.hidden = !v.logo;
  $('merchant').textContent = v.merchant || '';
  $('merchant').hidden = !v.merchant;
  $('welcome').textContent = v.welcome;
  $('accept').textContent = v.accept;
  const tiles = (v.wallets || []).map((w) => {
    const t = document.createElement('div');
    t.className = 'tile';
    lines(t, w);
    return t;
  });
  $('wallets').replaceChildren(...tiles);
}

function showAwaiting(v) {
  lines($('a-title'), v.title);
  $('a-label').textContent = v.amount_label;
  $('a-amount').textContent = v.amount;
  lines($('a-wallet'), v.wallet);
  const ex = $('expires');
  ex.replaceChildren(...(v.expires || []).map((s) => {
    const d = document.createElement('div');
    d.textContent = s;
    return d;
  }));
  $('countdown').hidden = !v.qr;
  $('qrph').hidden = !!v.qr;
}

const STROKES = { // the Fyne screen's signs, in a 100×100 box
  check: 'M27 53L44 69L74 35',
  cross: 'M34 34L66 66M66 34L34 66',
  clock: 'M50 50L50 25M50 50L69 60',
  minus: 'M30 50L70 50',
};

function showResult(v) {
  const sign = $('sign');
  sign.setAttribute('class', v.title.tone);
  $('strokes').setAttribute('d', STROKES[v.sign] || '');
  lines($('r-title'), v.title);
  $('r-title').className = 'title ' + v.title.tone;
  $('r-amount').textContent = v.amount || '';
  $('r-amount').hidden = !v.amount;
  lines($('r-note'), v.note);
  $('r-note').hidden = !!v.amount;
}

// showReceipt puts the e-receipt's QR, a quarter of the screen's shorter
// side in a labelled card, beside the result (under it upright), so that
// it is never taken for a payment QR; on any other view the card goes.
function showReceipt(v) {
  const card = $('receipt'), c = $('rqr'), page = $('result');
  const n = v.page === 'result' && v.receipt ? v.receipt.n : 0;
  const m = Math.floor(Math.min(innerWidth, innerHeight) * (window.devicePixelRatio || 1) / 4 / (n + 8));
  if (!n || !paint(c, v.receiptModules, n, m * (n + 8))) {
    card.hidden = true;
    c.width = c.height = 0;
    page.classList.remove('with-receipt');
    state.receipt = false;
    return;
  }
  card.hidden = false;
  const r = card.getBoundingClientRect();
  page.style.setProperty('--card-w', r.width + 'px');
  page.style.setProperty('--card-h', r.height + 'px');
  page.classList.add('with-receipt');
  state.receipt = true;
}

// lines fills el with a text's lines, each marked with its language so
// the right Chinese glyphs are used, the first the largest.
function lines(el, t) {
  const ls = (t && t.lines) || [];
  el.replaceChildren(...ls.map((s, i) => {
    const d = document.createElement('div');
    d.className = 'line' + (i === 0 ? ' first' : '');
    d.lang = t.langs[i];
    d.textContent = s;
    return d;
  }));
  if (t && t.tone) el.classList.add(t.tone);
  for (const tone of ['ink', 'muted', 'primary', 'success', 'error', 'warning']) {
    if (!t || tone !== t.tone) el.classList.remove(tone);
  }
}

// fit makes the page fit the screen: a page (or the QR page's
// information) taller than its room is scaled down as a whole, at most to
// 0.8 (its smallest text then 24u); then one-line texts (amounts, names)
// wider than the screen are shrunk.
function fit() {
  const page = document.querySelector('.page:not([hidden])');
  if (!page) return;
  const box = page.id === 'awaiting' ? page.querySelector('.info') : page;
  let k = 1;
  page.style.setProperty('--k', '1');
  for (let i = 0; i < 3; i++) {
    const r = room(box);
    if (r >= 1 || k <= 0.8) break;
    k = Math.max(0.8, Math.floor(100 * k * r) / 100);
    page.style.setProperty('--k', String(k));
  }
  for (const el of page.querySelectorAll('.fit')) {
    el.style.fontSize = '';
    if (el.scrollWidth > el.clientWidth && el.clientWidth > 0) {
      const size = parseFloat(getComputedStyle(el).fontSize);
      el.style.fontSize = Math.floor(size * el.clientWidth / el.scrollWidth) + 'px';
    }
  }
}

// room is the share of its content's height a box has room for (its
// content is centred, so an overflow runs off both ends).
function room(box) {
  const kids = [...box.children].filter((e) => e.getClientRects().length > 0);
  if (kids.length === 0) return 1;
  const st = getComputedStyle(box);
  const avail = box.clientHeight - parseFloat(st.paddingTop) - parseFloat(st.paddingBottom);
  const top = Math.min(...kids.map((e) => e.getBoundingClientRect().top - parseFloat(getComputedStyle(e).marginTop)));
  const bottom = Math.max(...kids.map((e) => e.getBoundingClientRect().bottom + parseFloat(getComputedStyle(e).marginBottom)));
  return bottom > top ? avail / (bottom - top) : 1;
}

function unpack(qr) {
  const bytes = atob(qr.bits);
  const n = qr.n;
  const rows = [];
  for (let y = 0; y < n; y++) {
    const row = new Array(n);
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      row[x] = (bytes.charCodeAt(i >> 3) & (0x80 >> (i & 7))) !== 0;
    }
    rows.push(row);
  }
  return rows;
}

// paint draws a QR symbol of n×n modules on canvas c, px device pixels a
// side, every module the same whole number of them, centred in the
// four-module quiet zone. It returns the pixels a module, 0 when px is too
// small to draw it (then c is left as it was).
function paint(c, modules, n, px) {
  const dpr = window.devicePixelRatio || 1;
  const m = Math.floor(px / (n + 8));
  if (m < 1) return 0;
  c.width = c.height = px;
  c.style.width = c.style.height = px / dpr + 'px';
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, px, px);
  g.fillStyle = '#000';
  const off = Math.floor((px - m * n) / 2);
  modules.forEach((row, y) => {
    for (let x = 0; x < n; x++) {
      if (!row[x]) continue;
      let end = x;
      while (end + 1 < n && row[end + 1]) end++;
      g.fillRect(off + x * m, off + y * m, (end - x + 1) * m, m);
      x = end;
    }
  });
  return m;
}

// drawQR draws the payment QR as large as its box allows.
function drawQR() {
  if (!view || !view.qr || state.link !== 'live' || !awake || deadline <= performance.now()) {
    hideQR(!awake ? 'asleep' : view && view.qr ? 'deadline' : 'none');
    return;
  }
  const box = $('qrbox').getBoundingClientRect();
  const px = Math.floor(Math.min(box.width, box.height) * (window.devicePixelRatio || 1));
  const n = view.qr.n;
  const c = $('qr');
  const m = paint(c, view.modules, n, px);
  if (!m) {
    hideQR('too small');
    return;
  }
  c.hidden = false;
  state.qr = true;
  state.qrDraws++;
  $('countdown').style.width = (m * n) / (window.devicePixelRatio || 1) + 'px';
}

// tick redraws the countdown when its seconds change, and takes the QR
// away when its time is up: once a second while a QR shows, never else.
function tick() {
  clearTimeout(tickTimer);
  if (!view || !view.qr || state.link !== 'live') return;
  const left = deadline - performance.now();
  const cd = $('countdown');
  cd.classList.toggle('urgent', left < hello.urgent_ms);
  if (left <= 0) {
    $('clock').textContent = '00:00';
    $('bar').style.transform = 'scaleX(0)';
    hideQR('deadline');
    $('qrph').hidden = false;
    return;
  }
  const secs = Math.ceil(left / 1000);
  $('clock').textContent = String(Math.floor(secs / 60)).padStart(2, '0') + ':' + String(secs % 60).padStart(2, '0');
  $('bar').style.transform = `scaleX(${Math.min(left / view.total_ms, 1)})`;
  tickTimer = setTimeout(tick, (left % 1000 || 1000) + 5);
}

// Sounds: the kiosk's own cues, played when it says so. A browser lets a
// page play sound only after a touch: the first tap on the display (when
// it is paired, say) allows it.
let audio = null;
const sounds = {};
function unlockAudio() {
  if (!audio) {
    try { audio = new AudioContext(); } catch { return; }
    for (const name of ['paid', 'problem']) {
      fetch(`static/${name}.wav`).then((r) => r.arrayBuffer()).then((b) => audio.decodeAudioData(b)).then((buf) => { sounds[name] = buf; }).catch(() => {});
    }
  }
  if (audio.state !== 'running') audio.resume().catch(() => {});
}
function play(name) {
  state.cues.push(name);
  if (!audio || audio.state !== 'running' || !sounds[name]) return;
  const s = audio.createBufferSource();
  s.buffer = sounds[name];
  s.connect(audio.destination);
  s.start();
}

// The screen stays on where the browser allows it, and full screen after a
// tap where the page was not opened from the home screen.
let wakeLock = null;
function keepAwake() {
  if (document.visibilityState !== 'visible' || !navigator.wakeLock || wakeLock) return;
  navigator.wakeLock.request('screen').then((l) => {
    wakeLock = l;
    l.addEventListener('release', () => { wakeLock = null; });
  }).catch(() => {});
}
function onTouch() {
  unlockAudio();
  keepAwake();
  const standalone = matchMedia('(display-mode: fullscreen), (display-mode: standalone)').matches || navigator.standalone;
  if (!standalone && !document.fullscreenElement && document.documentElement.requestFullscreen && state.link !== 'pairing') {
    document.documentElement.requestFullscreen().catch(() => {});
  }
}

function showPairing(message) {
  clearTimeout(retryTimer);
  setLink('pairing');
  $('pairmsg').textContent = message;
  const ios = /iPad|iPhone|Macintosh/.test(navigator.userAgent) && navigator.standalone === false;
  $('hint').hidden = !ios;
}

async function pair(e) {
  e.preventDefault();
  unlockAudio();
  const button = $('pairbutton');
  button.disabled = true;
  $('pairmsg').textContent = '';
  try {
    const r = await fetch('pair', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: $('code').value }),
    });
    const a = await r.json().catch(() => ({}));
    if (!r.ok || !a.token) {
      $('pairmsg').textContent = a.error || `The kiosk refused (${r.status}).`;
      return;
    }
    localStorage.setItem(TOKEN, a.token);
    $('code').value = '';
    setLink('connecting');
    connect();
  } catch {
    $('pairmsg').textContent = 'The kiosk cannot be reached: check the Wi-Fi.';
  } finally {
    button.disabled = false;
  }
}

$('pairform').addEventListener('submit', pair);
addEventListener('pointerdown', onTouch);
addEventListener('contextmenu', (e) => e.preventDefault());
addEventListener('resize', () => {
  if (state.link !== 'live' || !view) return;
  showReceipt(view);
  fit();
  if (view.page === 'awaiting' && view.qr) drawQR();
});
// Hidden, the page drops its QR at once; shown again, it waits for the
// kiosk's next message (a heartbeat comes every 0.6 s) to draw one.
function asleep() {
  awake = false;
  hideQR('asleep');
}
document.addEventListener('visibilitychange', () => {
  if (document.hidden) asleep();
  else checkStale();
  keepAwake();
});
addEventListener('pagehide', asleep);
addEventListener('pageshow', checkStale);
keepAwake();
unlockAudio();
connect();
