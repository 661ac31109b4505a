// What the SOGo suite (sogo/suite.mjs) shares between its flows (sogo/compose.mjs,
// sogo/read.mjs), on top of ../harness.mjs: the SOGo stack's environment merged into the base
// stack's, a step wrapper that records each step's time, the S/MIME controls of SOGo's compose
// dialog, the dialog's own messages (error state, toasts), and finding messages on disk by
// their unique (inner) subject or marker — never by counting a maildir, which the Horde suite
// shares.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { test } from 'node:test';

import {
  ctx, shot, step as harnessStep, run, openssl, maildirMessages, stackEnv, stackStatus, ACTION_TIMEOUT,
} from '../harness.mjs';
import * as sogo from './webmail.mjs';

export const SOGO_HERE = path.dirname(fileURLToPath(import.meta.url));

// ---- environment -----------------------------------------------------------------------------

// `sogo/stack.sh env` (E2E_SOGO_* keys).
export const sogoEnv = () => stackEnv(path.join(SOGO_HERE, 'stack.sh'));

// null when every SOGo service is up, else what its `status` said.
export const sogoStatus = () => stackStatus(path.join(SOGO_HERE, 'stack.sh'));

export const creds = (key) => ctx.stack[key].split(':'); // E2E_SOGO_ALICE → [user, password]

// ---- steps with timings ------------------------------------------------------------------------

export const timings = [];

// harness.step, recording how long the step took (printed by the suite at the end).
export function step(name, fn, timeout) {
  harnessStep(name, async (t) => {
    const t0 = performance.now();
    let ok = false;
    try {
      await fn(t);
      ok = true;
    } finally {
      timings.push({ name, ms: Math.round(performance.now() - t0), ok });
    }
  }, timeout);
}

// A check of a finished flow that does not stop the steps after it (harness.step would skip
// them all): skipped when `ready()` is false (the flow did not get that far), else run and
// timed like a step.
export function check(name, fn, ready, timeout = 20_000) {
  test(name, { timeout }, async (t) => {
    if (!ready()) return t.skip('the flow it checks did not get that far');
    const t0 = performance.now();
    let ok = false;
    try {
      await fn(t);
      ok = true;
    } catch (err) {
      if (ctx.page) await shot(`FAILED ${name}`).catch(() => {});
      throw err;
    } finally {
      timings.push({ name, ms: Math.round(performance.now() - t0), ok });
    }
  });
}

export function printTimings() {
  if (!timings.length) return;
  console.log('e2e sogo: step timings (ms):');
  for (const { name, ms, ok } of timings) console.log(`  ${String(ms).padStart(6)}  ${ok ? 'ok  ' : 'FAIL'}  ${name}`);
  console.log(`  ${String(timings.reduce((s, t) => s + t.ms, 0)).padStart(6)}  total`);
}

// ---- the compose dialog -------------------------------------------------------------------------

const dialog = (page) => page.locator('md-dialog#mailEditor');

// The proxy's controls: <sg-checkmark> items (rendered <button ng-model=…>) whose model is
// editor.message.editable._smime_<kind>; SOGo's directive marks them `sg-checked` when on.
export function controlState(page) {
  return page.evaluate(() => {
    const d = document.querySelector('md-dialog#mailEditor');
    const m = d && window.angular?.element(d).controller()?.message?.editable;
    const cls = (k) => document.querySelector(`[ng-model="editor.message.editable._smime_${k}"]`)?.classList.contains('sg-checked') ?? null;
    return { sign: !!m?._smime_sign, encrypt: !!m?._smime_encrypt, signChecked: cls('sign'), encryptChecked: cls('encrypt') };
  });
}

// Sets Sign / Encrypt by clicking the controls in the "More mail options" menu, as a user
// would. Each click changes the model; a change of Encrypt also saves the draft (its
// ng-change: POST …/save, JSON), so the proxy learns the choice before any upload; Sign's
// does not (no text is stored on its account). Returns the saves' answers,
// [{ kind, on, status, body }] (the proxy refuses a draft with Encrypt on).
export async function setSmime(page, want) {
  const saves = [];
  for (const kind of ['sign', 'encrypt']) {
    if (!(kind in want)) continue;
    const before = await controlState(page);
    if (before[kind] === want[kind]) continue;
    if (kind === 'sign') {
      await sogo.clickSmimeControl(page, kind);
      await closeMenu(page);
      const after = await controlState(page);
      assert.equal(after.sign, want.sign, `sign is ${want.sign ? 'on' : 'off'} in SOGo's model`);
      assert.equal(after.signChecked, want.sign, `the sign checkmark shows ${want.sign ? 'on' : 'off'}`);
      continue;
    }
    const saved = page.waitForResponse((r) => r.request().method() === 'POST'
      && /\/Mail\/0\/folderDrafts\/[^/]+\/save$/.test(new URL(r.url()).pathname)
      && /application\/json/.test(r.request().headers()['content-type'] || '')
      && (r.request().postData() || '').includes(`"_smime_${kind}":${want[kind]}`), { timeout: ACTION_TIMEOUT });
    // A save SOGo accepts is followed by a re-read of the draft (GET …/folderDrafts/<uid>/view),
    // whose answer re-initialises the editor: typing before it lands may be lost.
    const reread = page.waitForResponse((r) => r.request().method() === 'GET'
      && /\/Mail\/0\/folderDrafts\/\d+\/view$/.test(new URL(r.url()).pathname), { timeout: ACTION_TIMEOUT });
    reread.catch(() => {});
    await sogo.clickSmimeControl(page, kind);
    await closeMenu(page);
    const res = await saved;
    let body;
    try { body = await res.json(); } catch { body = await res.text().catch(() => null); }
    if (res.status() === 200) {
      await reread;
      await page.waitForTimeout(300); // SOGo applies it in a $timeout
    }
    saves.push({ kind, on: want[kind], status: res.status(), body });
    const after = await controlState(page);
    assert.equal(after[kind], want[kind], `${kind} is ${want[kind] ? 'on' : 'off'} in SOGo's model`);
    assert.equal(after[`${kind}Checked`], want[kind], `the ${kind} checkmark shows ${want[kind] ? 'on' : 'off'}`);
  }
  return saves;
}

// Closes an open Angular Material menu: lets a closing one finish (`settle` ms), then Escape
// once the menu takes keys (md-clickable), else $mdMenu.hide().
export async function closeMenu(page, { settle = 1500 } = {}) {
  const menu = page.locator('.md-open-menu-container.md-active');
  const hidden = (ms) => menu.first().waitFor({ state: 'hidden', timeout: ms }).then(() => true, () => false);
  if (!(await menu.count()) || (settle && (await hidden(settle)))) return;
  for (let i = 0; i < 3; i++) {
    await page.locator('.md-open-menu-container.md-active.md-clickable').first().waitFor({ timeout: 2000 }).catch(() => {});
    await page.keyboard.press('Escape');
    if (await hidden(1000)) return;
  }
  await page.evaluate(() => window.angular?.element(document.body).injector()?.get('$mdMenu')?.hide());
  await menu.first().waitFor({ state: 'hidden', timeout: ACTION_TIMEOUT });
}

// Waits for a toast (md-toast) matching `pattern`; returns its text.
export async function toast(page, pattern) {
  const t = page.locator('md-toast', { hasText: pattern }).first();
  await t.waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
  return t.innerText();
}

// Dismisses every toast (an error toast has no timeout and would cover the next dialog's buttons).
export async function dismissToasts(page) {
  await page.evaluate(() => {
    const body = document.querySelector('body');
    const $mdToast = window.angular?.element(body).injector()?.get('$mdToast');
    $mdToast?.hide();
  }).catch(() => {});
  await page.locator('md-toast').first().waitFor({ state: 'detached', timeout: 3000 }).catch(() => {});
}

// The dialog's error state after a refused send (editor.sendState = 'error',
// {{editor.errorMessage}} from the answer's "message"); returns its text.
export async function sendError(page) {
  const box = dialog(page).locator('[ng-switch-when="error"]');
  await box.waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
  return box.innerText();
}

// Leaves the error state (its Close button) back to the editor, then closes the dialog.
export async function closeDialog(page) {
  const dlg = dialog(page);
  if (!(await dlg.count())) return;
  const back = dlg.locator('[ng-switch-when="error"] [sg-ripple-click="mailEditor"]');
  if (await back.isVisible().catch(() => false)) {
    await back.click();
    await back.waitFor({ state: 'hidden', timeout: ACTION_TIMEOUT }).catch(() => {});
  }
  await dismissToasts(page);
  await dlg.locator('[ng-click="editor.cancel()"]').first().click();
  await dlg.waitFor({ state: 'detached', timeout: ACTION_TIMEOUT });
}

// ---- messages on disk ---------------------------------------------------------------------------

export const pki = (name) => path.join(ctx.stack.E2E_PKI_DIR, name);

// Decrypts a message with `user`'s key: { code, stdout (the entity), stderr }.
export function decrypt(raw, user) {
  return openssl(['cms', '-decrypt', '-inkey', pki(`${user}.key`), '-recip', pki(`${user}.pem`)], raw);
}

// Verifies a signed entity against the test CA; returns { content, signers: [X509Certificate] }.
export async function verify(entity) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-sogo-verify-'));
  try {
    const signerFile = path.join(dir, 'signer.pem');
    const out = await openssl(['cms', '-verify', '-CAfile', pki('ca.pem'), '-purpose', 'any', '-signer', signerFile], entity);
    assert.equal(out.code, 0, `openssl cms -verify -CAfile ca.pem: ${out.stderr}`);
    const pems = readFileSync(signerFile, 'latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
    return { content: out.stdout.toString('latin1'), signers: pems.map((p) => new X509Certificate(p)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function signerIs(cert, address) {
  return (cert.subjectAltName || '').split(/,\s*/).includes(`email:${address}`);
}

const recent = (file, since) => {
  try { return statSync(file).mtimeMs >= since - 2000; } catch { return false; }
};

// Waits for a plain (or clear-signed) message in `user`'s folder whose Subject header is `subject`.
export async function waitForSubject(user, folder, subject, ms = 20_000) {
  const re = new RegExp(`^Subject: ${subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r?$`, 'm');
  const deadline = Date.now() + ms;
  for (;;) {
    for (const f of maildirMessages(user, folder)) {
      let raw;
      try { raw = readFileSync(f, 'latin1'); } catch { continue; } // moved from new/ to cur/ meanwhile
      const head = raw.slice(0, raw.search(/\r?\n\r?\n/) + 1 || raw.length);
      if (re.test(head)) return { file: f, raw };
    }
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// An enveloped S/MIME message to `user` (arrived since `since`) whose decrypted content
// holds `marker` — the outer Subject is "[...]" (header protection), so the unique subject
// and marker are only inside. Returns { file, raw, entity } or null after `ms`.
const opened = new Map(); // file → decrypted entity (or null: not for this key / not ours)
export async function waitForEnveloped(user, folder, marker, since, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const f of maildirMessages(user, folder)) {
      if (!recent(f, since)) continue;
      const base = path.basename(f).split(':')[0];
      const key = `${user}/${folder}/${base}`;
      let raw;
      try { raw = readFileSync(f); } catch { continue; }
      if (!opened.has(key)) {
        const text = raw.toString('latin1');
        const head = text.slice(0, text.search(/\n\r?\n/) + 1);
        if (!/^Content-Type:\s*application\/(x-)?pkcs7-mime;[^\n]*enveloped-data/mi.test(head)) {
          opened.set(key, null);
        } else {
          const out = await decrypt(raw, user);
          opened.set(key, out.code === 0 ? out.stdout : null);
        }
      }
      const entity = opened.get(key);
      if (entity && entity.includes(marker)) return { file: f, raw: raw.toString('latin1'), entity };
    }
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 300));
  }
}

// The message with this Message-ID in `user`'s folder, or null after `ms`.
export async function waitForMessageId(user, folder, messageId, ms = 15_000) {
  const re = new RegExp(`^Message-ID:\\s*${messageId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'mi');
  const deadline = Date.now() + ms;
  for (;;) {
    for (const f of maildirMessages(user, folder)) {
      let raw;
      try { raw = readFileSync(f, 'latin1'); } catch { continue; }
      if (re.test(raw.slice(0, raw.search(/\r?\n\r?\n/) + 1))) return { file: f, raw };
    }
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A raw message split into its header fields ([name, value] with unfolded values) and body (LF).
export function splitMessage(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = text.slice(0, end).replace(/\n[ \t]+/g, ' ');
  const headers = head.split('\n').map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]);
  return { headers, body: text.slice(end + 2) };
}

export const header = (raw, name) => splitMessage(raw).headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

// The maildir file of `user`'s message with IMAP UID `uid` in `folder`, or null when it is gone.
export function fileOfUid(user, folder, uid) {
  const dir = path.join(ctx.stack.E2E_MAIL_DIR, user, 'Maildir', folder ? `.${folder}` : '');
  const list = path.join(dir, 'dovecot-uidlist');
  if (!existsSync(list)) return null;
  const line = readFileSync(list, 'latin1').split('\n').slice(1).find((l) => l.startsWith(`${uid} `));
  const base = line?.match(/:([^:\s]+)/)?.[1];
  if (!base) return null;
  for (const sub of ['cur', 'new']) {
    const hit = (existsSync(path.join(dir, sub)) ? readdirSync(path.join(dir, sub)) : []).find((n) => n.split(':')[0] === base);
    if (hit) return path.join(dir, sub, hit);
  }
  return null;
}

// The IMAP UID Dovecot gave a maildir file (its dovecot-uidlist), once the folder was listed.
export function imapUid(user, folder, file) {
  const list = path.join(ctx.stack.E2E_MAIL_DIR, user, 'Maildir', folder ? `.${folder}` : '', 'dovecot-uidlist');
  if (!existsSync(list)) return null;
  const base = path.basename(file).split(':')[0];
  for (const line of readFileSync(list, 'latin1').split('\n').slice(1)) {
    const m = line.match(/^(\d+)\b.*?:(.+)$/);
    if (m && m[2].split(':')[0] === base) return Number(m[1]);
  }
  return null;
}
