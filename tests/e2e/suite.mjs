// End-to-end: a real Roundcube (tests/e2e/stack.sh) driven by Debian's Chromium through
// smime-proxy. Run by tests/e2e/run.sh; by hand:
//
//   tests/e2e/stack.sh all                 # once (root; Debian packages)
//   cd tests/e2e && npm ci && node --test-reporter=spec suite.mjs
//
// Environment:
//   SMIME_PROXY_BIN      the binary (default $CARGO_TARGET_DIR/debug/smime-proxy,
//                        CARGO_TARGET_DIR defaulting to ~/.cache/smime-proxy/target)
//   E2E_PROXY_ADDR       use a proxy already listening there instead of starting one
//                        (with E2E_PROXY_CONFIG_DIR = its --config-dir, for the CA)
//   E2E_OUT_DIR          screenshots and logs (default tests/e2e/out/<timestamp>/)
//   E2E_CHROMIUM         browser (default /usr/bin/chromium)
//   E2E_STACK_DIR        forwarded to stack.sh (state dir of the webmail stack)
//
// Every step has its own bounded timeout, and the whole file has a watchdog: a stopped
// stack or a dead proxy fails in the first step with a message that says which.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

const STEP_TIMEOUT = 45_000; // one browser step
const ACTION_TIMEOUT = 15_000; // one Playwright action / wait
const SUITE_WATCHDOG = 240_000; // the whole file, whatever happens

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = process.env.E2E_OUT_DIR || path.join(HERE, 'out', stamp);
mkdirSync(OUT, { recursive: true });
console.log(`e2e: screenshots and logs in ${OUT}`);

const watchdog = setTimeout(() => {
  console.error(`e2e: watchdog: the suite ran longer than ${SUITE_WATCHDOG / 1000}s; aborting`);
  process.exit(1);
}, SUITE_WATCHDOG);
watchdog.unref();

// ---- shared state --------------------------------------------------------------------------

const ctx = {
  stack: {}, // from `stack.sh env`
  proxyAddr: null, // "127.0.0.1:PORT"
  proxy: null, // child process when we started it
  proxyLog: path.join(OUT, 'proxy.log'),
  configDir: null,
  proxyCa: null, // X509Certificate
  spki: null,
  browser: null, // persistent context
  userDataDir: null,
  page: null,
};
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const mail = {
  subject: `e2e plain ${runId}`,
  body: `Hello Bob,\nthis plain message went through smime-proxy (run ${runId}).\n`,
  attachment: { name: 'hello.txt', mimeType: 'text/plain', text: `attachment of run ${runId}\n` },
};

// Steps run in order; once one fails the later ones are skipped (not failed again).
let broken = null;
function step(name, fn, timeout = STEP_TIMEOUT) {
  test(name, { timeout }, async (t) => {
    if (broken) return t.skip(`an earlier step failed: ${broken}`);
    try {
      await withTimeout(fn(t), timeout - 1000, name);
    } catch (err) {
      broken = name;
      process.exitCode = 1;
      if (ctx.page) await shot(`FAILED ${name}`).catch(() => {});
      throw err;
    }
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

let shots = 0;
async function shot(name) {
  const file = path.join(OUT, `${String(++shots).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
  await ctx.page.screenshot({ path: file, fullPage: true, timeout: ACTION_TIMEOUT });
  return file;
}

// ---- helpers -------------------------------------------------------------------------------

async function stackEnv() {
  const { stdout } = await run('bash', [path.join(HERE, 'stack.sh'), 'env'], { timeout: 10_000 });
  return Object.fromEntries(
    stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function stackStatus() {
  try {
    await run('bash', [path.join(HERE, 'stack.sh'), 'status'], { timeout: 30_000 });
    return null;
  } catch (err) {
    return (err.stdout || '') + (err.stderr || '') || String(err);
  }
}

function portOpen(host, port, ms = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}

function proxyBin() {
  if (process.env.SMIME_PROXY_BIN) return process.env.SMIME_PROXY_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/smime-proxy/target');
  return path.join(target, 'debug', 'smime-proxy');
}

function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function proxyCli(...args) {
  const { stdout } = await run(proxyBin(), ['--config-dir', ctx.configDir, ...args], { timeout: 15_000 });
  return stdout;
}

// CONNECT through the proxy by hand and do TLS over it: the certificate the client sees.
function certThroughProxy(host, port, { ca } = {}) {
  const [phost, pport] = splitAddr(ctx.proxyAddr);
  let sock;
  return withTimeout(new Promise((resolve, reject) => {
    sock = net.connect({ host: phost, port: pport }, () => {
      sock.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    });
    sock.once('error', reject);
    let head = '';
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      if (!/^HTTP\/1\.[01] 200/.test(head)) return reject(new Error(`CONNECT ${host}:${port}: ${head.split('\r\n')[0]}`));
      const t = tls.connect({ socket: sock, servername: net.isIP(host) ? undefined : host, ca, rejectUnauthorized: false }, () => {
        const cert = t.getPeerX509Certificate();
        const authorized = t.authorized;
        t.end();
        resolve({ cert, authorized, authorizationError: t.authorizationError });
      });
      t.once('error', reject);
    };
    sock.on('data', onData);
  }), 10_000, `TLS through CONNECT ${host}:${port}`).finally(() => sock?.destroy());
}

// The S/MIME controls the proxy's Roundcube rule injects into the compose page: Sign and
// Encrypt switches in the compose options (elastic's own `form-check` rows, off by default) and
// a hidden status line at the top of the headers. Elastic copies the switches into the compose
// form, so the send POST carries `_smime_sign`/`_smime_encrypt`; the proxy reads and strips them.
async function assertSmimeControls(page) {
  const controls = page.locator('#smime-proxy-controls');
  await controls.waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
  assert.equal(await controls.count(), 1, 'exactly one #smime-proxy-controls element');
  assert.equal(await controls.getAttribute('data-smime-proxy'), 'roundcube', 'the controls name the roundcube rule');
  assert.equal(await page.locator('#compose-options #smime-proxy-controls').count(), 1, 'the controls are in the compose options');
  for (const [name, label] of [['sign', 'Sign (S/MIME)'], ['encrypt', 'Encrypt (S/MIME)']]) {
    const toggle = page.locator(`#smime-proxy-controls input[type=checkbox][name="_smime_${name}"]`);
    assert.equal(await toggle.count(), 1, `a ${name} toggle`);
    assert.ok(await toggle.isVisible(), `the ${name} toggle is visible`);
    assert.equal(await toggle.isChecked(), false, `${name} is off by default`);
    assert.equal(await page.locator(`label.col-form-label[for="smime-proxy-${name}"]`).innerText(), label);
  }
  // Elastic's ui.js mirrored the switches into the compose form as hidden inputs.
  assert.equal(await page.locator('form[name=form] input[type=hidden][name="_smime_sign"]').count(), 1, 'sign mirrored into the form');
  assert.equal(await page.locator('form[name=form] input[type=hidden][name="_smime_encrypt"]').count(), 1, 'encrypt mirrored into the form');
  const status = page.locator('#smime-proxy-status-box');
  assert.equal(await status.count(), 1, 'a status line');
  assert.equal(await status.isVisible(), false, 'the status line is hidden while there is nothing to say');
}

// Sets the Sign/Encrypt toggles (clicking the switches, as a user would).
async function setSmime(page, { sign, encrypt }) {
  for (const [name, on] of [['sign', sign], ['encrypt', encrypt]]) {
    const toggle = page.locator(`#smime-proxy-controls input[type=checkbox][name="_smime_${name}"]`);
    await toggle.setChecked(on);
  }
}

async function login(user, pass) {
  const page = ctx.page;
  await ctx.browser.clearCookies();
  const res = await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
  assert.ok(res, 'a response for the login page');
  assert.equal(res.status(), 200, `login page status (${res.url()})`);
  await page.locator('#rcmloginuser').fill(user);
  await page.locator('#rcmloginpwd').fill(pass);
  await Promise.all([
    page.waitForURL(/[?&]_task=mail/, { timeout: ACTION_TIMEOUT }),
    page.locator('#rcmloginsubmit').click(),
  ]);
  // Roundcube's session writes race: let the inbox's list/getunread XHRs finish first.
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
  await page.locator('#messagelist').waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
  const who = await page.evaluate(() => window.rcmail?.env?.username ?? document.querySelector('.header-title.username')?.textContent);
  return who;
}

// Fetch from inside the page: goes through the browser's network stack (and so the proxy).
function pageFetch(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  }, url);
}

// ---- the suite -----------------------------------------------------------------------------

describe('Roundcube through smime-proxy', () => {

  before(async () => {
    ctx.stack = await stackEnv();
  });

  after(async () => {
    await ctx.browser?.close().catch(() => {});
    if (ctx.proxy && ctx.proxy.exitCode === null) {
      ctx.proxy.kill('SIGTERM');
      await new Promise((r) => { ctx.proxy.once('exit', r); setTimeout(r, 3000); });
      if (ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL');
    }
    if (ctx.userDataDir) rmSync(ctx.userDataDir, { recursive: true, force: true });
    if (ctx.configDir && !process.env.E2E_PROXY_CONFIG_DIR) rmSync(ctx.configDir, { recursive: true, force: true });
    console.log(`e2e: screenshots and logs in ${OUT}`);
    // Nothing may keep the process alive after the last step (a stuck socket, a browser that
    // will not close): give the runner a moment to print its summary, then exit.
    setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  });
  process.on('exit', () => { if (ctx.proxy && ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL'); });

  step('preflight: the webmail stack is up', async () => {
    const down = await stackStatus();
    if (down) assert.fail(`the webmail stack is not (fully) running; start it with tests/e2e/stack.sh start\n${down}`);
  }, 35_000);

  step('preflight: smime-proxy listens (started with --site <webmail>=roundcube)', async () => {
    if (process.env.E2E_PROXY_ADDR) {
      ctx.proxyAddr = process.env.E2E_PROXY_ADDR;
      ctx.configDir = process.env.E2E_PROXY_CONFIG_DIR;
      assert.ok(ctx.configDir, 'E2E_PROXY_ADDR needs E2E_PROXY_CONFIG_DIR (the proxy\'s --config-dir, for its CA)');
      const [h, p] = splitAddr(ctx.proxyAddr);
      assert.ok(await portOpen(h, p), `smime-proxy is not running: nothing listens on ${ctx.proxyAddr} (E2E_PROXY_ADDR)`);
    } else {
      const bin = proxyBin();
      assert.ok(existsSync(bin), `smime-proxy binary not found at ${bin}: build it (cargo build -p smime-proxy) or set SMIME_PROXY_BIN`);
      ctx.configDir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-config-'));
      ctx.proxyAddr = `127.0.0.1:${await freePort()}`;
      const args = ['--config-dir', ctx.configDir, 'run', '--listen', ctx.proxyAddr,
        '--site', `${ctx.stack.E2E_WEBMAIL_SITE}=roundcube`, '--upstream-ca', ctx.stack.E2E_STACK_CA, '--log', 'info'];
      const logStream = createWriteStream(ctx.proxyLog);
      logStream.write(`$ ${bin} ${args.join(' ')}\n`);
      ctx.proxy = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      ctx.proxy.stdout.pipe(logStream, { end: false });
      ctx.proxy.stderr.pipe(logStream, { end: false });
      const [h, p] = splitAddr(ctx.proxyAddr);
      const deadline = Date.now() + 20_000;
      while (!(await portOpen(h, p))) {
        if (ctx.proxy.exitCode !== null) {
          assert.fail(`smime-proxy exited with ${ctx.proxy.exitCode} before listening on ${ctx.proxyAddr}:\n${tail(ctx.proxyLog)}`);
        }
        if (Date.now() > deadline) assert.fail(`smime-proxy did not listen on ${ctx.proxyAddr} within 20s:\n${tail(ctx.proxyLog)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    ctx.spki = (await proxyCli('ca', 'export', '--format', 'spki-sha256')).trim();
    assert.match(ctx.spki, /^[A-Za-z0-9+/]{43}=$/, 'ca export --format spki-sha256 is a base64 SHA-256');
    ctx.proxyCa = new X509Certificate(await proxyCli('ca', 'export', '--format', 'pem'));
    console.log(`e2e: proxy ${ctx.proxyAddr}, CA "${ctx.proxyCa.subject.replace(/\n/g, ', ')}", SPKI ${ctx.spki}`);
  }, 35_000);

  step('a site that is not configured is tunnelled (its own certificate)', async () => {
    // The same nginx under another name (its certificate covers both), not a configured site.
    const other = ctx.stack.E2E_WEBMAIL_HOST === 'localhost' ? '127.0.0.1' : 'localhost';
    const { cert, authorized, authorizationError } = await certThroughProxy(other, ctx.stack.E2E_WEBMAIL_PORT,
      { ca: readFileSync(ctx.stack.E2E_STACK_CA) });
    assert.ok(authorized, `the real certificate, valid under the stack CA (${authorizationError})`);
    assert.ok(cert.checkIssued(new X509Certificate(readFileSync(ctx.stack.E2E_STACK_CA))), 'issued by the stack CA');
  });

  step('the webmail is intercepted: the browser sees a certificate from the proxy CA', async () => {
    const { cert } = await certThroughProxy(ctx.stack.E2E_WEBMAIL_HOST, ctx.stack.E2E_WEBMAIL_PORT);
    assert.ok(cert.checkIssued(ctx.proxyCa), `the leaf (issuer "${cert.issuer}") is issued by the proxy CA`);
    assert.ok(cert.checkHost(ctx.stack.E2E_WEBMAIL_HOST), `the leaf is valid for ${ctx.stack.E2E_WEBMAIL_HOST}`);
  });

  step('chromium starts, trusting only the proxy CA (by SPKI)', async () => {
    const { chromium } = await import('playwright-core');
    ctx.userDataDir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-chromium-'));
    ctx.browser = await chromium.launchPersistentContext(ctx.userDataDir, {
      executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      timeout: 30_000,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: false,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--proxy-server=http://${ctx.proxyAddr}`,
        '--proxy-bypass-list=<-loopback>',
        `--ignore-certificate-errors-spki-list=${ctx.spki}`,
      ],
    });
    ctx.browser.setDefaultTimeout(ACTION_TIMEOUT);
    ctx.browser.setDefaultNavigationTimeout(20_000);
    ctx.page = ctx.browser.pages()[0] || (await ctx.browser.newPage());
    ctx.page.on('pageerror', (e) => console.log(`e2e: page error: ${e.message}`));
  }, 40_000);

  step('the login page comes through the proxy, with its certificate', async () => {
    const page = ctx.page;
    const res = await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200);
    const sec = await res.securityDetails();
    assert.ok(sec, 'an HTTPS response has security details');
    assert.equal(sec.issuer, ctx.proxyCa.subject.match(/^CN=(.*)$/m)?.[1], 'the page certificate is issued by the proxy CA');
    assert.equal(sec.subjectName, ctx.stack.E2E_WEBMAIL_HOST);
    await page.locator('#rcmloginuser').waitFor();
    assert.equal(await page.locator('#smime-proxy-controls').count(), 0, 'no S/MIME controls outside the compose page');
    await shot('login page');
  });

  step('alice logs in', async () => {
    const [user, pass] = ctx.stack.E2E_ALICE.split(':');
    await login(user, pass);
    await shot('alice inbox');
  });

  step('the compose page shows the S/MIME controls', async () => {
    const page = ctx.page;
    await page.goto(new URL('?_task=mail&_action=compose', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
    await page.waitForURL(/_action=compose&_id=/);
    await page.locator('#compose-subject').waitFor();
    await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
    await assertSmimeControls(page);
    await shot('alice compose');
  });

  step('alice sends a plain message with an attachment to bob (controls off)', async () => {
    const page = ctx.page;
    await setSmime(page, { sign: false, encrypt: false });
    const bob = ctx.stack.E2E_BOB.split(':')[0];
    await page.locator('#compose_to ul.recipient-input input').fill(`${bob}, `);
    await page.locator('#compose-subject').fill(mail.subject);
    await page.locator('#composebody').fill(mail.body);
    assert.match(await page.locator('#_to').inputValue(), new RegExp(bob.replace('.', '\\.')), 'recipient synced to #_to');

    const uploaded = page.waitForResponse((r) => r.url().includes('_action=upload') && r.request().method() === 'POST');
    await page.locator('#uploadformInput').setInputFiles({
      name: mail.attachment.name, mimeType: mail.attachment.mimeType, buffer: Buffer.from(mail.attachment.text),
    });
    const up = await uploaded;
    assert.equal(up.status(), 200, 'upload XHR status');
    const att = page.locator('#attachment-list li', { hasText: mail.attachment.name });
    await att.waitFor();
    await page.waitForFunction(() => !document.querySelector('#attachment-list li.uploading'), null, { timeout: ACTION_TIMEOUT });
    await shot('alice compose filled');

    const sent = page.waitForResponse((r) => r.request().method() === 'POST' && /[?&]_task=mail/.test(r.url())
      && (r.request().postData() || '').includes('_action=send'));
    await page.locator('button.send').first().click();
    const res = await sent;
    assert.equal(res.status(), 200, 'send POST status');
    const body = await res.text();
    assert.match(body, /sent_successfully/, `Roundcube confirms the send (got: ${body.slice(0, 300)})`);
    const post = res.request().postData();
    assert.match(post, /(^|&)_to=bob%40example\.test/, 'the send POST names bob');
    assert.match(post, /(^|&)_attachments=[^&]+/, 'the send POST carries the uploaded attachment');
    assert.match(post, /(^|&)_smime_sign=(&|$)/, 'the browser posted the Sign switch (off)');
    assert.match(post, /(^|&)_smime_encrypt=(&|$)/, 'the browser posted the Encrypt switch (off)');
    if (ctx.proxy) {
      // The proxy classified the POST as a send and read the switches (it strips them before Roundcube).
      const log = readFileSync(ctx.proxyLog, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
      assert.match(log, /compose request \(pass-through\).*kind="?send"?.*sign=false.*encrypt=false/,
        `the proxy log records the classified send (log: ${tail(ctx.proxyLog)})`);
    }
    await page.locator('#messagestack', { hasText: /sent successfully/i }).waitFor().catch(() => {});
    await shot('alice sent');
  });

  step('bob logs in and reads it: subject, body, attachment', async () => {
    const page = ctx.page;
    const [user, pass] = ctx.stack.E2E_BOB.split(':');
    await login(user, pass);
    // Delivery (Postfix → LMTP) is asynchronous: reload the list until the message is there.
    const row = page.locator('#messagelist tbody tr', { hasText: mail.subject });
    const deadline = Date.now() + 20_000;
    while (!(await row.count())) {
      assert.ok(Date.now() < deadline, `"${mail.subject}" not in bob's inbox after 20s (see the stack's log/postfix.log)`);
      await page.waitForTimeout(1000);
      await page.evaluate(() => window.rcmail.command('checkmail'));
      await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
    }
    await shot('bob inbox');
    const link = await row.first().locator('a[href*="_uid="]').first().getAttribute('href');
    const uid = new URL(link, page.url()).searchParams.get('_uid');
    assert.match(uid || '', /^\d+$/, `the row links to the message by uid (${link})`);
    await page.goto(new URL(`?_task=mail&_mbox=INBOX&_uid=${uid}&_action=show`, ctx.stack.E2E_WEBMAIL_URL).href,
      { waitUntil: 'domcontentloaded' });
    await page.locator('#messagebody').waitFor();
    assert.match(await page.locator('#message-header').innerText(), new RegExp(mail.subject));
    const text = await page.locator('#messagebody').innerText();
    assert.ok(text.includes(`this plain message went through smime-proxy (run ${runId})`), `body text shown (got: ${text.slice(0, 200)})`);
    const item = page.locator('#attachment-list li', { hasText: mail.attachment.name });
    assert.equal(await item.count(), 1, 'the attachment is listed');
    assert.equal(await page.locator('#smime-proxy-controls').count(), 0, 'no compose controls on the message page');
    await shot('bob reads the message');

    // The attachment's bytes and the raw message, fetched by the page (through the proxy).
    const href = await item.locator('a').first().getAttribute('href');
    const got = await pageFetch(page, new URL(href, page.url()).href);
    assert.equal(got.status, 200);
    assert.equal(got.text, mail.attachment.text, 'attachment content round-trips');
    const raw = await pageFetch(page, new URL(`?_task=mail&_uid=${uid}&_mbox=INBOX&_action=viewsource`, ctx.stack.E2E_WEBMAIL_URL).href);
    assert.equal(raw.status, 200);
    assert.match(raw.text, /^Content-Type: multipart\/mixed/im, 'a plain multipart/mixed message');
    assert.doesNotMatch(raw.text, /application\/(x-)?pkcs7-(mime|signature)/i, 'controls off: neither signed nor encrypted');
    assert.match(raw.text, new RegExp(`^Subject: ${mail.subject}`, 'm'));
  });
});
