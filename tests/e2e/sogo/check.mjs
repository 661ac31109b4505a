// Proves the SOGo stack (tests/e2e/sogo/stack.sh) works on its own, without smime-proxy:
// Debian's Chromium logs in as alice, sends a plain message with an attachment to bob
// (checked in bob's maildir, and the copy in alice's Sent), bob logs in and opens it. Also
// checks, live, the few SOGo requests an adapter relies on: the raw export of a message (LF
// line ends, CRLF restores the IMAP bytes) and the raw PUT into Sent (201, stored byte for
// byte). Prints the time of each step; exits non-zero on the first failure.
//
//   tests/e2e/sogo/stack.sh all && node tests/e2e/sogo/check.mjs
//
// Trusting the stack's CA: Chromium on Linux reads trust anchors only from the NSS database
// in $HOME/.pki/nssdb (not from the profile; and certutil is not installed). Instead the CA's
// SPKI hash is passed as --ignore-certificate-errors-spki-list (Chromium honours it when a
// --user-data-dir is given, as launchPersistentContext does): a chain that contains a
// certificate with that public key is accepted. nginx serves leaf + CA, so every leaf issued
// by the stack CA (sogo.example.test) passes, and nothing else does — no blanket
// --ignore-certificate-errors. The suite does the same for the proxy's CA.
//
// Environment: E2E_CHROMIUM (default /usr/bin/chromium), E2E_OUT_DIR (screenshots; default
// tests/e2e/out/sogo-check-<timestamp>/), E2E_SOGO_DIR / E2E_STACK_DIR (forwarded to stack.sh).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as sogo from './webmail.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const WATCHDOG = 240_000;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = process.env.E2E_OUT_DIR || path.join(HERE, '..', 'out', `sogo-check-${stamp}`);
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

setTimeout(() => { console.error(`sogo-check: watchdog: longer than ${WATCHDOG / 1000}s; aborting`); process.exit(1); }, WATCHDOG).unref();

const timings = [];
let page;
let browser;
let userDataDir;
let shots = 0;

async function shot(name) {
  if (!page) return;
  const file = path.join(OUT, `${String(++shots).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: 10_000 }).catch(() => {});
}

async function step(name, fn) {
  const t0 = performance.now();
  try {
    const r = await fn();
    const ms = Math.round(performance.now() - t0);
    timings.push([name, ms]);
    console.log(`  ok    ${name} (${ms} ms)`);
    return r;
  } catch (err) {
    const ms = Math.round(performance.now() - t0);
    timings.push([`${name} FAILED`, ms]);
    console.log(`  FAIL  ${name} (${ms} ms)`);
    await shot(`FAILED ${name}`);
    throw err;
  }
}

function parseEnv(stdout) {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

// Maildir helpers: the messages of `user`'s folder ('' = INBOX), newest first.
function maildir(env, user, folder = '') {
  const base = path.join(env.E2E_SOGO_MAIL_DIR, user, 'Maildir', folder ? `.${folder}` : '');
  const files = [];
  for (const sub of ['cur', 'new']) {
    const dir = path.join(base, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) files.push({ file: path.join(dir, name), mtime: statSync(path.join(dir, name)).mtimeMs });
  }
  return files.sort((a, b) => b.mtime - a.mtime).map((f) => f.file);
}

async function waitForMessage(env, user, folder, pattern, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = maildir(env, user, folder).find((f) => pattern.test(readFileSync(f, 'latin1')));
    if (hit) return hit;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A request from inside the page (its cookies; the XSRF token SOGo wants as X-XSRF-TOKEN).
function pageFetch(url, { method = 'GET', body, type, xsrf = true } = {}) {
  return page.evaluate(async ({ url, method, body, type, xsrf }) => {
    const headers = {};
    if (type) headers['Content-Type'] = type;
    const token = document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='));
    if (xsrf && token) headers['X-XSRF-TOKEN'] = token.slice('XSRF-TOKEN='.length);
    const r = await fetch(url, { method, body, headers, credentials: 'same-origin' });
    return { status: r.status, type: r.headers.get('content-type'), location: r.headers.get('location'), text: await r.text() };
  }, { url, method, body, type, xsrf });
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const t0 = performance.now();
  console.log(`sogo-check: run ${runId}; screenshots in ${OUT}`);

  const env = await step('stack env and status', async () => {
    const stack = path.join(HERE, 'stack.sh');
    const e = parseEnv((await run('bash', [stack, 'env'], { timeout: 10_000 })).stdout);
    try {
      await run('bash', [stack, 'status'], { timeout: 30_000 });
    } catch (err) {
      assert.fail(`the SOGo stack is not up (run: tests/e2e/sogo/stack.sh all):\n${err.stdout || ''}${err.stderr || ''}`);
    }
    return e;
  });
  const [alice, alicePass] = env.E2E_SOGO_ALICE.split(':');
  const [bob, bobPass] = env.E2E_SOGO_BOB.split(':');
  const mail = {
    subject: `sogo check ${runId}`,
    body: `Hello Bob,\nthis plain message went through SOGo (run ${runId}).\n`,
    attachment: { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from(`attachment of run ${runId}\n`) },
  };

  await step('start Chromium (stack CA trusted by SPKI)', async () => {
    const { chromium } = await import('playwright-core');
    const ca = new X509Certificate(readFileSync(env.E2E_SOGO_CA));
    const spki = createHash('sha256').update(ca.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-sogo-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      timeout: 30_000,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: false,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spki}`,
      ],
    });
    browser.setDefaultTimeout(sogo.ACTION_TIMEOUT);
    browser.setDefaultNavigationTimeout(20_000);
    page = browser.pages()[0] || (await browser.newPage());
    page.on('pageerror', (e) => console.log(`sogo-check: page error: ${e.message}`));
  });

  await step('alice logs in', async () => {
    const who = await sogo.login(page, alice, alicePass, env.E2E_SOGO_URL);
    assert.equal(who.cn, 'Alice Example', 'the login answer names alice');
    const cookies = await browser.cookies(env.E2E_SOGO_URL);
    const session = cookies.find((c) => c.name === '0xHIGHFLYxSOGo');
    assert.ok(session, 'the session cookie 0xHIGHFLYxSOGo is set');
    assert.ok(cookies.find((c) => c.name === 'XSRF-TOKEN'), 'the XSRF-TOKEN cookie is set');
    console.log(`        session cookie ${session.name}: ${session.name.length + session.value.length} bytes (Chromium's limit is 4096)`);
    await shot('alice inbox');
  });

  const compose = await step('alice opens the compose dialog', async () => {
    const c = await sogo.openCompose(page);
    assert.match(c.draftId, /^newDraft\d+-\d+$/, 'a new draft id');
    const controls = await sogo.smimeControls(page);
    assert.equal(controls.sign + controls.encrypt, 0, 'no _smime_* controls without the proxy');
    return c;
  });

  const draftsBefore = maildir(env, 'alice', 'Drafts').length;
  const upload = await step('alice fills in the message and attaches a file', async () => {
    const m = await sogo.fill(page, { to: bob, subject: mail.subject, body: mail.body });
    assert.deepEqual(m?.to, [bob], 'the editor holds bob as recipient');
    const up = await sogo.attach(page, mail.attachment);
    assert.match(String(up.uid), /^\d+$/, 'the upload answer names the draft\'s IMAP uid');
    assert.equal(up.lastAttachmentAttrs?.[0]?.filename, mail.attachment.name, 'the upload answer lists the file');
    // SOGo saved the draft, attachment included, to IMAP Drafts on upload.
    const draft = await waitForMessage(env, 'alice', 'Drafts', new RegExp(`attachment of run ${runId}`), 5_000);
    assert.ok(draft, `the upload wrote a draft with the attachment to alice's Drafts (had ${draftsBefore} drafts)`);
    await shot('alice compose filled');
    return up;
  });

  const sent = await step('alice sends it; the dialog closes', async () => {
    const r = await sogo.send(page);
    assert.equal(r.status, 200, `send status (answer: ${JSON.stringify(r.body)})`);
    assert.deepEqual(r.body, { status: 'success' }, 'SOGo answers {"status":"success"}');
    assert.ok(r.url.endsWith(`/folderDrafts/${compose.draftId}/send`), `sent to .../folderDrafts/${compose.draftId}/send`);
    assert.deepEqual(r.request.to, [bob], 'the send JSON names bob');
    assert.equal(r.request.subject, mail.subject, 'the send JSON carries the subject');
    await shot('alice sent');
    return r;
  });

  const bobRaw = await step('bob\'s maildir has it, with the attachment', async () => {
    const file = await waitForMessage(env, 'bob', '', new RegExp(`^Subject: ${mail.subject}`, 'm'));
    assert.ok(file, `"${mail.subject}" in bob's INBOX within 20s (see ${env.E2E_SOGO_LOG_DIR}/sogo.log and the shared stack's log/postfix.log)`);
    const raw = readFileSync(file, 'latin1');
    assert.match(raw, /^Content-Type: multipart\/mixed/im, 'a multipart/mixed message');
    assert.match(raw, /filename="hello\.txt"/, 'the attachment part is named');
    assert.ok(raw.includes(`attachment of run ${runId}`), 'the attachment content is inside');
    assert.ok(raw.includes(`this plain message went through SOGo (run ${runId})`), 'the body text is inside');
    return readFileSync(file, 'utf8'); // (the file moves from new/ to cur/ once read)
  });

  await step('alice\'s Sent has the copy; the draft is gone', async () => {
    const file = await waitForMessage(env, 'alice', 'Sent', new RegExp(`^Subject: ${mail.subject}`, 'm'), 10_000);
    assert.ok(file, `"${mail.subject}" in alice's Sent`);
    const drafts = maildir(env, 'alice', 'Drafts').filter((f) => readFileSync(f, 'latin1').includes(`attachment of run ${runId}`));
    assert.equal(drafts.length, 0, 'the draft was expunged from Drafts after the send');
  });

  const opened = await step('bob logs in and opens it', async () => {
    await browser.clearCookies();
    await sogo.login(page, bob, bobPass, env.E2E_SOGO_URL);
    const o = await sogo.openMessage(page, mail.subject);
    assert.equal(o.view.subject, mail.subject, 'the view JSON has the subject');
    const text = await sogo.shownMessageText(page);
    assert.ok(text.includes(`this plain message went through SOGo (run ${runId})`), `body shown (got: ${text.slice(0, 300)})`);
    assert.ok(text.includes(mail.attachment.name), 'the attachment is shown');
    await shot('bob reads the message');
    return o;
  });

  await step('the raw export restores the IMAP bytes (LF -> CRLF)', async () => {
    const base = opened.url.replace(/\/view$/, '');
    const noToken = await pageFetch(`${base}/export`, { xsrf: false });
    assert.notEqual(noToken.status, 200, 'export without X-XSRF-TOKEN is refused');
    const r = await pageFetch(`${base}/export`);
    assert.equal(r.status, 200, 'export status');
    assert.match(r.type || '', /^message\/rfc822/, 'export is message/rfc822');
    assert.ok(!r.text.includes('\r\n'), 'export has LF line ends');
    // Dovecot keeps maildir files with LF and serves them over IMAP with CRLF.
    const stored = bobRaw.replace(/\r\n/g, '\n');
    assert.equal(r.text, stored, 'export = the stored message (LF), i.e. the IMAP bytes with CRLF turned into LF');
  });

  await step('a raw PUT into Sent stores the bytes unchanged (201)', async () => {
    const msg = [
      `From: Bob Example <${bob}>`, `To: ${alice}`, `Subject: sogo check put ${runId}`,
      `Message-ID: <put-${runId}@example.test>`, `Date: ${new Date().toUTCString()}`, 'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii', '', `raw PUT of run ${runId}`, '',
    ].join('\r\n');
    const url = new URL(`so/${bob}/Mail/0/folderSent`, env.E2E_SOGO_URL).href;
    const r = await pageFetch(url, { method: 'PUT', body: msg, type: 'message/rfc822', xsrf: false });
    assert.equal(r.status, 201, `PUT .../folderSent status (answer: ${r.text.slice(0, 200)})`);
    assert.match(r.location || '', /\/SOGo\/dav\/[^/]+\/Mail\/0\/folderSent\/\d+\.eml$/, `a Location for the stored copy (${r.location})`);
    const file = await waitForMessage(env, 'bob', 'Sent', new RegExp(`raw PUT of run ${runId}`), 5_000);
    assert.ok(file, 'the PUT message is in bob\'s Sent');
    assert.equal(readFileSync(file, 'latin1'), msg.replace(/\r\n/g, '\n'), 'stored byte for byte (maildir keeps LF)');
  });

  const total = Math.round(performance.now() - t0);
  console.log(`sogo-check: passed in ${total} ms (send answer ${JSON.stringify(sent.body)}, upload uid ${upload.uid})`);
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`sogo-check: FAILED: ${err?.stack || err}`);
} finally {
  await browser?.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  console.log('sogo-check: timings (ms):');
  for (const [name, ms] of timings) console.log(`  ${String(ms).padStart(6)}  ${name}`);
}
process.exit(failed ? 1 : 0);
