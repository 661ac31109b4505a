// Hostile pages in a real browser (issue 18, item 4): a page of another origin, loaded in the
// same Chromium through smime-proxy, tries every state-changing request of the proxy's own
// origin (lock, unlock, rewriting: fetch without CORS and form posts, with no token, a
// guessed one and the real one), reads a /view/ frame (fetch, iframe, img), frames the home
// page, posts the toggle report of a webmail compose page, and reaches the listen port by a
// DNS-rebound name. Every attempt must be refused, and nothing may change: the key store
// stays as it was, rewriting stays on, the view is still there for its page, the compose
// keeps Encrypt on. Each refusal is proven meaningful by the same request succeeding from
// where it belongs (the home page's own forms, the compose page's own toggle).
//
// No webmail stack: the webmail is an in-test HTTPS upstream serving Roundcube's captured
// pages (rewrite-rules/fixtures/roundcube/) under the bundled roundcube rule, with an
// S/MIME message for bob made by `openssl cms`; the hostile page is a plain HTTP server on
// 127.0.0.1, both reached through the proxy. Run by tests/e2e/run.sh; by hand:
//
//   cd tests/e2e && npm ci && node --test-reporter=spec hostile.mjs
//
// E2E_HOSTILE_PORT  first of three loopback ports (proxy, webmail, hostile page); default free ones
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

import {
  ctx, step, shot, run, HERE, ORIGIN_HOST, startProxy, startBrowser, shutdown, freePort, openssl, proxyLog,
} from './harness.mjs';

const REPO = path.resolve(HERE, '../..');
const FIXTURES = path.join(REPO, 'rewrite-rules/fixtures/roundcube');
const MARKER = 'HOSTILE-PLAINTEXT-5c1e';
const COMPOSE_ID = 'hostile0compose';
const REBIND = 'rebind.example.test';
const OWN = [`https://${ORIGIN_HOST}`, `http://${ORIGIN_HOST}`];

const t = { dir: null, servers: [], ports: {}, view: null };

// An HTTPS webmail on 127.0.0.1 (certificate for localhost from a CA made here): the compose
// page, an S/MIME message's preview page and its raw source, as Roundcube serves them.
async function startWebmail() {
  const d = t.dir;
  const req = (args) => run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '2', ...args]);
  await req(['-keyout', `${d}/up-ca.key`, '-out', `${d}/up-ca.pem`, '-subj', '/CN=hostile test upstream CA']);
  await req(['-keyout', `${d}/up.key`, '-out', `${d}/up.pem`, '-subj', '/CN=localhost', '-CA', `${d}/up-ca.pem`,
    '-CAkey', `${d}/up-ca.key`, '-addext', 'subjectAltName=DNS:localhost', '-addext',
    'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth']);
  const inner = `Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob, ${MARKER}\r\n`;
  const { code, stdout: message, stderr } = await openssl(['cms', '-encrypt', '-aes256', '-from', 'alice@example.test', '-to',
    'bob@example.test', '-subject', 'hostile test', path.join(t.dir, 'pki/bob.pem')], inner);
  assert.equal(code, 0, `openssl cms -encrypt: ${stderr}`);
  const pages = {
    compose: readFileSync(path.join(FIXTURES, 'compose.html')),
    preview: readFileSync(path.join(FIXTURES, 'encrypted-preview.html')),
    viewsource: Buffer.concat([Buffer.from(`Date: ${new Date().toUTCString()}\r\n`), message]),
  };
  const server = https.createServer({ key: readFileSync(`${d}/up.key`), cert: readFileSync(`${d}/up.pem`) },
    (q, res) => {
      const action = new URL(q.url, 'https://localhost').searchParams.get('_action');
      const body = pages[action];
      if (!body) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': action === 'viewsource' ? 'text/plain' : 'text/html; charset=utf-8' });
      res.end(body);
    });
  await listen(server, t.ports.webmail);
}

// The hostile page: plain HTTP on 127.0.0.1 (another origin than the webmail and the
// proxy's own), answering / with the page below whatever the query.
async function startHostile() {
  const server = http.createServer((q, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOSTILE_PAGE);
  });
  await listen(server, t.ports.hostile);
}

function listen(server, port) {
  t.servers.push(server);
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
}

// What the hostile page does. The query gives it what an attacker could at best have
// learnt: the proxy's real token and store passphrase (leaked), a view id, the compose
// id, the webmail's origin and the listen port. It sets its title to "done" when every
// attempt has been answered or has failed.
const HOSTILE_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>hostile</title></head><body>
<script>
(async function () {
  const q = new URLSearchParams(location.search);
  const own = ${JSON.stringify(OWN)};
  const tokens = ['', '0'.repeat(64), q.get('token')];
  const jobs = [];
  const post = (url, fields) => jobs.push(fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include',
    body: new URLSearchParams(fields) }).catch(() => {}));
  let frames = 0;
  const frame = (src) => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.name = 'f' + frames++;
    f.onload = f.onerror = () => resolve(f);
    setTimeout(() => resolve(f), 8000);
    if (src) f.src = src;
    document.body.appendChild(f);
  });
  const formPost = async (action, fields) => {
    const target = await frame(null);
    const loaded = new Promise((resolve) => { target.onload = resolve; setTimeout(resolve, 8000); });
    const form = document.createElement('form');
    form.method = 'post'; form.action = action; form.target = target.name;
    for (const [k, v] of Object.entries(fields)) {
      const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; form.appendChild(i);
    }
    document.body.appendChild(form);
    form.submit();
    jobs.push(loaded);
  };
  const api = { lock: {}, unlock: { passphrase: q.get('pass') }, rewriting: { enabled: 'off' } };
  for (const o of own) {
    for (const [name, fields] of Object.entries(api)) {
      for (const token of tokens) post(o + '/api/' + name, { token, ...fields });
      await formPost(o + '/api/' + name, { token: q.get('token'), ...fields });
    }
  }
  // The view: read it, frame it, load it as an image.
  const view = 'https://${ORIGIN_HOST}/view/' + q.get('view');
  jobs.push(fetch(view, { credentials: 'include' }).then((r) => r.text()).then((text) => { window.leaked = text; },
    () => {}));
  jobs.push(fetch(view, { mode: 'no-cors', credentials: 'include' }).catch(() => {}));
  jobs.push(frame(view));
  jobs.push(new Promise((resolve) => { const i = new Image(); i.onload = i.onerror = resolve; i.src = view; }));
  // The home page in a frame (the token is in its forms).
  for (const o of own) jobs.push(frame(o + '/'));
  // The webmail's toggle report: Encrypt and Sign off for the open compose.
  const report = q.get('webmail') + '/?_smime_proxy=state';
  const off = { _id: q.get('compose'), _smime_sign: '', _smime_encrypt: '' };
  post(report, off);
  await formPost(report, off);
  // A DNS-rebound name for the listen port (resolved to 127.0.0.1 by the browser).
  const rebound = 'http://${REBIND}:' + q.get('listen');
  for (const p of ['/', '/ca.pem', '/proxy.pac', '/probe.gif']) {
    jobs.push(fetch(rebound + p, { credentials: 'include' }).then((r) => r.text()).then((text) => {
      window.leaked = (window.leaked || '') + text;
    }, () => {}));
  }
  post(rebound + '/api/lock', { token: q.get('token') });
  jobs.push(frame(rebound + '/'));
  await Promise.all(jobs);
  document.title = 'done';
})();
</script></body></html>`;

// ---- through the proxy, as a client of its own (curl) ------------------------------------

async function curl(url, args = []) {
  const { stdout } = await run('curl', ['-s', '--proxy', `http://${ctx.proxyAddr}`, '--cacert',
    path.join(ctx.configDir, 'ca.pem'), '-w', '\n%{http_code}', ...args, url], { timeout: 15_000 });
  const at = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, at), status: Number(stdout.slice(at + 1)) };
}

// The home page's state: key store, rewriting, and the per-run token of its forms.
async function homeState() {
  const { body, status } = await curl(`https://${ORIGIN_HOST}/`);
  assert.equal(status, 200);
  const keys = /<p>Unlocked \(/.test(body) ? 'unlocked' : /<p>Locked \(/.test(body) ? 'locked' : 'unknown';
  return { keys, rewriting: body.match(/<th>rewriting<\/th><td>(\w+)<\/td>/)?.[1], token: body.match(/name="token" value="([0-9a-f]+)"/)?.[1] };
}

// ---- the attack ----------------------------------------------------------------------------

// Loads the hostile page in a new tab of the same browser, waits until every attempt is
// answered, and returns what the browser saw: each request's method, URL and status (or
// error), the frames, and whatever the page's script could read.
async function attack() {
  const home = await homeState();
  const refusedBefore = refusalCounts();
  const page = await ctx.browser.newPage();
  const seen = [];
  page.on('response', (r) => seen.push({ method: r.request().method(), url: r.url(), status: r.status(), response: r }));
  page.on('requestfailed', (r) => seen.push({ method: r.method(), url: r.url(), status: 0, error: r.failure()?.errorText }));
  const query = new URLSearchParams({
    token: home.token, pass: ctx.storePassphrase, view: t.view, compose: COMPOSE_ID,
    webmail: `https://localhost:${t.ports.webmail}`, listen: ctx.proxyAddr.split(':')[1],
  });
  await page.goto(`http://127.0.0.1:${t.ports.hostile}/?${query}`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.title === 'done', null, { timeout: 40_000 });
  const frames = await Promise.all(page.frames().slice(1).map(async (f) => ({
    url: f.url(), text: await f.evaluate(() => document.documentElement.outerHTML).catch(() => ''),
  })));
  const leaked = await page.evaluate(() => window.leaked || '');
  await shot('hostile page');
  await page.close();
  const refusedAfter = refusalCounts();
  const refused = Object.fromEntries(Object.keys(REFUSALS).map((k) => [k, refusedAfter[k] - refusedBefore[k]]));
  return { seen, frames, leaked, token: home.token, refused };
}

// What the browser withholds from a page of another origin when the proxy's answer says
// so (Cross-Origin-Resource-Policy same-origin for a fetch, X-Frame-Options DENY and CSP
// frame-ancestors for a frame): the request went out and was answered (the proxy's log
// counts the refusal), the page gets an error; so for a CORS read the answer does not
// allow, and a frame whose answer is empty (the toggle report's 403).
const WITHHELD = ['net::ERR_BLOCKED_BY_RESPONSE', 'net::ERR_FAILED', 'net::ERR_ABORTED'];

// Every request the hostile page made to `prefix` was answered with one of `statuses` (or
// withheld as above), and there was at least one.
function assertAnswered(seen, prefix, statuses, what) {
  const hits = seen.filter((s) => s.url.startsWith(prefix));
  assert.ok(hits.length > 0, `the hostile page reached ${prefix} (${what})`);
  for (const s of hits) {
    assert.ok(statuses.includes(s.status) || WITHHELD.some((e) => s.error?.startsWith(e)),
      `${s.method} ${s.url}: ${s.status || s.error}, expected ${statuses} (${what})`);
  }
  return hits;
}

// The proxy's own account of the refusals: how often each refusal was logged.
const REFUSALS = {
  api: 'refused a state-changing request to the own origin',
  view: 'refused a view frame request',
  report: 'refused a toggle report from another origin',
  rebound: 'refused a direct request naming another host',
};
function refusalCounts() {
  const log = proxyLog();
  return Object.fromEntries(Object.entries(REFUSALS).map(([k, line]) => [k, log.split(line).length - 1]));
}

// Nothing of the proxy's shows in the hostile page's frames or reaches its script: the
// plaintext, the token, the home page, the listen address's setup page, PAC file or CA.
function assertNoSecrets(result) {
  const needles = [MARKER, result.token, 'Your local S/MIME proxy is running', 'set up this browser',
    'FindProxyForURL', 'BEGIN CERTIFICATE'];
  for (const text of [result.leaked, ...result.frames.map((f) => f.text)]) {
    for (const needle of needles) assert.ok(!text.includes(needle), `the hostile page got "${needle}"`);
  }
  assert.equal(result.leaked, '', 'the hostile page\'s script read nothing');
}

function assertRefused(result) {
  const { seen } = result;
  for (const o of OWN) {
    for (const name of ['lock', 'unlock', 'rewriting']) {
      const hits = assertAnswered(seen, `${o}/api/${name}`, [403], `${name} from another origin`);
      assert.ok(hits.length >= 4, `${o}/api/${name}: three fetches and a form post (${hits.length})`);
    }
    // The home page in a frame: served (a GET changes nothing) but never shown in it.
    const home = seen.find((s) => s.url === `${o}/`);
    assert.equal(home?.status, 200, `${o}/ in a frame of the hostile page`);
    const headers = home.response.headers();
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    const framed = result.frames.filter((f) => f.url.startsWith(`${o}/`) && !f.url.startsWith(`${o}/view/`));
    assert.deepEqual(framed, [], 'no frame of the hostile page shows the home page');
  }
  // Served only to a frame of its webmail page; a refusal leaves it in place.
  const views = assertAnswered(seen, `https://${ORIGIN_HOST}/view/`, [403], 'the view from another origin');
  assert.ok(views.length >= 4, `the view: fetch, no-cors fetch, frame, image (${views.length})`);
  assertAnswered(seen, `https://localhost:${t.ports.webmail}/?_smime_proxy=state`, [403], 'the toggle report');
  // The rebound name: the listen address answers only its own name (421), for every path.
  assertAnswered(seen, `http://${REBIND}:`, [421], 'a DNS-rebound name for the listen port');
  assertNoSecrets(result);
  // Each attempt reached the proxy and was refused there: 2 origins × 3 endpoints × (3
  // fetches + a form post); the view read 4 ways; the report twice; the rebound name 6 times.
  const { refused } = result;
  assert.ok(refused.api >= 24, `the proxy refused ${refused.api} of 24 state-changing requests`);
  assert.ok(refused.view >= 4, `the proxy refused ${refused.view} of 4 view requests`);
  assert.ok(refused.report >= 2, `the proxy refused ${refused.report} of 2 toggle reports`);
  assert.ok(refused.rebound >= 6, `the proxy refused ${refused.rebound} of 6 requests by the rebound name`);
}

// ---- the suite -----------------------------------------------------------------------------

describe('hostile pages in Chromium through smime-proxy', () => {
  before(async () => {
    t.dir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-hostile-'));
    const base = Number(process.env.E2E_HOSTILE_PORT) || 0;
    t.ports = {
      proxy: base || await freePort(), webmail: base ? base + 1 : await freePort(), hostile: base ? base + 2 : await freePort(),
    };
    await run('bash', [path.join(REPO, 'tests/pki/generate.sh'), path.join(t.dir, 'pki')], { timeout: 120_000 });
    ctx.stack = {
      E2E_PKI_DIR: path.join(t.dir, 'pki'), E2E_STACK_CA: path.join(t.dir, 'up-ca.pem'),
      E2E_WEBMAIL_SITE: `localhost:${t.ports.webmail}`,
    };
    ctx.keyUsers = ['bob'];
    ctx.storedCerts = ['alice'];
    ctx.proxyPort = t.ports.proxy;
    // The rebound name goes to the listen port directly, as a rebinding attack's would.
    ctx.proxyBypass = ['<-loopback>', REBIND];
    ctx.browserArgs = [`--host-resolver-rules=MAP ${REBIND} 127.0.0.1`];
  });

  after(async () => {
    await shutdown();
    for (const s of t.servers) s.close();
    if (t.dir) rmSync(t.dir, { recursive: true, force: true });
    setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  });

  step('the webmail upstream and the hostile page listen', async () => {
    await startWebmail();
    await startHostile();
  }, 120_000);

  step('smime-proxy listens, bob\'s key unlocked', startProxy, 90_000);

  step('chromium starts, through the proxy', startBrowser, 40_000);

  step('the compose page of the webmail turns Encrypt on (its own toggle report is taken)', async () => {
    const page = ctx.page;
    await page.goto(`https://localhost:${t.ports.webmail}/?_task=mail&_action=compose&_id=${COMPOSE_ID}`,
      { waitUntil: 'domcontentloaded' });
    const reported = page.waitForResponse((r) => r.url().includes('_smime_proxy=state'));
    await page.locator('#smime-proxy-encrypt').check();
    assert.equal((await reported).status(), 204, 'the page\'s own report is taken');
  });

  step('a view is made for a message (its frame not loaded yet)', async () => {
    const { body, status } = await curl(
      `https://localhost:${t.ports.webmail}/?_task=mail&_action=preview&_uid=4&_mbox=INBOX&_framed=1`);
    assert.equal(status, 200);
    assert.ok(!body.includes(MARKER), 'the webmail page holds no plaintext');
    t.view = body.match(new RegExp(`https://${ORIGIN_HOST.replace('.', '\\.')}/view/([0-9a-f]+)`))?.[1];
    assert.ok(t.view, `the page frames a view:\n${body.slice(0, 400)}`);
  });

  step('unlocked: a hostile page\'s every attempt is refused, and nothing changed', async () => {
    assert.deepEqual(await homeState().then(({ keys, rewriting }) => ({ keys, rewriting })),
      { keys: 'unlocked', rewriting: 'on' });
    const result = await attack();
    assertRefused(result);
    const after = await homeState();
    assert.equal(after.keys, 'unlocked', 'the key store is still unlocked');
    assert.equal(after.rewriting, 'on', 'rewriting is still on');
    assert.ok(!proxyLog().includes('key store locked from the own page'), 'nothing locked the key store');
  }, 90_000);

  step('locked from its own page: a hostile unlock with the right passphrase and token is refused', async () => {
    const page = ctx.page;
    await page.goto(`https://${ORIGIN_HOST}/`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('button', { name: 'Lock the keys now' }).click();
    await page.getByRole('button', { name: 'Unlock' }).waitFor();
    assert.equal((await homeState()).keys, 'locked');
    const result = await attack();
    assertRefused(result);
    assert.equal((await homeState()).keys, 'locked', 'the key store is still locked');
    // Its own page unlocks it.
    await page.goto(`https://${ORIGIN_HOST}/`, { waitUntil: 'domcontentloaded' });
    await page.locator('form[action="/api/unlock"] input[name=passphrase]').fill(ctx.storePassphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('button', { name: 'Lock the keys now' }).waitFor({ timeout: 30_000 });
  }, 120_000);

  step('the compose still has Encrypt on', async () => {
    const page = ctx.page;
    await page.goto(`https://localhost:${t.ports.webmail}/?_task=mail&_action=compose&_id=${COMPOSE_ID}`,
      { waitUntil: 'domcontentloaded' });
    assert.ok(await page.locator('#smime-proxy-encrypt').isChecked(), 'Encrypt is still on');
  });

  step('the view is still there for a frame of its webmail page', async () => {
    const { body, status } = await curl(`https://${ORIGIN_HOST}/view/${t.view}`,
      ['-H', `Referer: https://localhost:${t.ports.webmail}/`, '-H', 'Sec-Fetch-Dest: iframe']);
    assert.equal(status, 200, 'not consumed by the refused attempts');
    assert.ok(body.includes(MARKER), 'the decrypted message');
  });

  step('a rebound name at the top level gets nothing from the listen port', async () => {
    const page = await ctx.browser.newPage();
    const res = await page.goto(`http://${REBIND}:${ctx.proxyAddr.split(':')[1]}/`);
    assert.equal(res.status(), 421);
    assert.ok(!(await page.content()).includes('smime-proxy'), 'no setup page');
    await page.close();
  });
});
