#!/usr/bin/env node
// Proves the Horde stack works WITHOUT smime-proxy: alice logs in to Horde IMP, sends a plain
// message with an attachment to bob, the message arrives in bob's maildir (and alice's Sent),
// bob logs in and reads it in the preview pane and the full message view, and Horde's raw
// source equals the stored message. Prints timings; exits non-zero on any failure.
//
//   node tests/e2e/horde/check.mjs        (after tests/e2e/horde/stack.sh all)
//
// TLS: the browser trusts exactly the base stack's test CA, not "any certificate": Chromium's
// --ignore-certificate-errors-spki-list=<base64 SHA-256 of the CA's SubjectPublicKeyInfo>
// (honoured because a user-data-dir is given) accepts a chain that contains that key; nginx
// serves leaf + CA, so only certificates issued by the stack CA pass. Playwright's
// ignoreHTTPSErrors stays false. (Adding the CA to an NSS database would need certutil from
// libnss3-tools; the SPKI list is also what harness.mjs uses for the proxy's CA.) Before the
// browser starts, Node verifies the leaf against the CA file with a real TLS handshake.
// --host-resolver-rules maps horde.example.test to 127.0.0.1 inside Chromium, so the check
// does not depend on /etc/hosts for the browser.
//
// Environment: E2E_CHROMIUM (default /usr/bin/chromium), E2E_OUT_DIR (screenshots; default
// tests/e2e/out/horde-check-<time>/).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as horde from './webmail.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const WATCHDOG = 180_000;
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const OUT = process.env.E2E_OUT_DIR || path.join(HERE, '..', 'out', `horde-check-${new Date().toISOString().replace(/[:.]/g, '-')}`);

const timings = [];
async function timed(name, fn) {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const ms = Math.round(performance.now() - t0);
    timings.push([name, ms]);
    console.log(`horde-check: ${name}: ${ms} ms`);
  }
}

async function stackEnv() {
  const { stdout } = await run('bash', [path.join(HERE, 'stack.sh'), 'env'], { timeout: 10_000 });
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

// Messages of a maildir folder ('' = INBOX) whose bytes contain `needle`, newest first.
function maildirFind(mailDir, user, folder, needle) {
  const base = path.join(mailDir, user, 'Maildir', folder ? `.${folder}` : '');
  const hits = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(base, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (readFileSync(file).includes(needle)) hits.push({ file, mtime: statSync(file).mtimeMs });
    }
  }
  return hits.sort((a, b) => b.mtime - a.mtime).map((h) => h.file);
}

async function waitMaildir(mailDir, user, folder, needle, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const [hit] = maildirFind(mailDir, user, folder, needle);
    if (hit) return hit;
    assert.ok(Date.now() < deadline, `no message containing "${needle}" in ${user}'s ${folder || 'INBOX'} after ${ms / 1000}s (see the base stack's log/postfix.log)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// TLS handshake with Node against the CA file: the leaf is valid for the host name.
function verifyTls(host, port, caFile) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: host, ca: readFileSync(caFile) }, () => {
      const cert = s.getPeerX509Certificate();
      s.end();
      resolve(cert);
    });
    s.setTimeout(5000, () => { s.destroy(); reject(new Error(`TLS to ${host}:${port} timed out`)); });
    s.once('error', reject);
  });
}

async function main() {
  const env = await stackEnv();
  const base = env.E2E_HORDE_URL;
  const [host, port] = [env.E2E_HORDE_HOST, Number(env.E2E_HORDE_PORT)];
  mkdirSync(OUT, { recursive: true });
  console.log(`horde-check: ${base}, run ${runId}, screenshots in ${OUT}`);

  const leaf = await timed('TLS leaf verifies against the stack CA', () => verifyTls(host, port, env.E2E_HORDE_CA));
  assert.ok(leaf.checkHost(host), `the leaf names ${host}`);

  const ca = new X509Certificate(readFileSync(env.E2E_HORDE_CA));
  const spki = createHash('sha256').update(ca.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-horde-check-'));
  let browser;
  let page;
  let shots = 0;
  const shot = (name) => page.screenshot({ path: path.join(OUT, `${String(++shots).padStart(2, '0')}-${name}.png`), fullPage: true });
  try {
    browser = await timed('launch Chromium', () => chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      ignoreHTTPSErrors: false,
      timeout: 30_000,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spki}`,
        `--host-resolver-rules=MAP ${host} 127.0.0.1`,
      ],
    }));
    browser.setDefaultTimeout(horde.ACTION_TIMEOUT);
    browser.setDefaultNavigationTimeout(20_000);
    page = browser.pages()[0] || (await browser.newPage());
    page.on('pageerror', (e) => {
      // IMP's JSON.parse of an XHR that a navigation aborted; harmless.
      if (!/Unexpected end of JSON input/.test(e.message)) console.log(`horde-check: page error: ${e.message}`);
    });

    const mail = {
      subject: `horde check ${runId}`,
      body: `Hello Bob,\nthis plain message went through Horde IMP (run ${runId}).\n`,
      attachment: { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from(`attachment of run ${runId}\n`) },
    };
    const [alice, alicePass] = ['alice@example.test', 'alicepass'];
    const [bob, bobPass] = ['bob@example.test', 'bobpass'];

    await timed('alice logs in', () => horde.login(page, alice, alicePass, { base }));
    await shot('alice-portal');
    const compose = await timed('open compose (same tab)', () => horde.openCompose(page, { base }));
    assert.match(compose.composeCache, /^[\w-]+$/, 'a compose cache id');
    assert.deepEqual(await horde.smimeControls(page),
      { _smime_sign: { count: 0, inForm: 0 }, _smime_encrypt: { count: 0, inForm: 0 } }, 'no proxy controls without the proxy');
    await timed('fill to/subject/body', () => horde.fill(page, { to: bob, subject: mail.subject, body: mail.body }));
    const up = await timed('attach hello.txt (addAttachment)', () => horde.attach(page, mail.attachment));
    assert.equal(up.response?.success, 1, `addAttachment success (${JSON.stringify(up).slice(0, 200)})`);
    await shot('alice-compose-filled');
    const sent = await timed('send (sendMessage)', () => horde.send(page));
    const note = await horde.waitSent(page, sent);
    assert.match(note, /sent successfully/, 'Horde confirms the send');
    const post = sent.response.request().postData() || '';
    assert.match(post, /(^|&)to=bob%40example\.test(&|$)/, 'the send POST names bob');
    assert.match(post, /(^|&)token=[\w-]+(&|$)/, 'the send POST carries the CSRF token');
    await shot('alice-sent');

    const raw = await timed('delivered to bob\'s maildir', () => waitMaildir(env.E2E_HORDE_MAIL_DIR, 'bob', '', `Subject: ${mail.subject}`));
    const stored = readFileSync(raw, 'latin1');
    assert.match(stored, /^Content-Type: multipart\/mixed/m, 'a multipart/mixed message');
    assert.ok(stored.includes(`this plain message went through Horde IMP (run ${runId})`), 'the body is in the delivered message');
    assert.match(stored, /filename=hello\.txt/, 'the attachment is in the delivered message');
    assert.ok(stored.includes(mail.attachment.buffer.toString('base64')) || stored.includes(mail.attachment.buffer.toString()),
      'the attachment bytes are in the delivered message');
    assert.doesNotMatch(stored, /application\/(x-)?pkcs7-(mime|signature)/i, 'neither signed nor encrypted (Horde\'s own S/MIME is off)');
    await timed('copy in alice\'s Sent', () => waitMaildir(env.E2E_HORDE_MAIL_DIR, 'alice', 'Sent', `Subject: ${mail.subject}`, 10_000));

    await timed('bob logs in', () => horde.login(page, bob, bobPass, { base }));
    const msg = await timed('bob opens it in the preview pane (showMessage)', () => horde.openMessage(page, mail.subject, { base }));
    assert.ok(msg.text.includes(`this plain message went through Horde IMP (run ${runId})`), `body in the preview pane (got: ${msg.text.slice(0, 300)})`);
    assert.ok(msg.text.includes(mail.attachment.name), 'the attachment is listed in the preview pane');
    assert.match(msg.preview.msgtext, /class="mimePartBase"/, 'the preview JSON carries the body HTML (msgtext)');
    await shot('bob-preview');
    const source = await page.evaluate(async (u) => {
      const r = await fetch(u, { credentials: 'same-origin' });
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    }, horde.viewSourceUrl(msg, { base }));
    assert.equal(source.status, 200, 'view_source status');
    assert.equal(source.text.replace(/\r\n/g, '\n'), stored.replace(/\r\n/g, '\n'), 'view_source = the stored message (modulo CRLF)');
    const full = await timed('bob opens the full message view', () => horde.openFullMessage(page, msg, { base }));
    assert.ok(full.includes(`this plain message went through Horde IMP (run ${runId})`), `body in the full view (got: ${full.slice(0, 300)})`);
    assert.ok(full.includes(mail.attachment.name), 'the attachment is listed in the full view');
    await shot('bob-full-view');
  } catch (err) {
    if (page) await shot('FAILED').catch(() => {});
    throw err;
  } finally {
    await browser?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  console.error(`horde-check: watchdog: longer than ${WATCHDOG / 1000}s; aborting`);
  process.exit(1);
}, WATCHDOG);
const t0 = performance.now();
main().then(() => {
  clearTimeout(watchdog);
  console.log(`horde-check: OK in ${Math.round(performance.now() - t0)} ms (${timings.map(([n, ms]) => `${n} ${ms}`).join('; ')})`);
}, (err) => {
  clearTimeout(watchdog);
  console.error(`horde-check: FAILED: ${err.stack || err}`);
  process.exitCode = 1;
});
