// Beyond mail (registered by suite.mjs after the conversation): the address book's
// encrypted fields (`[[encrypted_fields]]` of rewrite-rules/roundcube.toml). alice saves a
// contact whose notes and phone number leave the device encrypted: Roundcube's SQLite
// database holds only armor (`-----BEGIN CMS-----`) that `openssl cms -decrypt` opens with
// her key; through the proxy the contact page shows the plaintext in the proxy's frames
// (never in Roundcube's DOM) and the edit form holds it to change; the same page fetched
// without the proxy shows the armor. Then the contact page, as Roundcube sent it, is saved as a
// signed record from the proxy's own page ("Sign a page"): openssl verifies it with the test CA,
// and it holds Roundcube's armor, not the proxy's frames. The proxy runs with the site's encrypted fields
// switched on (`--site HOST=roundcube,encrypted_fields=true`, suite.mjs): they are opt-in.
//
// E2E_CAPTURE_DIR  when set, the first contact-save request as the browser posted it and
//                  Roundcube's own contact page (fetched without the proxy) are written
//                  there: the rule fixtures of rewrite-rules/fixtures/roundcube/ come from it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

import {
  ctx, step, shot, runId, login, openssl, run, proxyCliResult, ACTION_TIMEOUT, ORIGIN_HOST, assertWebmailDomClean,
} from './harness.mjs';

const surname = `Fields${runId}`;
const note = `Door code NOTE-${runId}\nsecond line`;
// Roundcube's phone input takes at most 20 characters.
const phone = `+49 T${runId}`;
const changed = `Changed NOTE2-${runId}`;
let contactId = null;

const url = (query) => new URL(query, ctx.stack.E2E_WEBMAIL_URL).href;

// The stored row of this run's contact: every column as text.
async function storedRow() {
  const db = path.join(ctx.stack.E2E_STACK_DIR, 'db', 'roundcube.sqlite');
  const { stdout } = await run('sqlite3', ['-json', db,
    `SELECT * FROM contacts WHERE name = 'Bob ${surname}' AND del = 0`], { timeout: 10_000 });
  const rows = JSON.parse(stdout || '[]');
  assert.equal(rows.length, 1, `one stored contact named Bob ${surname}`);
  return rows[0];
}

// The value of a vCard property (the first line starting with `name`), unescaped (RFC 6350 §3.4).
function vcardValue(vcard, name) {
  const line = vcard.split(/\r?\n/).find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
  assert.ok(line, `the vCard has ${name}: ${vcard}`);
  const value = line.slice(line.indexOf(':') + 1);
  return value.replace(/\\([\\,;nN])/g, (_, c) => (c === 'n' || c === 'N' ? '\n' : c));
}

// `openssl cms -decrypt` of an armored value with alice's key.
async function decrypt(armor) {
  const pki = ctx.stack.E2E_PKI_DIR;
  const out = await openssl(['cms', '-decrypt', '-inform', 'PEM', '-recip', path.join(pki, 'alice.pem'),
    '-inkey', path.join(pki, 'alice.key')], Buffer.from(`${armor}\n`));
  assert.equal(out.code, 0, `openssl cms -decrypt: ${out.stderr}`);
  return out.stdout.toString('utf8');
}

// Writes `name` into E2E_CAPTURE_DIR (once), when that is set.
function capture(name, bytes) {
  const dir = process.env.E2E_CAPTURE_DIR;
  if (!dir || existsSync(path.join(dir, name))) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), bytes);
}

// A request as raw HTTP/1.1 text: request line, headers, blank line, body.
async function rawRequest(request) {
  const target = new URL(request.url());
  const headers = Object.entries(await request.allHeaders()).filter(([name]) => !name.startsWith(':'))
    .map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const head = `${request.method()} ${target.pathname}${target.search} HTTP/1.1\r\n${headers}\r\n`;
  return Buffer.concat([Buffer.from(head), request.postDataBuffer() || Buffer.alloc(0)]);
}

// Saves the open contact form (Roundcube's own Save command) and waits for its answer.
async function save(page) {
  const saved = page.waitForResponse((r) => r.request().method() === 'POST'
    && (r.request().postData() || '').includes('_action=save'), { timeout: ACTION_TIMEOUT });
  await page.evaluate(() => window.rcmail.command('save'));
  const res = await saved;
  assert.equal(res.status(), 200, 'the save went through');
  capture('contact-save-request-raw.txt', await rawRequest(res.request()));
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
}

export function contactSteps() {
  step('contacts: alice saves a contact with notes and a phone number; Roundcube\'s database holds only armor that openssl opens', async () => {
    const [user, pass] = ctx.stack.E2E_ALICE.split(':');
    await login(user, pass);
    const page = ctx.page;
    await page.goto(url('?_task=addressbook&_action=add'), { waitUntil: 'networkidle' });
    await page.locator('input[name=_firstname]').fill('Bob');
    await page.locator('input[name=_surname]').fill(surname);
    await page.locator('input[name="_phone[]"]').fill(phone);
    // The notes are on another tab of the form: set like the tab would.
    await page.locator('textarea[name=_notes]').evaluate((el, v) => { el.value = v; }, note);
    await shot('contacts: the new contact, filled in');
    await save(page);

    const row = await storedRow();
    contactId = row.contact_id;
    const everything = JSON.stringify(row);
    for (const secret of [`NOTE-${runId}`, `T${runId}`, 'Door code', 'second line']) {
      assert.ok(!everything.toLowerCase().includes(secret.toLowerCase()), `"${secret}" is nowhere in the stored contact`);
    }
    const storedNote = vcardValue(row.vcard, 'NOTE');
    const storedPhone = vcardValue(row.vcard, 'TEL');
    assert.match(storedNote, /^-----BEGIN CMS-----\n[A-Za-z0-9+/=\n]+\n-----END CMS-----$/);
    assert.match(storedPhone, /^-----BEGIN CMS-----\n/);
    const opened = await decrypt(storedNote);
    const site = new URL(ctx.stack.E2E_WEBMAIL_URL).origin;
    assert.ok(opened.startsWith(`X-Smime-Proxy-Site: ${site}\r\nContent-Type: text/plain; charset=utf-8\r\n`), opened);
    assert.ok(opened.endsWith(`\r\n\r\n${note.replace('\n', '\r\n')}`), `openssl opens the note: ${JSON.stringify(opened)}`);
    assert.ok((await decrypt(storedPhone)).endsWith(phone), 'openssl opens the phone number');
  }, 60_000);

  step('contacts: through the proxy the contact page shows the plaintext in the proxy\'s frames only', async () => {
    const page = ctx.page;
    await page.goto(url(`?_task=addressbook&_action=show&_source=0&_cid=${contactId}`), { waitUntil: 'networkidle' });
    const frames = page.locator(`iframe.smime-proxy-view[src^="https://${ORIGIN_HOST}/view/"]`);
    assert.equal(await frames.count(), 2, 'one frame for the phone number, one for the notes');
    const texts = [];
    for (const handle of await frames.elementHandles()) {
      const frame = await handle.contentFrame();
      // The notes are on a tab that is not shown: attached, not visible.
      await frame.locator('.smime-banner').waitFor({ state: 'attached' });
      texts.push(await frame.locator('body').textContent());
    }
    const all = texts.join('\n');
    assert.ok(all.includes(`NOTE-${runId}`) && all.includes(`T${runId}`), `the frames show both: ${all.slice(0, 600)}`);
    assert.match(all, /Encrypted to you/);
    await assertWebmailDomClean(page, `NOTE-${runId}`);
    await assertWebmailDomClean(page, `T${runId}`);
    await shot('contacts: the contact, decrypted in the proxy\'s frames');
  });

  step('contacts: the edit form holds the plaintext; a change is encrypted again', async () => {
    const page = ctx.page;
    await page.goto(url(`?_task=addressbook&_action=edit&_source=0&_cid=${contactId}`), { waitUntil: 'networkidle' });
    assert.equal(await page.locator('textarea[name=_notes]').inputValue(), note);
    assert.equal(await page.locator('input[name="_phone[]"]').inputValue(), phone);
    await page.locator('textarea[name=_notes]').evaluate((el, v) => { el.value = v; }, changed);
    await shot('contacts: editing the plaintext');
    await save(page);
    const row = await storedRow();
    assert.ok(!JSON.stringify(row).includes(`NOTE2-${runId}`), 'the change is stored encrypted');
    assert.ok((await decrypt(vcardValue(row.vcard, 'NOTE'))).endsWith(changed), 'openssl opens the change');
    assert.ok((await decrypt(vcardValue(row.vcard, 'TEL'))).endsWith(phone), 'the phone number was encrypted again, unchanged');
  }, 60_000);

  step('contacts: without the proxy the contact page shows the armor', async () => {
    const cookies = (await ctx.browser.cookies(ctx.stack.E2E_WEBMAIL_URL)).map((c) => `${c.name}=${c.value}`).join('; ');
    const agent = await ctx.page.evaluate(() => navigator.userAgent);
    // Roundcube's own page, as it serves it: curl with the browser's session, not through the proxy.
    const direct = async (query) => (await run('curl', ['-sS', '--noproxy', '*', '--cacert', ctx.stack.E2E_STACK_CA,
      '--resolve', `${ctx.stack.E2E_WEBMAIL_HOST}:${ctx.stack.E2E_WEBMAIL_PORT}:127.0.0.1`, '-A', agent, '-H', `Cookie: ${cookies}`,
      url(query)], { timeout: 15_000, maxBuffer: 8 << 20 })).stdout;
    for (const action of ['show', 'edit']) {
      const stdout = await direct(`?_task=addressbook&_action=${action}&_source=0&_cid=${contactId}`);
      assert.ok(stdout.includes('-----BEGIN CMS-----'), `Roundcube's own ${action} page holds the armor: ${stdout.slice(0, 400)}`);
      assert.ok(!stdout.includes(`NOTE2-${runId}`) && !stdout.includes(`T${runId}`), 'and no plaintext');
      capture(`contact-${action}.html`, stdout);
    }
  });

  step('sign a page: the contact page as Roundcube sent it, saved as a signed record from the proxy\'s page; openssl verifies it', async () => {
    const page = ctx.page;
    await page.goto(`http://${ORIGIN_HOST}/`, { waitUntil: 'load' });
    const shown = `_task=addressbook&_action=show&_source=0&_cid=${contactId}`;
    const row = page.locator('tr', { hasText: shown }).first();
    assert.ok(await row.count(), `the own page lists the contact page: ${(await page.locator('body').textContent()).slice(-800)}`);
    await shot('sign a page: the pages kept for signed records');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: ACTION_TIMEOUT }),
      row.getByRole('button', { name: 'Save a signed record' }).click()]);
    assert.match(download.suggestedFilename(), /^page-record-.*\.p7m$/);
    const record = path.join(ctx.configDir, 'contact-record.p7m');
    await download.saveAs(record);

    const out = await openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', record,
      '-CAfile', path.join(ctx.stack.E2E_PKI_DIR, 'ca.pem')], Buffer.alloc(0));
    assert.equal(out.code, 0, `openssl cms -verify: ${out.stderr}`);
    const content = out.stdout.toString('utf8');
    assert.ok(content.includes('-----BEGIN CMS-----'), 'the record holds the page as Roundcube sent it: the armor');
    assert.ok(!content.includes('smime-proxy-view') && !content.includes(`NOTE2-${runId}`), 'not the proxy\'s frames, no plaintext');

    const verified = await proxyCliResult('message', 'verify-page', '--in', record, '--trust',
      path.join(ctx.stack.E2E_PKI_DIR, 'ca.pem'));
    assert.equal(verified.code, 0, `verify-page: ${verified.stdout}${verified.stderr}`);
    assert.ok(verified.stdout.includes(`URL: ${url(`?${shown}`)}`), verified.stdout);
    assert.match(verified.stdout, /Signature: valid/);
  }, 60_000);
}
