// End-to-end: the roaming key server (issue 16). A real `smime-keyserver` (SQLite, TLS from a
// CA made here) on 127.0.0.1; alice registers her key from a machine that has it (`keys roam
// register`); then a fresh proxy with no key at all unlocks alice on its own page in
// Chromium (a wrong password first: refused, counted, nothing unlocked), keeps nothing on
// disk, and sends a signed and encrypted message through Roundcube that openssl decrypts
// with bob's key and verifies against the test CA. Runs at the end of suite.mjs: it stops
// the suite's proxy and starts its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ctx, step, shot, OUT, ORIGIN_HOST, runId, run, openssl, portOpen, freePort, tail, proxyBin, startProxy,
  startBrowser, stopProxy, login, maildirMessages, waitForMessage,
} from './harness.mjs';
import { openCompose, addRecipient, setSmime, clickSend, decryptFor, verifyEntity } from './compose.mjs';

const ALICE = () => ctx.stack.E2E_ALICE.split(':')[0];
const PASSWORD = `roaming password ${runId}`;
const server = { dir: null, process: null, url: null, key: null, ca: null };

export function keyserverBin() {
  if (process.env.SMIME_KEYSERVER_BIN) return process.env.SMIME_KEYSERVER_BIN;
  return path.join(path.dirname(proxyBin()), 'smime-keyserver');
}

const keyserver = (...args) => run(keyserverBin(), ['--data-dir', path.join(server.dir, 'data'), ...args],
  { timeout: 30_000 });

function stopKeyserver() {
  if (server.process && server.process.exitCode === null) server.process.kill('SIGTERM');
}
process.on('exit', () => {
  stopKeyserver();
  if (server.dir) rmSync(server.dir, { recursive: true, force: true });
});

// The `[keyserver]` section and the key server's CA for a configuration directory.
const keyserverConfig = () => `[keyserver]\nurl = "${server.url}"\nserver_key = "${server.key}"\naccount = "${ALICE()}"\n`;

export function roamSteps() {
  step('key server: smime-keyserver init, enrol alice, serve over TLS on 127.0.0.1', async () => {
    assert.ok(existsSync(keyserverBin()), `smime-keyserver not found at ${keyserverBin()} (cargo build -p smime-keyserver)`);
    server.dir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-keyserver-'));
    const file = (name) => path.join(server.dir, name);
    // A CA of its own for the key server's TLS: the proxy trusts it through --upstream-ca.
    for (const args of [
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'),
        '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=e2e key server CA'],
      ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('tls.key'),
        '-out', file('tls.csr'), '-subj', '/CN=127.0.0.1'],
      ['x509', '-req', '-in', file('tls.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-days', '2',
        '-out', file('tls.pem'), '-extfile', file('tls.ext')],
    ]) {
      writeFileSync(file('tls.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n');
      const made = await openssl(args, '');
      assert.equal(made.code, 0, made.stderr);
    }
    server.ca = file('ca.pem');
    server.key = (await keyserver('init')).stdout.trim();
    assert.match(server.key, /^[A-Za-z0-9+/]{43}=$/, 'init prints the OPAQUE public key');
    writeFileSync(file('token.txt'), (await keyserver('enrol', ALICE())).stdout);
    const port = await freePort();
    server.url = `https://127.0.0.1:${port}`;
    const log = path.join(OUT, 'keyserver.log');
    writeFileSync(log, '');
    server.process = spawn(keyserverBin(), ['--data-dir', file('data'), 'serve', '--listen', `127.0.0.1:${port}`,
      '--tls-cert', file('tls.pem'), '--tls-key', file('tls.key')], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.process.stderr.on('data', (d) => writeFileSync(log, d, { flag: 'a' }));
    const deadline = Date.now() + 20_000;
    while (!(await portOpen('127.0.0.1', port))) {
      assert.ok(server.process.exitCode === null, `smime-keyserver exited:\n${tail(log)}`);
      assert.ok(Date.now() < deadline, `smime-keyserver did not listen within 20 s:\n${tail(log)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  step('key server: alice registers her key from a machine that has it (keys roam register)', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-register-'));
    try {
      const pki = ctx.stack.E2E_PKI_DIR;
      const storePass = path.join(home, 'store-pass');
      const password = path.join(home, 'password');
      writeFileSync(storePass, 'the first machine\n', { mode: 0o600 });
      writeFileSync(password, `${PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(path.join(home, 'config.toml'), `upstream_ca = [${JSON.stringify(server.ca)}]\n\n${keyserverConfig()}`);
      const cli = (...args) => run(proxyBin(), ['--config-dir', home, ...args], { timeout: 120_000 });
      await cli('keys', 'import', path.join(pki, 'alice.p12'), '--passphrase-file', path.join(pki, 'passphrase.txt'),
        '--store-passphrase-file', storePass);
      const { stdout, stderr } = await cli('keys', 'roam', 'register', '--token-file', path.join(server.dir, 'token.txt'),
        '--password-file', password, '--store-passphrase-file', storePass);
      console.log(`e2e: keys roam register: ${stdout}${stderr}`);
      assert.match(stdout + stderr, new RegExp(ALICE().replace('.', '\\.')), 'register names the account');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 150_000);

  step('key server: a fresh proxy with no key unlocks alice on its own page (a wrong password first: refused)', async () => {
    await ctx.browser?.close().catch(() => {});
    await stopProxy();
    Object.assign(ctx, {
      keyUsers: [], storedCerts: ['bob'], extraConfig: keyserverConfig(), extraArgs: ['--upstream-ca', server.ca],
      proxyLog: path.join(OUT, 'proxy-roam.log'),
    });
    await startProxy();
    await startBrowser();
    const page = ctx.page;
    const unlock = async (password) => {
      await page.goto(`http://${ORIGIN_HOST}/`, { waitUntil: 'domcontentloaded' });
      const form = page.locator('form[action="/api/roam/unlock"]');
      assert.equal(await form.locator('input[name="account"]').inputValue(), ALICE(), 'the account from config.toml');
      await form.locator('input[name="password"]').fill(password);
      await Promise.all([page.waitForLoadState('domcontentloaded'), form.locator('button').click()]);
      return page.locator('body').innerText();
    };
    const wrong = await unlock('not the password');
    assert.match(wrong, /Nothing was unlocked/, `refused: ${wrong.slice(0, 300)}`);
    assert.match(wrong, /password is wrong .*\d+ more login attempts allowed/s, 'one clear sentence, with the attempts left');
    await shot('key server: wrong password');
    const home = await unlock(PASSWORD);
    assert.match(home, /Audit log[\s\S]*key_release/, `the audit log shows the release: ${home.slice(0, 800)}`);
    assert.match(home, /this proxy/, 'this proxy is a device of the account');
    await shot('key server: unlocked, audit log');
    const keys = path.join(ctx.configDir, 'keys');
    assert.deepEqual(existsSync(keys) ? readdirSync(keys) : [], [], 'the released key is not written to disk');
  }, 120_000);

  step('key server: alice, on that proxy, sends signed+encrypted mail; openssl decrypts it with bob\'s key and verifies it', async () => {
    const [user, pass] = ctx.stack.E2E_ALICE.split(':');
    await login(user, pass);
    const page = ctx.page;
    const marker = `roamed-${runId}`;
    await openCompose(page);
    await addRecipient(page, 'to', ctx.stack.E2E_BOB.split(':')[0]);
    await page.locator('#compose-subject').fill(`from a roamed key ${runId}`);
    await page.locator('#composebody').fill(`Bob,\n${marker}\n`);
    await setSmime(page, { sign: true, encrypt: true });
    const before = new Set(maildirMessages('bob'));
    const answer = await clickSend(page);
    assert.match(answer, /sent_successfully/, `sent (got: ${answer.slice(0, 300)})`);
    const file = await waitForMessage('bob', '', /^Content-Type: application\/pkcs7-mime/mi, 20_000, before);
    assert.ok(file, 'it reached bob, encrypted');
    assert.doesNotMatch(readFileSync(file, 'latin1'), new RegExp(marker), 'no text in clear');
    const text = await verifyEntity(await decryptFor(file, 'bob'));
    assert.ok(text.includes(marker), 'bob\'s key opens it and alice\'s signature verifies under the test CA');
    stopKeyserver();
  }, 90_000);
}
