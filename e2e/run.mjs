// End-to-end: sign up, upload a real MP4, find it on the profile and in the feed, play it,
// like it and see the count change — in headless Chromium against a real `foryou serve`.
// usage: node run.mjs [path/to/foryou]
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';

const bin = resolve(process.argv[2] || '../target/debug/foryou');
const shots = resolve(process.env.E2E_SHOTS || 'artifacts');
const dir = mkdtempSync(join(tmpdir(), 'foryou-e2e-'));
let server, browser;
let passed = 0, failed = 0;

const freePort = () => new Promise(ok => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
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
  const base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', d => { log += d; });
  const deadline = Date.now() + 20000;
  for (;;) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch (_) { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('server did not start:\n' + log);
    await sleep(150);
  }
  const clip = join(dir, 'clip.mp4');
  execFileSync(bin, ['synth-clip', '--seconds', '6', '--seed', '3', '--out', clip]);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required'],
  });
  const page = await browser.newPage({ viewport: { width: 420, height: 760 } });
  page.setDefaultTimeout(15000);
  const handle = 'e2e_' + Math.random().toString(36).slice(2, 8);

  await step('sign up and land on the feed', async () => {
    await page.goto(`${base}/#/signup`);
    await page.fill('input[name=handle]', handle);
    await page.fill('input[name=password]', 'correct horse battery');
    await page.fill('input[name=birthdate]', '2001-02-03');
    await page.fill('input[name=country]', 'DE');
    await page.click('button[type=submit]');
    await page.waitForSelector('#nav-upload');
    check((await page.textContent('#nav-profile')).includes(handle), 'the menu does not show the new handle');
  });

  let videoId;
  await step('upload a real MP4 and find it on the profile', async () => {
    await page.click('#nav-upload');
    await page.setInputFiles('input[type=file]', clip);
    await page.fill('textarea[name=caption]', 'first clip #e2e #testing');
    await page.click('button[type=submit]');
    await page.waitForURL(u => u.hash.startsWith('#/u/'));
    const tile = await page.waitForSelector('.grid a[data-id]');
    videoId = await tile.getAttribute('data-id');
    check(videoId, 'no video tile on the profile');
    const meta = await (await fetch(`${base}/v1/videos/${videoId}`)).json();
    check(meta.duration_ms === 6000 && meta.width === 144 && meta.height === 256, 'server metadata is wrong: ' + JSON.stringify(meta));
    check(meta.hashtags.includes('e2e'), 'hashtags were not parsed');
  });

  await step('the video is in the For You feed and plays', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector(`section.item[data-id="${videoId}"] video`);
    await page.waitForFunction(id => { const v = document.querySelector(`section.item[data-id="${id}"] video`); return v && v.currentTime > 0.8; }, videoId, { timeout: 15000 });
    const t1 = await page.$eval(`section.item[data-id="${videoId}"] video`, v => v.currentTime);
    await sleep(700);
    const t2 = await page.$eval(`section.item[data-id="${videoId}"] video`, v => v.currentTime);
    check(t2 !== t1, `currentTime did not advance (${t1} -> ${t2})`);
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

  await step('why this video shows reasons', async () => {
    await page.click(`section.item[data-id="${videoId}"] .why`);
    const items = await page.$$eval('[data-panel=why] li', lis => lis.map(l => l.textContent));
    check(items.length > 0, 'no reasons shown');
  });
}

let code = 0;
try { await main(); } catch (e) { if (!failed) { failed++; console.log('FAIL setup: ' + e.message); } code = 1; }
finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.kill('SIGTERM');
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(code || (failed ? 1 : 0));
