// End-to-end in headless Chromium against a real `foryou serve` (with E2E_BACKENDS=servers, every
// region on PostgreSQL, NATS JetStream and S3 started by servers.mjs, each region on nodes of its
// own — two for eu, two for us and row, the second of each forwarding to the first — with the
// public feed between them, and the browser talking to them through `foryou edge`; at the end
// the node serving eu is killed with -9): watching signed out, sign-up
// with a cookie session, an upload with a real thumbnail, playback, likes, reasons, Back from a
// profile, the header on a phone, and a shared link that survives sign-up.
// usage: node run.mjs [path/to/foryou]
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServers } from './servers.mjs';
import { freePort } from './ports.mjs';

const bin = resolve(process.argv[2] || '../target/debug/foryou');
const shots = resolve(process.env.E2E_SHOTS || 'artifacts');
const dir = mkdtempSync(join(tmpdir(), 'foryou-e2e-'));
let server, browser, servers, edge;
// With E2E_BACKENDS=servers: the other nodes (the second eu node, the us nodes).
const others = {};
let passed = 0, failed = 0;

const sleep = ms => new Promise(ok => setTimeout(ok, ms));

async function step(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}: ${e.message}`); throw e; }
}

function check(cond, msg) { if (!cond) throw new Error(msg); }

async function main() {
  if (!existsSync(bin)) throw new Error(`no binary at ${bin}; build it with cargo build -p foryou`);
  mkdirSync(shots, { recursive: true });
  const port = await freePort();
  let base = `http://127.0.0.1:${port}`;
  // E2E_BACKENDS=servers: every region on PostgreSQL, NATS JetStream and S3 (started here), and
  // the browser talks to the node through `foryou edge`.
  let extra = [], env = process.env, edgePort = null, serveEu = [];
  const ports = {};
  if (process.env.E2E_BACKENDS === 'servers') {
    edgePort = await freePort();
    for (const n of ['euB', 'usA', 'usB']) ports[n] = await freePort();
    const url = p => `http://127.0.0.1:${p}`;
    servers = await startServers(join(dir, 'servers'), ['eu', 'us', 'row'],
      [url(port), url(ports.usA), url(ports.euB), url(ports.usB)],
      { eu: [url(port), url(ports.euB)], us: [url(ports.usA), url(ports.usB)], row: [url(ports.usA), url(ports.usB)] });
    serveEu = ['--serve-regions', 'eu'];
    extra = ['--config', servers.config];
    env = servers.env;
    console.log('backends: PostgreSQL, NATS JetStream and S3 for every region; two nodes per region, through the edge');
  }
  // An admin, made by the operator's command before the server starts (as the README says).
  const adminOut = execFileSync(bin, ['admin', 'create', '--handle', 'e2eboss', '--country', 'US', '--data', join(dir, 'data'), ...extra], { env }).toString();
  const adminPassword = (adminOut.match(/one-time password: (\S+)/) || [])[1];
  check(adminPassword, 'admin create printed no password: ' + adminOut);
  // Behind the edge, the links the server writes (the parental-consent e-mail) name the edge.
  const publicUrl = edgePort ? ['--public-url', `http://127.0.0.1:${edgePort}`] : [];
  server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', join(dir, 'data'), ...extra, ...serveEu, ...publicUrl], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  server.stderr.on('data', d => { log += d; });
  const deadline = Date.now() + 20000;
  for (;;) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch (_) { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('server did not start:\n' + log);
    await sleep(150);
  }
  if (edgePort) {
    // The us and row nodes, then a second node per region, each with a disk of its own: the
    // second stands by (the first holds the region's lease) and answers by forwarding to it.
    const start = async (name, serve, forwarded) => {
      others[name] = spawn(bin, ['serve', '--addr', `127.0.0.1:${ports[name]}`, '--data', join(dir, name), ...extra, '--serve-regions', serve, ...publicUrl], { stdio: 'ignore', env });
      for (let i = 0; ; i++) {
        try { const r = await fetch(`http://127.0.0.1:${ports[name]}/healthz`); if (r.ok && (r.headers.get('foryou-forwarded') === '1') === forwarded) return; } catch (_) { /* not up yet */ }
        if (i > 300) throw new Error(`node ${name} did not start`);
        await sleep(100);
      }
    };
    await start('usA', 'us,row', false);
    await start('euB', 'eu', true);
    await start('usB', 'us,row', true);
    edge = spawn(bin, ['edge', '--addr', `127.0.0.1:${edgePort}`, '--config', servers.config], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let edgeLog = '';
    edge.stderr.on('data', d => { edgeLog += d; });
    base = `http://127.0.0.1:${edgePort}`;
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/healthz`)).ok) break; } catch (_) { /* not up yet */ }
      if (i > 200 || edge.exitCode !== null) throw new Error(`the edge did not start (exit ${edge.exitCode}):\n${edgeLog}`);
      await sleep(100);
    }
  }
  const clip = join(dir, 'clip.mp4');
  execFileSync(bin, ['synth-clip', '--seconds', '6', '--seed', '3', '--music', '7', '--out', clip]);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required',
      // A fake camera and microphone (a test pattern and a beep), granted without a prompt.
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
  const page = await browser.newPage({ viewport: { width: 420, height: 760 } });
  page.setDefaultTimeout(15000);
  const violations = [];
  page.on('console', m => { if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text()); });
  const handle = 'e2e_' + Math.random().toString(36).slice(2, 8);

  // Another creator's clips, posted through the API with a bearer token, so the feeds have more
  // than one video.
  const other = 'maker_' + Math.random().toString(36).slice(2, 8);
  const otherVideos = [];
  let otherToken;
  {
    const j = (method, path, body, token) => fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) }, body: body && JSON.stringify(body) });
    check((await j('POST', '/v1/accounts', { handle: other, password: 'another long password', birthdate: '1995-05-05', country: 'US' })).status === 201, 'API sign-up failed');
    const { token } = await (await j('POST', '/v1/sessions', { handle: other, password: 'another long password' })).json();
    otherToken = token;
    for (const seed of [11, 12, 13]) {
      const c = join(dir, `other-${seed}.mp4`);
      execFileSync(bin, ['synth-clip', '--seconds', '5', '--seed', String(seed), '--out', c]);
      const fd = new FormData();
      fd.append('caption', `clip ${seed} #other`);
      fd.append('file', new Blob([readFileSync(c)], { type: 'video/mp4' }), 'c.mp4');
      const r = await fetch(base + '/v1/videos', { method: 'POST', headers: { Authorization: 'Bearer ' + token }, body: fd });
      check(r.status === 201, 'API upload failed: ' + r.status);
      otherVideos.push((await r.json()).id);
    }
  }

  await step('signed out, the For You feed plays without an account', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector('section.item video');
    await page.waitForFunction(() => { const v = document.querySelector('section.item video'); return v && v.currentTime > 0.5; }, null, { timeout: 15000 });
    check(await page.$('#nav-logout') === null, 'a visitor sees a log-out button');
  });

  await step('people read errors, not API messages', async () => {
    await page.goto(`${base}/#/signup`);
    await page.fill('input[name=handle]', 'shortpw_' + Math.random().toString(36).slice(2, 6));
    await page.$eval('input[name=password]', el => el.removeAttribute('minlength'));
    await page.fill('input[name=password]', 'abc12345');
    await page.fill('input[name=birthdate]', '2001-02-03');
    await page.fill('input[name=country]', 'DE');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.error').textContent.length > 0);
    const text = await page.textContent('.error');
    check(text.startsWith('The password must be at least 10 characters'), 'error shown as: ' + text);
    check(!/^[a-z_]+(\[\d+\])?(\.[a-z_]+)?:/.test(text), 'a raw field prefix reached the screen: ' + text);
  });

  await step('sign up and land on the feed, the session in an HttpOnly cookie', async () => {
    await page.goto(`${base}/#/signup`);
    await page.fill('input[name=handle]', handle);
    await page.fill('input[name=password]', 'correct horse battery');
    await page.fill('input[name=birthdate]', '2001-02-03');
    await page.fill('input[name=country]', 'DE');
    await page.click('button[type=submit]');
    await page.waitForSelector('#nav-upload');
    check((await page.textContent('#nav-profile')).includes(handle), 'the menu does not show the new handle');
    const visible = await page.evaluate(() => document.cookie + ' ' + JSON.stringify(localStorage));
    check(!visible.includes('fy_session') && !visible.includes('fy_' + 'eu_'), 'the session token is readable by scripts: ' + visible);
    const cookies = await page.context().cookies();
    const s = cookies.find(c => c.name === 'fy_session');
    check(s && s.httpOnly && s.sameSite === 'Strict', 'no HttpOnly SameSite session cookie: ' + JSON.stringify(cookies));
  });

  let videoId;
  await step('a double-clicked Post uploads once, with a real frame as its thumbnail', async () => {
    await page.click('#nav-upload');
    await page.setInputFiles('input[type=file]', clip);
    await page.fill('textarea[name=caption]', 'first clip #e2e #testing');
    await page.dblclick('button[type=submit]');
    await page.waitForURL(u => u.hash.startsWith('#/u/'));
    const tile = await page.waitForSelector('.grid a[data-id]');
    videoId = await tile.getAttribute('data-id');
    check(videoId, 'no video tile on the profile');
    await sleep(1500);
    const mine = await (await fetch(`${base}/v1/users/${handle}/videos`)).json();
    check(mine.videos.length === 1, `Post made ${mine.videos.length} uploads`);
    const meta = await (await fetch(`${base}/v1/videos/${videoId}`)).json();
    check(meta.duration_ms === 6000 && meta.width === 144 && meta.height === 256, 'server metadata is wrong: ' + JSON.stringify(meta));
    check(meta.hashtags.includes('e2e'), 'hashtags were not parsed');
    const spread = await page.evaluate(async url => {
      const img = new Image();
      img.src = url;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let lo = 765, hi = 0;
      for (let i = 0; i < d.length; i += 4) { const v = d[i] + d[i + 1] + d[i + 2]; lo = Math.min(lo, v); hi = Math.max(hi, v); }
      return { w: c.width, h: c.height, lo, hi };
    }, meta.poster_url);
    check(spread.w === 144 && spread.h === 256, 'the poster is not a frame of the video: ' + JSON.stringify(spread));
    check(spread.hi - spread.lo > 60 && spread.hi > 100, 'the poster is blank: ' + JSON.stringify(spread));
  });

  await step('the video is in the For You feed and plays; no follow button on your own video', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector(`section.item[data-id="${videoId}"] video`);
    await page.$eval(`section.item[data-id="${videoId}"]`, el => el.scrollIntoView());
    await page.waitForFunction(id => { const v = document.querySelector(`section.item[data-id="${id}"] video`); return v && v.currentTime > 0.8; }, videoId, { timeout: 15000 });
    const t1 = await page.$eval(`section.item[data-id="${videoId}"] video`, v => v.currentTime);
    await sleep(700);
    const t2 = await page.$eval(`section.item[data-id="${videoId}"] video`, v => v.currentTime);
    check(t2 !== t1, `currentTime did not advance (${t1} -> ${t2})`);
    const audio = await page.$eval(`section.item[data-id="${videoId}"] video`, v => v.webkitAudioDecodedByteCount);
    check(audio > 0, `the clip's sound was not decoded (${audio} bytes)`);
    check(await page.$(`section.item[data-id="${videoId}"] .follow`) === null, 'you are offered to follow yourself');
    await page.screenshot({ path: join(shots, 'feed.png') });
  });

  await step('like it and see the count change', async () => {
    const sel = `section.item[data-id="${videoId}"] .like .count`;
    const before = Number(await page.textContent(sel));
    await page.click(`section.item[data-id="${videoId}"] .like`);
    await page.waitForFunction(([s, b]) => Number(document.querySelector(s).textContent) === b + 1, [sel, before]);
    for (let i = 0; i < 50; i++) {
      const meta = await (await fetch(`${base}/v1/videos/${videoId}`)).json();
      if (meta.counts.likes === before + 1) return;
      await sleep(100);
    }
    throw new Error('the server did not count the like');
  });

  await step('why this video shows reasons on an opaque sheet', async () => {
    await page.click(`section.item[data-id="${videoId}"] .why`);
    const items = await page.$$eval('[data-panel=why] li', lis => lis.map(l => l.textContent));
    check(items.length > 0, 'no reasons shown');
    const bg = await page.$eval('[data-panel=why]', el => getComputedStyle(el).backgroundColor);
    check(/^rgb\(/.test(bg), 'the sheet is see-through: ' + bg);
    await page.click('[data-panel=why] .close');
  });

  await step('the spinning disc opens the sound page, and the sound plays there', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector(`section.item[data-id="${videoId}"] .disc`);
    await page.$eval(`section.item[data-id="${videoId}"]`, el => el.scrollIntoView());
    await page.waitForSelector(`section.item[data-id="${videoId}"] .disc.spinning`);
    await page.click(`section.item[data-id="${videoId}"] .disc`);
    await page.waitForSelector('audio.sound-audio');
    await page.$eval('audio.sound-audio', a => a.play());
    await page.waitForFunction(() => { const a = document.querySelector('audio.sound-audio'); return a.currentTime > 0.5 && a.webkitAudioDecodedByteCount > 0; }, null, { timeout: 15000 });
  });

  await step('double-tap likes a video, with a heart', async () => {
    const id = otherVideos[0];
    await page.goto(`${base}/#/v/${id}`);
    const sel = `section.item[data-id="${id}"] video`;
    await page.waitForSelector(sel);
    const before = (await (await fetch(`${base}/v1/videos/${id}`)).json()).counts.likes;
    await page.dblclick(sel);
    await page.waitForSelector(`section.item[data-id="${id}"] .heart`, { timeout: 3000 });
    for (let i = 0; i < 50; i++) {
      const meta = await (await fetch(`${base}/v1/videos/${id}`)).json();
      if (meta.counts.likes === before + 1) return;
      await sleep(100);
    }
    throw new Error('the double tap did not like the video');
  });

  await step('save a video to favourites and find it on my profile; like a comment and reply in its thread', async () => {
    const id = otherVideos[2];
    const r = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + otherToken },
      body: JSON.stringify({ events: [{ id: 'maker-c1', kind: 'comment', video_id: id, text: 'thanks for watching' }] }) });
    check(r.status === 200, 'API comment failed: ' + r.status);
    const commentId = (await r.json()).results[0].comment_id;
    // With a node per region the American's comment reaches the European's node on the public
    // feed, a moment later.
    for (let i = 0; i < 100; i++) {
      const seen = await page.evaluate(async ([v, c]) => (await (await fetch(`/v1/videos/${v}/comments`)).json()).comments.some(x => x.id === c), [id, commentId]);
      if (seen) break;
      await sleep(50);
    }
    await page.goto(`${base}/#/v/${id}`);
    await page.click(`section.item[data-id="${id}"] .fav`);
    await page.waitForSelector(`section.item[data-id="${id}"] .fav.on`);
    for (let i = 0; i < 50 && (await (await fetch(`${base}/v1/videos/${id}`)).json()).counts.saves !== 1; i++) await sleep(100);
    check((await (await fetch(`${base}/v1/videos/${id}`)).json()).counts.saves === 1, 'the server did not count the save');
    await page.click(`section.item[data-id="${id}"] .comment`);
    const row = `[data-panel=comments] li[data-comment="${commentId}"]`;
    await page.click(`${row} .comment-like`);
    await page.waitForSelector(`${row} .comment-like.on`);
    await page.click(`${row} .reply`);
    await page.fill('[data-panel=comments] input[name=comment]', 'a reply in the thread');
    await page.press('[data-panel=comments] input[name=comment]', 'Enter');
    await page.waitForFunction(s => [...document.querySelectorAll(s + ' ul.replies li')].some(li => li.textContent.includes('a reply in the thread')), row);
    const thread = await (await fetch(`${base}/v1/comments/${commentId}/replies`)).json();
    check(thread.replies.length === 1 && thread.replies[0].author.handle === handle, 'the reply is not in the thread: ' + JSON.stringify(thread));
    const top = (await (await fetch(`${base}/v1/videos/${id}/comments`)).json()).comments[0];
    check(top.likes === 1 && top.reply_count === 1, 'the comment like or reply was not counted: ' + JSON.stringify(top));
    await page.goto(`${base}/#/u/${handle}`);
    await page.click('.profile-tabs [data-tab=favourites]');
    await page.waitForSelector(`.grid a[data-id="${id}"]`);
  });

  await step('a caption\'s hashtag opens its page, and search finds creators and hashtags', async () => {
    const id = otherVideos[1];
    await page.goto(`${base}/#/v/${id}`);
    await page.click(`section.item[data-id="${id}"] .caption a.tag`);
    await page.waitForFunction(() => location.hash === '#/tag/other');
    await page.waitForFunction(() => document.querySelectorAll('.grid a').length === 3);
    await page.click('#nav-search');
    await page.fill('input[name=q]', other.slice(0, 8));
    await page.press('input[name=q]', 'Enter');
    await page.waitForSelector(`.results a[href="#/u/${other}"]`);
    await page.fill('input[name=q]', '#oth');
    await page.press('input[name=q]', 'Enter');
    await page.click('.results a[href="#/tag/other"]');
    await page.waitForFunction(() => document.querySelectorAll('.grid a').length === 3);
  });

  await step('the upload page offers the region\'s trending sounds, one tap to use', async () => {
    await page.goto(`${base}/#/upload`);
    await page.click('.trending-sounds li button');
    const id = await page.inputValue('input[name=sound_id]');
    check(/^\d+$/.test(id), `no sound chosen: '${id}'`);
  });

  await step('back from a profile returns to the same video', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector('section.item');
    await page.waitForFunction(() => document.querySelectorAll('section.item').length >= 3);
    await page.keyboard.press('ArrowDown');
    await sleep(900);
    await page.keyboard.press('ArrowDown');
    await sleep(900);
    const active = () => page.evaluate(() => {
      const box = document.querySelector('#feed');
      const items = [...document.querySelectorAll('section.item')];
      const top = box.getBoundingClientRect().top;
      const seen = items.find(el => Math.abs(el.getBoundingClientRect().top - top) < 40);
      return seen ? seen.dataset.id : null;
    });
    const before = await active();
    check(before, 'no video in view');
    await page.click(`section.item[data-id="${before}"] .who`);
    await page.waitForSelector('.page h1');
    await page.goBack();
    await page.waitForSelector(`section.item[data-id="${before}"]`);
    await sleep(500);
    const after = await active();
    check(after === before, `back showed ${after}, not ${before}`);
  });

  await step('at 390 px the header fits on the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/#/`);
    await page.waitForSelector('#nav-logout');
    const over = await page.evaluate(() => [...document.querySelectorAll('#top a, #top button')]
      .filter(el => el.offsetParent !== null)
      .map(el => ({ t: el.textContent, r: el.getBoundingClientRect().right, l: el.getBoundingClientRect().left }))
      .filter(x => x.r > window.innerWidth + 0.5 || x.l < -0.5));
    check(over.length === 0, 'cut off: ' + JSON.stringify(over));
    const tall = await page.$eval('#top', el => el.getBoundingClientRect().height);
    check(tall < 56, `the header wraps onto more than one line (${tall} px)`);
    await page.screenshot({ path: join(shots, 'header-390.png') });
    // On a small phone (375 × 667) the actions beside the video stay below the header.
    await page.setViewportSize({ width: 375, height: 667 });
    await page.waitForSelector('section.item .side');
    // The item on screen: the one whose top is nearest the viewport's.
    const rail = await page.evaluate(() => {
      const on = [...document.querySelectorAll('section.item')].sort((a, b) => Math.abs(a.getBoundingClientRect().top) - Math.abs(b.getBoundingClientRect().top))[0];
      return on.querySelector('.side').getBoundingClientRect().top - on.getBoundingClientRect().top;
    });
    const head = await page.$eval('#top', el => el.getBoundingClientRect().bottom);
    check(rail >= head, `the actions run under the header (${rail} < ${head})`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#nav-logout');
    await page.waitForSelector('#menu a[href="#/signup"]');
  });

  await step('a shared link opens its video signed out, and sign-up comes back to it', async () => {
    const shared = otherVideos[1];
    await page.goto(`${base}/#/v/${shared}`);
    await page.waitForSelector('section.item');
    const first = await page.$eval('section.item', el => el.dataset.id);
    check(first === shared, `the link opened ${first}, not ${shared}`);
    await page.click(`section.item[data-id="${shared}"] .like`);
    await page.waitForURL(u => u.hash.startsWith('#/signup'));
    const fresh = 'linked_' + Math.random().toString(36).slice(2, 6);
    await page.fill('input[name=handle]', fresh);
    await page.fill('input[name=password]', 'a fresh long password');
    await page.fill('input[name=birthdate]', '1990-10-10');
    await page.fill('input[name=country]', 'FR');
    await page.click('button[type=submit]');
    await page.waitForURL(u => u.hash === `#/v/${shared}`);
    await page.waitForSelector(`section.item[data-id="${shared}"] .follow`);
    const again = await page.$eval('section.item', el => el.dataset.id);
    check(again === shared, `after sign-up the page shows ${again}, not ${shared}`);
  });

  await step('download my data from my profile: one archive of everything kept about me', async () => {
    await page.goto(`${base}/#/`);
    await page.click('#nav-profile');
    await page.waitForSelector('#export-link');
    const [status, type, size] = await page.evaluate(async () => {
      const r = await fetch(document.querySelector('#export-link').getAttribute('href'));
      return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
    });
    check(status === 200 && type === 'application/x-tar' && size > 2048, `export: ${status} ${type} ${size} bytes`);
  });

  await step('turn personalisation off in settings: the next feed is the non-personalised one', async () => {
    await page.goto(`${base}/#/settings`);
    await page.waitForSelector('#settings-form');
    await page.uncheck('#settings-form input[name=personalised]');
    await page.click('#settings-form button[type=submit]');
    for (let i = 0; i < 50; i++) {
      const s = await page.evaluate(async () => (await (await fetch('/v1/me/settings')).json()).settings.personalised);
      if (s === false) break;
      await sleep(100);
    }
    const codes = await page.evaluate(async () => {
      const f = await (await fetch('/v1/feed?limit=5')).json();
      return f.items.flatMap(i => i.reasons.map(r => r.code));
    });
    check(codes.length > 0 && codes.includes('not_personalised'), 'the feed is still personalised: ' + JSON.stringify(codes));
    await page.goto(`${base}/#/settings`);
    await page.waitForSelector('#settings-form');
    await page.check('#settings-form input[name=personalised]');
    await page.click('#settings-form button[type=submit]');
    await sleep(300);
  });

  await step('report a video: it reaches the moderators of its region', async () => {
    // Opened from its link, the video is the first in the feed.
    await page.goto(`${base}/#/v/${otherVideos[1]}`);
    const sel = `section.item[data-id="${otherVideos[1]}"]`;
    await page.click(`${sel} .more`);
    await page.click(`${sel} [data-panel=more] .report`);
    await page.click(`${sel} [data-panel=report] button:has-text("Spam")`);
    const j = (method, path, body, token) => fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) }, body: body && JSON.stringify(body) });
    const { token: boss } = await (await j('POST', '/v1/sessions', { handle: 'e2eboss', password: adminPassword })).json();
    for (let i = 0; i < 50; i++) {
      const q = await (await j('GET', '/v1/admin/reports?region=us&purpose=moderation', undefined, boss)).json();
      if ((q.reports || []).some(r => r.video === otherVideos[1] && r.reason === 'spam')) return;
      await sleep(100);
    }
    throw new Error('the report did not reach the queue');
  });

  await step('a staff promotion is labelled on the video and its reason is one tap away', async () => {
    const j = (method, path, body, token) => fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) }, body: body && JSON.stringify(body) });
    const { token: boss } = await (await j('POST', '/v1/sessions', { handle: 'e2eboss', password: adminPassword })).json();
    const { token: maker } = await (await j('POST', '/v1/sessions', { handle: other, password: 'another long password' })).json();
    const c = join(dir, 'promoted.mp4');
    execFileSync(bin, ['synth-clip', '--seconds', '4', '--seed', '21', '--out', c]);
    const fd = new FormData();
    fd.append('caption', 'city council live #news');
    fd.append('file', new Blob([readFileSync(c)], { type: 'video/mp4' }), 'c.mp4');
    const up = await fetch(base + '/v1/videos', { method: 'POST', headers: { Authorization: 'Bearer ' + maker }, body: fd });
    check(up.status === 201, 'upload failed: ' + up.status);
    const promoted = (await up.json()).id;
    const logSize = async () => Number((await (await fetch(`${base}/log/checkpoint`)).text()).split('\n')[1]);
    const before = await logSize();
    const r = await j('POST', `/v1/admin/videos/${promoted}/boost`, { action: 'boost', reason: 'local election coverage', regions: ['eu', 'us', 'row'] }, boss);
    check(r.status === 201, 'boost failed: ' + r.status);
    // The boost is in the transparency log of the node serving this page's region before it
    // takes effect there (with a node per region, it reaches that node on the public feed).
    for (let i = 0; i < 100 && await logSize() <= before; i++) await sleep(50);
    check(await logSize() > before, 'the boost is not in the log of the node serving eu');
    await page.goto(`${base}/#/`);
    await page.reload();
    const sel = `section.item[data-id="${promoted}"]`;
    await page.waitForSelector(`${sel} .promoted`);
    await page.$eval(sel, el => el.scrollIntoView());
    await page.click(`${sel} .promoted`);
    const reasons = await page.$$eval('[data-panel=why] li', lis => lis.map(l => l.textContent));
    check(reasons.some(t => t.includes('local election coverage') && t.includes('transparency log')), 'the promotion reason is not shown: ' + JSON.stringify(reasons));
    await page.screenshot({ path: join(shots, 'promoted.png') });
    await page.click('[data-panel=why] .close');
  });

  let kidHandle = '';
  await step('the studio: record, trim, an effect, text, a library sound, post; it plays with that sound in another user\'s For You feed', async () => {
    await page.goto(`${base}/#/studio`);
    await page.click('#studio-camera');
    await page.click('#studio-record');
    await sleep(3500);
    await page.click('#studio-record');
    await page.waitForSelector('.studio-edit:not([hidden])', { timeout: 15000 });
    // Trim to the first 2.5 s, a mono look, a line of text, a sound from the trending list.
    await page.$eval('input[name=trim-end]', el => { el.value = '2.5'; el.dispatchEvent(new Event('input')); });
    await page.selectOption('select[name=effect]', 'mono');
    // The preview is grey now (the fake camera's picture is green and colourful).
    await page.waitForFunction(() => {
      const d = document.querySelector('.studio-canvas').getContext('2d').getImageData(0, 0, 360, 640).data;
      let off = 0;
      for (let i = 0; i < d.length; i += 4 * 97) off += Math.abs(d[i] - d[i + 1]) + Math.abs(d[i + 1] - d[i + 2]);
      return off / (d.length / (4 * 97)) < 4;
    }, null, { timeout: 5000 });
    await page.fill('input[name=text]', 'hello studio');
    await page.click('.studio-sounds li button');
    await page.waitForFunction(() => document.querySelector('.studio-sound').dataset.id);
    const soundId = await page.$eval('.studio-sound', el => el.dataset.id);
    await page.fill('textarea[name=caption]', 'made in the studio #studio');
    await page.click('#studio-post');
    await page.waitForFunction(() => /^#\/v\/\d+$/.test(location.hash), null, { timeout: 30000 });
    const id = await page.evaluate(() => location.hash.split('/')[2]);
    const meta = await (await fetch(`${base}/v1/videos/${id}`)).json();
    check(meta.mime === 'video/webm' && meta.audio_codec === 'opus', `not a WebM with sound: ${meta.mime} ${meta.audio_codec}`);
    check(meta.sound.id === soundId, `the video does not use the chosen sound (${meta.sound.id} vs ${soundId})`);
    check(meta.effects.includes('mono') && meta.effects.includes('text'), 'effects not recorded: ' + meta.effects);
    check(meta.duration_ms >= 1500 && meta.duration_ms <= 4000, `trimmed to ${meta.duration_ms} ms`);
    const onEffect = await (await fetch(`${base}/v1/effects/mono`)).json();
    check(onEffect.videos.some(v => v.id === id), 'not on the effect page');
    await page.click(`section.item[data-id="${id}"] a.effect[href="#/effect/mono"]`);
    await page.waitForSelector(`.grid a[data-id="${id}"]`);
    // Another user, signed in in their own browser, meets it in their For You feed, playing with
    // its sound.
    const ctx2 = await browser.newContext();
    const p2 = await ctx2.newPage();
    await p2.goto(`${base}/#/login`);
    await p2.fill('input[name=handle]', other);
    await p2.fill('input[name=password]', 'another long password');
    await p2.click('button[type=submit]');
    await p2.waitForSelector('#nav-logout');
    await p2.goto(`${base}/#/`);
    await p2.waitForSelector('section.item');
    for (let i = 0; i < 40 && !(await p2.$(`section.item[data-id="${id}"]`)); i++) {
      await p2.evaluate(() => { const all = document.querySelectorAll('section.item'); all[all.length - 1].scrollIntoView(); });
      await sleep(250);
    }
    check(await p2.$(`section.item[data-id="${id}"]`), 'the studio clip is not in another user\'s For You feed');
    await p2.$eval(`section.item[data-id="${id}"]`, el => el.scrollIntoView());
    await p2.waitForFunction(i => { const v = document.querySelector(`section.item[data-id="${i}"] video`); return v && v.currentTime > 0.5 && v.webkitAudioDecodedByteCount > 0; }, id, { timeout: 15000 });
    check(await p2.$eval(`section.item[data-id="${id}"] a.sound`, a => a.getAttribute('href')) === `#/sound/${soundId}`, 'the feed does not show the chosen sound');
    await ctx2.close();
  });

  await step('a child asks a parent; the parent consents from the e-mailed link and sees the supervised account', async () => {
    const kid = await browser.newPage({ viewport: { width: 420, height: 760 } });
    await kid.goto(`${base}/#/signup`);
    await kid.click('#ask-parent-link');
    await kid.fill('#ask-parent-form input[name=parent_email]', 'parent@example.org');
    await kid.click('#ask-parent-form button[type=submit]');
    await kid.waitForSelector('#ask-parent-sent');
    await kid.close();
    const outbox = join(dir, 'data', 'outbox');
    const mail = readdirSync(outbox).map(f => readFileSync(join(outbox, f), 'utf8')).find(m => m.includes('parent@example.org'));
    check(mail, 'no message in the outbox');
    const link = (mail.match(/(http\S+\/#\/consent\/[0-9a-f]{64})/) || [])[1];
    check(link && link.startsWith(base), 'no consent link for this server in: ' + mail);
    await page.goto(link);
    await page.waitForSelector('#consent-form');
    kidHandle = 'kid_' + Math.random().toString(36).slice(2, 6);
    await page.fill('#consent-form input[name=handle]', kidHandle);
    await page.fill('#consent-form input[name=password]', 'a child password');
    const d = new Date(); d.setFullYear(d.getFullYear() - 9);
    await page.fill('#consent-form input[name=birthdate]', d.toISOString().slice(0, 10));
    await page.fill('#consent-form input[name=country]', 'FR');
    await page.click('#consent-form button[type=submit]');
    await page.waitForSelector('#consent-done');
    await page.goto(`${base}/#/family`);
    await page.waitForSelector('form.child');
    check((await page.textContent('form.child h2')).includes('supervised'), 'the child is not listed as supervised');
  });

  await step('erase my account from settings: a receipt, and I am gone everywhere', async () => {
    await page.goto(`${base}/#/settings`);
    await page.waitForSelector('#erase-form');
    const me = await page.evaluate(async () => (await fetch('/v1/me')).json());
    await page.fill('#erase-form input[name=password]', 'wrong password here');
    page.once('dialog', d => d.accept());
    await page.click('#erase-button');
    await page.waitForFunction(() => document.querySelector('#erase-form .error').textContent.length > 0);
    await page.fill('#erase-form input[name=password]', 'a fresh long password');
    page.once('dialog', d => d.accept());
    await page.click('#erase-button');
    await page.waitForSelector('#erasure-receipt');
    check(/^[0-9a-f]{64}$/.test((await page.textContent('#erasure-receipt')).trim()), 'no receipt shown');
    check(await page.$('#nav-upload') === null, 'still shown as signed in');
    const profile = await fetch(`${base}/v1/users/${me.handle}`);
    check(profile.status === 404, 'the profile still answers: ' + profile.status);
    const login = await fetch(`${base}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: me.handle, password: 'a fresh long password' }) });
    check(login.status === 401, 'the erased account can still log in: ' + login.status);
    const kid = await fetch(`${base}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: kidHandle, password: 'a child password' }) });
    check(kid.status === 401, 'the supervised child outlived the parent who consented: ' + kid.status);
  });

  if (others.euB) await step('kill -9 of the node serving eu: the second eu node takes over, every acknowledged write is there, the feed keeps answering', async () => {
    const j = (method, path, body, token) => fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) }, body: body && JSON.stringify(body) });
    const fan = 'fan_' + Math.random().toString(36).slice(2, 8);
    check((await j('POST', '/v1/accounts', { handle: fan, password: 'a European password', birthdate: '1990-02-02', country: 'DE' })).status === 201, 'sign-up failed');
    const { token } = await (await j('POST', '/v1/sessions', { handle: fan, password: 'a European password' })).json();
    check(token.startsWith('fy_eu_'), 'not an eu session: ' + token);
    const id = otherVideos[0];
    const r = await j('POST', '/v1/events', { events: [{ id: 'k1', kind: 'like', video_id: id }, { id: 'k2', kind: 'comment', video_id: id, text: 'written just before the crash' }] }, token);
    check(r.status === 200, 'the writes were not acknowledged: ' + r.status);
    server.kill('SIGKILL');
    const died = Date.now();
    let me;
    for (;;) {
      const m = await j('GET', '/v1/me', null, token);
      if (m.status === 200) { me = await m.json(); break; }
      check(m.status === 503 || m.status === 502, 'unexpected answer while taking over: ' + m.status);
      check(Date.now() - died < 60000, 'no node served eu again within 60 s');
      await sleep(200);
    }
    console.log(`     (the second node served again ${Date.now() - died} ms after kill -9)`);
    check(me.handle === fan, 'the session came back as someone else');
    const v = await (await j('GET', `/v1/videos/${id}`, null, token)).json();
    check(v.liked === true, 'the acknowledged like is gone: ' + JSON.stringify(v));
    const comments = (await (await j('GET', `/v1/videos/${id}/comments`)).json()).comments;
    check(comments.some(c => c.text === 'written just before the crash'), 'the acknowledged comment is gone');
    const feed = await j('GET', '/v1/feed?limit=5', null, token);
    check(feed.status === 200 && (await feed.json()).items.length > 0, 'the feed does not answer: ' + feed.status);
    const media = await fetch(`${base}/v1/videos/${id}/media`);
    check(media.status === 200 && (await media.arrayBuffer()).byteLength > 1000, 'the clip does not play: ' + media.status);
    const direct = await fetch(`http://127.0.0.1:${ports.euB}/healthz`);
    check(direct.ok && direct.headers.get('foryou-forwarded') === null, 'the second node still forwards');
    await page.goto(`${base}/#/`);
    await page.waitForSelector('section.item video');
  });

  await step('the strict Content-Security-Policy blocked nothing the app needs', async () => {
    check(violations.length === 0, 'violations: ' + violations.join(' | '));
  });
}

let code = 0;
try { await main(); } catch (e) { if (!failed) { failed++; console.log('FAIL setup: ' + e.message); } code = 1; }
finally {
  if (browser) await browser.close().catch(() => {});
  if (edge) edge.kill('SIGTERM');
  if (server) server.kill('SIGTERM');
  for (const n of Object.values(others)) n.kill('SIGTERM');
  await sleep(200);
  if (servers) servers.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(code || (failed ? 1 : 0));
