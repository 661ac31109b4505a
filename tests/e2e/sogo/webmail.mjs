// A playwright-core driver for SOGo 5.8's mail UI (tests/e2e/sogo/stack.sh): log in, open
// the compose dialog, fill it, attach, send, open a message, and report the S/MIME controls a
// proxy injects into the compose dialog. Every function takes the Playwright `page`; the
// site's base URL defaults to $E2E_SOGO_URL (https://sogo.example.test:9445/SOGo/) and can be
// passed as the last argument where a navigation happens.
//
// SOGo is an AngularJS (Angular Material) app fed by JSON: logging in is `POST /SOGo/connect`,
// the compose dialog is an XHR-loaded template (`GET .../Mail/UIxMailEditor`) shown as
// `md-dialog#mailEditor`, and saving/sending/uploading are XHRs to
// `.../Mail/0/folderDrafts/<draftId>/save|send`. The functions wait for those answers rather
// than for timeouts, and return what SOGo answered.
import assert from 'node:assert/strict';

export const ACTION_TIMEOUT = 15_000;
export const DEFAULT_URL = process.env.E2E_SOGO_URL || 'https://sogo.example.test:9445/SOGo/';

// The XHRs of the compose flow, by path (user names contain '@', which stays literal in the path).
const RE = {
  connect: /\/SOGo\/connect$/,
  compose: /\/SOGo\/so\/[^/]+\/Mail\/0\/compose(\?|$)/,
  editorTemplate: /\/SOGo\/so\/[^/]+\/Mail\/UIxMailEditor(\?|$)/,
  save: /\/SOGo\/so\/[^/]+\/Mail\/0\/folderDrafts\/[^/]+\/save$/,
  send: /\/SOGo\/so\/[^/]+\/Mail\/0\/folderDrafts\/[^/]+\/send$/,
  folderView: /\/SOGo\/so\/[^/]+\/Mail\/0\/folder[^/]+\/view$/,
  messageView: /\/SOGo\/so\/[^/]+\/Mail\/0\/folder[^/]+\/\d+\/view$/,
};

const editor = (page) => page.locator('md-dialog#mailEditor');

function response(page, method, re, pred = () => true) {
  return page.waitForResponse((r) => r.request().method() === method && re.test(new URL(r.url()).pathname) && pred(r),
    { timeout: ACTION_TIMEOUT });
}

async function json(res) {
  const text = await res.text();
  try { return JSON.parse(text); } catch { return { _text: text }; }
}

// Logs in on the login page (a fresh page load, so any earlier session's cookies are simply
// replaced) and waits for the mailbox list. Returns { cn, user, mailUrl }.
export async function login(page, user, pass, url = DEFAULT_URL) {
  // Leave the app first: a running SOGo page navigates by itself (e.g. to the login page
  // once its session is gone), which would abort our navigation.
  await page.goto('about:blank');
  const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
  assert.ok(res, 'a response for the login page');
  assert.equal(res.status(), 200, `login page status (${res.url()})`);
  const form = page.locator('form[name=loginForm]');
  await form.locator('input[ng-model="app.creds.username"]').fill(user);
  await form.locator('input[ng-model="app.creds.password"]').fill(pass);
  const connected = response(page, 'POST', RE.connect);
  const listed = response(page, 'POST', RE.folderView, (r) => r.url().includes('/folderINBOX/'));
  await form.locator('md-button[type=submit][aria-label=Connect], button[type=submit]').first().click();
  const answer = await connected;
  const body = await json(answer);
  assert.equal(answer.status(), 200, `POST /SOGo/connect status (answer: ${JSON.stringify(body).slice(0, 200)})`);
  // connect -> 302s -> GET .../Mail/view (the app shell) -> POST .../folderINBOX/view (the list)
  await page.waitForURL(/\/SOGo\/so\/[^/]+\/Mail\//, { timeout: ACTION_TIMEOUT });
  await listed;
  await page.locator('md-virtual-repeat-container').first().waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
  return { cn: body.cn, user, mailUrl: page.url() };
}

// Opens "Write a new message" (the pen button: a speed dial whose first action opens the
// editor in the page; its second action, "in new window", is not used) and waits for the
// dialog and its draft. Returns { draftId, templateUrl } — templateUrl is null when the page
// had fetched the dialog template (GET .../Mail/UIxMailEditor) already: Angular caches it for
// the page's lifetime. The dialog is `md-dialog#mailEditor`.
export async function openCompose(page) {
  let templateUrl = null;
  const onResponse = (r) => { if (RE.editorTemplate.test(new URL(r.url()).pathname)) templateUrl = r.url(); };
  page.on('response', onResponse);
  try {
    const composed = response(page, 'GET', RE.compose);
    await page.locator('md-fab-speed-dial md-fab-trigger md-button, md-fab-speed-dial md-fab-trigger button').first().click();
    const action = page.locator('md-fab-speed-dial md-fab-actions [ng-click="mailbox.newMessage($event)"]').first();
    await action.waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
    await action.click();
    const res = await composed;
    assert.equal(res.status(), 201, 'GET .../Mail/0/compose creates a draft (201)');
    const { draftId } = await json(res);
    assert.ok(draftId, 'the compose answer names the draft');
    await editor(page).waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
    await editor(page).locator('input[name=subject]').waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
    await bodyEditorReady(page);
    return { draftId, templateUrl };
  } finally {
    page.off('response', onResponse);
  }
}

// 'text' (textarea, the user preference SOGoMailComposeMessageType = text) or 'html' (CKEditor 4, the default).
export async function composeType(page) {
  return (await editor(page).locator('textarea[name=content]').count()) ? 'text' : 'html';
}

async function bodyEditorReady(page) {
  const dlg = editor(page);
  await page.waitForFunction(() => {
    const d = document.querySelector('md-dialog#mailEditor');
    if (!d) return false;
    if (d.querySelector('textarea[name=content]')) return true;
    const f = d.querySelector('iframe.cke_wysiwyg_frame');
    return !!(f && f.contentDocument && f.contentDocument.body && f.contentDocument.body.isContentEditable);
  }, null, { timeout: ACTION_TIMEOUT });
  return dlg;
}

async function addRecipients(page, field, list) {
  if (!list || !list.length) return;
  const dlg = editor(page);
  if (field !== 'to') {
    // Cc and Bcc rows are hidden until their button is clicked.
    const show = dlg.locator(`[ng-click="editor.hide${field === 'cc' ? 'Cc' : 'Bcc'} = false"]`);
    if (await show.isVisible()) await show.click();
  }
  const chips = dlg.locator(`md-chips[ng-model="editor.message.editable.${field}"]`);
  const input = chips.locator('input').first();
  for (const address of list) {
    await input.click();
    await input.fill(address);
    // Enter is swallowed by the autocomplete (editor.ignoreReturn); md-add-on-blur makes the chip.
    await input.press('Tab');
    await chips.locator('md-chip', { hasText: address }).first().waitFor({ timeout: ACTION_TIMEOUT });
  }
}

const asList = (v) => (v == null ? [] : Array.isArray(v) ? v : [v]);

// Fills the open compose dialog. `to`/`cc`/`bcc`: an address or a list; `body`: plain text
// (in the HTML editor each line becomes its own paragraph).
export async function fill(page, { to, cc, bcc, subject, body } = {}) {
  const dlg = editor(page);
  await addRecipients(page, 'to', asList(to));
  await addRecipients(page, 'cc', asList(cc));
  await addRecipients(page, 'bcc', asList(bcc));
  if (subject != null) await dlg.locator('input[name=subject]').fill(subject);
  if (body != null) {
    if ((await composeType(page)) === 'text') {
      await dlg.locator('textarea[name=content]').fill(body);
    } else {
      const frame = page.frameLocator('md-dialog#mailEditor iframe.cke_wysiwyg_frame');
      const area = frame.locator('body');
      await area.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      const lines = body.replace(/\n$/, '').split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (i) await page.keyboard.press('Enter');
        if (lines[i]) await page.keyboard.insertText(lines[i]);
      }
      // CKEditor hands its text to Angular's model (editor.message.editable.text, what SOGo
      // posts) a few hundred ms later: a send right after typing would post the old text.
      const last = lines.filter((l) => l.trim()).pop();
      if (last) {
        const html = last.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
        await page.waitForFunction((t) => {
          const d = document.querySelector('md-dialog#mailEditor');
          const text = d && window.angular?.element(d).controller()?.message?.editable?.text;
          return typeof text === 'string' && text.replace(/&nbsp;|\u00a0/g, ' ').includes(t);
        }, html, { timeout: ACTION_TIMEOUT });
      }
    }
  }
  return editableMessage(page);
}

// What SOGo's editor holds (Angular's model of the dialog: `editor.message.editable`, what
// SOGo posts), e.g. to check a fill. Debug info is off in SOGo's build, so element.scope() is
// undefined; the dialog's controller (MessageEditorController, `editor`) is reachable.
export function editableMessage(page) {
  return page.evaluate(() => {
    const d = document.querySelector('md-dialog#mailEditor');
    const m = d && window.angular?.element(d).controller()?.message?.editable;
    return m ? JSON.parse(JSON.stringify(m, (k, v) => (k.startsWith('$') ? undefined : v))) : null;
  });
}

// Attaches a file: a path or { name, mimeType, buffer } (Playwright's setInputFiles forms).
// SOGo uploads it at once (multipart POST .../folderDrafts/<draftId>/save, part
// "attachments") — which stores the draft, attachment included, in IMAP Drafts — and then
// re-reads the draft (GET .../folderDrafts/<uid>/view). Returns the upload's JSON answer
// ({ uid, lastAttachmentAttrs: [{ filename, size, mimetype, path, url, urlAsAttachment }] }).
export async function attach(page, file) {
  const dlg = editor(page);
  const uploaded = response(page, 'POST', RE.save, (r) => /^multipart\/form-data/.test(r.request().headers()['content-type'] || ''));
  await dlg.locator('input#fileInput[type=file]').setInputFiles(file);
  const res = await uploaded;
  const body = await json(res);
  assert.equal(res.status(), 200, `upload status (answer: ${JSON.stringify(body).slice(0, 300)})`);
  const name = typeof file === 'string' ? file.split('/').pop() : file.name;
  await dlg.locator('md-chips[ng-model="editor.uploader.queue"] md-chip', { hasText: name }).first()
    .waitFor({ timeout: ACTION_TIMEOUT });
  await page.waitForFunction(() => {
    const d = document.querySelector('md-dialog#mailEditor');
    const u = d && window.angular?.element(d).controller()?.uploader;
    return u && !u.isUploading;
  }, null, { timeout: ACTION_TIMEOUT });
  return body;
}

// Clicks Send (enabled once there is a recipient and nothing is uploading), waits for SOGo's
// answer to POST .../folderDrafts/<draftId>/send and for the dialog to close. Returns
// { status, body, request } (body: {"status":"success"} when sent; request: the posted JSON).
export async function send(page, { expectClose = true } = {}) {
  const dlg = editor(page);
  const button = dlg.locator('md-button[ng-click="editor.send()"], button[ng-click="editor.send()"]').first();
  await page.waitForFunction(() => {
    const b = document.querySelector('md-dialog#mailEditor [ng-click="editor.send()"]');
    return b && !b.disabled && b.getAttribute('disabled') == null;
  }, null, { timeout: ACTION_TIMEOUT });
  const sent = response(page, 'POST', RE.send);
  await button.click();
  const res = await sent;
  const body = await json(res);
  let request = null;
  try { request = JSON.parse(res.request().postData() || 'null'); } catch { request = res.request().postData(); }
  if (expectClose && res.status() === 200) await dlg.waitFor({ state: 'detached', timeout: ACTION_TIMEOUT });
  return { status: res.status(), body, request, url: res.url() };
}

// Saves the draft (the floppy button) and returns SOGo's answer ({ uid, ... }).
export async function saveDraft(page) {
  const saved = response(page, 'POST', RE.save, (r) => /application\/json/.test(r.request().headers()['content-type'] || ''));
  await editor(page).locator('[ng-click="editor.save()"]').first().click();
  const res = await saved;
  return { status: res.status(), body: await json(res) };
}

// Opens a mail folder of the first account in the folder tree by its shown name ('Inbox',
// 'Drafts', 'Sent', 'Trash', 'Junk', or a folder's own name) and waits for its list.
export async function openFolder(page, name) {
  const listed = response(page, 'POST', RE.folderView);
  await page.locator('md-list-item.sg-mailbox-list-item').filter({ hasText: new RegExp(`^\\s*${name}\\b`) }).first().click();
  const res = await listed;
  assert.equal(res.status(), 200, `folder list status (${res.url()})`);
  return json(res);
}

// Clicks "Get Mail" (the list's refresh button; new mail is otherwise checked only at login
// here: SOGoMailMessageCheck = manually) and waits for the list.
export async function refresh(page) {
  const listed = response(page, 'POST', /\/SOGo\/so\/[^/]+\/Mail\/0\/folder[^/]+\/(view|changes)$/);
  await page.locator('md-button[ng-click="mailbox.refresh()"], button[ng-click="mailbox.refresh()"]').first().click();
  await listed;
}

// Opens the message with `subject` in the current folder (the message view in the
// mailbox's detail pane), refreshing the list until it is there. Returns { uid, view, url }
// — view: SOGo's JSON for the message (GET .../folder<Name>/<uid>/view: subject, from, to,
// parts...), url: that request's URL — and leaves the message shown in #detailView.
export async function openMessage(page, subject, { timeout = 30_000 } = {}) {
  const row = page.locator('md-list-item.sg-message-list-item').filter({ hasText: subject }).first();
  const deadline = Date.now() + timeout;
  while (!(await row.count())) {
    assert.ok(Date.now() < deadline, `"${subject}" not in the message list after ${timeout / 1000}s`);
    await page.waitForTimeout(1000);
    await refresh(page);
  }
  const viewed = response(page, 'GET', RE.messageView);
  await row.click();
  const res = await viewed;
  assert.equal(res.status(), 200, 'message view status');
  const view = await json(res);
  const uid = new URL(res.url()).pathname.split('/').slice(-2)[0];
  await page.locator('#detailView', { hasText: subject }).first().waitFor({ timeout: ACTION_TIMEOUT });
  return { uid, view, url: res.url() };
}

// The text of the message shown in the detail pane.
export function shownMessageText(page) {
  return page.locator('#detailView').innerText();
}

// Whether the compose dialog holds the proxy's S/MIME controls: elements named _smime_sign /
// _smime_encrypt, or bound to them (ng-model ending in ._smime_sign / ._smime_encrypt, e.g.
// <md-checkbox ng-model="editor.message.editable._smime_sign"> or an <sg-checkmark> — which
// SOGo's directive replaces by a <button ng-model=...>). Counted inside md-dialog#mailEditor
// and inside the menu panels Angular Material moves to <body> while a menu is open (the
// "More mail options" md-menu-content lives in the dialog only while it is closed). Returns
// { dialog, sign: n, encrypt: n, signElements: [...], encryptElements: [...] }.
export function smimeControls(page) {
  return page.evaluate(() => {
    const d = document.querySelector('md-dialog#mailEditor');
    const roots = d ? [d, ...document.querySelectorAll('.md-open-menu-container')] : [];
    const out = { dialog: !!d };
    for (const k of ['sign', 'encrypt']) {
      const name = `_smime_${k}`;
      const hits = new Set();
      for (const root of roots) {
        for (const el of root.querySelectorAll(`[name="${name}"], [ng-model$=".${name}"], [ng-model="${name}"], [data-ng-model$=".${name}"]`)) {
          hits.add(el);
        }
      }
      out[k] = hits.size;
      out[`${k}Elements`] = [...hits].map((el) => el.tagName.toLowerCase()
        + (el.getAttribute('ng-model') ? `[ng-model="${el.getAttribute('ng-model')}"]` : '')
        + (el.getAttribute('name') ? `[name="${el.getAttribute('name')}"]` : ''));
    }
    return out;
  });
}

// Clicks the proxy's Sign or Encrypt control ('sign' | 'encrypt'), opening the "More mail
// options" menu first when the control is in a closed menu, and closes the menu again. With an
// ng-model on `editor.message.editable`, SOGo then posts "_smime_<kind>": true in the JSON of
// every save and send (confirmed with a control injected into the template).
export async function clickSmimeControl(page, kind) {
  const sel = `[name="_smime_${kind}"], [ng-model$="._smime_${kind}"]`;
  const dlg = editor(page);
  let control = page.locator('.md-open-menu-container.md-active').locator(sel).first();
  if (!(await dlg.locator(sel).first().isVisible())) {
    await openMoreMailOptions(page);
    await control.waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
  } else {
    control = dlg.locator(sel).first();
  }
  await control.click();
  if (await page.locator('.md-open-menu-container.md-active').count()) await page.keyboard.press('Escape');
}

// Opens the compose dialog's "More mail options" menu and waits until it takes clicks. A click
// on the trigger while the dialog is still animating in (or a previous menu still closing) can
// be lost: it is retried.
export async function openMoreMailOptions(page) {
  const open = page.locator('.md-open-menu-container.md-active.md-clickable');
  const deadline = Date.now() + ACTION_TIMEOUT;
  for (;;) {
    await page.locator('.md-open-menu-container.md-active:not(.md-clickable)').first()
      .waitFor({ state: 'detached', timeout: 2000 }).catch(() => {});
    if (!(await open.count())) await editor(page).locator('[aria-label="More mail options"]').first().click();
    if (await open.first().waitFor({ state: 'visible', timeout: 2000 }).then(() => true, () => false)) return open.first();
    assert.ok(Date.now() < deadline, 'the "More mail options" menu did not open');
  }
}
