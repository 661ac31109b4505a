// End-to-end: recipients' certificates from an LDAP directory and revocation checking
// (OCSP, CRL; soft and hard fail) proved through a real Roundcube (../stack.sh) driven by
// Debian's Chromium through smime-proxy, against the real slapd, CRL server and OCSP
// responder of ./stack.sh. The proxy holds alice's key only, and its certificate store
// holds alice's and bob's certificates only: every other recipient has to come from the
// directory (ldaps://127.0.0.1:16360, reader bind), whose certificates are issued by the
// directory PKI's intermediate under its root (trusted with `certs trust add`; the leaves do
// not carry the intermediate, the proxy fetches it from their caIssuers URL).
//
//   a  preflight: both stacks up; the proxy with [[directories]], the root trusted, the root
//      also an --upstream-ca (ldaps); chromium; alice logs in
//   b  `certs fetch`: garbage in the directory and an unknown address both fail, saying why
//   c  alice → carol (directory only): sent; carol's copy decrypts with the DIRECTORY key;
//      `certs list` shows carol "fetched from directory"
//   d  alice → dave (revoked, OCSP only): refused, the page gives the OCSP reason; nothing sent
//   e  alice → erin (revoked, CRL only): refused, the reason names the CRL; nothing sent
//   f  OCSP responder down, cache cleared, alice → frank (OCSP only), soft: sent, with the
//      "could not be checked" notice in Roundcube's confirmation
//   g  proxy restarted with --revocation hard: frank refused ("revocation = \"hard\"");
//      responder up again: the same compose is sent
//   h  read: messages signed by carol / dave / erin (openssl, intermediate included):
//      "Not revoked (OCSP" / "REVOKED … (OCSP)" / "REVOKED … (CRL)" in the proxy frame only
//   i  teardown: responder up, proxy stopped
//   j  bench/pki-latency.sh --smoke (the bench's CI run)
//
// Independent steps declare what they need (harness `step` `needs`): one failure does not
// hide the others. Per-step timings are printed at the end.
//
//   bash tests/e2e/stack.sh all && bash tests/e2e/pki/stack.sh all     # once (root)
//   cd tests/e2e && node --test-reporter=spec pki/suite.mjs
//
// Environment: as ../suite.mjs (SMIME_PROXY_BIN, E2E_OUT_DIR, E2E_CHROMIUM, E2E_STACK_DIR);
// E2E_DIRPKI_DIR is forwarded to pki/stack.sh. E2E_PROXY_ADDR is not supported (the suite
// restarts its proxy).
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import {
  ctx, step, shot, OUT, HERE, run, proxyBin, runId, stackEnv, stackStatus, startProxy, restartProxy, stopProxy, startBrowser, shutdown,
  login, proxyCli, proxyCliResult, proxyLog, tail, openssl, assertWebmailDomClean, printStepTimings,
} from '../harness.mjs';
import { shownError, decryptFor, verifyEntity } from '../compose.mjs';
import { build, deliver, openView, messages } from '../read.mjs';
import {
  dir, dirEnv, dirStatus, dirKey, ocsp, clearPkiCache, sendSmime, send, assertNoConnectionError, snapshot,
  waitForNewMessage, logSize, logSince, certsBlock, fingerprint, assertIncludes, recordNetwork, ocspListening, ocspTakenDown, re,
} from './lib.mjs';

const DIRECTORY = 'ldaps://127.0.0.1:16360';
const who = (name) => `${name}@example.test`;
const mail = (name) => ({
  subject: `e2e pki ${name} ${runId}`,
  marker: `e2e-pki-marker-${name}-${runId}`,
  body: `Hello ${name},\ne2e-pki-marker-${name}-${runId}\n`,
});

// Failed requests of the page (recordNetwork; details in OUT/network.log).
let network = [];

// What `certs trust add` printed when the proxy was prepared (preflight checks it).
let trustAdded = null;

// The shown refusal of a send to `name`, and the proof nothing left: the compose stays, no
// mailbox got it, Postfix never saw the address.
async function assertRefused(page, name, m, answer, postfixFrom, sentBefore) {
  assert.doesNotMatch(answer, /sent_successfully/, `the send to ${who(name)} is not confirmed (got: ${answer.slice(0, 400)})`);
  const shown = await shownError(page, new RegExp(`${name}@example\\.test`));
  await assertNoConnectionError(page);
  assert.equal(await page.locator('#compose-subject').inputValue(), m.subject, 'the compose stays as it was');
  await page.waitForTimeout(1500);
  const sent = [...snapshot('alice', 'Sent')].filter((f) => !sentBefore.has(f));
  assert.deepEqual(sent, [], 'no new copy in alice\'s Sent folder');
  const postfix = logSince(path.join(ctx.stack.E2E_LOG_DIR, 'postfix.log'), postfixFrom);
  assert.doesNotMatch(postfix, new RegExp(`${name}@example\\.test`), `Postfix never saw ${who(name)}:\n${postfix}`);
  assert.ok(!existsSync(path.join(ctx.stack.E2E_MAIL_DIR, name)), `no mailbox for ${name} (${ctx.stack.E2E_MAIL_DIR}/${name})`);
  assert.equal(certsBlock(await proxyCli('certs', 'list'), who(name)), null, `no certificate of ${name} was stored`);
  return shown;
}

// Waits for the S/MIME message with `m`'s marker in `name`'s INBOX (newer than `before`),
// decrypted with `name`'s DIRECTORY key and verified as signed by alice; returns the content.
async function directoryCopy(name, m, before) {
  const got = await waitForNewMessage(name, '', before, async (file) => {
    if (!/^Content-Type: application\/(x-)?pkcs7-mime;[^\n]*enveloped-data/mi.test(readFileSync(file, 'latin1'))) return null;
    const content = await verifyEntity(await decryptFor(file, name, dir.E2E_PKI_KEYS));
    return content.includes(m.marker) ? content : null;
  });
  assert.ok(got, `a message with ${m.marker} in ${name}'s INBOX that decrypts with ${name}'s directory key (${dirKey(`${name}.key`)})`);
  return got; // [file, content]
}

describe('directory (LDAP) and revocation (OCSP/CRL) through smime-proxy and Roundcube', () => {
  before(async () => {
    ctx.stack = await stackEnv();
    Object.assign(dir, await dirEnv());
    ctx.keyUsers = ['alice'];
    ctx.storedCerts = ['alice', 'bob'];
    // upstream_ca in the file is for the CLI (`certs fetch`); `run` gets the same roots as
    // --upstream-ca flags (the stack CA from the harness, the directory root from extraArgs),
    // which replace it. `revocation = "soft"` here; step g overrides it with the flag.
    ctx.extraConfig = [
      `upstream_ca = [${JSON.stringify(ctx.stack.E2E_STACK_CA)}, ${JSON.stringify(dir.E2E_PKI_ROOT)}]`,
      'revocation = "soft"',
      'pki_timeout = "5s"',
      'pki_cache_mb = 64',
      '',
      '[[directories]]',
      `url = ${JSON.stringify(dir.E2E_LDAPS_URL)}`,
      `base = ${JSON.stringify(dir.E2E_LDAP_BASE)}`,
      `bind_dn = ${JSON.stringify(dir.E2E_LDAP_BIND_DN)}`,
      `password_file = ${JSON.stringify(dir.E2E_LDAP_PASSWORD_FILE)}`,
    ].join('\n');
    ctx.extraArgs = ['--upstream-ca', dir.E2E_PKI_ROOT];
    ctx.configureProxy = async () => {
      const r = await proxyCliResult('certs', 'trust', 'add', dir.E2E_PKI_ROOT);
      assert.equal(r.code, 0, `certs trust add ${dir.E2E_PKI_ROOT}: ${r.stdout}${r.stderr}`);
      trustAdded = r.stdout + r.stderr;
    };
    console.log(`pki-e2e: run ${runId}, out ${OUT}`);
  });

  after(async () => {
    // Whatever failed: the responder goes back up, the proxy and the browser stop.
    if (ocspTakenDown()) await ocsp('up').catch((e) => console.log(`pki-e2e: ocsp-up: ${e}`));
    await shutdown();
    printStepTimings('pki-e2e');
    if (network.length) console.log(`pki-e2e: ${network.length} failed request(s) of the page (OUT/network.log):\n  ${network.join('\n  ')}`);
    console.log(`pki-e2e: screenshots and logs in ${OUT}`);
    setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  });
  process.on('exit', () => { if (ctx.proxy && ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL'); });

  // ---- a: preflight ----------------------------------------------------------------------

  step('a1 preflight: the webmail stack and the directory/revocation stack are up', async () => {
    const down = await stackStatus();
    if (down) assert.fail(`the webmail stack is not (fully) running; start it with tests/e2e/stack.sh start\n${down}`);
    const pkiDown = await dirStatus();
    if (pkiDown) assert.fail(`the directory/revocation stack is not (fully) running; start it with tests/e2e/pki/stack.sh start\n${pkiDown}`);
    assert.equal(dir.E2E_LDAPS_URL, DIRECTORY, 'the directory this suite expects');
    assert.ok(!process.env.E2E_PROXY_ADDR, 'this suite starts (and restarts) its own proxy: unset E2E_PROXY_ADDR');
    for (const f of ['carol', 'dave', 'erin', 'frank'].flatMap((n) => [`${n}.pem`, `${n}.key`])) {
      assert.ok(existsSync(dirKey(f)), `the directory PKI has ${f} (${dir.E2E_PKI_KEYS})`);
    }
  }, 35_000, { id: 'stacks', needs: [] });

  step('a2 preflight: the proxy runs with the directory configured and the directory root trusted', async () => {
    await startProxy();
    const rootFp = fingerprint(dir.E2E_PKI_ROOT);
    assertIncludes(trustAdded || '', rootFp, '`certs trust add ROOT` names the root');
    const anchors = await proxyCli('certs', 'trust', 'list');
    assert.match(anchors, /CN=smime-proxy e2e Directory Root/, `certs trust list shows the directory root:\n${anchors}`);
    assertIncludes(anchors, rootFp, 'certs trust list');
    assert.match(anchors, /\(certs trust add\)/, 'the root is kept in trust/ (added by the CLI)');
    const list = await proxyCli('certs', 'list');
    for (const n of ['alice', 'bob']) assert.ok(certsBlock(list, who(n)), `${n}'s certificate is stored:\n${list}`);
    for (const n of ['carol', 'dave', 'erin', 'frank']) {
      assert.equal(certsBlock(list, who(n)), null, `${n}'s certificate is NOT stored (must come from the directory):\n${list}`);
    }
    // `certs lookup` reads the store (and may peek at the directory): carol is not stored,
    // and looking does not store her either — the send in step c has to fetch her.
    const carol = await proxyCliResult('certs', 'lookup', who('carol'));
    assert.match(carol.stdout + carol.stderr, /no certificate for carol@example\.test in the store/,
      `certs lookup carol: not in the store (${carol.stdout}${carol.stderr})`);
    assert.equal(certsBlock(await proxyCli('certs', 'list'), who('carol')), null, 'certs lookup did not store carol');
    const head = readFileSync(ctx.proxyLog, 'utf8').split('\n')[0];
    assert.match(head, new RegExp(`--upstream-ca ${re(dir.E2E_PKI_ROOT)}`), 'run got the root as --upstream-ca');
  }, 90_000, { id: 'proxy', needs: ['stacks'] });

  step('a3 preflight: chromium through the proxy; alice logs in to Roundcube', async () => {
    await startBrowser();
    network = recordNetwork(ctx.page, path.join(OUT, 'network.log'));
    const [user, pass] = ctx.stack.E2E_ALICE.split(':');
    await login(user, pass);
    await shot('alice inbox');
  }, 60_000, { id: 'browser', needs: ['proxy'] });

  // ---- b: certs fetch failures ---------------------------------------------------------

  step('b  certs fetch: a garbage userSMIMECertificate and an unknown address both fail, saying why', async () => {
    const garbage = await proxyCliResult('certs', 'fetch', who('garbage'));
    const gOut = garbage.stdout + garbage.stderr;
    assert.notEqual(garbage.code, 0, `certs fetch garbage@ exits non-zero (got 0: ${gOut})`);
    assertIncludes(gOut, DIRECTORY, 'certs fetch garbage@ names the directory');
    assert.match(gOut, /is not a certificate/, `certs fetch garbage@ says the value is not a certificate:\n${gOut}`);
    const nobody = await proxyCliResult('certs', 'fetch', who('nobody'));
    const nOut = nobody.stdout + nobody.stderr;
    assert.notEqual(nobody.code, 0, `certs fetch nobody@ exits non-zero (got 0: ${nOut})`);
    assertIncludes(nOut, who('nobody'), 'certs fetch nobody@ names the address');
    assert.match(nOut, /no directory knows a certificate/i, `certs fetch nobody@ says no directory has one:\n${nOut}`);
    const list = await proxyCli('certs', 'list');
    for (const n of ['garbage', 'nobody']) assert.equal(certsBlock(list, who(n)), null, `nothing stored for ${n}`);
  }, 30_000, { id: 'fetch', needs: ['proxy'] });

  // ---- c: carol from the directory ----------------------------------------------------------

  step('c  alice → carol (directory only): sent, encrypted to the directory certificate, remembered', async () => {
    const page = ctx.page;
    const m = mail('carol');
    clearPkiCache(); // `certs lookup` in a2 may have checked carol already: this send must ask OCSP itself
    const before = snapshot('carol');
    const slapdFrom = logSize(path.join(dir.E2E_DIRPKI_DIR, 'log', 'slapd.log'));
    const ocspFrom = logSize(path.join(dir.E2E_DIRPKI_DIR, 'log', 'ocsp.log'));
    const { answer } = await sendSmime(page, { to: who('carol'), subject: m.subject, body: m.body }, 'c sent to carol');
    assert.match(answer, /sent_successfully/, `sent (got: ${answer.slice(0, 400)}; log: ${tail(ctx.proxyLog, 8)})`);
    assert.doesNotMatch(answer, /could not be checked/, 'carol\'s revocation was checked');

    const [file, content] = await directoryCopy('carol', m, before);
    assertIncludes(content, m.subject, 'the real subject is inside');
    // …and not to the mail stack's own carol certificate (another key, same address).
    const base = path.join(ctx.stack.E2E_PKI_DIR, 'carol');
    const other = await openssl(['cms', '-decrypt', '-inkey', `${base}.key`, '-recip', `${base}.pem`], readFileSync(file));
    assert.notEqual(other.code, 0, 'the mail stack\'s carol key (not the directory\'s) cannot decrypt it');

    const block = certsBlock(await proxyCli('certs', 'list'), who('carol'));
    assert.ok(block, 'carol is in the certificate store now');
    assert.match(block, new RegExp(`source:\\s+fetched from directory ${re(DIRECTORY)} at \\d{4}-`),
      `certs list shows where carol's certificate came from:\n${block}`);
    assertIncludes(block, fingerprint(dirKey('carol.pem')), 'the stored certificate is the directory\'s');
    assert.match(block, /issuer:\s+CN=smime-proxy e2e Directory CA/);

    const slapd = logSince(path.join(dir.E2E_DIRPKI_DIR, 'log', 'slapd.log'), slapdFrom);
    assert.match(slapd, /BIND dn="cn=reader,dc=example,dc=test" method=128/, `slapd saw the reader bind:\n${slapd.slice(-1500)}`);
    assert.match(slapd, /SRCH base="ou=people,dc=example,dc=test".*carol@example\.test/, 'slapd saw the search for carol');
    assert.match(logSince(path.join(dir.E2E_DIRPKI_DIR, 'log', 'ocsp.log'), ocspFrom), /ocsp=successful/, 'the OCSP responder was asked');
  }, 60_000, { id: 'carol', needs: ['browser'] });

  // ---- d, e: revoked recipients ---------------------------------------------------------------

  for (const [name, source] of [['dave', 'OCSP'], ['erin', 'CRL']]) {
    step(`${name === 'dave' ? 'd' : 'e'}  alice → ${name} (revoked, ${source} only): refused with the ${source} reason, nothing sent`, async () => {
      const page = ctx.page;
      const m = mail(name);
      const postfixFrom = logSize(path.join(ctx.stack.E2E_LOG_DIR, 'postfix.log'));
      const sentBefore = snapshot('alice', 'Sent');
      const { answer } = await sendSmime(page, { to: who(name), subject: m.subject, body: m.body });
      const shown = await assertRefused(page, name, m, answer, postfixFrom, sentBefore);
      await shot(`${name} refused`);
      assert.match(shown, new RegExp(`no usable certificate for ${name}@example\\.test`), `the page names ${name}: ${shown}`);
      assert.match(shown, new RegExp(`REVOKED on \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z, reason keyCompromise \\(${source}\\)`),
        `the page gives the revocation, from ${source}: ${shown}`);
      assertIncludes(shown, `(from ${DIRECTORY})`, 'the page names the directory');
    }, 45_000, { needs: ['browser'] });
  }

  // ---- f, g: the OCSP responder down: soft, then hard ------------------------------------

  const frank = mail('frank');
  step('f  OCSP responder down, soft mode: alice → frank is sent, with the "could not be checked" notice', async () => {
    const page = ctx.page;
    await ocsp('down');
    assert.equal(await ocspListening(), false, 'the OCSP responder refuses connections');
    clearPkiCache();
    const before = snapshot('frank');
    const { answer, confirmation } = await sendSmime(page, { to: who('frank'), subject: frank.subject, body: frank.body },
      'f frank sent soft');
    assert.match(answer, /sent_successfully/, `sent in soft mode (got: ${answer.slice(0, 500)}; log: ${tail(ctx.proxyLog, 8)})`);
    assertIncludes(answer, 'Message sent successfully (S/MIME, by smime-proxy). Note: frank@example.test: Revocation could not be checked',
      'the confirmation carries the notice');
    assert.match(answer, new RegExp(`OCSP ${re(dir.E2E_OCSP_URL)}: Connection refused`), 'the notice says why');
    assert.ok(confirmation, 'Roundcube shows a confirmation');
    assert.match(confirmation, /frank@example\.test: Revocation could not be checked/, `the shown confirmation has the notice: ${confirmation}`);
    await directoryCopy('frank', frank, before);
    assert.match(proxyLog(), /revocation could not be checked/, 'the proxy logged the soft failure');
  }, 60_000, { id: 'soft', needs: ['browser'] });

  step('g  --revocation hard: frank is refused while the responder is down, then sent once it is up', async () => {
    const page = ctx.page;
    if (await ocspListening()) await ocsp('down');
    const removed = await proxyCliResult('certs', 'remove', who('frank'));
    // Stored by f (a usable certificate whose revocation could not be checked is remembered);
    // when f did not get that far, there is nothing to remove.
    assert.ok(removed.code === 0 || /nothing in the certificate store matches/.test(removed.stdout + removed.stderr),
      `certs remove frank: ${removed.stdout}${removed.stderr}`);
    clearPkiCache();
    await restartProxy(['--upstream-ca', dir.E2E_PKI_ROOT, '--revocation', 'hard']);
    const m = { ...frank, subject: `${frank.subject} hard`, marker: `${frank.marker}-hard`, body: `Hello frank,\n${frank.marker}-hard\n` };
    const before = snapshot('frank');
    const postfixFrom = logSize(path.join(ctx.stack.E2E_LOG_DIR, 'postfix.log'));
    const { answer } = await sendSmime(page, { to: who('frank'), subject: m.subject, body: m.body });
    assert.doesNotMatch(answer, /sent_successfully/, `refused in hard mode (got: ${answer.slice(0, 400)})`);
    const shown = await shownError(page, /frank@example\.test/);
    await assertNoConnectionError(page);
    await shot('g frank refused hard');
    assert.match(shown, /no usable certificate for frank@example\.test/, shown);
    assert.match(shown, new RegExp(`Revocation could not be checked: .*OCSP ${re(dir.E2E_OCSP_URL)}: Connection refused`), shown);
    assertIncludes(shown, '(revocation = "hard")', 'the refusal names the hard mode');
    assert.equal(await page.locator('#compose-subject').inputValue(), m.subject, 'the compose stays as it was');
    await page.waitForTimeout(1000);
    assert.doesNotMatch(logSince(path.join(ctx.stack.E2E_LOG_DIR, 'postfix.log'), postfixFrom), /frank@example\.test/, 'nothing went to Postfix');
    assert.equal(certsBlock(await proxyCli('certs', 'list'), who('frank')), null, 'frank was not remembered');

    // The responder back: the same compose page, Send again.
    await ocsp('up');
    const { answer: again } = await send(page, 'g frank sent hard');
    assert.match(again, /sent_successfully/, `sent in hard mode with the responder up (got: ${again.slice(0, 400)}; log: ${tail(ctx.proxyLog, 8)})`);
    assert.doesNotMatch(again, /could not be checked/, 'no notice: OCSP answered');
    await directoryCopy('frank', m, before);
    const block = certsBlock(await proxyCli('certs', 'list'), who('frank'));
    assert.match(block || '', /fetched from directory/, `frank is remembered again:\n${block}`);
  }, 90_000, { id: 'hard', needs: ['browser'] });

  // ---- h: the read flow's revocation line ---------------------------------------------------

  step('h1 read: messages signed by carol, dave and erin (directory keys, intermediate included) reach alice', async () => {
    if (ocspTakenDown()) await ocsp('up'); // whatever f/g left: the read steps need the responder
    for (const name of ['carol', 'dave', 'erin']) {
      await build(`${name}-signed`, {
        from: who(name), to: ctx.stack.E2E_ALICE.split(':')[0],
        signer: { cert: dirKey(`${name}.pem`), key: dirKey(`${name}.key`), certfile: dir.E2E_PKI_CA },
      });
      await deliver(messages[`${name}-signed`].raw, { from: who(name), rcpt: 'alice@example.test' });
    }
  }, 30_000, { id: 'delivered', needs: ['browser'] });

  const reads = [
    ['carol', /Signature valid/, /Not revoked \(OCSP, as of \d{4}-\d\d-\d\dT[\d:]+Z\)\./, 'Not revoked'],
    ['dave', /Signature INVALID/, /Invalid: REVOKED on \d{4}-\d\d-\d\dT[\d:]+Z, reason keyCompromise \(OCSP\)\./, 'REVOKED on'],
    ['erin', /Signature INVALID/, /Invalid: REVOKED on \d{4}-\d\d-\d\dT[\d:]+Z, reason keyCompromise \(CRL\)\./, 'REVOKED on'],
  ];
  for (const [name, headline, line, needle] of reads) {
    step(`h  read: alice opens ${name}'s signed message: ${needle === 'Not revoked' ? 'valid, not revoked (OCSP)' : `INVALID, revoked (${/CRL/.test(line.source) ? 'CRL' : 'OCSP'})`}, in the proxy frame only`, async () => {
      const key = `${name}-signed`;
      const { page, text } = await openView(key);
      await shot(`h read ${name}`);
      assert.match(text, headline, `the banner's headline (frame text: ${text.slice(0, 600)})`);
      assert.match(text, line, `the banner's revocation line (frame text: ${text.slice(0, 600)})`);
      assert.match(text, new RegExp(`Signed by ${name}@example\\.test`), 'the banner names the signer');
      await assertWebmailDomClean(page, needle);
      await assertWebmailDomClean(page, messages[key].marker);
    }, 45_000, { needs: ['browser', 'delivered'] });
  }

  // ---- i: teardown ---------------------------------------------------------------------------

  step('i  teardown: the OCSP responder is up again, the proxy stops', async () => {
    if (ocspTakenDown()) await ocsp('up');
    const down = await dirStatus();
    assert.equal(down, null, `the directory/revocation stack is fully up again:\n${down}`);
    await stopProxy();
    if (ctx.proxy) assert.ok(ctx.proxy.exitCode !== null || ctx.proxy.signalCode !== null, 'the proxy has exited');
  }, 45_000, { needs: ['stacks'] });

  // ---- j: the latency bench in smoke mode, so that it cannot rot -----------------------------

  step('j  bench/pki-latency.sh --smoke runs against this stack', async () => {
    const bench = path.join(HERE, '..', '..', 'bench', 'pki-latency.sh');
    const { stdout } = await run('bash', [bench, '--smoke'], { timeout: 60_000, env: { ...process.env, SMIME_PROXY_BIN: proxyBin() } });
    console.log(stdout.trimEnd());
    assert.match(stdout, /certs lookup carol: cached/);
  }, 90_000, { needs: ['stacks'] });
});
