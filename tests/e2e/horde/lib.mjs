// Helpers of the Horde suite (suite.mjs): steps that may depend on earlier ones (a failed
// step skips only the steps that need it, so one proxy bug does not hide the others), per-step
// timings, the Horde stack's environment, finding a message in a shared maildir by its
// subject (also when the subject is protected inside an encrypted message), openssl checks,
// and the read flow's view of a message in IMP's preview pane and full view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  ctx, run, shot, stackEnv, stackStatus, withTimeout, maildirMessages, openssl, proxyLog, ACTION_TIMEOUT, ORIGIN_HOST,
} from '../harness.mjs';
import * as horde from './webmail.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export { ORIGIN_HOST, assertWebmailDomClean } from '../harness.mjs';

// ---- steps -------------------------------------------------------------------------------

const outcome = new Map(); // step id -> 'pass' | 'fail' | 'skip'
export const timings = []; // [name, ms, outcome]

// A step: `id` names it for later steps' `needs` (ids of steps that must have passed).
// A failed step marks the run failed and skips the steps that need it; the others run.
export function step(id, name, fn, { needs = [], timeout = 45_000 } = {}) {
  test(name, { timeout }, async (t) => {
    const missing = needs.filter((n) => outcome.get(n) !== 'pass');
    if (missing.length) {
      outcome.set(id, 'skip');
      timings.push([name, 0, 'skip']);
      return t.skip(`needs ${missing.map((m) => `${m} (${outcome.get(m) || 'not run'})`).join(', ')}`);
    }
    const t0 = performance.now();
    try {
      await withTimeout(fn(t), timeout - 1000, name);
      outcome.set(id, 'pass');
    } catch (err) {
      outcome.set(id, 'fail');
      process.exitCode = 1;
      if (ctx.page) await shot(`FAILED ${id}`).catch(() => {});
      throw err;
    } finally {
      const ms = Math.round(performance.now() - t0);
      if (outcome.get(id) !== 'skip') timings.push([name, ms, outcome.get(id) || 'fail']);
      console.log(`horde-e2e: ${outcome.get(id) || 'fail'} ${ms} ms: ${name}`);
    }
  });
}

// Records the outcome of a part of a step that later steps need (a step may fail for one
// reason and still have produced what the others need, e.g. a message that was sent).
export function markPassed(id) {
  outcome.set(id, 'pass');
}

// Checks that do not stop a step: each failure is noted and the step goes on (so one run
// shows every problem of a step); `done()` fails the step if any was noted.
export function softChecks() {
  const problems = [];
  return {
    ok(cond, message) { if (!cond) problems.push(message); return !!cond; },
    done() { assert.deepEqual(problems, [], `${problems.length} check(s) of this step failed:\n- ${problems.join('\n- ')}`); },
  };
}

export function printTimings() {
  const total = timings.reduce((s, [, ms]) => s + ms, 0);
  console.log('horde-e2e: step timings');
  for (const [name, ms, result] of timings) console.log(`  ${result.padEnd(4)} ${String(ms).padStart(6)} ms  ${name}`);
  console.log(`  total  ${total} ms in steps`);
}

// ---- environment ---------------------------------------------------------------------------

export const hordeEnv = () => stackEnv(path.join(HERE, 'stack.sh'));

// null when the Horde stack is up, else what its `status` said.
export const hordeStatus = () => stackStatus(path.join(HERE, 'stack.sh'));

export function creds(who) {
  const [user, pass] = ctx.stack[`E2E_${who.toUpperCase()}`].split(':');
  return { user, pass };
}

export function pki(name) {
  return path.join(ctx.stack.E2E_PKI_DIR, name);
}

// ---- messages on disk --------------------------------------------------------------------

// The header block of a raw message, unfolded.
export function headers(raw) {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
}

export function header(raw, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(headers(raw));
  return m ? m[1].trim() : null;
}

// The body of a raw message (after the header block), line ends normalised to CRLF.
export function bodyOf(raw) {
  const text = raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(text);
  return (m ? text.slice(m.index + m[0].length) : '').replace(/\r?\n/g, '\r\n');
}

export function isEnveloped(raw) {
  return /^Content-Type:[ \t]*application\/(x-)?pkcs7-mime;[^\n]*smime-type=enveloped-data/mi.test(headers(raw));
}

// Decrypts with `user`'s key (PKI of the base stack): { code, entity (Buffer), stderr }.
export async function decrypt(raw, user) {
  const out = await openssl(['cms', '-decrypt', '-inkey', pki(`${user}.key`), '-recip', pki(`${user}.pem`)], raw);
  return { code: out.code, entity: out.stdout, stderr: out.stderr };
}

// Verifies a signed entity against the test CA: { content (text), signer (X509Certificate) }.
export async function verify(entity) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-horde-e2e-signer-'));
  try {
    const signerFile = path.join(dir, 'signer.pem');
    const out = await openssl(['cms', '-verify', '-CAfile', pki('ca.pem'), '-purpose', 'any', '-signer', signerFile], entity);
    assert.equal(out.code, 0, `openssl cms -verify: ${out.stderr}`);
    return { content: out.stdout.toString('latin1'), signer: new X509Certificate(readFileSync(signerFile)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The message in `user`'s `folder` ('' = INBOX) whose subject is `subject`, written at or
// after `since` (ms): a clear `Subject:` line or, for an encrypted message, the subject inside
// it (decrypted with `user`'s key; header protection puts "[...]" outside). The maildirs are
// shared with other suites, so a message is only ever found by its unique subject.
// Returns { file, raw, entity (decrypted, or null) } or null.
export async function findBySubject(user, folder, subject, { since = 0 } = {}) {
  const line = new RegExp(`^Subject:[ \\t]*${subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*\r?$`, 'mi');
  for (const file of maildirMessages(user, folder)) {
    let raw;
    try {
      if (statSync(file).mtimeMs < since - 2000) continue;
      raw = readFileSync(file);
    } catch { continue; } // moved between listing and reading (new/ → cur/)
    if (line.test(headers(raw))) return { file, raw, entity: null };
    if (isEnveloped(raw)) {
      const { code, entity } = await decrypt(raw, user);
      if (code === 0 && line.test(entity.toString('latin1'))) return { file, raw, entity };
    }
  }
  return null;
}

export async function waitBySubject(user, folder, subject, { since = 0, ms = 20_000 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = await findBySubject(user, folder, subject, { since });
    if (hit || Date.now() > deadline) return hit;
    await new Promise((r) => setTimeout(r, 300));
  }
}

// Every mailbox a message of this run could land in: none may hold `subject`.
export async function assertNowhere(subject, since) {
  const places = [['bob', ''], ['carol', ''], ['alice', 'Sent'], ['alice', 'Drafts'], ['alice', '']];
  for (const [user, folder] of places) {
    const hit = await findBySubject(user, folder, subject, { since });
    assert.equal(hit, null, `"${subject}" must not be in ${user}'s ${folder || 'INBOX'} (found ${hit?.file})`);
  }
}

// The IMAP UID of the message with `messageId` in `user`'s INBOX (Dovecot, over curl).
export async function imapUid(user, pass, messageId, mailbox = 'INBOX') {
  const { stdout } = await run('curl', ['-sS', '--url', `imap://127.0.0.1:${ctx.stack.E2E_IMAP_PORT}/${mailbox}`,
    '--user', `${user}:${pass}`, '-X', `UID SEARCH HEADER Message-ID "${messageId}"`], { timeout: 10_000 });
  const uids = (/^\* SEARCH(.*)$/m.exec(stdout)?.[1] || '').trim().split(/\s+/).filter(Boolean);
  assert.equal(uids.length, 1, `one message with Message-ID ${messageId} in ${user}'s ${mailbox} (IMAP said: ${stdout.trim()})`);
  return uids[0];
}

// ---- the page ----------------------------------------------------------------------------

// The notifications IMP showed (Growler), of one type ('horde-error', 'horde-success').
export async function shownNotice(page, type, pattern) {
  const box = page.locator(`#Growler .GrowlerNotice.${type}`, { hasText: pattern });
  await box.first().waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
  return box.first().innerText();
}

export async function setSmime(page, { sign, encrypt }) {
  for (const [name, on] of [['sign', sign], ['encrypt', encrypt]]) {
    const box = page.locator(`#smime-proxy-controls input[type=checkbox][name="_smime_${name}"]`);
    await box.setChecked(on);
    assert.equal(await box.isChecked(), on, `${name} switched ${on ? 'on' : 'off'}`);
  }
}

// Opens the message `buid` of `mailbox` in the preview pane: finds its row in IMP's
// ViewPort buffer by uid (a protected subject reads "[...]" in the list), scrolls to it and
// clicks it. Returns { buid, mailbox, json (the showMessage answer), text (its raw text) }.
export async function openPreviewByUid(page, buid, { mailbox = 'INBOX', ms = 20_000 } = {}) {
  await horde.openMailbox(page, { mailbox });
  const mark = () => page.evaluate((uid) => {
    const vp = window.DimpBase?.viewport;
    if (!vp) return false;
    let sel = vp.createSelectionBuffer().search({ VP_id: { equal: [Number(uid)] } });
    if (!sel.size()) sel = vp.createSelectionBuffer().search({ VP_id: { equal: [String(uid)] } });
    if (!sel.size()) {
      if (vp.getMetaData('total_rows')) vp.scrollTo(vp.getMetaData('total_rows'));
      return false;
    }
    vp.scrollTo(sel.get('rownum').first());
    const row = document.getElementById(sel.get('dataob').first().VP_domid);
    if (!row) return false;
    row.setAttribute('data-e2e-buid', String(uid));
    return true;
  }, buid);
  const deadline = Date.now() + ms;
  while (!(await mark())) {
    assert.ok(Date.now() < deadline, `message ${buid} not in ${mailbox}'s list after ${ms / 1000}s`);
    await page.waitForTimeout(500);
    const polled = page.waitForResponse((r) => /\/services\/ajax\.php\/imp\/(poll|viewPort)$/.test(new URL(r.url()).pathname),
      { timeout: ACTION_TIMEOUT }).catch(() => {});
    await page.locator('#checkmaillink').click();
    await polled;
  }
  const shown = page.waitForResponse((r) => r.request().method() === 'POST'
    && new URL(r.url()).pathname.endsWith('/services/ajax.php/imp/showMessage'), { timeout: ACTION_TIMEOUT });
  await page.locator(`[data-e2e-buid="${buid}"]`).click();
  const res = await shown;
  assert.equal(res.status(), 200, 'showMessage status');
  const text = await res.text();
  const json = horde.parseHordeJson(text);
  assert.equal(String(json.response?.buid), String(buid), `showMessage shows message ${buid} (${text.slice(0, 200)})`);
  return { buid, mailbox: json.response.view, json, text };
}

// The proxy's frame under `scope` (a CSS selector of the page): waits for it and its banner.
// Returns { frame, text (the frame body's text), src }.
export async function proxyFrame(page, scope) {
  const iframe = page.locator(`${scope} iframe.smime-proxy-view`);
  await iframe.first().waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
  assert.equal(await iframe.count(), 1, `one proxy frame in ${scope}`);
  const src = await iframe.getAttribute('src');
  assert.match(src, new RegExp(`^https://${ORIGIN_HOST.replace('.', '\\.')}/view/[^/?#]+`), `the frame is the proxy's view (src ${src})`);
  const frame = await (await iframe.elementHandle()).contentFrame();
  assert.ok(frame, 'the proxy frame has a document');
  await frame.locator('.smime-banner').first().waitFor({ timeout: ACTION_TIMEOUT });
  return { frame, text: await frame.locator('body').innerText(), src };
}

// Waits until the proxy's log matches `pattern` (new lines after `from` characters).
export async function waitLog(pattern, { from = 0, ms = 5000 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const added = proxyLog().slice(from);
    if (pattern.test(added)) return added;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}
