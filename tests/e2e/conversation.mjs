// End-to-end: a conversation between two people, each with a proxy of their own that holds
// only their own key (issue 14). alice has bob's certificate (`certs add`); bob has none and
// learns alice's from her signed mail. alice sends signed and encrypted, with a non-ASCII
// subject and attachment name; bob reads it and replies encrypted: his compose shows the
// original in the proxy's frame (never in the webmail's page), and his reply gets the real
// subject, the quote and the threading fields. alice reads the reply: threaded, real subject,
// valid, and encrypted with what alice's proxy announced (AES-256-GCM). One Sent copy each.
//
// The proxies run one at a time (the harness has one `ctx`): each person's configuration
// directory is kept, and their proxy is started again when it is their turn.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import {
  ctx, step, shot, OUT, ORIGIN_HOST, ACTION_TIMEOUT, runId, startProxy, startBrowser, stopProxy, restartProxy, login,
  proxyLog, maildirMessages, waitForMessage, assertWebmailDomClean,
} from './harness.mjs';
import { openCompose, addRecipient, setSmime, clickSend } from './compose.mjs';
import { newestUid, openFrame } from './read.mjs';

const talk = {
  subject: `Notizen aus Köln – 東京 ${runId}`,
  marker: `conversation-original-${runId}`,
  reply: `conversation-reply-${runId}`,
  attachment: { name: 'Notizen-Köln-東京.txt', mimeType: 'text/plain', buffer: Buffer.from(`notes ${runId}\n`) },
};
const people = {}; // name -> the ctx fields of their proxy
const leftovers = []; // configuration and profile directories to remove at exit
process.on('exit', () => leftovers.forEach((d) => rmSync(d, { recursive: true, force: true })));

const PROXY_FIELDS = ['configDir', 'proxyArgs', 'proxyAddr', 'proxyLog', 'spki', 'proxyCa', 'proxy', 'extraArgs'];

// Makes `name` the person at the keyboard: their own proxy (started the first time with
// `keys` and `certs` only, restarted afterwards) and a fresh browser through it.
async function become(name, { keys, certs }) {
  await ctx.browser?.close().catch(() => {});
  if (ctx.userDataDir) leftovers.push(ctx.userDataDir);
  await stopProxy();
  if (people[name]) {
    Object.assign(ctx, people[name]);
    await restartProxy([]);
  } else {
    if (ctx.configDir) leftovers.push(ctx.configDir);
    Object.assign(ctx, { keyUsers: keys, storedCerts: certs, proxyLog: path.join(OUT, `proxy-${name}.log`) });
    await startProxy();
  }
  people[name] = Object.fromEntries(PROXY_FIELDS.map((f) => [f, ctx[f]]));
  await startBrowser();
  const [user, pass] = ctx.stack[`E2E_${name.toUpperCase()}`].split(':');
  await login(user, pass);
}

const messageIdOf = (file) => /^Message-ID:[ \t]*(<[^>\r\n]+>)/mi.exec(readFileSync(file, 'latin1'))?.[1];
const headerBlock = (file) => readFileSync(file, 'latin1').split(/\r?\n\r?\n/)[0];

export function conversationSteps() {
  step('conversation: alice, on a proxy with only her key and bob\'s certificate, sends him signed+encrypted mail', async () => {
    await become('alice', { keys: ['alice'], certs: ['bob'] });
    const page = ctx.page;
    await openCompose(page);
    await addRecipient(page, 'to', ctx.stack.E2E_BOB.split(':')[0]);
    await page.locator('#compose-subject').fill(talk.subject);
    await page.locator('#composebody').fill(`Hallo Bob,\n${talk.marker}\nBis bald.`);
    await setSmime(page, { sign: true, encrypt: true });
    await page.locator('#uploadformInput').setInputFiles(talk.attachment);
    await page.locator('#attachment-list li', { hasText: talk.attachment.name }).waitFor();
    const before = new Set(maildirMessages('bob'));
    const answer = await clickSend(page);
    assert.match(answer, /sent_successfully/, `sent (got: ${answer.slice(0, 300)})`);
    const file = await waitForMessage('bob', '', /^Content-Type: application\/pkcs7-mime/mi, 20_000, before);
    assert.ok(file, 'it reached bob');
    talk.originalId = messageIdOf(file);
    assert.ok(talk.originalId, 'the message has a Message-ID');
  }, 90_000);

  step('conversation: bob, on a proxy with only his key, reads it (real subject, valid) and learns alice\'s certificate', async () => {
    await become('bob', { keys: ['bob'], certs: [] });
    talk.uid = await newestUid(ctx.page, '[...]');
    const { text } = await openFrame(ctx.page, talk.uid);
    assert.ok(text.includes(talk.marker), `the frame shows the text (got: ${text.slice(0, 400)})`);
    assert.ok(text.includes(talk.subject), 'the frame shows the real subject from inside');
    assert.ok(text.includes(talk.attachment.name), 'the attachment is listed under its own name');
    assert.match(text, /Signature valid/);
    assert.match(proxyLog(), /learned a signer's certificate/, 'bob\'s proxy remembered alice\'s certificate');
  }, 90_000);

  step('conversation: bob replies; the compose shows the original in the proxy frame only, Encrypt on', async () => {
    const page = ctx.page;
    await page.goto(new URL(`?_task=mail&_reply_uid=${talk.uid}&_mbox=INBOX&_action=compose`, ctx.stack.E2E_WEBMAIL_URL).href,
      { waitUntil: 'domcontentloaded' });
    await page.waitForURL(/_action=compose&_id=/);
    await page.locator('#compose-subject').waitFor();
    for (const name of ['sign', 'encrypt']) {
      assert.ok(await page.locator(`#smime-proxy-controls input[name="_smime_${name}"]`).isChecked(), `${name} is on for an encrypted original`);
    }
    const iframe = page.locator(`#smime-proxy-status-box iframe.smime-proxy-view[src^="https://${ORIGIN_HOST}/view/"]`);
    await iframe.waitFor({ state: 'attached' });
    const frame = await (await iframe.elementHandle()).contentFrame();
    await frame.locator('.smime-banner').waitFor();
    assert.ok((await frame.locator('body').innerText()).includes(talk.marker), 'the original is shown in the proxy frame');
    await assertWebmailDomClean(page, talk.marker);
    await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
    await shot('bob replies to an encrypted message');
    await page.locator('#composebody').evaluate((el, text) => { el.value = `${text}\n${el.value}`; }, `Danke! ${talk.reply}`);
    const answer = await clickSend(page);
    assert.match(answer, /sent_successfully/, `sent (got: ${answer.slice(0, 300)})`);
  }, 60_000);

  step('conversation: bob\'s reply reached alice encrypted, threaded under her message; one copy in bob\'s Sent', async () => {
    const pattern = new RegExp(`^In-Reply-To:[ \\t]*${talk.originalId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'mi');
    const file = await waitForMessage('alice', '', pattern, 20_000);
    assert.ok(file, `a message In-Reply-To ${talk.originalId} in alice's INBOX`);
    const head = headerBlock(file);
    assert.match(head, /^Content-Type: application\/pkcs7-mime/mi, 'encrypted');
    assert.match(head, /^Subject: \[\.\.\.\]$/mi, 'the subject is hidden outside (RFC 9788)');
    assert.ok(head.includes(`References: ${talk.originalId}`) || new RegExp(`^References:.*${talk.originalId.slice(1, -1)}`, 'mi').test(head),
      'References names the original');
    assert.doesNotMatch(readFileSync(file, 'latin1'), new RegExp(talk.reply), 'no reply text in clear');
    talk.replyId = messageIdOf(file);
    const line = new RegExp(`^Message-ID:[ \\t]*${talk.replyId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'mi');
    await waitForMessage('bob', 'Sent', line, 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    const copies = maildirMessages('bob', 'Sent').filter((f) => line.test(headerBlock(f)));
    assert.equal(copies.length, 1, `exactly one copy of the reply in bob's Sent (${copies.join(', ')})`);
  }, 45_000);

  step('conversation: alice, on her own proxy again, reads the reply: real subject, quote, valid, AES-256-GCM', async () => {
    await become('alice', {});
    const uid = await newestUid(ctx.page, '[...]');
    const { text } = await openFrame(ctx.page, uid);
    assert.ok(text.includes(talk.reply), `the reply's text (got: ${text.slice(0, 500)})`);
    assert.ok(text.includes(`Re: ${talk.subject}`), 'the real subject, "Re: ..." inside');
    assert.ok(text.includes(`> ${talk.marker}`), 'the original quoted');
    assert.match(text, /Signature valid/);
    assert.match(text, /Signed by bob@example\.test/);
    assert.match(text, /Encrypted to you \(AES-256-GCM, authenticated\)/, 'bob\'s proxy knew what alice\'s announced');
    await shot('alice reads bob\'s reply');
  }, 90_000);
}
