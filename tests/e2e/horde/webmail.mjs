// A small driver for Horde IMP 6.2's dynamic view (tests/e2e/horde/stack.sh) in
// playwright-core: the Horde counterpart of harness.mjs's login() and compose.mjs's compose
// helpers for Roundcube. Every function takes the Playwright page; the base URL is the `base`
// option, else $E2E_HORDE_URL (`stack.sh env`: https://horde.example.test:9444/horde/).
//
// What the page does, confirmed live (see README.md for the request formats):
//  - login: POST /horde/login.php (form), 302 to /horde/services/portal/.
//  - compose: IMP's dynamic view always opens compose in a popup window (DimpCore.compose →
//    HordeCore.popupWindow; the compose_popup pref is for the basic view only): "New
//    Message" opens dynamic.php?page=compose&type=new&token=<T>&uniq=<ms> in a new window.
//    Here it is opened in the same tab: GET /horde/imp/dynamic.php?page=compose&type=new
//    (no token needed). After a send
//    or a draft save the page then replaces its body with "Compose action completed..."
//    instead of closing itself (ImpCompose.closeCompose, no opener).
//  - recipients: the to/cc/bcc <textarea>s are hidden behind an autocompleter; typing
//    "addr, " into its input makes an item and fills the textarea.
//  - every compose request posts the whole form#compose (sendMessage, saveDraft,
//    autoSaveDraft, and addAttachment as a multipart iframe submit).
import assert from 'node:assert/strict';

export const ACTION_TIMEOUT = 15_000;

export const selectors = {
  loginUser: '#horde_user',
  loginPass: '#horde_pass',
  loginButton: '#login-button',
  composeForm: 'form#compose',
  to: '#to', // hidden textareas: what the form posts
  cc: '#cc',
  bcc: '#bcc',
  subject: '#subject',
  body: '#composeMessage', // textarea name="message"
  htmlCheckbox: '#htmlcheckbox',
  upload: '#upload', // input[type=file] name="file_upload[]"
  attachList: '#attach_list',
  send: '#send_button',
  draft: '#draft_button',
  spellcheck: '#spellcheck',
  options: '#writemsg .dimpOptions', // where a rule would put the S/MIME controls (inside the form)
  msgList: '#msgSplitPane', // the message list (viewport rows: div.vpRow)
  preview: '#previewPane',
  previewBody: '#messageBody',
  fullViewBody: 'div.messageBody',
};

// The names of the proxy's injected compose controls.
export const SMIME_CONTROLS = ['_smime_sign', '_smime_encrypt'];

const AJAX = '/horde/services/ajax.php/';

function url(base, rel) {
  const b = base || process.env.E2E_HORDE_URL;
  assert.ok(b, 'no Horde base URL: pass { base } or set E2E_HORDE_URL (tests/e2e/horde/stack.sh env)');
  return new URL(rel, b).href;
}

// Horde wraps every AJAX answer as /*-secure-{...}*/.
export function parseHordeJson(text) {
  const m = /^\s*\/\*-secure-([\s\S]*)\*\/\s*$/.exec(text);
  return JSON.parse(m ? m[1] : text);
}

// A response to POST /horde/services/ajax.php/<app>/<action>.
function isAjax(res, action, app = 'imp') {
  return res.request().method() === 'POST' && new URL(res.url()).pathname.endsWith(`${AJAX}${app}/${action}`);
}

// Logs in with the full address; ends on the portal page. Returns Horde's inline config
// (HordeCore.conf: TOKEN, URI_AJAX, ...) of the page it lands on.
export async function login(page, user, pass, { base } = {}) {
  await page.context().clearCookies();
  const res = await page.goto(url(base, 'login.php'), { waitUntil: 'domcontentloaded' });
  assert.ok(res, 'a response for the login page');
  assert.equal(res.status(), 200, `login page status (${res.url()})`);
  await page.locator(selectors.loginUser).fill(user);
  await page.locator(selectors.loginPass).fill(pass);
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/login.php'),
    { timeout: ACTION_TIMEOUT });
  await page.locator(selectors.loginButton).click();
  const answer = await posted;
  assert.equal(answer.status(), 302, `login POST answered ${answer.status()}`);
  await page.waitForLoadState('domcontentloaded');
  if (await page.locator('#horde_login').count()) {
    const why = await page.locator('#horde_login').innerText().catch(() => '');
    assert.fail(`login as ${user} failed (back on ${page.url()}): ${why.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  return hordeConf(page);
}

// HordeCore.conf of the current page (TOKEN = the CSRF token, URI_AJAX, SID, ...).
export function hordeConf(page) {
  return page.evaluate(() => (window.HordeCore ? { ...window.HordeCore.conf } : null));
}

// The dynamic mailbox view of `mailbox` (IMAP name; default INBOX).
export async function openMailbox(page, { base, mailbox = 'INBOX' } = {}) {
  const mbox = Buffer.from(mailbox).toString('base64url');
  const target = url(base, `imp/dynamic.php?page=mailbox#mbox:${mbox}`);
  const init = page.waitForResponse((r) => isAjax(r, 'dynamicInit'), { timeout: ACTION_TIMEOUT });
  // From the mailbox page itself a goto would only be a fragment navigation (no reload).
  if (page.url().split('#')[0] === target.split('#')[0]) await page.goto('about:blank');
  await page.goto(target, { waitUntil: 'domcontentloaded' });
  await init;
  await page.locator(selectors.msgList).waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
}

// A new message in the same tab. Returns { composeCache, composeHmac, token }.
export async function openCompose(page, { base } = {}) {
  const res = await page.goto(url(base, 'imp/dynamic.php?page=compose&type=new'), { waitUntil: 'domcontentloaded' });
  assert.equal(res.status(), 200, 'compose page status');
  await page.locator(selectors.subject).waitFor({ timeout: ACTION_TIMEOUT });
  // ImpCompose has run its onDomLoad (the form is shown and targets the upload iframe).
  await page.waitForFunction(() => window.DimpCompose && document.getElementById('compose')?.getAttribute('target') === 'submit_frame',
    null, { timeout: ACTION_TIMEOUT });
  return page.evaluate(() => ({
    composeCache: document.getElementById('composeCache').value,
    composeHmac: document.getElementById('composeHmac').value,
    token: window.HordeCore.conf.TOKEN,
  }));
}

// Adds recipients through the autocompleter (as typing them would), waiting until the hidden
// textarea holds them.
async function addRecipients(page, field, addrs) {
  const list = [addrs].flat().filter(Boolean);
  if (!list.length) return;
  if (field !== 'to' && !(await page.locator(`#send${field}`).isVisible())) {
    await page.locator(`#toggle${field}`).click();
  }
  const input = page.locator(`#send${field} input.impACTrigger`);
  for (const a of list) {
    await input.click();
    await input.fill(`${a}, `);
    await page.waitForFunction(([f, addr]) => document.getElementById(f).value.split(/,\s*/).includes(addr),
      [field, a], { timeout: ACTION_TIMEOUT });
  }
}

// Fills the compose form. `html: true` switches to the HTML editor (CKEditor) first; the
// body is then HTML.
export async function fill(page, { to, cc, bcc, subject, body, html } = {}) {
  await addRecipients(page, 'to', to);
  await addRecipients(page, 'cc', cc);
  await addRecipients(page, 'bcc', bcc);
  if (subject !== undefined) await page.locator(selectors.subject).fill(subject);
  if (html) {
    if (!(await page.locator(selectors.htmlCheckbox).isChecked())) {
      await page.locator(selectors.htmlCheckbox).click();
    }
    // IMP converts the text on its server first (POST text2Html), then starts CKEditor 3.
    await page.waitForFunction(() => {
      const ed = window.CKEDITOR?.instances?.composeMessage;
      return ed && ed.mode === 'wysiwyg' && ed.document && !window.DimpCompose?.rte?.busy?.();
    }, null, { timeout: ACTION_TIMEOUT });
    // setData() is asynchronous (it reloads the editor's iframe).
    if (body !== undefined) {
      await page.evaluate((b) => new Promise((resolve) => window.CKEDITOR.instances.composeMessage.setData(b, resolve)), body);
    }
  } else if (body !== undefined) {
    await page.locator(selectors.body).fill(body);
  }
}

// Attaches a file (a path, or { name, mimeType, buffer }) through the file input: IMP posts
// the whole form into its hidden iframe (addAttachment). Returns the parsed answer.
export async function attach(page, file) {
  const name = typeof file === 'string' ? file.split('/').pop() : file.name;
  const uploaded = page.waitForResponse((r) => isAjax(r, 'addAttachment'), { timeout: ACTION_TIMEOUT });
  await page.locator(selectors.upload).setInputFiles(file);
  const res = await uploaded;
  assert.equal(res.status(), 200, 'addAttachment status');
  const answer = parseHordeJson(await res.text());
  await page.locator(`${selectors.attachList} li`, { hasText: name }).first().waitFor({ timeout: ACTION_TIMEOUT });
  await page.waitForFunction(() => !document.getElementById('upload_wait') || document.getElementById('upload_wait').style.display === 'none',
    null, { timeout: ACTION_TIMEOUT });
  return answer;
}

// Removes an attachment through its popdown menu ("Delete"): POST deleteAttach. Returns the
// parsed answer ({ response: [num] }).
export async function removeAttachment(page, name) {
  const removed = page.waitForResponse((r) => isAjax(r, 'deleteAttach'), { timeout: ACTION_TIMEOUT });
  await page.locator(`${selectors.attachList} li`, { hasText: name }).locator('.horde-popdown').click();
  await page.locator('#ctx_atcfile_delete').click();
  const res = await removed;
  assert.equal(res.status(), 200, 'deleteAttach status');
  await page.locator(`${selectors.attachList} li`, { hasText: name }).waitFor({ state: 'detached', timeout: ACTION_TIMEOUT });
  return parseHordeJson(await res.text());
}

// Clicks Send; returns { response, json } of the sendMessage POST without judging it.
export async function send(page) {
  const sent = page.waitForResponse((r) => isAjax(r, 'sendMessage'), { timeout: ACTION_TIMEOUT });
  await page.locator(selectors.send).click();
  const response = await sent;
  const text = await response.text();
  let json = null;
  try { json = parseHordeJson(text); } catch { /* not Horde's JSON (e.g. a proxy's page) */ }
  return { response, text, json };
}

// Waits for a successful send: the POST answered success and the compose page closed itself
// ("Compose action completed"). Returns the success message Horde showed.
export async function waitSent(page, sent) {
  assert.equal(sent.response.status(), 200, `sendMessage status (${sent.text.slice(0, 300)})`);
  assert.ok(sent.json?.response?.success, `sendMessage success (got: ${sent.text.slice(0, 400)})`);
  await page.waitForFunction(() => !document.getElementById('compose'), null, { timeout: ACTION_TIMEOUT });
  return (sent.json.msgs || []).map((m) => m.message).join('; ');
}

// Clicks "Save as Draft"; returns { response, text, json } of the saveDraft POST.
export async function saveDraft(page) {
  const saved = page.waitForResponse((r) => isAjax(r, 'saveDraft'), { timeout: ACTION_TIMEOUT });
  await page.locator(selectors.draft).click();
  const response = await saved;
  const text = await response.text();
  let json = null;
  try { json = parseHordeJson(text); } catch { /* not Horde's JSON */ }
  return { response, text, json };
}

// Finds the message with `subject` in the mailbox list (reloading the list until it is there,
// for at most `ms`), clicks it and waits for the preview pane (showMessage). Returns
// { buid, mailbox (base64url id), preview (tasks["imp:message"][i].data of the showMessage
// answer: subject, from, to, cc, localdate, msgtext (the body HTML), atc_list, ...), text
// (the preview pane's text) }.
export async function openMessage(page, subject, { base, mailbox = 'INBOX', ms = 20_000 } = {}) {
  await openMailbox(page, { base, mailbox });
  // The list is a ViewPort: only the rows in view exist in the DOM, and the browser holds a
  // slice of about 150 rows. Find the message in that buffer and scroll it into view; when it
  // is not there, scroll to the end (the default sort puts new mail last), which loads the
  // slice there, and look again.
  const inView = () => page.evaluate((subj) => {
    const vp = window.DimpBase?.viewport;
    const sel = vp?.createSelectionBuffer().search({ subject: { equal: [subj] } });
    if (!sel || !sel.size()) {
      if (vp?.getMetaData('total_rows')) vp.scrollTo(vp.getMetaData('total_rows'));
      return false;
    }
    vp.scrollTo(sel.get('rownum').first());
    return true;
  }, subject);
  const deadline = Date.now() + ms;
  while (!(await inView())) {
    assert.ok(Date.now() < deadline, `"${subject}" not in ${mailbox} after ${ms / 1000}s`);
    await page.waitForTimeout(1000);
    // "Refresh" (IMP polls the server and updates the list).
    const polled = page.waitForResponse((r) => isAjax(r, 'poll') || isAjax(r, 'viewPort'), { timeout: ACTION_TIMEOUT }).catch(() => {});
    await page.locator('#checkmaillink').click();
    await polled;
  }
  const row = page.locator(`${selectors.msgList} .vpRow`, { hasText: subject });
  await row.first().waitFor({ timeout: ACTION_TIMEOUT });
  const shown = page.waitForResponse((r) => isAjax(r, 'showMessage'), { timeout: ACTION_TIMEOUT });
  await row.first().click();
  const res = await shown;
  assert.equal(res.status(), 200, 'showMessage status');
  const json = parseHordeJson(await res.text());
  // response = the message shown ({buid, view}); tasks["imp:message"] = [{buid, data}], also
  // the neighbour that IMP prefetches (msgload).
  const { buid, view } = json.response || {};
  const preview = (json.tasks?.['imp:message'] || []).find((m) => m.buid === buid)?.data;
  assert.ok(preview, `showMessage answered no message ${buid} (${JSON.stringify(json).slice(0, 300)})`);
  assert.equal(preview.subject, subject, 'the preview shows the message clicked');
  await page.locator(`${selectors.previewBody} .mimePartData, ${selectors.previewBody} .mimePartBase`).first()
    .waitFor({ timeout: ACTION_TIMEOUT });
  const text = await page.locator(selectors.preview).innerText();
  return { buid, mailbox: view, preview, text };
}

// The full message view (dynamic.php?page=message) of what openMessage() returned.
// Returns its body text.
export async function openFullMessage(page, { buid, mailbox }, { base } = {}) {
  const res = await page.goto(url(base, `imp/dynamic.php?page=message&buid=${buid}&mailbox=${mailbox}`), { waitUntil: 'domcontentloaded' });
  assert.equal(res.status(), 200, 'message page status');
  await page.locator(selectors.fullViewBody).first().waitFor({ timeout: ACTION_TIMEOUT });
  return page.locator(selectors.fullViewBody).first().innerText();
}

// The raw message exactly as IMAP stores it (no token needed).
export function viewSourceUrl({ buid, mailbox }, { base } = {}) {
  return url(base, `imp/view.php?actionID=view_source&buid=${buid}&id=0&mailbox=${mailbox}`);
}

// Whether the proxy's injected controls are on the page: { _smime_sign: {count, inForm},
// _smime_encrypt: {...} }. `inForm` counts those inside form#compose (what IMP posts).
export function smimeControls(page) {
  return page.evaluate((names) => Object.fromEntries(names.map((n) => {
    const all = document.getElementsByName(n);
    const form = document.getElementById('compose');
    return [n, { count: all.length, inForm: [...all].filter((e) => form && form.contains(e)).length }];
  })), SMIME_CONTROLS);
}
