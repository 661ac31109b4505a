// End-to-end: S/MIME in a real Horde IMP 6.2 (tests/e2e/horde/stack.sh) THROUGH smime-proxy,
// driven by Debian's Chromium. The Horde counterpart of ../suite.mjs (Roundcube): the same
// story, one step each, with IMP's own page, requests and answers:
//
//   1  preflight (both stacks), the proxy with --site horde.example.test:9444=horde, Chromium
//      through it; the Horde login page comes with a certificate of the proxy's CA
//   2  alice logs in; the compose page shows the Sign/Encrypt checkboxes
//   3  a plain send (controls off) with an attachment reaches bob unchanged
//   4  sign+encrypt with an attachment to bob, Bcc carol: both copies open with openssl; bob's names no carol
//   5  alice's Sent copy is the same S/MIME message
//   6  nothing of the plaintext in Horde's state, its logs, /tmp, alice's Drafts
//   7  sign only: a clear-signed message openssl verifies
//   8  a recipient without a certificate (dave): nothing sent, the page names dave
//   9  a draft with Encrypt on: refused, nothing in Drafts
//  10  a locked key store: the send is refused, the page says how to unlock
//  11  bob reads alice's message in the preview pane and the full view: the proxy's frame
//      shows plaintext and a valid signature, IMP's own DOM holds no plaintext
//  12  after the read, still nothing of the plaintext in Horde's state
//
// A failed step skips only the steps that need it (lib.mjs); each step prints its time and
// the run ends with a table. The mailboxes are shared with other suites: messages are found
// by a subject with this run's id (decrypting when the subject is protected), never by count.
//
//   bash tests/e2e/stack.sh all && bash tests/e2e/horde/stack.sh all     # once (root)
//   cd tests/e2e && SMIME_PROXY_BIN=/root/.cache/smime-proxy/target/debug/smime-proxy \
//     node --test-reporter=spec horde/suite.mjs
//
// Environment: SMIME_PROXY_BIN, E2E_CHROMIUM, E2E_OUT_DIR (default
// tests/e2e/out/horde-<time>/: screenshots, proxy.log, network.log (IMP's AJAX requests and
// answers, for diagnosis)). E2E_PROXY_ADDR is not supported: step 10 signals the proxy.
import './out-dir.mjs';
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';

import {
  ctx, shot, OUT, runId, stackEnv, startProxy, startBrowser, shutdown, certThroughProxy,
  proxyCertThroughProxy, PROXY_INTERMEDIATE_CN, portOpen,
  proxyLog, tail, filesContaining, maildirMessages, ACTION_TIMEOUT,
} from '../harness.mjs';
import * as horde from './webmail.mjs';
import {
  step, printTimings, hordeEnv, hordeStatus, creds, pki, headers, header, bodyOf, isEnveloped, decrypt, verify,
  waitBySubject, findBySubject, assertNowhere, imapUid, shownNotice, setSmime, openPreviewByUid, proxyFrame,
  assertWebmailDomClean, waitLog, softChecks, markPassed, ORIGIN_HOST,
} from './lib.mjs';

// ---- this run's messages -------------------------------------------------------------------

const plain = {
  subject: `e2e horde plain ${runId}`,
  body: `Hello Bob,\nthis plain message went through smime-proxy and Horde (run ${runId}).\n`,
  attachment: { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from(`attachment of run ${runId}\n`) },
};
const secret = {
  subject: `e2e horde secret subject ${runId}`,
  marker: `e2e-horde-body-marker-${runId}`,
  attachment: { name: 'secret.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(`horde-attachment-marker-${runId}\x00\x01`) },
};
secret.body = `Dear Bob,\n${secret.marker}\nsigned and encrypted on the device.\n`;
const signedMail = { subject: `e2e horde signed ${runId}`, body: `signed body ${runId}\n` };
const noCert = { subject: `e2e horde no certificate ${runId}`, body: `must not leave ${runId}\n` };
const draft = { subject: `e2e horde draft ${runId}`, body: `draft must not be stored ${runId}\n` };
const locked = { subject: `e2e horde locked ${runId}`, body: `locked store ${runId}\n` };

// What step 4 found, for 5, 6 and 11.
const sent = { bob: null, carol: null, messageId: null };

const pageErrors = [];
let who = null; // who is logged in to Horde

async function loginAs(name) {
  if (who === name) return;
  const { user, pass } = creds(name);
  who = null;
  await horde.login(ctx.page, user, pass);
  who = name;
}

async function compose() {
  await loginAs('alice');
  await horde.openCompose(ctx.page);
  await ctx.page.locator('#smime-proxy-controls').waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
}

// Sends and returns the sendMessage exchange, with the errors the page threw meanwhile.
async function send() {
  const errorsBefore = pageErrors.length;
  const res = await horde.send(ctx.page);
  return { ...res, pageErrors: pageErrors.slice(errorsBefore) };
}

// Attaches through the file input; returns { answer (parsed JSON), listed (bool), pageErrors }
// without judging, so a step can say exactly what went wrong.
async function attach(file) {
  const page = ctx.page;
  const errorsBefore = pageErrors.length;
  const uploaded = page.waitForResponse((r) => r.request().method() === 'POST'
    && /\/services\/ajax\.php\/imp\/addAttachment$/.test(new URL(r.url()).pathname), { timeout: ACTION_TIMEOUT });
  await page.locator(horde.selectors.upload).setInputFiles(file);
  const res = await uploaded;
  const text = await res.text();
  let answer = null;
  try { answer = horde.parseHordeJson(text); } catch { /* judged by the caller */ }
  const listed = await page.locator(`${horde.selectors.attachList} li`, { hasText: file.name }).first()
    .waitFor({ timeout: 5000 }).then(() => true, () => false);
  return { status: res.status(), text, answer, listed, pageErrors: pageErrors.slice(errorsBefore) };
}

const needles = () => [secret.marker, secret.subject, `horde-attachment-marker-${runId}`];

// Every file of Horde's state, its logs, /tmp and PHP's and Postfix's spools that holds one
// of the needles. Not Horde's and so left out: the browser's profile and Chromium's scratch
// dirs (the device, where the user typed the text), this run's out dir, and the shell job
// logs of whoever runs the suite.
function hordeStateHits(find = needles()) {
  const tmpDirs = ['/tmp'];
  const skip = [ctx.userDataDir, OUT, '/tmp/bash_jobs', '/tmp/bash_tool_', '/tmp/org.chromium.Chromium.'].filter(Boolean);
  const dirs = [
    ...(ctx.stack.E2E_HORDE_STATE_DIRS || '').split(/\s+/).filter(Boolean),
    ctx.stack.E2E_HORDE_LOG_DIR,
    '/var/lib/php/sessions', '/var/spool/postfix', '/var/log/nginx',
    path.join(ctx.stack.E2E_MAIL_DIR, 'alice', 'Maildir', '.Drafts'),
  ].filter((d) => d && existsSync(d));
  // /tmp also holds the base stack's maildirs: their copies are encrypted, so a hit there is
  // real and stays in the list.
  const tmpHits = filesContaining(tmpDirs, find).filter((h) => !skip.some((s) => h.startsWith(s)));
  return [...new Set([...filesContaining(dirs, find), ...tmpHits])];
}

// IMP's AJAX exchanges, for the report when the proxy answers something IMP does not expect.
function recordNetwork(page) {
  const log = createWriteStream(path.join(OUT, 'network.log'));
  page.on('response', async (res) => {
    const u = new URL(res.url());
    if (!/\/services\/ajax\.php\/|\/imp\/dynamic\.php|\/imp\/view\.php|smime-proxy\.invalid/.test(u.pathname + u.host)) return;
    const req = res.request();
    let body = '';
    try { body = (await res.text()).slice(0, 3000); } catch { body = '(no body)'; }
    const post = (req.postData() || '').slice(0, 4000);
    log.write(`---- ${new Date().toISOString()} ${req.method()} ${u.pathname}${u.search}\n`
      + `status ${res.status()} ${res.headers()['content-type'] || ''}\n`
      + (post ? `request body: ${post}\n` : '') + `response body: ${body}\n`);
  });
}

// ---- the suite -----------------------------------------------------------------------------

describe('Horde IMP through smime-proxy', () => {
  before(async () => {
    ctx.stack = { ...(await stackEnv()), ...(await hordeEnv()) };
    process.env.E2E_HORDE_URL = ctx.stack.E2E_HORDE_URL;
    ctx.sites = [`${ctx.stack.E2E_HORDE_SITE}=horde`];
    console.log(`horde-e2e: run ${runId}, ${ctx.stack.E2E_HORDE_URL}, out ${OUT}`);
  });

  after(async () => {
    printTimings();
    await shutdown();
    console.log(`horde-e2e: screenshots and logs in ${OUT}`);
    setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  });
  process.on('exit', () => { if (ctx.proxy && ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL'); });

  // ---- 1 ---------------------------------------------------------------------------------

  step('stacks', '1a preflight: the base mail stack and the Horde stack are up', async () => {
    const down = await hordeStatus();
    if (down) assert.fail(`the Horde stack (or the base stack under it) is not running; start them with `
      + `bash tests/e2e/stack.sh start && bash tests/e2e/horde/stack.sh all\n${down}`);
    for (const port of [ctx.stack.E2E_IMAP_PORT, ctx.stack.E2E_SMTP_PORT]) {
      assert.ok(await portOpen('127.0.0.1', Number(port)), `the base stack listens on ${port}`);
    }
    for (const f of ['ca.pem', 'alice.p12', 'bob.pem', 'bob.key', 'carol.pem', 'carol.key', 'alice.key', 'passphrase.txt']) {
      assert.ok(existsSync(pki(f)), `the test PKI has ${f} (${ctx.stack.E2E_PKI_DIR})`);
    }
  }, { timeout: 35_000 });

  step('proxy', '1b smime-proxy starts with --site horde.example.test:9444=horde (keys imported, unlocked)', async () => {
    assert.ok(!process.env.E2E_PROXY_ADDR, 'this suite starts its own proxy (step 10 locks it with SIGUSR1)');
    await startProxy();
    assert.match(proxyLog(), /--site horde\.example\.test:9444=horde/, 'started with the Horde site');
  }, { needs: ['stacks'], timeout: 90_000 });

  step('browser', '1c chromium starts, through the proxy, trusting only the proxy CA (by SPKI)', async () => {
    await startBrowser();
    // IMP parsing an XHR that a navigation aborted (README, known quirks) is not the proxy's.
    ctx.page.on('pageerror', (e) => { if (!/Unexpected end of JSON input/.test(e.message)) pageErrors.push(e.message); });
    recordNetwork(ctx.page);
  }, { needs: ['proxy'], timeout: 40_000 });

  step('loginPage', '1d the Horde login page comes through the proxy, with a certificate of the proxy CA', async () => {
    const { cert, authorized, authorizationError } =
      await proxyCertThroughProxy(ctx.stack.E2E_HORDE_HOST, Number(ctx.stack.E2E_HORDE_PORT));
    assert.ok(authorized, `the leaf (issuer "${cert.issuer}") chains to the proxy CA (${authorizationError})`);
    assert.equal(cert.issuer.match(/^CN=(.*)$/m)?.[1], PROXY_INTERMEDIATE_CN, 'through the run\'s intermediate');
    assert.ok(cert.checkHost(ctx.stack.E2E_HORDE_HOST), `the leaf is valid for ${ctx.stack.E2E_HORDE_HOST}`);
    assert.ok(!cert.checkIssued(new X509Certificate(readFileSync(ctx.stack.E2E_STACK_CA))), 'not the stack CA\'s leaf');
    const page = ctx.page;
    const res = await page.goto(new URL('login.php', ctx.stack.E2E_HORDE_URL).href, { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200, 'login page status');
    const sec = await res.securityDetails();
    assert.ok(sec, 'an HTTPS response has security details');
    assert.equal(sec.issuer, PROXY_INTERMEDIATE_CN, 'the page\'s certificate is issued by the proxy CA\'s intermediate');
    assert.equal(sec.subjectName, ctx.stack.E2E_HORDE_HOST);
    await page.locator(horde.selectors.loginUser).waitFor();
    assert.equal(await page.locator('#smime-proxy-controls').count(), 0, 'no S/MIME controls on the login page');
    await shot('horde login page');
  }, { needs: ['browser'] });

  // ---- 2 ---------------------------------------------------------------------------------

  step('controls', '2 alice logs in; the compose page shows the S/MIME controls (two checkboxes, off)', async () => {
    const page = ctx.page;
    await loginAs('alice');
    await horde.openCompose(page);
    const controls = page.locator('#smime-proxy-controls');
    await controls.waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
    assert.equal(await controls.count(), 1, 'exactly one #smime-proxy-controls');
    assert.equal(await controls.getAttribute('data-smime-proxy'), 'horde', 'the controls name the horde rule');
    assert.equal(await page.locator(`${horde.selectors.options} #smime-proxy-controls`).count(), 1,
      'the controls are in the compose options (#writemsg .dimpOptions)');
    assert.deepEqual(await horde.smimeControls(page),
      { _smime_sign: { count: 1, inForm: 1 }, _smime_encrypt: { count: 1, inForm: 1 } },
      'one checkbox each, inside form#compose (IMP posts the whole form)');
    for (const [name, label] of [['sign', 'Sign (S/MIME)'], ['encrypt', 'Encrypt (S/MIME)']]) {
      const box = page.locator(`#smime-proxy-controls input[type=checkbox][name="_smime_${name}"]`);
      assert.equal(await box.count(), 1, `a ${name} checkbox`);
      assert.ok(await box.isVisible(), `the ${name} checkbox is visible`);
      assert.equal(await box.isChecked(), false, `${name} is off by default`);
      assert.equal((await page.locator(`#smime-proxy-controls label[for="smime-proxy-${name}"]`).innerText()).trim(), label);
    }
    const status = page.locator('#smime-proxy-status-box');
    assert.equal(await status.count(), 1, 'a status line');
    assert.equal(await status.isVisible(), false, 'the status line is hidden while there is nothing to say');
    await shot('alice compose with controls');
  }, { needs: ['browser'] });

  // ---- 3 ---------------------------------------------------------------------------------

  step('plain', '3 a plain send (controls off) with an attachment reaches bob unchanged (not S/MIME)', async () => {
    const page = ctx.page;
    const since = Date.now();
    const logFrom = proxyLog().length;
    await compose();
    await setSmime(page, { sign: false, encrypt: false });
    await horde.fill(page, { to: creds('bob').user, subject: plain.subject, body: plain.body });
    const up = await attach(plain.attachment);
    assert.equal(up.status, 200, 'addAttachment status');
    assert.equal(up.answer?.response?.success, 1, `Horde stored the attachment (got: ${up.text.slice(0, 300)})`);
    const num = up.answer.tasks?.['imp:compose-atc']?.[0]?.num;
    assert.ok(Number.isInteger(num), `Horde's own attachment number (not held by the proxy): ${num}`);
    assert.ok(up.listed, `the attachment is listed (page errors: ${up.pageErrors.join('; ') || 'none'})`);
    await shot('alice plain compose filled');
    const res = await send();
    const note = await horde.waitSent(page, res);
    assert.match(note, /sent successfully/i, 'Horde itself confirms the send');
    const post = res.response.request().postData() || '';
    assert.match(post, /(^|&)to=bob%40example\.test(&|$)/, 'the send POST names bob');
    assert.doesNotMatch(post, /_smime_(sign|encrypt)=1/, 'neither control was on');
    const log = await waitLog(/compose request rule="horde" kind="send" sign=false encrypt=false/, { from: logFrom });
    assert.ok(log, `the proxy classified the send, controls off (log: ${tail(ctx.proxyLog, 8)})`);
    assert.match(log, /compose request rule="horde" kind="upload" sign=false encrypt=false/, 'and the upload');
    assert.doesNotMatch(log, /attachment kept on the device|sent an S\/MIME message/, 'the proxy only passed them on');

    const hit = await waitBySubject('bob', '', plain.subject, { since });
    assert.ok(hit, `"${plain.subject}" in bob's INBOX (maildir)`);
    const raw = hit.raw.toString('latin1');
    assert.match(headers(raw), /^Content-Type: multipart\/mixed/mi, 'Horde\'s own multipart/mixed message');
    assert.doesNotMatch(raw, /application\/(x-)?pkcs7-(mime|signature)/i, 'neither signed nor encrypted');
    assert.ok(raw.includes(`this plain message went through smime-proxy and Horde (run ${runId})`), 'the body as typed');
    assert.match(raw, /filename="?hello\.txt"?/, 'the attachment is in it');
    assert.ok(raw.includes(plain.attachment.buffer.toString('base64')) || raw.includes(plain.attachment.buffer.toString()),
      'with its bytes');
    assert.match(header(raw, 'From') || '', /alice@example\.test/);
    assert.equal(header(raw, 'Resent-From'), null, 'sent by Horde itself, not redirected by the proxy');
    plain.delivered = true;
  }, { needs: ['browser'] });

  // ---- 4 ---------------------------------------------------------------------------------

  step('smime', '4 sign+encrypt with an attachment to bob, Bcc carol: both copies open with openssl (alice signed; body, attachment; subject protected); bob\'s copy names carol nowhere', async () => {
    const page = ctx.page;
    const since = Date.now();
    const logFrom = proxyLog().length;
    await compose();
    await setSmime(page, { sign: true, encrypt: true });
    await horde.fill(page, { to: creds('bob').user, bcc: creds('carol').user, subject: secret.subject, body: secret.body });
    // The attachment checks are soft: when IMP cannot list the kept attachment the user can
    // still send, and the rest of the step (and steps 5, 6, 11) still says what reached whom.
    const soft = softChecks();
    const up = await attach(secret.attachment);
    assert.equal(up.status, 200, 'addAttachment status');
    assert.equal(up.answer?.response?.success, 1, `the proxy answered the upload as IMP would (got: ${up.text.slice(0, 300)})`);
    const atc = up.answer.tasks?.['imp:compose-atc']?.[0];
    assert.match(String(atc?.num), /^smp/, `the proxy kept it (id ${atc?.num})`);
    assert.match(proxyLog().slice(logFrom), /attachment kept on the device/, 'the proxy log says the upload was kept');
    soft.ok(up.listed && !up.pageErrors.length, `IMP lists the kept attachment "${secret.attachment.name}" in #attach_list after `
      + `the proxy's addAttachment answer ${up.text} (IMP's page threw meanwhile: ${up.pageErrors.join('; ') || 'nothing'})`);
    await shot('alice composes signed and encrypted');

    const res = await send();
    const post = res.response.request().postData() || '';
    assert.match(post, /(^|&)_smime_sign=1(&|$)/, 'the browser posted Sign on');
    assert.match(post, /(^|&)_smime_encrypt=1(&|$)/, 'the browser posted Encrypt on');
    assert.equal(res.json?.response?.success, 1, `the page is told the message was sent (got: ${res.text.slice(0, 400)}; `
      + `log: ${tail(ctx.proxyLog, 6)})`);
    await horde.waitSent(page, res);
    assert.match(proxyLog().slice(logFrom), /sent an S\/MIME message sign=true encrypt=true/, 'the proxy sent it');
    await shot('alice sent signed and encrypted');

    const attachmentB64 = secret.attachment.buffer.toString('base64');
    for (const user of ['bob', 'carol']) {
      const hit = await waitBySubject(user, '', secret.subject, { since });
      assert.ok(hit, `the message (protected subject "${secret.subject}") in ${user}'s INBOX (maildir)`);
      assert.ok(hit.entity, `${user}'s copy is encrypted (found by decrypting it)`);
      const raw = hit.raw.toString('latin1');
      assert.ok(isEnveloped(hit.raw), `${user}: a top-level application/pkcs7-mime; smime-type=enveloped-data message`);
      assert.equal(header(raw, 'Subject'), '[...]', `${user}: the subject is protected (RFC 9788): "[...]" outside`);
      assert.ok(!raw.includes(secret.marker) && !raw.includes(secret.subject), `${user}: nothing in clear`);
      assert.match(header(raw, 'Resent-From') || '', /alice@example\.test/, `${user}: redirected by alice's Horde`);
      const { content, signer } = await verify(hit.entity);
      assert.ok(signer.checkIssued(new X509Certificate(readFileSync(pki('ca.pem')))), 'signer issued by the test CA');
      assert.equal(signer.fingerprint256, new X509Certificate(readFileSync(pki('alice.pem'))).fingerprint256,
        `${user}: signed with alice's certificate (${signer.subject.replace(/\n/g, ', ')})`);
      assert.ok(content.includes(secret.marker), `${user}: the body text is inside`);
      assert.ok(content.includes(`Subject: ${secret.subject}`), `${user}: the real subject is inside`);
      sent[user] = hit;
      soft.ok(content.includes(secret.attachment.name), `${user}: the attachment ${secret.attachment.name} (kept by the proxy `
        + `as ${atc.num}) is inside the signed content (content types inside: `
        + `${[...content.matchAll(/^Content-Type:[ \t]*([^;\r\n]+)/gmi)].map((m) => m[1]).join(', ')})`);
      soft.ok(content.replace(/\r?\n/g, '').includes(attachmentB64), `${user}: the attachment's bytes are inside`);
    }
    // Bcc: one redirect each, so bob's copy (its headers, and the signed headers inside)
    // never names carol; hers names only herself in Resent-To.
    const carolAddress = creds('carol').user;
    assert.ok(!sent.bob.raw.toString('latin1').includes(carolAddress), 'bob\'s copy names the Bcc recipient nowhere');
    const { content: bobInner } = await verify(sent.bob.entity);
    assert.ok(!bobInner.includes(carolAddress), 'nor do the protected headers inside it');
    assert.equal(header(sent.carol.raw.toString('latin1'), 'Resent-To'), carolAddress, 'carol\'s redirect is hers alone');
    sent.messageId = header(sent.bob.raw, 'Message-ID')?.replace(/^<|>$/g, '');
    assert.ok(sent.messageId, 'the message has a Message-ID');
    markPassed('smimeDelivered'); // steps 5, 6 and 11 need the delivered message, not the attachment
    soft.done();
  }, { needs: ['browser'], timeout: 60_000 });

  // ---- 5 ---------------------------------------------------------------------------------

  step('sent', '5 alice\'s Sent copy is the same S/MIME message (found by Message-ID), readable with her key', async () => {
    const id = sent.messageId;
    const line = new RegExp(`^Message-ID:[ \\t]*<${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}>`, 'mi');
    const copies = maildirMessages('alice', 'Sent').filter((f) => line.test(headers(readFileSync(f))));
    assert.equal(copies.length, 1, `exactly one copy with Message-ID <${id}> in alice's Sent (${copies.join(', ')})`);
    const raw = readFileSync(copies[0]);
    assert.ok(isEnveloped(raw), 'the Sent copy is enveloped-data');
    assert.equal(header(raw, 'Subject'), '[...]', 'with the protected subject');
    // The redirect (Horde → Postfix → LMTP) ends bob's copy with one more empty line.
    const cms = (r) => bodyOf(r).replace(/(\r\n)+$/, '');
    assert.equal(cms(raw), cms(sent.bob.raw), 'the same CMS bytes as bob\'s copy');
    const { code, entity, stderr } = await decrypt(raw, 'alice');
    assert.equal(code, 0, `alice can decrypt her own copy: ${stderr}`);
    const { content } = await verify(entity);
    assert.ok(content.includes(secret.marker), 'her copy holds the body');
  }, { needs: ['smimeDelivered'] });

  // ---- 6 ---------------------------------------------------------------------------------

  step('clean', '6 nothing of the plaintext in Horde\'s state, logs, /tmp or alice\'s Drafts', async () => {
    if (plain.delivered) {
      // The scan sees what it should: step 3's plain body is in bob's maildir under /tmp.
      const canary = hordeStateHits([`this plain message went through smime-proxy and Horde (run ${runId})`]);
      assert.ok(canary.some((h) => h.startsWith(ctx.stack.E2E_MAIL_DIR)), `the scan finds the plain message's body (${canary})`);
    }
    const hits = hordeStateHits();
    assert.deepEqual(hits, [], 'no file of Horde (state dirs, logs, /tmp, PHP sessions, Postfix spool, Drafts) holds the plaintext');
    assert.equal(await findBySubject('alice', 'Drafts', secret.subject), null, 'no draft of it');
  }, { needs: ['smimeDelivered'], timeout: 60_000 });

  // ---- 7 ---------------------------------------------------------------------------------

  step('signed', '7 sign only: a clear-signed message that openssl cms -verify accepts', async () => {
    const page = ctx.page;
    const since = Date.now();
    await compose();
    await setSmime(page, { sign: true, encrypt: false });
    await horde.fill(page, { to: creds('bob').user, subject: signedMail.subject, body: signedMail.body });
    const res = await send();
    assert.equal(res.json?.response?.success, 1, `sent (got: ${res.text.slice(0, 300)}; log: ${tail(ctx.proxyLog, 4)})`);
    await horde.waitSent(page, res);
    const hit = await waitBySubject('bob', '', signedMail.subject, { since });
    assert.ok(hit, `"${signedMail.subject}" reached bob`);
    assert.match(headers(hit.raw), /^Content-Type: multipart\/signed;/mi, 'a multipart/signed message');
    assert.ok(!isEnveloped(hit.raw), 'not encrypted');
    const { content, signer } = await verify(hit.raw);
    assert.ok(content.includes(`signed body ${runId}`), 'the signed content is the body');
    assert.equal(signer.fingerprint256, new X509Certificate(readFileSync(pki('alice.pem'))).fingerprint256, 'signed by alice');
  }, { needs: ['browser'] });

  // ---- 8 ---------------------------------------------------------------------------------

  step('nocert', '8 a recipient without a certificate (dave): nothing is sent, the page names dave', async () => {
    const page = ctx.page;
    const since = Date.now();
    const logFrom = proxyLog().length;
    await compose();
    await setSmime(page, { sign: true, encrypt: true });
    await horde.fill(page, { to: creds('bob').user, cc: 'dave@example.test', subject: noCert.subject, body: noCert.body });
    const res = await send();
    assert.equal(res.response.status(), 200, 'sendMessage answered');
    assert.equal(res.json?.response?.success, 0, `not sent (got: ${res.text.slice(0, 300)})`);
    const shown = await shownNotice(page, 'horde-error', /dave@example\.test/);
    assert.match(shown, /no usable certificate/i, `the page says why (shown: ${shown})`);
    await shot('refused: no certificate');
    assert.equal(await page.locator(horde.selectors.subject).inputValue(), noCert.subject, 'the compose stays as it was');
    assert.equal(await page.locator(horde.selectors.send).isVisible(), true, 'the compose is still open');
    assert.match(proxyLog().slice(logFrom), /S\/MIME send stopped, nothing sent/);
    await page.waitForTimeout(1500);
    await assertNowhere(noCert.subject, since);
  }, { needs: ['browser'] });

  // ---- 9 ---------------------------------------------------------------------------------

  step('draft', '9 a draft save with Encrypt on is refused; nothing lands in Drafts', async () => {
    const page = ctx.page;
    const since = Date.now();
    await compose();
    await setSmime(page, { sign: true, encrypt: true });
    await horde.fill(page, { to: creds('bob').user, subject: draft.subject, body: draft.body });
    const res = await horde.saveDraft(page);
    assert.equal(res.response.status(), 200, 'saveDraft answered');
    assert.equal(res.json?.response?.success, 0, `not saved (got: ${res.text.slice(0, 300)})`);
    const shown = await shownNotice(page, 'horde-error', /Drafts of an encrypted message are not saved/);
    assert.match(shown, /turn Encrypt off/);
    await shot('refused: encrypted draft');
    assert.equal(await page.locator(horde.selectors.subject).inputValue(), draft.subject, 'the compose stays');
    await page.waitForTimeout(1000);
    assert.equal(await findBySubject('alice', 'Drafts', draft.subject, { since }), null, 'nothing in alice\'s Drafts');
    assert.deepEqual(filesContaining([path.join(ctx.stack.E2E_MAIL_DIR, 'alice')], [`draft must not be stored ${runId}`]), [],
      'the body is nowhere in alice\'s mail');
  }, { needs: ['browser'] });

  // ---- 10 --------------------------------------------------------------------------------

  step('locked', '10 a locked key store: the send is refused, the page says how to unlock (then unlocked on the proxy page)', async () => {
    const page = ctx.page;
    const since = Date.now();
    const logFrom = proxyLog().length;
    ctx.proxy.kill('SIGUSR1');
    assert.ok(await waitLog(/SIGUSR1: key store locked/, { from: logFrom }), 'the proxy logged the lock');
    let failed = null;
    try {
      await compose();
      await setSmime(page, { sign: true, encrypt: true });
      await horde.fill(page, { to: creds('bob').user, subject: locked.subject, body: locked.body });
      const res = await send();
      assert.equal(res.json?.response?.success, 0, `not sent (got: ${res.text.slice(0, 300)})`);
      const shown = await shownNotice(page, 'horde-error', /locked/);
      assert.match(shown, /unlock/i, `the message says how to unlock (shown: ${shown})`);
      await shot('refused: key store locked');
      await page.waitForTimeout(1000);
      await assertNowhere(locked.subject, since);
    } catch (err) {
      failed = err;
    }
    // Unlock again on the proxy's own page, as the user would (step 11 needs bob's key).
    try {
      await page.goto(`http://${ORIGIN_HOST}/`, { waitUntil: 'domcontentloaded' });
      who = null;
      if (await page.locator('form[action="/api/unlock"]').count()) {
        await page.locator('input[name=passphrase]').fill(ctx.storePassphrase);
        await Promise.all([page.waitForLoadState('domcontentloaded'), page.locator('form[action="/api/unlock"] button').click()]);
        await page.waitForFunction(() => !document.querySelector('form[action="/api/unlock"]'), null, { timeout: ACTION_TIMEOUT });
      }
    } catch (err) {
      if (!failed) throw new Error(`unlocking on http://${ORIGIN_HOST}/ failed: ${err.message}`);
      console.log(`horde-e2e: unlocking after the failure failed too: ${err.message}`);
    }
    if (failed) throw failed;
  }, { needs: ['browser'] });

  // ---- 11 --------------------------------------------------------------------------------

  step('read', '11 bob opens alice\'s message in the preview pane and the full view: plaintext and a valid signature in the proxy frame only', async () => {
    const page = ctx.page;
    await loginAs('bob');
    const { user, pass } = creds('bob');
    const buid = await imapUid(user, pass, sent.messageId);

    // Preview pane: IMP's showMessage JSON, whose msgtext the proxy replaced with its frame.
    const preview = await openPreviewByUid(page, buid);
    assert.ok(!preview.text.includes(secret.marker), 'the showMessage answer IMP got holds no plaintext');
    const entry = (preview.json.tasks?.['imp:message'] || []).find((m) => String(m.buid) === String(buid));
    assert.ok(entry, 'the answer has the message');
    assert.match(entry.data.msgtext, /<iframe[^>]*class="smime-proxy-view"[^>]*src="https:\/\/smime-proxy\.invalid\/view\//,
      `msgtext is the proxy's frame (got: ${entry.data.msgtext.slice(0, 300)})`);
    const p = await proxyFrame(page, horde.selectors.previewBody);
    assert.ok(p.text.includes(secret.marker), `the preview frame shows the plaintext (got ${p.text.length} chars)`);
    assert.match(p.text, /Signature valid/);
    assert.match(p.text, /Signed by alice@example\.test/);
    assert.match(p.text, new RegExp(secret.attachment.name.replace('.', '\\.')), 'the attachment is listed');
    await assertWebmailDomClean(page, secret.marker);
    await assertWebmailDomClean(page, secret.subject);
    await shot('bob preview pane');

    // Full view: dynamic.php?page=message, server-rendered; div.messageBody replaced.
    await horde.openFullMessage(page, { buid, mailbox: preview.mailbox || 'SU5CT1g' });
    const f = await proxyFrame(page, horde.selectors.fullViewBody);
    assert.ok(f.text.includes(secret.marker), 'the full view\'s frame shows the plaintext');
    assert.match(f.text, /Signature valid/);
    assert.match(f.text, /Signed by alice@example\.test/);
    assert.match(f.text, new RegExp(secret.attachment.name.replace('.', '\\.')), 'the attachment is listed');
    await assertWebmailDomClean(page, secret.marker);
    assert.ok(!(await page.content()).includes(secret.subject), 'the real subject is not in IMP\'s page either');
    await shot('bob full view');
    assert.match(proxyLog(), /view: opened/, 'the proxy opened the message for the view');
  }, { needs: ['smimeDelivered'] });

  // ---- 12 --------------------------------------------------------------------------------

  step('cleanAfterRead', '12 after bob read it, still nothing of the plaintext in Horde\'s state', async () => {
    assert.deepEqual(hordeStateHits(), [], 'no file of Horde holds the plaintext after the read');
  }, { needs: ['read'], timeout: 60_000 });
});
