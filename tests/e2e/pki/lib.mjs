// Helpers of the directory/revocation suite (pki/suite.mjs), on top of ../harness.mjs and
// the Roundcube flows' helpers (../compose.mjs): this stack's environment, the OCSP
// responder switch, the proxy's on-disk revocation cache, a signed+encrypted send from
// Roundcube's compose page, new messages in a maildir, the growth of a log file, one
// address's block of `certs list`, and a network log of the page for diagnosis.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, openSync, readSync, closeSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ctx, run, shot, stackEnv, stackStatus, maildirMessages, portOpen, ACTION_TIMEOUT } from '../harness.mjs';
import { openCompose, setSmime, addRecipient, clickSend } from '../compose.mjs';

export const PKI_HERE = path.dirname(fileURLToPath(import.meta.url));
const STACK = path.join(PKI_HERE, 'stack.sh');

// `pki/stack.sh env`, kept apart from the mail stack's (both print E2E_DIRPKI_DIR, meaning
// different things): filled by the suite's `before`.
export const dir = {};
export const dirEnv = () => stackEnv(STACK);
// null when slapd, ldaps, the CRL server and the OCSP responder are up, else what `status` said.
export const dirStatus = () => stackStatus(STACK);

// A file of this stack's PKI (E2E_PKI_KEYS: NAME.pem, NAME.key, ca.pem, root.pem, …).
export const dirKey = (name) => path.join(dir.E2E_PKI_KEYS, name);

// Stops ('down') or starts ('up') the OCSP responder; E2E_OCSP_URL then refuses or answers.
// `ocspTakenDown()`: whether this run stopped it and has not started it again (so the
// suite's end restores only what it changed).
let takenDown = false;
export async function ocsp(state) {
  if (state === 'down') takenDown = true;
  await run('bash', [STACK, `ocsp-${state}`], { timeout: 40_000 });
  if (state === 'up') takenDown = false;
}
export const ocspTakenDown = () => takenDown;

// Whether the OCSP responder (E2E_OCSP_URL) accepts connections.
export function ocspListening() {
  const u = new URL(dir.E2E_OCSP_URL);
  return portOpen(u.hostname, Number(u.port));
}

// A string as a RegExp source.
export const re = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// The proxy's on-disk cache of OCSP responses, CRLs and fetched issuers.
export function clearPkiCache() {
  rmSync(path.join(ctx.configDir, 'cache', 'pki'), { recursive: true, force: true });
}

// Opens a new compose page, switches Sign and Encrypt on, fills To/Subject/body and sends
// (`send`).
export async function sendSmime(page, { to, subject, body }, shotName) {
  await openCompose(page);
  await setSmime(page, { sign: true, encrypt: true });
  await addRecipient(page, 'to', to);
  await page.locator('#compose-subject').fill(subject);
  await page.locator('#composebody').fill(body);
  return send(page, shotName);
}

// Clicks Send on the open compose page: { answer (the send POST's answer, string escapes
// undone), confirmation (the text Roundcube shows for a confirmed send, else null) }. A
// confirmed send is screenshot (`shotName`) while the confirmation shows; then, since Roundcube
// goes to the mailbox list 500 ms after confirming, this waits until it has left the compose
// page, so that the next step does not race that navigation. A refused send leaves the page
// as it is (the caller reads the error: shownError).
export async function send(page, shotName) {
  const answer = unescapeAnswer(await clickSend(page));
  if (!/sent_successfully/.test(answer)) return { answer, confirmation: null };
  const box = page.locator('#messagestack div.confirmation').first();
  const confirmation = await box.waitFor({ timeout: 5000 }).then(() => box.innerText()).catch(() => null);
  if (shotName) await shot(shotName);
  await assertNoConnectionError(page);
  await page.waitForURL((u) => !/[?&]_action=compose/.test(u.search), { timeout: 10_000, waitUntil: 'domcontentloaded' });
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT }).catch(() => {});
  return { answer, confirmation };
}

// Roundcube 1.6 shows "Connection Error (Failed to reach the server)!" when the document its
// send iframe loads lacks <meta name="generator" content="Roundcube"> (app.js
// get_save_target). The proxy's own send answers carry it; this fails if one does not.
// Call it once the send's own message shows (the same iframe load shows both).
export async function assertNoConnectionError(page) {
  const shown = await page.locator('#messagestack div.error', { hasText: 'Connection Error' }).count();
  assert.equal(shown, 0, 'Roundcube shows "Connection Error" after the send: the proxy\'s answer is not one it accepts');
}

// A Roundcube command answer (`this.display_message("…", …)` etc.) with its JavaScript
// string escapes undone, so that it can be matched against plain text.
export function unescapeAnswer(text) {
  return text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))).replace(/\\(.)/g, '$1');
}

// The files of `user`'s maildir folder now, to find the messages that arrive later.
export const snapshot = (user, folder = '') => new Set(maildirMessages(user, folder));

// Waits for a message in `user`'s folder that was not in `before` (a snapshot) and for which
// `accept(file)` resolves truthy; returns [file, what accept returned] or null.
export async function waitForNewMessage(user, folder, before, accept, ms = 20_000) {
  const deadline = Date.now() + ms;
  const tried = new Set();
  for (;;) {
    for (const file of maildirMessages(user, folder)) {
      if (before.has(file) || tried.has(file)) continue;
      tried.add(file);
      const got = await accept(file);
      if (got) return [file, got];
    }
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The size of a log file now (0 when missing), and what was appended to it since then.
export function logSize(file) {
  try { return statSync(file).size; } catch { return 0; }
}
export function logSince(file, offset) {
  const size = logSize(file);
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

// The block of `certs list` output for `email` (its line and the indented lines below), or null.
export function certsBlock(list, email) {
  const blocks = list.split(/\n(?=\S)/);
  return blocks.find((b) => b.split('\n')[0].trim() === email) ?? null;
}

// The SHA-256 fingerprint of a PEM file, as `certs list` prints it (AA:BB:…).
export function fingerprint(pemFile) {
  return new X509Certificate(readFileSync(pemFile)).fingerprint256;
}

export function assertIncludes(text, needle, what) {
  assert.ok(text.includes(needle), `${what}: expected "${needle}" in:\n${text}`);
}

// Diagnosis: every failed request and every HTTP error of `page`, and the webmail's POSTs
// with their answers, into `file` (the suite's out dir). Returns the failures seen so far.
export function recordNetwork(page, file) {
  const log = createWriteStream(file, { flags: 'a' });
  const failures = [];
  page.on('requestfailed', (req) => {
    const line = `${req.method()} ${req.url()}: ${req.failure()?.errorText}`;
    failures.push(line);
    log.write(`---- ${new Date().toISOString()} FAILED ${line}\n${(req.postData() || '').slice(0, 600)}\n`);
  });
  page.on('response', async (res) => {
    const req = res.request();
    if (req.method() !== 'POST' && res.status() < 400) return;
    let body = '';
    try { body = (await res.text()).slice(0, 2000); } catch { body = '(no body)'; }
    log.write(`---- ${new Date().toISOString()} ${req.method()} ${res.url()}\nstatus ${res.status()} ${res.headers()['content-type'] || ''}\n`
      + `request body: ${(req.postData() || '').slice(0, 600)}\nresponse body: ${body}\n`);
  });
  return failures;
}
