// The read flow's steps (registered by suite.mjs after the compose flow's): S/MIME
// messages made with `openssl cms` from the stack's test PKI and delivered to bob over
// SMTP, read in Roundcube through the proxy. Each one is shown in the proxy's own frame
// (https://smime-proxy.invalid/view/...) with a trust banner; the webmail's own DOM never
// holds the plaintext, and remote content in a decrypted message is never loaded.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ctx, step, shot, runId, login, openssl, proxyLog, run, ACTION_TIMEOUT, ORIGIN_HOST, assertWebmailDomClean,
} from './harness.mjs';
import { secret } from './compose.mjs';

const marker = (what) => `READMARK-${what}-${runId}`;

// A local HTTP server that must never be asked for anything (remote content of a message).
const watched = { server: null, port: 0, requests: [] };

// The messages, by key: subject, marker, raw bytes (filled by `build`).
export const messages = {};

function crlf(text) {
  return Buffer.from(text.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

async function opensslOk(args, input) {
  const out = await openssl(args, input);
  assert.equal(out.code, 0, `openssl ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

// The inner entity: text with a marker and an attachment, or the given HTML.
function innerEntity(key, html) {
  if (html) return crlf(`Content-Type: text/html; charset=utf-8\n\n${html}\n`);
  return crlf(`Content-Type: multipart/mixed; boundary="inner"\n\n--inner\nContent-Type: text/plain; charset=utf-8\n\n`
    + `Hi Bob, ${marker(key)}\n--inner\nContent-Type: text/plain; name="notes.txt"\n`
    + `Content-Disposition: attachment; filename="notes.txt"\n\nattachment ${marker(key)}\n--inner--\n`);
}

// Makes `messages[key]` with openssl: signed by alice (or `signer`: { cert, key, certfile }
// files, certfile = extra certificates to include, e.g. an intermediate), encrypted to
// `encryptTo` (a user of the stack's test PKI), from alice to bob unless `from`/`to` say otherwise.
export async function build(key, {
  encryptTo, sign = true, html, tamper = false, from = 'alice@example.test', to = 'bob@example.test', signer,
}) {
  const pki = ctx.stack.E2E_PKI_DIR;
  const subject = `e2e read ${key} ${runId}`;
  const headers = ['-from', from, '-to', to, '-subject', subject];
  let data = innerEntity(key, html);
  if (sign) {
    const s = signer || { cert: path.join(pki, 'alice.pem'), key: path.join(pki, 'alice.key') };
    data = await opensslOk(['cms', '-sign', '-binary', '-signer', s.cert, '-inkey', s.key,
      ...(s.certfile ? ['-certfile', s.certfile] : []), ...headers], data);
  }
  if (encryptTo) {
    data = await opensslOk(['cms', '-encrypt', '-binary', '-aes-256-gcm', ...headers,
      path.join(pki, `${encryptTo}.pem`)], data);
  }
  if (!sign && !encryptTo) {
    data = Buffer.concat([crlf(`From: ${from}\nTo: ${to}\nSubject: ${subject}\nMIME-Version: 1.0\n`), data]);
  }
  let text = data.toString('latin1');
  if (tamper) text = text.replace('Hi Bob', 'Hi Rob');
  const date = new Date().toUTCString().replace('GMT', '+0000');
  const raw = crlf(`Date: ${date}\nMessage-ID: <${key}.${runId}@example.test>\n${text}`);
  messages[key] = { subject, marker: marker(key), raw };
  return messages[key];
}

// Delivers a raw message over SMTP (the stack's Postfix) from `from` to `rcpt`.
export async function deliver(raw, { from = 'alice@example.test', rcpt = 'bob@example.test' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-msg-'));
  const file = path.join(dir, 'message.eml');
  writeFileSync(file, raw);
  try {
    await run('curl', ['-sS', '--url', `smtp://127.0.0.1:${ctx.stack.E2E_SMTP_PORT}`, '--mail-from', from,
      '--mail-rcpt', rcpt, '--upload-file', file], { timeout: 15_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Waits for the message with `subject` in the logged-in user's INBOX list; returns its uid.
async function uidOf(page, subject) {
  const row = page.locator('#messagelist tbody tr', { hasText: subject });
  const deadline = Date.now() + 20_000;
  while (!(await row.count())) {
    assert.ok(Date.now() < deadline, `"${subject}" not in the inbox after 20s`);
    await page.waitForTimeout(1000);
    await page.evaluate(() => window.rcmail.command('checkmail'));
    await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
  }
  const link = await row.first().locator('a[href*="_uid="]').first().getAttribute('href');
  return new URL(link, page.url()).searchParams.get('_uid');
}

// Opens the full-page view of `key`'s message (`messages[key]`, made by `build`) in the
// logged-in user's INBOX; returns the proxy frame and its text.
export async function openView(key) {
  const page = ctx.page;
  await page.goto(new URL('?_task=mail&_mbox=INBOX', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
  const uid = await uidOf(page, messages[key].subject);
  const { frame, text, ms } = await openFrame(page, uid);
  console.log(`e2e: read ${key}: view page loaded in ${ms} ms (domcontentloaded), frame text ${text.length} chars`);
  return { page, frame, text, uid, ms };
}

// The UID of the newest INBOX message whose list row shows `text`.
export async function newestUid(page, text) {
  await page.goto(new URL('?_task=mail&_mbox=INBOX', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
  const rows = page.locator('#messagelist tbody tr', { hasText: text });
  const hrefs = await rows.locator('a[href*="_uid="]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const uids = hrefs.map((h) => Number(new URL(h, page.url()).searchParams.get('_uid')));
  assert.ok(uids.length, `a message showing "${text}" in the inbox`);
  return Math.max(...uids);
}

// Opens the full-page view of INBOX message `uid`; returns the proxy frame, its text and
// how long the page took to load.
export async function openFrame(page, uid) {
  const started = Date.now();
  await page.goto(new URL(`?_task=mail&_mbox=INBOX&_uid=${uid}&_action=show`, ctx.stack.E2E_WEBMAIL_URL).href,
    { waitUntil: 'domcontentloaded' });
  const ms = Date.now() - started;
  const iframe = page.locator(`#messagebody iframe.smime-proxy-view[src^="https://${ORIGIN_HOST}/view/"]`);
  await iframe.waitFor({ state: 'attached' });
  const frame = await (await iframe.elementHandle()).contentFrame();
  await frame.locator('.smime-banner').waitFor();
  return { frame, text: await frame.locator('body').innerText(), ms };
}

export function readSteps() {
  step('read: openssl-made S/MIME messages are delivered to bob over SMTP', async () => {
    watched.server = http.createServer((req, res) => {
      watched.requests.push(req.url);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end();
    });
    await new Promise((r) => watched.server.listen(0, '127.0.0.1', r));
    watched.port = watched.server.address().port;
    const remote = `http://127.0.0.1:${watched.port}`;
    await build('plain', { sign: false });
    await build('enc', { encryptTo: 'bob' });
    await build('signed', {});
    await build('tampered', { tamper: true });
    // dave's key is in no key store of this run (the suite's proxy holds alice's, bob's and carol's).
    await build('dave', { encryptTo: 'dave' });
    await build('html', {
      encryptTo: 'bob',
      html: `<html><body><p>HTML ${marker('html')}</p><img src="${remote}/remote.png" alt="remote">`
        + `<p style="background:url(${remote}/bg.png)">styled</p><img src="${remote}/leak?`,
    });
    for (const m of Object.values(messages)) await deliver(m.raw);
  }, 60_000);

  step('read: bob opens a signed+encrypted message: plaintext and a valid signature in the proxy frame only', async () => {
    const [user, pass] = ctx.stack.E2E_BOB.split(':');
    await login(user, pass);
    const { page, text } = await openView('enc');
    assert.ok(text.includes(`Hi Bob, ${messages.enc.marker}`), `the frame shows the plaintext (got: ${text.slice(0, 400)})`);
    assert.match(text, /Signature valid/);
    assert.match(text, /Signed by alice@example\.test/);
    assert.match(text, /The signer matches the From address/);
    assert.match(text, /Encrypted to you \(AES-256-GCM, authenticated\)/);
    assert.match(text, /notes\.txt/, 'the inner attachment is listed');
    await assertWebmailDomClean(page, messages.enc.marker);
    assert.doesNotMatch(await page.locator('#messagebody').innerText(), /can not be displayed/, 'the warning is gone');
    await shot('read encrypted message');
    if (ctx.proxy) assert.match(proxyLog(), /learned a signer's certificate|view: opened.*valid signature/);
  });

  step('read: bob opens alice\'s message sent by the compose flow (signed, encrypted, subject protected)', async () => {
    const page = ctx.page;
    // Header protection shows "[...]" in the list; the newest such message is this run's.
    const { text } = await openFrame(page, await newestUid(page, '[...]'));
    assert.ok(text.includes(secret.marker), `the frame shows the body (got: ${text.slice(0, 400)})`);
    assert.match(text, /Signature valid/);
    assert.match(text, /Signed by alice@example\.test/);
    assert.match(text, new RegExp(secret.attachment.name.replace('.', '\\.')), 'the attachment is listed');
    await assertWebmailDomClean(page, secret.marker);
    await shot('read the compose flow\'s message');
  });

  step('read: a plain message is passed unchanged (no frame, no raw message fetched)', async () => {
    const page = ctx.page;
    await page.goto(new URL('?_task=mail&_mbox=INBOX', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
    await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
    const uid = await uidOf(page, messages.plain.subject);
    const before = ctx.proxy ? proxyLog().split('\n').length : 0;
    const started = Date.now();
    await page.goto(new URL(`?_task=mail&_mbox=INBOX&_uid=${uid}&_action=show`, ctx.stack.E2E_WEBMAIL_URL).href,
      { waitUntil: 'domcontentloaded' });
    console.log(`e2e: read plain: view page loaded in ${Date.now() - started} ms (domcontentloaded)`);
    assert.ok((await page.locator('#messagebody').innerText()).includes(messages.plain.marker), 'Roundcube shows it itself');
    assert.equal(await page.locator('iframe.smime-proxy-view').count(), 0, 'no proxy frame');
    if (ctx.proxy) {
      const added = proxyLog().split('\n').slice(before).join('\n');
      assert.doesNotMatch(added, /view: /, 'the read flow did not fetch or open anything');
    }
  });

  step('read: the preview pane shows the same frame, and the webmail frames stay clean', async () => {
    const page = ctx.page;
    await page.goto(new URL('?_task=mail&_mbox=INBOX', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
    await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
    await page.locator('#messagelist tbody tr', { hasText: messages.enc.subject }).first().click();
    const preview = page.frameLocator('#messagecontframe');
    const inner = preview.locator('iframe.smime-proxy-view');
    await inner.waitFor({ state: 'attached' });
    const frame = page.frames().find((f) => f.url().startsWith(`https://${ORIGIN_HOST}/view/`));
    assert.ok(frame, 'the proxy frame is loaded inside the preview');
    await frame.locator('.smime-banner').waitFor();
    assert.ok((await frame.locator('body').innerText()).includes(messages.enc.marker));
    await assertWebmailDomClean(page, messages.enc.marker);
    await shot('read preview');
  });

  step('read: a top-level multipart/signed message gets the banner too', async () => {
    const { page, text } = await openView('signed');
    assert.match(text, /Signature valid/);
    assert.match(text, /Not encrypted/);
    assert.ok(text.includes(messages.signed.marker));
    await assertWebmailDomClean(page, messages.signed.marker);
    await shot('read signed message');
  });

  step('read: a tampered signed message shows invalid', async () => {
    const { text } = await openView('tampered');
    assert.match(text, /Signature INVALID/);
    await shot('read tampered message');
  });

  step('read: a message encrypted for someone else (dave) says "not for your key"', async () => {
    const { text } = await openView('dave');
    assert.match(text, /Not for your key/);
    assert.ok(!text.includes(messages.dave.marker), 'no plaintext');
    await shot('read not for your key');
  });

  step('read: remote and EFAIL-style images in a decrypted HTML message are never requested', async () => {
    const seen = [];
    const onRequest = (req) => { if (req.url().includes(`127.0.0.1:${watched.port}`)) seen.push(req.url()); };
    ctx.page.on('request', onRequest);
    try {
      const { page, frame, text } = await openView('html');
      assert.ok(text.includes(`HTML ${messages.html.marker}`), `the HTML content is shown (got: ${text.slice(0, 300)})`);
      const html = await frame.evaluate(() => document.body.innerHTML);
      assert.ok(!html.includes(`127.0.0.1:${watched.port}`), 'no remote URL survives sanitising');
      await page.waitForTimeout(1500);
      assert.deepEqual(seen, [], 'the browser requested no remote content');
      assert.deepEqual(watched.requests, [], 'the watched server got no request');
      await shot('read html message');
    } finally {
      ctx.page.off('request', onRequest);
      watched.server?.close();
    }
  });
}
