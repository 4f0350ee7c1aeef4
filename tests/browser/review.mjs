// Browser test of the review UI in headless Chromium (Debian's) driven by
// playwright-core: log in, see the grid blurred by default (a screenshot's detail
// energy against the same tile unblurred while a key is held), grade a group with one
// key press, undo, verify as a second officer (blind), resolve a dispute as an admin,
// and see the counts change. Screenshots are kept in OUT for people to look at.
// Env: URL, PW_MODULE (playwright-core folder), OUT, KESTREL, CASE.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PW_MODULE);
const URL = process.env.URL;
const OUT = process.env.OUT;
fs.mkdirSync(OUT, { recursive: true });

let pass = 0, fail = 0;
function check(desc, cond) {
  if (cond) { pass++; console.log('ok: ' + desc); } else { fail++; console.log('FAIL: ' + desc); }
  return cond;
}

// A minimal PNG reader for Chromium's screenshots (8-bit RGB or RGBA, no interlace).
function readPng(buf) {
  let off = 8, w = 0, h = 0, ctype = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0); h = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unsupported PNG');
      ctype = data[9];
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const bpp = ctype === 6 ? 4 : ctype === 2 ? 3 : 0;
  if (!bpp) throw new Error('unsupported PNG colour type ' + ctype);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * bpp, px = Buffer.alloc(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[y * stride + x - bpp] : 0;
      const b = y ? px[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y ? px[(y - 1) * stride + x - bpp] : 0;
      let v = src[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 255;
    }
  }
  return { w, h, bpp, px };
}

// Mean absolute difference between neighbouring pixels' luma: high for a sharp
// picture, low for a blurred one.
function detail(png) {
  const { w, h, bpp, px } = readPng(png);
  const lum = (x, y) => { const i = (y * w + x) * bpp; return 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]; };
  let sum = 0, n = 0;
  for (let y = 0; y < h - 1; y++)
    for (let x = 0; x < w - 1; x++) {
      const v = lum(x, y);
      sum += Math.abs(v - lum(x + 1, y)) + Math.abs(v - lum(x, y + 1));
      n += 2;
    }
  return sum / Math.max(1, n);
}

async function login(page, name, password) {
  await page.goto(URL);
  await page.waitForURL(/\/login$/);
  await page.fill('#name', name);
  await page.fill('#password', password);
  await page.click('#login-button');
  await page.waitForSelector('#who:has-text("' + name + '")');
}

async function logout(page) {
  await page.click('#logout');
  await page.waitForURL(/\/login$/);
}

async function counts(page) {
  const r = await page.request.get(URL + 'api/counts');
  return r.json();
}

function report() {
  const f = path.join(OUT, 'report.json');
  execFileSync(process.env.KESTREL, ['report', process.env.CASE, '--format', 'json', '--out', f]);
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  // the case-wide uk table: category code -> distinct pictures
  const find = (o) => {
    if (o && typeof o === 'object') {
      if (Array.isArray(o.schemes) && o.grades_not_final) return o;
      for (const v of Object.values(o)) { const x = find(v); if (x) return x; }
    }
    return null;
  };
  const scope = find(r);
  const uk = scope.schemes.find((s) => s.scheme === 'uk');
  const cat = {};
  for (const c of uk.categories) cat[c.code === null ? 'none' : c.code] = c.pictures ? c.pictures.distinct : c;
  return { cat, notFinal: scope.grades_not_final, raw: uk };
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kestrel-chromium-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const outside = [];
ctx.on('request', (req) => { if (!req.url().startsWith(URL)) outside.push(req.url()); });
const page = ctx.pages()[0] || await ctx.newPage();
const cspErrors = [];
page.on('console', (m) => { if (m.type() === 'error') cspErrors.push(m.text()); });
try {
  const before = report();

  // ---- grader: log in, the grid is blurred by default ----
  await login(page, 'g1', 'grader-one-pass');
  await page.waitForSelector('#grid .tile img');
  await page.waitForFunction(() => [...document.querySelectorAll('#grid .tile img')].every((i) => i.complete && i.naturalWidth > 0));
  check('the queue shows G=3 groups', await page.locator('#grid .tile').count() === 3);
  check('group size is shown', (await page.locator('#grid .tile .badge').first().textContent()).includes('5'));
  await page.screenshot({ path: path.join(OUT, 'grid-blurred.png') });
  const tile = page.locator('#grid .tile').first();
  const img = tile.locator('img');
  const blurred = detail(await img.screenshot());
  await page.keyboard.down('u');
  await page.waitForFunction(() => document.querySelector('#grid .tile.unblurred') !== null);
  await page.waitForTimeout(200);
  const sharp = detail(await img.screenshot());
  await page.screenshot({ path: path.join(OUT, 'grid-one-unblurred.png') });
  check('only the focused tile is unblurred while U is held', await page.locator('#grid .tile.unblurred').count() === 1);
  await page.keyboard.up('u');
  await page.waitForTimeout(200);
  const again = detail(await img.screenshot());
  console.log('detail energy: blurred %s, unblurred %s, after release %s', blurred.toFixed(2), sharp.toFixed(2), again.toFixed(2));
  check('the grid is blurred by default (detail %s vs %s unblurred)'.replace('%s', blurred.toFixed(2)).replace('%s', sharp.toFixed(2)),
    blurred < sharp * 0.5);
  check('the blur comes back when the key is released', again < sharp * 0.5 && await page.locator('#grid .tile.unblurred').count() === 0);
  await page.click('#grey');
  await page.screenshot({ path: path.join(OUT, 'grid-grey.png') });
  await page.click('#grey');
  await page.waitForFunction(() => document.getElementById('welfare').textContent.includes('unblurred 1'));
  check('welfare shows the unblur', true);

  // ---- grade a group with one key press, undo ----
  await page.locator('#grid').focus();
  await page.keyboard.press('c');
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 2);
  check('one key press graded a group of five', (await counts(page)).pending === 5);
  await page.keyboard.press('z');
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 3);
  check('Z undid it', (await counts(page)).pending === 0);
  await page.keyboard.press('?');
  check('? shows the keys', await page.locator('#help').isVisible());
  await page.screenshot({ path: path.join(OUT, 'help.png') });
  await page.keyboard.press('?');
  await page.keyboard.press('c');   // group 1 as C
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 2);
  await page.keyboard.press('n');   // group 2 as not indecent
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 1);
  // open group 3, grade its members one by one: four as N, one split out and graded B
  await page.keyboard.press('Enter');
  await page.waitForSelector('#crumb:has-text("Group")');
  check('an open group shows its five members', await page.locator('#grid .tile').count() === 5);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('s');
  await page.waitForSelector('#status:has-text("of its own")');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 2);
  check('the split member is a group of its own in the queue', true);
  await page.keyboard.press('n');
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 1);
  await page.keyboard.press('b');
  await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 0);
  let c = await counts(page);
  check('15 items pending verification', c.pending === 15 && c.media_open === 0);
  const mid = report();
  check('the report does not count pending grades as final', (mid.cat.C || 0) === (before.cat.C || 0) && mid.notFinal.pending.pictures === 15);
  await logout(page);

  // ---- second grader: blind verification ----
  await login(page, 'v1', 'verifier-one-pass');
  await page.click('#tab-verify');
  await page.waitForSelector('#crumb:has-text("Verification: 15")');
  check('the verifier does not see first grades', await page.locator('#grid .tile .grade').count() === 0);
  await page.screenshot({ path: path.join(OUT, 'verify-blind.png') });
  await page.locator('#grid').focus();
  // folder order: group 1 (C) first, then group 2 (N), then group 3
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('c');
    await page.waitForSelector('#crumb:has-text("Verification: ' + (14 - i) + '")');
  }
  await page.keyboard.press('b'); // disagrees with the first member of group 2
  await page.waitForSelector('#crumb:has-text("Verification: 9")');
  // select the rest with Space and verify them with one key
  for (let i = 0; i < 9; i++) {
    await page.keyboard.press(' ');
    await page.keyboard.press('ArrowRight');
  }
  await page.keyboard.press('n');
  await page.waitForSelector('#crumb:has-text("Verification: 0")');
  c = await counts(page);
  check('agreement verifies, disagreement disputes (' + JSON.stringify(c) + ')', c.disputed >= 1 && c.pending === 0 && c.verified + c.disputed === 15);
  const disputedBefore = c.disputed;
  await logout(page);

  // ---- admin resolves the dispute ----
  await login(page, 'a1', 'admin-one-passw');
  await page.click('#tab-disputes');
  await page.waitForSelector('#disputes-view .dispute');
  check('the disputes list shows them', await page.locator('#disputes-view .dispute').count() === disputedBefore);
  await page.screenshot({ path: path.join(OUT, 'disputes.png') });
  const d = page.locator('#disputes-view .dispute').first();
  await d.locator('select').selectOption('N');
  await d.locator('input').fill('checked both frames: not indecent');
  await d.locator('button').click();
  await page.waitForSelector('#status:has-text("resolved")');
  c = await counts(page);
  check('the dispute is resolved', c.resolved === 1 && c.disputed === disputedBefore - 1);
  await page.click('#tab-counts');
  await page.waitForSelector('#counts-table');
  await page.screenshot({ path: path.join(OUT, 'counts.png') });
  check('the counts page shows final figures', Number(await page.locator('#c-final-C').textContent()) === 5);
  const after = report();
  check('the report counts verified grades as final (C: ' + (before.cat.C || 0) + ' -> ' + after.cat.C + ')', after.cat.C === (before.cat.C || 0) + 5);
  check('...and resolved ones', (after.cat.N || 0) >= 1 && after.notFinal.pending.pictures === 0);
  check('nothing was loaded from outside the server', outside.length === 0);
  check('no CSP or script errors in the console (' + cspErrors.join(' | ') + ')', cspErrors.length === 0);
} catch (e) {
  check('browser run: ' + e.message, false);
  await page.screenshot({ path: path.join(OUT, 'failure.png') }).catch(() => {});
} finally {
  await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(pass + ' passed, ' + fail + ' failed');
process.exit(fail === 0 && pass > 0 ? 0 : 1);
