// The compose flow's steps (registered by suite.mjs, in order): the S/MIME controls on
// the compose page, a plain send that the proxy passes through, and what bob receives.
import assert from 'node:assert/strict';

import { ctx, step, shot, runId, login, pageFetch, proxyLog, tail, ACTION_TIMEOUT } from './harness.mjs';

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

// Sets the Sign/Encrypt toggles (clicking the switches, as a user would).
export async function setSmime(page, { sign, encrypt }) {
  for (const [name, on] of [['sign', sign], ['encrypt', encrypt]]) {
    const toggle = page.locator(`#smime-proxy-controls input[type=checkbox][name="_smime_${name}"]`);
    await toggle.setChecked(on);
  }
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
}
