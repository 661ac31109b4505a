// The SOGo compose flow's steps (registered by sogo/suite.mjs, in order): alice logs in
// through the proxy, the compose dialog's "More mail options" menu holds the proxy's Sign and
// Encrypt controls, a plain send with an attachment is SOGo's own, then the S/MIME sends:
// signed+encrypted to bob, Cc carol (submitted by the proxy over SMTP; checked on disk with
// openssl, the copy in alice's Sent compared, SOGo's state searched for the plaintext),
// sign-only, and the refusals: an attachment while Encrypt is on, a recipient without a
// certificate, a locked key store — each with nothing sent or stored. composeChecks() adds,
// after the read flow, checks that do not stop other steps: the draft SOGo saved for a message
// the proxy sent is gone, and writing first and choosing Sign + Encrypt afterwards leaves no
// plaintext on the server.
import assert from 'node:assert/strict';
import path from 'node:path';

import { ctx, shot, runId, proxyLog, tail, filesContaining, ACTION_TIMEOUT } from '../harness.mjs';
import * as sogo from './webmail.mjs';
import {
  step, check, fileOfUid, creds, controlState, closeMenu, setSmime, toast, dismissToasts, sendError, closeDialog, verify, signerIs, decrypt,
  waitForSubject, waitForEnveloped, waitForMessageId, splitMessage, header,
} from './lib.mjs';

const LABELS = { sign: 'Sign (S/MIME, smime-proxy)', encrypt: 'Encrypt (S/MIME, smime-proxy)' };

const plain = {
  subject: `e2e sogo plain ${runId}`,
  body: `Hello Bob, this plain message went through smime-proxy and SOGo (run ${runId}).`,
  attachment: { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from(`attachment of sogo run ${runId}\n`) },
};

// The signed+encrypted message: its subject and marker must never be stored in clear.
export const secret = {
  subject: `e2e sogo secret subject ${runId}`,
  marker: `e2e-sogo-body-marker-${runId}`,
  attachment: { name: `secret-${runId}.bin`, mimeType: 'application/octet-stream', buffer: Buffer.from(`secret attachment ${runId}\n`) },
  // filled by the send's checks, for the Sent copy and the read flow
  messageId: null,
  bob: null, // { file, raw }
};

let flowDone = false; // the compose flow got to its end (and unlocked the key store again)

// The proxy's log from `mark` on (mark = its length before the action).
const logMark = () => proxyLog().length;
const logSince = (mark) => proxyLog().slice(mark);
async function waitForLog(re, mark, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!re.test(logSince(mark))) {
    if (Date.now() > deadline) assert.fail(`the proxy log has no ${re} (last lines:\n${tail(ctx.proxyLog, 15)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sogoStateDirs = () => ctx.stack.E2E_SOGO_STATE_DIRS.split(/\s+/).filter(Boolean);
const stackDirs = () => [...sogoStateDirs(), ctx.stack.E2E_STACK_DIR, '/var/spool/postfix', '/var/lib/nginx'];
const maildir = (user, folder = '') => path.join(ctx.stack.E2E_MAIL_DIR, user, 'Maildir', folder ? `.${folder}` : '');

// Headers a delivery adds (the Sent copy never went through the MTA).
const TRANSPORT = new Set(['return-path', 'received', 'delivered-to', 'x-original-to']);

export function composeSteps() {
  step('alice logs in through the proxy (which remembers the login for its SMTP submission)', async () => {
    const [user, pass] = creds('E2E_SOGO_ALICE');
    const mark = logMark();
    const who = await sogo.login(ctx.page, user, pass, ctx.stack.E2E_SOGO_URL);
    assert.equal(who.cn, 'Alice Example', 'the login answer names alice');
    await waitForLog(/remembered the webmail login/, mark);
    await shot('alice inbox');
  });

  step('the compose dialog\'s "More mail options" menu holds the Sign and Encrypt controls, off', async () => {
    const page = ctx.page;
    const mark = logMark();
    const c = await sogo.openCompose(page);
    assert.ok(c.templateUrl, 'the first compose of the page fetched the dialog template (GET …/Mail/UIxMailEditor)');
    await waitForLog(/rewrote compose page host="?sogo\.example\.test:9445"?.*rule="?sogo"?/, mark);
    const found = await sogo.smimeControls(page);
    assert.equal(found.sign, 1, `one Sign control (${JSON.stringify(found)})`);
    assert.equal(found.encrypt, 1, `one Encrypt control (${JSON.stringify(found)})`);

    const menu = await sogo.openMoreMailOptions(page);
    assert.equal(await menu.locator('md-menu-content[width="4"] #smime-proxy-controls').count(), 1,
      'the controls are in the "More mail options" menu (md-menu-content[width="4"])');
    const items = (await menu.locator('md-menu-item').allInnerTexts()).map((t) => t.replace(/^check\s*/, '').trim());
    assert.deepEqual(items.slice(0, 2), [LABELS.sign, LABELS.encrypt], `first in the menu (menu: ${JSON.stringify(items)})`);
    for (const kind of ['sign', 'encrypt']) {
      const control = menu.locator(`button[ng-model="editor.message.editable._smime_${kind}"]`);
      assert.ok(await control.isVisible(), `the ${kind} control is visible`);
      assert.match(await control.innerText(), new RegExp(LABELS[kind].replace(/[()/]/g, '\\$&')));
    }
    await shot('alice compose menu with S/MIME controls');
    await closeMenu(page, { settle: 0 });
    const state = await controlState(page);
    assert.deepEqual(state, { sign: false, encrypt: false, signChecked: false, encryptChecked: false }, 'both off by default');
  });

  step('a plain send (controls off) with an attachment is SOGo\'s own: bob gets it unchanged, alice\'s Sent has it', async () => {
    const page = ctx.page;
    const [bob] = creds('E2E_SOGO_BOB');
    const mark = logMark();
    const m = await sogo.fill(page, { to: bob, subject: plain.subject, body: plain.body });
    assert.deepEqual(m?.to, [bob], 'the editor holds bob as recipient');
    const up = await sogo.attach(page, plain.attachment);
    assert.equal(up.lastAttachmentAttrs?.[0]?.filename, plain.attachment.name, 'SOGo took the upload');
    await shot('alice plain compose');
    const r = await sogo.send(page);
    assert.equal(r.status, 200, `send status (answer: ${JSON.stringify(r.body)})`);
    assert.deepEqual(r.body, { status: 'success' });
    assert.ok(!r.request._smime_sign && !r.request._smime_encrypt, `no S/MIME asked (posted: ${JSON.stringify(r.request)})`);
    const log = logSince(mark);
    assert.match(log, /compose request rule="?sogo"? kind="?upload"? sign=false encrypt=false/, 'the upload was seen, S/MIME off');
    assert.match(log, /compose request rule="?sogo"? kind="?send"? sign=false encrypt=false/, 'the send was seen, S/MIME off');
    assert.doesNotMatch(log, /sent an S\/MIME message/);

    const got = await waitForSubject('bob', '', plain.subject);
    assert.ok(got, `"${plain.subject}" in bob's INBOX within 20s`);
    assert.match(got.raw, /^Content-Type: multipart\/mixed/mi, 'a multipart/mixed message');
    assert.doesNotMatch(got.raw, /application\/(x-)?pkcs7-(mime|signature)/i, 'neither signed nor encrypted');
    assert.match(got.raw, /^User-Agent: SOGoMail/m, 'built by SOGo');
    assert.match(got.raw, /filename="?hello\.txt"?/, 'the attachment part is named');
    assert.ok(got.raw.includes(plain.attachment.buffer.toString().trim()), 'the attachment content is inside');
    assert.ok(got.raw.replace(/=\r?\n/g, '').includes(`went through smime-proxy and SOGo (run ${runId})`),
      'the body text is inside (quoted-printable soft breaks removed)');
    const copy = await waitForSubject('alice', 'Sent', plain.subject, 10_000);
    assert.ok(copy, `"${plain.subject}" in alice's Sent`);
    assert.equal(header(copy.raw, 'Message-ID'), header(got.raw, 'Message-ID'), 'the same message');
  });

  let sentAt = 0;
  step('alice sends a signed and encrypted message with an attachment to bob, Cc carol: the proxy keeps the file, signs, encrypts and submits it', async () => {
    const page = ctx.page;
    const [bob] = creds('E2E_SOGO_BOB');
    const [carol] = creds('E2E_SOGO_CAROL');
    const c = await sogo.openCompose(page);
    assert.equal(c.templateUrl, null, 'a second compose reuses the (rewritten) template Angular cached');
    const saves = await setSmime(page, { sign: true, encrypt: true });
    // Encrypt's ng-change saves the draft, which the proxy refuses (SOGo shows the refusal
    // as a toast): so the proxy knows Encrypt is on before any upload. Sign saves nothing.
    assert.deepEqual(saves.map((s) => [s.kind, s.status]), [['encrypt', 400]], JSON.stringify(saves));
    assert.match(saves[0].body?.message || '', /Drafts of an encrypted message are not saved/);
    await toast(page, /Drafts of an encrypted message are not saved/);
    await dismissToasts(page);
    const body = `Dear Bob, ${secret.marker}`;
    await sogo.fill(page, { to: bob, cc: carol, subject: secret.subject, body });
    // Attached with Encrypt on: the proxy keeps the file and answers with an empty draft's uid.
    const upload = await sogo.attach(page, secret.attachment);
    assert.match(String(upload.lastAttachmentAttrs?.[0]?.path), /^smp/, `the proxy kept it (${JSON.stringify(upload)})`);
    await shot('alice composes signed and encrypted');
    const mark = logMark();
    sentAt = Date.now();
    const r = await sogo.send(page, { expectClose: false });
    assert.equal(r.status, 200, `send status (answer: ${JSON.stringify(r.body)}; log: ${tail(ctx.proxyLog, 8)})`);
    assert.deepEqual(r.body, { status: 'success' }, 'the proxy answers as SOGo does');
    assert.equal(r.request._smime_sign, true, 'SOGo posted "_smime_sign": true');
    assert.equal(r.request._smime_encrypt, true, 'SOGo posted "_smime_encrypt": true');
    assert.deepEqual([r.request.to, r.request.cc], [[bob], [carol]]);
    assert.ok((r.request.text || '').includes(secret.marker), `the send JSON carries the body (text: ${JSON.stringify(r.request.text)})`);
    await toast(page, /Your email has been sent/);
    await page.locator('md-dialog#mailEditor').waitFor({ state: 'detached', timeout: ACTION_TIMEOUT });
    const log = logSince(mark);
    assert.match(log, /compose request rule="?sogo"? kind="?send"? sign=true encrypt=true/);
    assert.match(log, /sent an S\/MIME message sign=true encrypt=true/);
    assert.doesNotMatch(log, /could not be stored/, 'the copy for Sent was stored');
    await shot('alice sent signed and encrypted');
  });

  step('bob\'s and carol\'s copies are S/MIME enveloped; openssl decrypts and verifies them: alice signed, body and attachment inside', async () => {
    const [alice] = creds('E2E_SOGO_ALICE');
    for (const user of ['bob', 'carol']) {
      const got = await waitForEnveloped(user, '', secret.marker, sentAt);
      assert.ok(got, `an enveloped message with this run's marker in ${user}'s INBOX within 20s`);
      const { raw } = got;
      const { headers } = splitMessage(raw);
      const h = (n) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
      assert.match(h('content-type') || '', /^application\/pkcs7-mime;.*smime-type=enveloped-data/i, 'a top-level enveloped-data message');
      assert.equal(h('subject'), '[...]', 'the subject is protected: "[...]" outside');
      assert.match(h('from') || '', /alice@example\.test/);
      assert.match(h('to') || '', /bob@example\.test/);
      assert.match(h('cc') || '', /carol@example\.test/);
      assert.ok(headers.some(([k, v]) => k.toLowerCase() === 'received' && /with ESMTPSA/.test(v)),
        'submitted with SMTP AUTH (the proxy\'s submission as alice)');
      assert.ok(!raw.includes(secret.marker) && !raw.includes(secret.subject), 'neither body marker nor subject in clear');
      const { content, signers } = await verify(got.entity);
      assert.ok(signers.length >= 1 && signerIs(signers[0], alice), `alice is the signer (${signers[0]?.subjectAltName})`);
      assert.ok(content.includes(secret.marker), `${user}: the body text is inside`);
      assert.ok(content.includes(secret.subject), `${user}: the real subject is inside (header protection)`);
      assert.ok(content.includes(secret.attachment.name), `${user}: the attachment is inside`);
      assert.ok(content.replace(/\r?\n/g, '').includes(secret.attachment.buffer.toString('base64')), `${user}: its bytes too`);
      if (user === 'bob') {
        secret.bob = got;
        secret.messageId = h('message-id');
      }
    }
    assert.ok(secret.messageId, 'the message has a Message-ID');
  });

  step('alice\'s Sent copy is that same S/MIME message (stored by the proxy\'s PUT into folderSent)', async () => {
    const copy = await waitForMessageId('alice', 'Sent', secret.messageId);
    assert.ok(copy, `${secret.messageId} in alice's Sent`);
    const sent = splitMessage(copy.raw);
    const bob = splitMessage(secret.bob.raw);
    assert.equal(sent.body, bob.body, 'the body is byte-identical to bob\'s (line ends aside)');
    const strip = (hs) => hs.filter(([k]) => !TRANSPORT.has(k.toLowerCase())).map(([k, v]) => `${k}: ${v}`);
    assert.deepEqual(strip(sent.headers), strip(bob.headers), 'the same headers, apart from the transport ones');
    const out = await decrypt(Buffer.from(copy.raw, 'latin1'), 'alice');
    assert.equal(out.code, 0, `alice can decrypt her copy: ${out.stderr}`);
    assert.ok((await verify(out.stdout)).content.includes(secret.marker));
  });

  step('nothing of the plaintext in SOGo\'s state (PostgreSQL, spool, tmp, logs) nor in alice\'s Drafts', async () => {
    const needles = [secret.marker, secret.subject];
    assert.deepEqual(filesContaining(stackDirs(), needles), [], 'no file of the SOGo or mail stack holds the plaintext');
    assert.deepEqual(filesContaining([maildir('alice', 'Drafts')], needles), [], 'alice\'s Drafts hold none of it');
  });

  step('sign only: a clear-signed message that openssl verifies', async () => {
    const page = ctx.page;
    const [alice] = creds('E2E_SOGO_ALICE');
    const [bob] = creds('E2E_SOGO_BOB');
    const subject = `e2e sogo signed ${runId}`;
    const text = `signed body ${runId}`;
    await sogo.openCompose(page);
    const saves = await setSmime(page, { sign: true });
    assert.deepEqual(saves, [], 'turning Sign on saves no draft');
    await sogo.fill(page, { to: bob, subject, body: text });
    const r = await sogo.send(page);
    assert.equal(r.status, 200, `send status (answer: ${JSON.stringify(r.body)}; log: ${tail(ctx.proxyLog, 6)})`);
    assert.deepEqual(r.body, { status: 'success' });
    assert.equal(r.request._smime_sign, true);
    assert.ok(!r.request._smime_encrypt, 'Encrypt was never turned on');
    assert.ok((r.request.text || '').includes(text), `the send JSON carries the body (text: ${JSON.stringify(r.request.text)})`);
    const got = await waitForSubject('bob', '', subject);
    assert.ok(got, `"${subject}" in bob's INBOX (a signed message keeps its subject outside)`);
    assert.match(header(got.raw, 'Content-Type') || '', /^multipart\/signed;.*protocol="?application\/(x-)?pkcs7-signature"?/i);
    assert.ok(got.raw.includes(text), 'readable without a key (clear-signed)');
    const { content, signers } = await verify(Buffer.from(got.raw, 'latin1'));
    assert.ok(content.includes(text), 'the signed content holds the body');
    assert.ok(signerIs(signers[0], alice), 'alice is the signer');
  });

  step('a file attached while Encrypt is on is kept on the device: listed in the dialog, in no maildir nor SOGo state', async () => {
    const page = ctx.page;
    const file = { name: `secret-${runId}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`attachment-marker-${runId}\n`) };
    await sogo.openCompose(page);
    const saves = await setSmime(page, { encrypt: true });
    assert.deepEqual(saves.map((s) => [s.kind, s.status]), [['encrypt', 400]], 'the draft save with Encrypt on is refused');
    await dismissToasts(page);
    const mark = logMark();
    const answer = await sogo.attach(page, file);
    assert.match(String(answer.lastAttachmentAttrs?.[0]?.path), /^smp/, `kept by the proxy (${JSON.stringify(answer)})`);
    assert.match(String(answer.uid), /^\d+$/, 'the compose goes on as a stored (empty) draft');
    await shot('kept: attachment while encrypting');
    assert.match(logSince(mark), /attachment kept on the device/);
    await sleep(1000);
    assert.deepEqual(filesContaining([maildir('alice'), ...sogoStateDirs()], [`attachment-marker-${runId}`]), [],
      'the file is in no maildir of alice (Drafts included) nor in SOGo\'s state (spool, tmp, PostgreSQL, logs)');
    await closeDialog(page);
  });

  step('a recipient without a certificate (dave): nothing is sent, the dialog names dave', async () => {
    const page = ctx.page;
    const [bob] = creds('E2E_SOGO_BOB');
    const subject = `e2e sogo no certificate ${runId}`;
    const marker = `must-not-leave-${runId}`;
    await sogo.openCompose(page);
    await setSmime(page, { sign: true, encrypt: true });
    await dismissToasts(page);
    await sogo.fill(page, { to: bob, cc: 'dave@example.test', subject, body: marker });
    const mark = logMark();
    const since = Date.now();
    const r = await sogo.send(page, { expectClose: false });
    assert.equal(r.status, 400, `refused (answer: ${JSON.stringify(r.body)})`);
    assert.equal(r.body?.status, 'failure');
    assert.match(r.body?.message || '', /no usable certificate for dave@example\.test/);
    const shown = await sendError(page);
    assert.match(shown, /dave@example\.test/, `the dialog names dave (shows: ${shown})`);
    assert.match(shown, /no usable certificate/i);
    await shot('refused: no certificate for dave');
    assert.match(logSince(mark), /S\/MIME send stopped, nothing sent/);
    assert.doesNotMatch(logSince(mark), /sent an S\/MIME message/);
    assert.equal(await waitForEnveloped('bob', '', marker, since, 1500), null, 'nothing reached bob');
    assert.equal(await waitForSubject('bob', '', subject, 0), null, 'nothing reached bob (not even in clear)');
    await closeDialog(page);
  });

  step('a locked key store: a send is refused and the message says how to unlock; unlocking on the proxy page works', async () => {
    const page = ctx.page;
    assert.ok(ctx.proxy, 'this step needs a proxy the suite started (SIGUSR1 locks it)');
    const [bob] = creds('E2E_SOGO_BOB');
    const subject = `e2e sogo locked ${runId}`;
    const marker = `locked-store-${runId}`;
    let mark = logMark();
    ctx.proxy.kill('SIGUSR1');
    await waitForLog(/SIGUSR1: key store locked/, mark);
    await sogo.openCompose(page);
    await setSmime(page, { sign: true, encrypt: true });
    await dismissToasts(page);
    await sogo.fill(page, { to: bob, subject, body: marker });
    mark = logMark();
    const since = Date.now();
    const r = await sogo.send(page, { expectClose: false });
    assert.equal(r.status, 400, `refused (answer: ${JSON.stringify(r.body)})`);
    assert.match(r.body?.message || '', /locked/);
    const shown = await sendError(page);
    assert.match(shown, /key store is locked/i, `the dialog says the store is locked (shows: ${shown})`);
    assert.match(shown, /unlock it\b[^\n]*http:\/\/smime-proxy\.invalid\//, 'and where to unlock it');
    await shot('refused: key store locked');
    assert.match(logSince(mark), /S\/MIME send stopped, nothing sent/);
    assert.equal(await waitForEnveloped('bob', '', marker, since, 1500), null, 'nothing reached bob');
    await closeDialog(page);

    await page.goto(`http://${ctx.origin}/`, { waitUntil: 'domcontentloaded' });
    await page.locator('input[name=passphrase]').fill(ctx.storePassphrase);
    await Promise.all([page.waitForLoadState('domcontentloaded'), page.locator('form[action="/api/unlock"] button').click()]);
    await page.waitForFunction(() => !document.querySelector('form[action="/api/unlock"]'), null, { timeout: ACTION_TIMEOUT });
    flowDone = true;
  });
}

// Checks of the compose flow's results that do not stop other steps (registered last).
export function composeChecks() {
  // The controls save no draft on their own account: no draft of the messages the proxy
  // sent is left in alice's Drafts (SOGo's own send removes its draft, check.mjs proves it).
  check('after the S/MIME sends, no draft of them is in alice\'s Drafts', async () => {
    const left = filesContaining([maildir('alice', 'Drafts')], [runId]);
    assert.deepEqual(left, [], 'drafts of sent S/MIME messages left in alice\'s Drafts');
  }, () => flowDone);

  // The natural order: write the message, then choose Sign and Encrypt. Sign's ng-change
  // save is forwarded (Encrypt is still off), so SOGo stores the text as a draft; turning
  // Encrypt on and sending encrypted must not leave that plaintext on the server.
  check('writing first, then turning Sign and Encrypt on: no plaintext of the encrypted message is left in Drafts or SOGo\'s spool', async () => {
    const page = ctx.page;
    const [alice, pass] = creds('E2E_SOGO_ALICE');
    const [bob] = creds('E2E_SOGO_BOB');
    const marker = `late-toggle-marker-${runId}`;
    await ctx.browser.clearCookies();
    await sogo.login(page, alice, pass, ctx.stack.E2E_SOGO_URL);
    await sogo.openCompose(page);
    await sogo.fill(page, { to: bob, subject: `e2e sogo late toggles ${runId}`, body: `Dear Bob, ${marker}` });
    const saves = await setSmime(page, { sign: true, encrypt: true });
    await dismissToasts(page);
    const since = Date.now();
    const r = await sogo.send(page);
    assert.deepEqual(r.body, { status: 'success' }, `sent (answer: ${JSON.stringify(r.body)})`);
    assert.ok(await waitForEnveloped('bob', '', marker, since), 'bob got it encrypted');
    // alice's whole maildir (Drafts, and Trash should a fix move the draft there) and SOGo's spool.
    const spool = path.join(ctx.stack.E2E_SOGO_DIR, 'spool');
    const hits = filesContaining([maildir('alice'), spool], [marker]);
    assert.deepEqual(hits, [], `the plaintext stays on the server after the encrypted send (the draft saves: ${JSON.stringify(saves.map((x) => [x.kind, x.status, x.body]))})`);
  }, () => flowDone, 45_000);
}
