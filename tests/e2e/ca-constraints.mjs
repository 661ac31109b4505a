// The interception CA in a real browser with a real trust store (issue 18, item 1): Debian's
// Chromium with a throw-away HOME whose NSS database (~/.pki/nssdb, `certutil -A -t C,,`)
// trusts only a root made by smime-ca. No --ignore-certificate-errors-spki-list here: that
// flag skips path validation, name constraints included.
//
// 1. A chain from the ca crate's own test (`openssl_rejects_a_hand_minted_leaf_outside_the_
//    constraints`, run with SMIME_CA_CHAIN_OUT): root, an intermediate constrained to
//    permitted.test and smime-proxy.invalid, a leaf for permitted.test from our minter, and a
//    leaf for outside.test signed with the intermediate's key by hand (past our minter, as a
//    thief of the proxy's memory could), and one for www.permitted.test made by hand the same
//    way. A loopback TLS server serves them; Chromium loads both permitted ones and refuses
//    outside.test with a certificate error; without the root in the NSS database it refuses
//    them all (so the trust store is what decides).
// 2. `smime-proxy run` itself: Chromium trusting its root through NSS loads the own origin
//    https://smime-proxy.invalid/ through the proxy (leaf, intermediate, root), and Chromium
//    trusting it by SPKI only (as the webmail suites do) loads it too.
//
//   node --test-reporter=spec ca-constraints.mjs     (run.sh runs it; needs cargo, certutil)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/smime-proxy/target');
const PROXY = process.env.SMIME_PROXY_BIN || path.join(TARGET, 'debug', 'smime-proxy');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const work = mkdtempSync(path.join(os.tmpdir(), 'smime-ca-constraints-'));
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(work, { recursive: true, force: true });
});

// A HOME whose NSS database trusts `rootPem` (or nothing) for websites.
function homeTrusting(name, rootPem) {
  const home = path.join(work, name);
  const db = path.join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  if (rootPem) execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', 'smime-proxy test root', '-t', 'C,,', '-i', rootPem]);
  return home;
}

async function browser(home, extraArgs) {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(path.join(home, 'profile'), {
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30_000,
    env: { ...process.env, HOME: home },
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
  cleanups.push(() => context.close());
  return context;
}

// The page's text, or the navigation error (e.g. net::ERR_CERT_...).
async function load(context, url) {
  const page = await context.newPage();
  try {
    const res = await page.goto(url, { timeout: 20_000 });
    return { ok: true, status: res.status(), text: await page.textContent('body') };
  } catch (e) {
    return { ok: false, error: e.message.split('\n')[0] };
  } finally {
    await page.close();
  }
}

test('Chromium with an NSS-trusted root refuses a leaf outside the intermediate\'s name constraints', async () => {
  const chain = path.join(work, 'chain');
  mkdirSync(chain);
  execFileSync('cargo', ['test', '-q', '--locked', '-p', 'smime-ca', '--lib', '--',
    'openssl_rejects_a_hand_minted_leaf_outside_the_constraints'], {
    cwd: REPO, env: { ...process.env, SMIME_CA_CHAIN_OUT: chain, CARGO_TARGET_DIR: TARGET }, stdio: 'inherit',
  });
  const file = (name) => readFileSync(path.join(chain, name));
  const key = file('leaf-key.pem');
  // Each leaf is served with the intermediate after it; the root only in the trust store.
  const served = (leaf) => ({ key, cert: Buffer.concat([file(leaf), file('intermediate.pem')]) });
  const contexts = {
    'permitted.test': tls.createSecureContext(served('inside.pem')),
    'www.permitted.test': tls.createSecureContext(served('inside-by-hand.pem')),
    'outside.test': tls.createSecureContext(served('outside.pem')),
  };
  const server = https.createServer({ ...served('inside.pem'), SNICallback: (name, cb) => cb(null, contexts[name]) },
    (req, res) => { res.setHeader('content-type', 'text/plain'); res.end(`hello from ${req.headers.host}\n`); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  const port = server.address().port;
  const resolve = ['--host-resolver-rules=MAP permitted.test 127.0.0.1, MAP www.permitted.test 127.0.0.1, '
    + 'MAP outside.test 127.0.0.1'];

  const trusting = await browser(homeTrusting('trusting', path.join(chain, 'root.pem')), resolve);
  const inside = await load(trusting, `https://permitted.test:${port}/`);
  assert.ok(inside.ok, `a leaf inside the constraints loads: ${inside.error}`);
  assert.match(inside.text, /hello from permitted\.test/);
  // Made by hand with one profile: only the names differ, so the names decide.
  const byHand = await load(trusting, `https://www.permitted.test:${port}/`);
  assert.ok(byHand.ok, `a hand-made leaf inside the constraints loads: ${byHand.error}`);
  const outside = await load(trusting, `https://outside.test:${port}/`);
  console.log(`ca-constraints: outside.test -> ${outside.error}`);
  assert.ok(!outside.ok, 'a leaf outside the constraints must not load');
  // Chromium reports a name constraint violation as ERR_CERT_INVALID (older: its own code).
  assert.match(outside.error, /net::ERR_CERT_(INVALID|NAME_CONSTRAINT_VIOLATION)/);

  const untrusting = await browser(homeTrusting('untrusting', null), resolve);
  const control = await load(untrusting, `https://permitted.test:${port}/`);
  assert.match(control.error || '', /net::ERR_CERT_AUTHORITY_INVALID/, 'without the root nothing loads');
});

test('the proxy\'s own origin loads with the root in NSS and with SPKI-list trust', async () => {
  const config = path.join(work, 'proxy-config');
  mkdirSync(config, { mode: 0o700 });
  const pass = path.join(work, 'store-pass');
  writeFileSync(pass, 'ca constraints e2e\n', { mode: 0o600 });
  const listen = await new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(`127.0.0.1:${p}`)); });
  });
  const proxy = spawn(PROXY, ['--config-dir', config, 'run', '--listen', listen, '--store-passphrase-file', pass],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => { proxy.kill('SIGTERM'); });
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not start:\n${log}`)), 30_000);
    proxy.stderr.on('data', (d) => { log += d; if (log.includes('listening on')) { clearTimeout(timer); resolve(); } });
    proxy.once('exit', (code) => reject(new Error(`the proxy exited with ${code}:\n${log}`)));
  });
  const rootPem = path.join(work, 'proxy-root.pem');
  writeFileSync(rootPem, execFileSync(PROXY, ['--config-dir', config, 'ca', 'export', '--format', 'pem']));
  const spki = execFileSync(PROXY, ['--config-dir', config, 'ca', 'export', '--format', 'spki-sha256']).toString().trim();
  const via = [`--proxy-server=http://${listen}`, '--proxy-bypass-list=<-loopback>'];

  const nss = await browser(homeTrusting('proxy-nss', rootPem), via);
  const page = await load(nss, 'https://smime-proxy.invalid/');
  assert.ok(page.ok, `the own origin loads with the root in NSS: ${page.error}`);
  assert.match(page.text, /smime-proxy/);

  const bySpki = await browser(homeTrusting('proxy-spki', null), [...via, `--ignore-certificate-errors-spki-list=${spki}`]);
  const again = await load(bySpki, 'https://smime-proxy.invalid/');
  assert.ok(again.ok, `the own origin loads with SPKI-list trust: ${again.error}`);
});
