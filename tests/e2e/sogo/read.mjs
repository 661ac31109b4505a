// The SOGo read flow's step (registered by sogo/suite.mjs after the compose flow's): bob
// logs in through the proxy and opens the signed+encrypted message alice sent in the
// compose flow. SOGo's message JSON (GET …/folderINBOX/<uid>/view) reaches the page with its
// `parts` replaced by one part holding the proxy's frame (https://smime-proxy.invalid/view/…),
// which shows the plaintext and the signature banner; SOGo's own DOM never holds the plaintext.
import assert from 'node:assert/strict';

import { ctx, shot, ACTION_TIMEOUT } from '../harness.mjs';
import * as sogo from './webmail.mjs';
import { step, check, creds, imapUid } from './lib.mjs';
import { secret } from './compose.mjs';

const ORIGIN = 'https://smime-proxy.invalid';

// SOGo's documents (every frame but the proxy's) hold none of `needles`, and a script of the
// SOGo page cannot read the proxy's frame.
async function assertSogoDomClean(page, needles) {
  for (const frame of page.frames()) {
    if (frame.url().startsWith(`${ORIGIN}/`)) continue;
    const html = await frame.evaluate(() => document.documentElement.outerHTML).catch(() => '');
    for (const n of needles) assert.ok(!html.includes(n), `the SOGo document ${frame.url()} contains "${n}"`);
  }
  const reach = await page.evaluate(() => {
    const f = document.querySelector('iframe.smime-proxy-view');
    try { return f?.contentDocument?.documentElement?.outerHTML ?? null; } catch { return 'threw'; }
  });
  assert.ok(reach === null || reach === 'threw', 'a script of the SOGo page cannot read the frame');
}

let shown = false; // the read step showed the frame

export function readSteps() {
  step('read: bob opens alice\'s signed+encrypted message: the proxy frame shows it with a valid signature, SOGo\'s DOM has no plaintext', async () => {
    assert.ok(secret.bob, 'the compose flow found bob\'s copy');
    const page = ctx.page;
    const [user, pass] = creds('E2E_SOGO_BOB');
    await ctx.browser.clearCookies(); // alice's session would take the login page straight to her mail
    await sogo.login(page, user, pass, ctx.stack.E2E_SOGO_URL);
    // The list shows the protected subject "[...]"; the message is found by its IMAP UID
    // (Dovecot's uidlist for bob's maildir file, assigned once SOGo listed the INBOX).
    let uid = null;
    const deadline = Date.now() + 10_000;
    while (!(uid = imapUid('bob', '', secret.bob.file))) {
      assert.ok(Date.now() < deadline, `no IMAP UID for ${secret.bob.file} in bob's dovecot-uidlist`);
      await sogo.refresh(page);
    }
    const viewed = page.waitForResponse((r) => r.request().method() === 'GET'
      && new URL(r.url()).pathname.endsWith(`/Mail/0/folderINBOX/${uid}/view`), { timeout: ACTION_TIMEOUT });
    const started = Date.now();
    await page.evaluate((h) => { window.location.hash = h; }, `#!/Mail/0/INBOX/${uid}`);
    const res = await viewed;
    const json = await res.text();
    assert.equal(res.status(), 200, `message view status (answer: ${json.slice(0, 300)})`);
    const view = JSON.parse(json);
    assert.equal(view.parts?.type, 'UIxMailPartLinkViewer', `the parts are the proxy's one part (${JSON.stringify(view.parts).slice(0, 300)})`);
    assert.match(view.parts?.content || '', /<iframe class="smime-proxy-view" src="https:\/\/smime-proxy\.invalid\/view\//);
    assert.ok(!json.includes(secret.marker) && !json.includes(secret.subject), 'SOGo\'s JSON holds no plaintext');

    const iframe = page.locator(`#detailView iframe.smime-proxy-view[src^="${ORIGIN}/view/"]`);
    await iframe.waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
    const frame = await (await iframe.elementHandle()).contentFrame();
    assert.ok(frame, 'the frame has a document');
    await frame.locator('.smime-banner').waitFor({ timeout: ACTION_TIMEOUT });
    const text = await frame.locator('body').innerText();
    console.log(`e2e sogo: read: frame shown ${Date.now() - started} ms after opening, ${text.length} chars`);
    assert.ok(await iframe.isVisible(), 'the frame is visible');
    assert.ok(text.includes(secret.marker), `the frame shows the plaintext (got: ${text.slice(0, 400)})`);
    assert.match(text, /Signature valid/);
    assert.match(text, /Signed by alice@example\.test/);
    assert.match(text, /Encrypted to you/);
    await assertSogoDomClean(page, [secret.marker, secret.subject]);
    await shot('bob reads the signed and encrypted message');
    shown = true;
  });

  // A check (not a step: a failure skips nothing). SOGo gives a UIxMailPartLinkViewer part the
  // class msg-attachment-link, an attachment tile (flex: 0 0 33% from 960 px, 50% from 600 px),
  // which squeezes the proxy's frame (width:100% of the tile) into a column.
  check('read: the proxy frame takes the width of the message body (not an attachment tile)', async () => {
    const m = await ctx.page.evaluate(() => {
      const f = document.querySelector('#detailView iframe.smime-proxy-view');
      const body = document.querySelector('#detailView .msg-body');
      if (!f || !body) return null;
      const tile = f.closest('.mailer_mailcontent');
      return {
        frame: Math.round(f.getBoundingClientRect().width),
        height: Math.round(f.getBoundingClientRect().height),
        body: Math.round(body.getBoundingClientRect().width),
        tile: tile?.className,
        flex: tile && getComputedStyle(tile).flex,
      };
    });
    assert.ok(m, 'the frame and the message body are still shown');
    console.log(`e2e sogo: read: frame ${m.frame}x${m.height} px in a ${m.body} px message body (container "${m.tile}", flex ${m.flex})`);
    assert.ok(m.frame >= 0.9 * m.body,
      `the frame is ${m.frame} px wide in a ${m.body} px message body: its container "${m.tile}" has flex ${m.flex} `
      + '(SOGo styles a UIxMailPartLinkViewer part as an attachment tile)');
  }, () => shown);
}
