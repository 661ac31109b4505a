// The compose flow's steps (registered by suite.mjs, in order): the S/MIME controls on
// the compose page, a plain send that the proxy passes through and what bob receives,
// then the S/MIME sends: signed+encrypted with an HTML body and an attachment to bob and
// carol (checked on disk with openssl, and the webmail's storage searched for the
// plaintext), sign-only, a recipient without a certificate, an encrypted draft, and a
// locked key store, each of the last three refused with nothing sent.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  ctx, step, shot, runId, login, pageFetch, proxyLog, tail, ACTION_TIMEOUT,
  maildirMessages, waitForMessage, openssl, filesContaining,
} from './harness.mjs';

const mail = {
  subject: `e2e plain ${runId}`,
  body: `Hello Bob,\nthis plain message went through smime-proxy (run ${runId}).\n`,
  attachment: { name: 'hello.txt', mimeType: 'text/plain', text: `attachment of run ${runId}\n` },
};

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

// Sets the Sign/Encrypt toggles, clicking the switches as a user would (elastic draws
// each as a custom switch whose label takes the click).
export async function setSmime(page, { sign, encrypt }) {
  for (const [name, on] of [['sign', sign], ['encrypt', encrypt]]) {
    const toggle = page.locator(`#smime-proxy-controls input[type=checkbox][name="_smime_${name}"]`);
    if ((await toggle.isChecked()) === on) continue;
    const label = page.locator(`#smime-proxy-controls label.custom-control-label[for="smime-proxy-${name}"]`);
    await ((await label.count()) ? label.click() : toggle.click());
    assert.equal(await toggle.isChecked(), on, `${name} switched ${on ? 'on' : 'off'}`);
  }
}

// The secret parts of the S/MIME message: they must never be stored by the webmail in clear.
export const secret = {
  subject: `e2e secret subject ${runId}`,
  marker: `e2e-body-marker-${runId}`,
  attachment: { name: 'secret.bin', mimeType: 'application/octet-stream', bytes: Buffer.from(`attachment-marker-${runId}\x00\x01`) },
};

export async function openCompose(page) {
  await page.goto(new URL('?_task=mail&_action=compose', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
  await page.waitForURL(/_action=compose&_id=/);
  await page.locator('#compose-subject').waitFor();
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
}

export async function addRecipient(page, field, address) {
  if (field !== 'to') await page.evaluate((f) => document.getElementById(`compose_${f}`)?.classList.remove('hidden'), field);
  await page.locator(`#compose_${field} ul.recipient-input input`).fill(`${address}, `);
}

// Clicks Send and returns the text of the proxy's (or Roundcube's) answer to the send POST.
export async function clickSend(page) {
  const sent = page.waitForResponse((r) => r.request().method() === 'POST' && /[?&]_task=mail/.test(r.url())
    && (r.request().postData() || '').includes('_action=send'));
  await page.locator('button.send').first().click();
  const res = await sent;
  assert.equal(res.status(), 200, 'send POST status');
  return res.text();
}

// The error Roundcube's page shows (its message stack), waited for.
export async function shownError(page, pattern) {
  const box = page.locator('#messagestack div.error', { hasText: pattern });
  await box.first().waitFor({ timeout: ACTION_TIMEOUT });
  return box.first().innerText();
}

function pki(name) {
  return path.join(ctx.stack.E2E_PKI_DIR, name);
}

// Decrypts a delivered message with `user`'s key (USER.key + USER.pem in `keyDir`, default
// the stack's test PKI); returns the decrypted entity.
export async function decryptFor(file, user, keyDir = ctx.stack.E2E_PKI_DIR) {
  const out = await openssl(['cms', '-decrypt', '-inkey', path.join(keyDir, `${user}.key`), '-recip', path.join(keyDir, `${user}.pem`)],
    readFileSync(file));
  assert.equal(out.code, 0, `openssl cms -decrypt with ${user}'s key (${keyDir}): ${out.stderr}`);
  return out.stdout;
}

// Verifies a signed entity against the stack's test CA; returns the content as text.
export async function verifyEntity(entity) {
  const out = await openssl(['cms', '-verify', '-CAfile', pki('ca.pem'), '-purpose', 'any'], entity);
  assert.equal(out.code, 0, `openssl cms -verify: ${out.stderr}`);
  return out.stdout.toString('latin1');
}

export function composeSteps() {
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
      const log = proxyLog();
      assert.match(log, /compose request.*kind="?send"?.*sign=false.*encrypt=false/,
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

  step('alice sends a signed and encrypted HTML message with an attachment to bob, Cc carol', async () => {
    const page = ctx.page;
    const [alice] = ctx.stack.E2E_ALICE.split(':');
    await login(alice, ctx.stack.E2E_ALICE.split(':')[1]);
    await openCompose(page);
    // The HTML editor (TinyMCE) first: Roundcube converts the text on its server when the
    // editor is switched, so the proxy refuses that while Encrypt is on.
    await page.evaluate(() => window.rcmail.command('toggle-editor', { id: 'composebody', html: true }));
    await page.waitForFunction(() => window.tinymce?.get('composebody')?.initialized, null, { timeout: ACTION_TIMEOUT });
    await addRecipient(page, 'to', ctx.stack.E2E_BOB.split(':')[0]);
    await addRecipient(page, 'cc', ctx.stack.E2E_CAROL.split(':')[0]);
    await page.locator('#compose-subject').fill(secret.subject);
    await page.evaluate((m) => window.tinymce.get('composebody').setContent(`<p>Dear Bob, <strong>${m}</strong></p>`), secret.marker);

    // The file is chosen right after switching Encrypt on, while the toggles' report is
    // still on its way (held back 1.5 s here): the upload must wait for it and be kept on
    // the device, never reach the webmail first (issue 14, item 8).
    const slowReport = async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); };
    await page.route(/[?&]_smime_proxy=state/, slowReport);
    await setSmime(page, { sign: true, encrypt: true });
    const uploaded = page.waitForResponse((r) => r.url().includes('_action=upload') && r.request().method() === 'POST');
    await page.locator('#uploadformInput').setInputFiles({
      name: secret.attachment.name, mimeType: secret.attachment.mimeType, buffer: secret.attachment.bytes,
    });
    const up = await uploaded;
    await page.unroute(/[?&]_smime_proxy=state/, slowReport);
    assert.equal(up.status(), 200, 'upload answered');
    assert.match(await up.text(), /add2attachment_list/, 'the page is told the attachment is attached');
    await page.locator('#attachment-list li', { hasText: secret.attachment.name }).waitFor();
    assert.match(proxyLog(), /attachment kept on the device/, 'the proxy kept the upload');
    await shot('alice composes signed and encrypted');

    const answer = await clickSend(page);
    assert.match(answer, /sent_successfully/, `the page is told the message was sent (got: ${answer.slice(0, 400)}; log: ${tail(ctx.proxyLog)})`);
    // bob and alice have RSA keys, carol an EC one: NSS-based clients cannot read that mix.
    assert.match(answer, /keys mix RSA and EC \([^)]*\(RSA\)[^)]*\(EC\)/, `the key mix is named (got: ${answer.slice(0, 600)})`);
    await page.locator('#messagestack', { hasText: /sent successfully/i }).waitFor().catch(() => {});
    await shot('alice sent signed and encrypted');
  });

  step('bob\'s and carol\'s copies open with openssl: encrypted, signed by alice, with the attachment', async () => {
    const attachmentB64 = secret.attachment.bytes.toString('base64');
    for (const user of ['bob', 'carol']) {
      const file = await waitForMessage(user, '', /Resent-From:[\s\S]*application\/(x-)?pkcs7-mime/i);
      assert.ok(file, `an S/MIME message in ${user}'s INBOX (maildir)`);
      const raw = readFileSync(file, 'latin1');
      assert.match(raw, /^Content-Type: application\/pkcs7-mime;[^\n]*smime-type=enveloped-data/mi, 'a top-level enveloped-data message');
      assert.match(raw, /^Subject: \[\.\.\.\]/m, 'the subject is protected (RFC 9788): [...] outside');
      assert.doesNotMatch(raw, new RegExp(secret.marker), 'no body marker in clear');
      const inner = await decryptFor(file, user);
      const content = await verifyEntity(inner);
      assert.ok(content.includes(secret.marker), `${user}: the HTML body is inside`);
      assert.match(content, /Content-Type: text\/html/i, 'an HTML body');
      assert.ok(content.includes(secret.subject), 'the real subject is inside');
      assert.ok(content.includes(secret.attachment.name) && content.includes(attachmentB64), `${user}: the attachment is inside`);
      if (user === 'bob') secret.messageId = /^Message-ID:[ \t]*(<[^>\r\n]+>)/mi.exec(raw)?.[1];
    }
  });

  step('alice\'s Sent copy is the same S/MIME message, exactly one, readable with her key', async () => {
    const id = secret.messageId;
    assert.ok(id, 'bob\'s copy has a Message-ID');
    const line = new RegExp(`^Message-ID:[ \\t]*${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'mi');
    const headerBlock = (f) => readFileSync(f, 'latin1').split(/\r?\n\r?\n/)[0];
    const file = await waitForMessage('alice', 'Sent', line);
    assert.ok(file, `${id} in alice's Sent folder`);
    await new Promise((r) => setTimeout(r, 1000));
    const copies = maildirMessages('alice', 'Sent').filter((f) => line.test(headerBlock(f)));
    assert.equal(copies.length, 1, `exactly one copy of ${id} in alice's Sent (${copies.join(', ')})`);
    assert.doesNotMatch(headerBlock(file), /^Resent-/mi, 'the imported copy, not one the redirect saved');
    const content = await verifyEntity(await decryptFor(file, 'alice'));
    assert.ok(content.includes(secret.marker));
  });

  step('the webmail stored nothing of it in clear: mail, database, logs, temp files', async () => {
    const needles = [secret.marker, secret.subject, `attachment-marker-${runId}`];
    const dirs = [ctx.stack.E2E_STACK_DIR, '/var/lib/nginx', '/var/spool/postfix', '/var/lib/php/sessions']
      .filter((d) => d);
    const hits = filesContaining(dirs, needles);
    assert.deepEqual(hits, [], 'no file of the webmail stack holds the plaintext');
  });

  step('sign only: a clear-signed message that verifies with openssl', async () => {
    const page = ctx.page;
    await openCompose(page);
    await setSmime(page, { sign: true, encrypt: false });
    await addRecipient(page, 'to', ctx.stack.E2E_BOB.split(':')[0]);
    await page.locator('#compose-subject').fill(`e2e signed ${runId}`);
    await page.locator('#composebody').fill(`signed body ${runId}\n`);
    const answer = await clickSend(page);
    assert.match(answer, /sent_successfully/, `sent (got: ${answer.slice(0, 300)})`);
    const file = await waitForMessage('bob', '', new RegExp(`Subject: e2e signed ${runId}`));
    assert.ok(file, 'the signed message reached bob');
    const raw = readFileSync(file);
    assert.match(raw.toString('latin1'), /^Content-Type: multipart\/signed;/mi);
    const out = await openssl(['cms', '-verify', '-CAfile', pki('ca.pem'), '-purpose', 'any'], raw);
    assert.equal(out.code, 0, `openssl verifies it: ${out.stderr}`);
    assert.ok(out.stdout.toString().includes(`signed body ${runId}`));
  });

  step('a recipient without a certificate: nothing is sent, the page says who', async () => {
    const page = ctx.page;
    const before = maildirMessages('bob').length;
    await openCompose(page);
    await setSmime(page, { sign: true, encrypt: true });
    await addRecipient(page, 'to', ctx.stack.E2E_BOB.split(':')[0]);
    await addRecipient(page, 'cc', 'dave@example.test');
    await page.locator('#compose-subject').fill(`e2e no certificate ${runId}`);
    await page.locator('#composebody').fill(`must not leave ${runId}\n`);
    const answer = await clickSend(page);
    assert.doesNotMatch(answer, /sent_successfully/);
    const shown = await shownError(page, /dave@example\.test/);
    assert.match(shown, /no usable certificate/i);
    await shot('refused: no certificate');
    assert.equal(await page.locator('#compose-subject').inputValue(), `e2e no certificate ${runId}`, 'the compose stays as it was');
    await page.waitForTimeout(1500);
    assert.equal(maildirMessages('bob').length, before, 'nothing reached bob');
  });

  step('a draft of an encrypted message is refused, and nothing lands in Drafts', async () => {
    const page = ctx.page;
    const drafts = maildirMessages('alice', 'Drafts').length;
    const saved = page.waitForResponse((r) => r.request().method() === 'POST' && (r.request().postData() || '').includes('_draft=1'));
    await page.evaluate(() => window.rcmail.command('savedraft'));
    const res = await saved;
    assert.doesNotMatch(await res.text(), /set_draft_id/, 'no draft id: not saved');
    await shownError(page, /Drafts of an encrypted message are not saved/);
    await page.waitForTimeout(500);
    assert.equal(maildirMessages('alice', 'Drafts').length, drafts, 'nothing in alice\'s Drafts');
    assert.deepEqual(filesContaining([path.join(ctx.stack.E2E_MAIL_DIR, 'alice')], [`must not leave ${runId}`]), []);
  });

  step('a locked key store: nothing is sent, the page says how to unlock; unlocking on the proxy page works', async () => {
    const page = ctx.page;
    assert.ok(ctx.proxy, 'this step needs a proxy the suite started (SIGUSR1 locks it)');
    ctx.proxy.kill('SIGUSR1');
    const deadline = Date.now() + 5000;
    while (!/SIGUSR1: key store locked/.test(proxyLog())) {
      assert.ok(Date.now() < deadline, 'the proxy logged the lock');
      await page.waitForTimeout(100);
    }
    const before = maildirMessages('bob').length;
    await openCompose(page);
    await setSmime(page, { sign: true, encrypt: true });
    await addRecipient(page, 'to', ctx.stack.E2E_BOB.split(':')[0]);
    await page.locator('#compose-subject').fill(`e2e locked ${runId}`);
    await page.locator('#composebody').fill(`locked store ${runId}\n`);
    const answer = await clickSend(page);
    assert.doesNotMatch(answer, /sent_successfully/);
    const shown = await shownError(page, /locked/);
    assert.match(shown, /unlock/i, 'the message says how to unlock');
    await shot('refused: key store locked');
    await page.waitForTimeout(1000);
    assert.equal(maildirMessages('bob').length, before, 'nothing reached bob');

    // Unlock again on the proxy's own page, as the user would.
    await page.goto(`http://${ctx.origin}/`, { waitUntil: 'domcontentloaded' });
    await page.locator('input[name=passphrase]').fill(ctx.storePassphrase);
    await Promise.all([page.waitForLoadState('domcontentloaded'), page.locator('form[action="/api/unlock"] button').click()]);
    await page.waitForFunction(() => !document.querySelector('form[action="/api/unlock"]'), null, { timeout: ACTION_TIMEOUT });
  });
}
