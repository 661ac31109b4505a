// The shared harness of the end-to-end suite (suite.mjs): state shared between steps
// (`ctx`), ordered steps with bounded timeouts (`step`), screenshots, the webmail stack's
// environment, starting smime-proxy with a prepared configuration directory, and
// browser helpers. The flows' steps live in their own files (compose.mjs, read.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import {
  mkdirSync, mkdtempSync, rmSync, createWriteStream, existsSync, readFileSync, writeFileSync, readdirSync, statSync,
} from 'node:fs';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const run = promisify(execFile);

export const STEP_TIMEOUT = 45_000; // one browser step
export const ACTION_TIMEOUT = 15_000; // one Playwright action / wait
const SUITE_WATCHDOG = 480_000; // the whole file, whatever happens

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
export const OUT = process.env.E2E_OUT_DIR || path.join(HERE, 'out', stamp);
mkdirSync(OUT, { recursive: true });
console.log(`e2e: screenshots and logs in ${OUT}`);

const watchdog = setTimeout(() => {
  console.error(`e2e: watchdog: the suite ran longer than ${SUITE_WATCHDOG / 1000}s; aborting`);
  process.exit(1);
}, SUITE_WATCHDOG);
watchdog.unref();


// ---- shared state --------------------------------------------------------------------------

export const ctx = {
  stack: {}, // from `stack.sh env`
  proxyAddr: null, // "127.0.0.1:PORT"
  proxy: null, // child process when we started it
  proxyLog: path.join(OUT, 'proxy.log'),
  configDir: null,
  proxyCa: null, // X509Certificate
  spki: null,
  origin: 'smime-proxy.invalid', // the proxy's own pages
  storePassphrase: null,
  browser: null, // persistent context
  userDataDir: null,
  page: null,
  // `--site` values for the proxy this suite starts (default: the Roundcube site).
  sites: null,
  // How a suite shapes the proxy it starts (all optional; the defaults are the Roundcube
  // suite's): whose keys (base stack PKI) go into the key store, whose certificates into the
  // certificate store, TOML appended to config.toml (after `trust_anchors`, so top-level keys
  // first, then tables), extra `run` flags, and a hook `async (dir)` run on the prepared
  // configuration directory before the proxy starts (`proxyCli` works in it).
  keyUsers: null, // default ['alice', 'bob', 'carol']
  storedCerts: null, // default ['alice', 'bob', 'carol']
  extraConfig: '',
  extraArgs: [],
  configureProxy: null,
  proxyArgs: null, // the `run` arguments of the running proxy, without extraArgs (for restarts)
  proxyPort: null, // the port the proxy this suite starts listens on (default: a free one)
  browserArgs: [], // more Chromium flags
  proxyBypass: ['<-loopback>'], // Chromium's proxy bypass list (loopback goes through the proxy)
};
export const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

// Steps run in order; once one fails the later ones are skipped (not failed again), except
// a step given `needs` (ids of earlier steps, `[]` = none): it runs when those passed, so one
// failure does not hide the independent steps after it. `id` defaults to the name. Every
// step's time and result is recorded in `stepTimings` (printStepTimings prints them).
let broken = null;
const passed = new Set();
export const stepTimings = []; // [name, ms, 'pass' | 'fail' | 'skip']
export function step(name, fn, timeout = STEP_TIMEOUT, { id = name, needs } = {}) {
  test(name, { timeout }, async (t) => {
    const missing = needs ? needs.filter((n) => !passed.has(n)) : [];
    if (needs ? missing.length : broken) {
      stepTimings.push([name, 0, 'skip']);
      return t.skip(needs ? `needs ${missing.join(', ')}` : `an earlier step failed: ${broken}`);
    }
    const t0 = performance.now();
    try {
      await withTimeout(fn(t), timeout - 1000, name);
      passed.add(id);
      stepTimings.push([name, Math.round(performance.now() - t0), 'pass']);
    } catch (err) {
      broken = name;
      process.exitCode = 1;
      stepTimings.push([name, Math.round(performance.now() - t0), 'fail']);
      if (ctx.page) await shot(`FAILED ${name}`).catch(() => {});
      throw err;
    }
  });
}

export function printStepTimings(prefix = 'e2e') {
  const total = stepTimings.reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`${prefix}: step timings`);
  for (const [name, ms, result] of stepTimings) console.log(`  ${result.padEnd(4)} ${String(ms).padStart(6)} ms  ${name}`);
  console.log(`  total  ${total} ms in steps`);
}

export function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

let shots = 0;
export async function shot(name) {
  const file = path.join(OUT, `${String(++shots).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
  await ctx.page.screenshot({ path: file, fullPage: true, timeout: ACTION_TIMEOUT });
  return file;
}

// ---- helpers -------------------------------------------------------------------------------

// `KEY=VALUE` lines of `STACK env` (default: the mail stack's stack.sh).
export async function stackEnv(stack = path.join(HERE, 'stack.sh')) {
  const { stdout } = await run('bash', [stack, 'env'], { timeout: 10_000 });
  return Object.fromEntries(
    stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

// null when every service of STACK is up (default: the mail stack), else what its
// `status` said.
export async function stackStatus(stack = path.join(HERE, 'stack.sh')) {
  try {
    await run('bash', [stack, 'status'], { timeout: 30_000 });
    return null;
  } catch (err) {
    return (err.stdout || '') + (err.stderr || '') || String(err);
  }
}

export function portOpen(host, port, ms = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function splitAddr(addr) {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}

export function proxyBin() {
  if (process.env.SMIME_PROXY_BIN) return process.env.SMIME_PROXY_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/smime-proxy/target');
  return path.join(target, 'debug', 'smime-proxy');
}

export function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function proxyCli(...args) {
  const { stdout } = await run(proxyBin(), ['--config-dir', ctx.configDir, ...args], { timeout: 15_000 });
  return stdout;
}

// Like proxyCli, but never throws for an exit status: { code, stdout, stderr }.
export async function proxyCliResult(...args) {
  try {
    const { stdout, stderr } = await run(proxyBin(), ['--config-dir', ctx.configDir, ...args], { timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (typeof err.code !== 'number') throw err; // not started, or killed by the timeout
    return { code: err.code, stdout: err.stdout || '', stderr: err.stderr || '' };
  }
}

// CONNECT through the proxy by hand and do TLS over it: the certificate the client sees.
export function certThroughProxy(host, port, { ca } = {}) {
  const [phost, pport] = splitAddr(ctx.proxyAddr);
  let sock;
  return withTimeout(new Promise((resolve, reject) => {
    sock = net.connect({ host: phost, port: pport }, () => {
      sock.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    });
    sock.once('error', reject);
    let head = '';
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      if (!/^HTTP\/1\.[01] 200/.test(head)) return reject(new Error(`CONNECT ${host}:${port}: ${head.split('\r\n')[0]}`));
      const t = tls.connect({ socket: sock, servername: net.isIP(host) ? undefined : host, ca, rejectUnauthorized: false }, () => {
        const cert = t.getPeerX509Certificate();
        const authorized = t.authorized;
        t.end();
        resolve({ cert, authorized, authorizationError: t.authorizationError });
      });
      t.once('error', reject);
    };
    sock.on('data', onData);
  }), 10_000, `TLS through CONNECT ${host}:${port}`).finally(() => sock?.destroy());
}

// The common name of the intermediate CA a running proxy mints at each unlock (name-
// constrained to its sites): the issuer the browser sees on every intercepted page.
export const PROXY_INTERMEDIATE_CN = 'smime-proxy run intermediate';

// What the proxy serves for an intercepted site, validated by OpenSSL against the proxy CA
// alone: the leaf, the run's intermediate the proxy sends after it, its name constraints.
export function proxyCertThroughProxy(host, port) {
  return certThroughProxy(host, port, { ca: ctx.proxyCa.toString() });
}

export async function login(user, pass) {
  const page = ctx.page;
  await ctx.browser.clearCookies();
  const res = await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
  assert.ok(res, 'a response for the login page');
  assert.equal(res.status(), 200, `login page status (${res.url()})`);
  await page.locator('#rcmloginuser').fill(user);
  await page.locator('#rcmloginpwd').fill(pass);
  await Promise.all([
    page.waitForURL(/[?&]_task=mail/, { timeout: ACTION_TIMEOUT }),
    page.locator('#rcmloginsubmit').click(),
  ]);
  // Roundcube's session writes race: let the inbox's list/getunread XHRs finish first.
  await page.waitForLoadState('networkidle', { timeout: ACTION_TIMEOUT });
  await page.locator('#messagelist').waitFor({ state: 'attached', timeout: ACTION_TIMEOUT });
  const who = await page.evaluate(() => window.rcmail?.env?.username ?? document.querySelector('.header-title.username')?.textContent);
  return who;
}

// Fetch from inside the page: goes through the browser's network stack (and so the proxy).
export function pageFetch(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  }, url);
}


// ---- smime-proxy -----------------------------------------------------------------------------

// A configuration directory for the run: the stack's test CA as the trust anchor for
// S/MIME certificates, alice's, bob's and carol's keys imported into the key store (one
// proxy serves all three users in this suite), and their certificates in the certificate
// store (`ctx.keyUsers` / `ctx.storedCerts` choose others), then `ctx.extraConfig` appended
// to config.toml. The store passphrase file unlocks the keys at start.
async function prepareConfigDir(dir) {
  const pki = ctx.stack.E2E_PKI_DIR;
  const extra = ctx.extraConfig ? `${ctx.extraConfig.trimEnd()}\n` : '';
  writeFileSync(path.join(dir, 'config.toml'), `trust_anchors = [${JSON.stringify(path.join(pki, 'ca.pem'))}]\n${extra}`);
  const storePass = path.join(dir, 'store-passphrase.txt');
  ctx.storePassphrase = 'e2e store passphrase';
  writeFileSync(storePass, `${ctx.storePassphrase}\n`, { mode: 0o600 });
  for (const user of ctx.keyUsers || ['alice', 'bob', 'carol']) {
    await run(proxyBin(), ['--config-dir', dir, 'keys', 'import', path.join(pki, `${user}.p12`),
      '--passphrase-file', path.join(pki, 'passphrase.txt'), '--store-passphrase-file', storePass], { timeout: 60_000 });
  }
  const certs = ctx.storedCerts || ['alice', 'bob', 'carol'];
  if (certs.length) {
    await run(proxyBin(), ['--config-dir', dir, 'certs', 'add', ...certs.map((u) => path.join(pki, `${u}.pem`))],
      { timeout: 15_000 });
  }
  return storePass;
}

// Starts smime-proxy for the suite's sites (`ctx.sites`, default the Roundcube site), or
// uses E2E_PROXY_ADDR, and reads its CA.
export async function startProxy() {
  if (process.env.E2E_PROXY_ADDR) {
    ctx.proxyAddr = process.env.E2E_PROXY_ADDR;
    ctx.configDir = process.env.E2E_PROXY_CONFIG_DIR;
    assert.ok(ctx.configDir, 'E2E_PROXY_ADDR needs E2E_PROXY_CONFIG_DIR (the proxy\'s --config-dir, for its CA)');
    const [h, p] = splitAddr(ctx.proxyAddr);
    assert.ok(await portOpen(h, p), `smime-proxy is not running: nothing listens on ${ctx.proxyAddr} (E2E_PROXY_ADDR)`);
  } else {
    assert.ok(existsSync(proxyBin()), `smime-proxy binary not found at ${proxyBin()}: build it (cargo build -p smime-proxy) or set SMIME_PROXY_BIN`);
    ctx.configDir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-config-'));
    const storePass = await prepareConfigDir(ctx.configDir);
    if (ctx.configureProxy) await ctx.configureProxy(ctx.configDir);
    ctx.proxyAddr = `127.0.0.1:${ctx.proxyPort || await freePort()}`;
    const sites = ctx.sites || [`${ctx.stack.E2E_WEBMAIL_SITE}=roundcube`];
    ctx.proxyArgs = ['--config-dir', ctx.configDir, 'run', '--listen', ctx.proxyAddr,
      ...sites.flatMap((s) => ['--site', s]), '--upstream-ca', ctx.stack.E2E_STACK_CA, '--log', 'info',
      '--store-passphrase-file', storePass];
    writeFileSync(ctx.proxyLog, '');
    await spawnProxy(ctx.extraArgs || []);
  }
  ctx.spki = (await proxyCli('ca', 'export', '--format', 'spki-sha256')).trim();
  assert.match(ctx.spki, /^[A-Za-z0-9+/]{43}=$/, 'ca export --format spki-sha256 is a base64 SHA-256');
  ctx.proxyCa = new X509Certificate(await proxyCli('ca', 'export', '--format', 'pem'));
  console.log(`e2e: proxy ${ctx.proxyAddr}, CA "${ctx.proxyCa.subject.replace(/\n/g, ', ')}", SPKI ${ctx.spki}`);
}

// Runs the proxy with `ctx.proxyArgs` + `extraArgs` (its output appended to ctx.proxyLog) and
// waits until it listens on ctx.proxyAddr.
async function spawnProxy(extraArgs) {
  const bin = proxyBin();
  const args = [...ctx.proxyArgs, ...extraArgs];
  const logStream = createWriteStream(ctx.proxyLog, { flags: 'a' });
  logStream.write(`$ ${bin} ${args.join(' ')}\n`);
  ctx.proxy = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  ctx.proxy.stdout.pipe(logStream, { end: false });
  ctx.proxy.stderr.pipe(logStream, { end: false });
  ctx.proxy.once('close', () => logStream.end());
  const [h, p] = splitAddr(ctx.proxyAddr);
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(h, p))) {
    if (ctx.proxy.exitCode !== null) {
      assert.fail(`smime-proxy exited with ${ctx.proxy.exitCode} before listening on ${ctx.proxyAddr}:\n${tail(ctx.proxyLog)}`);
    }
    if (Date.now() > deadline) assert.fail(`smime-proxy did not listen on ${ctx.proxyAddr} within 30s:\n${tail(ctx.proxyLog)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Stops the proxy the suite started (TERM, KILL after 3 s) and waits until it has exited.
export async function stopProxy() {
  const child = ctx.proxy;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}

// Restarts the proxy the suite started on the same address, with the same configuration
// directory (so the same CA: the browser, which trusts it by SPKI and goes through this
// address, keeps working) and `extraArgs` instead of ctx.extraArgs (which it then becomes).
// The key store is unlocked again from the passphrase file.
export async function restartProxy(extraArgs = ctx.extraArgs || []) {
  assert.ok(ctx.proxy && ctx.proxyArgs, 'restartProxy needs a proxy the suite started (not E2E_PROXY_ADDR)');
  await stopProxy();
  ctx.extraArgs = extraArgs;
  await spawnProxy(extraArgs);
  console.log(`e2e: proxy restarted on ${ctx.proxyAddr} with ${extraArgs.join(' ') || 'no extra flags'}`);
}

// Chromium with a fresh profile, through the proxy, trusting only the proxy CA (by SPKI).
export async function startBrowser() {
  const { chromium } = await import('playwright-core');
  ctx.userDataDir = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-chromium-'));
  ctx.browser = await chromium.launchPersistentContext(ctx.userDataDir, {
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30_000,
    viewport: { width: 1280, height: 900 },
    // The own page's "Save a signed record" is a download (contacts.mjs checks one).
    acceptDownloads: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--proxy-server=http://${ctx.proxyAddr}`,
      `--proxy-bypass-list=${ctx.proxyBypass.join(';')}`,
      `--ignore-certificate-errors-spki-list=${ctx.spki}`,
      ...ctx.browserArgs,
    ],
  });
  ctx.browser.setDefaultTimeout(ACTION_TIMEOUT);
  ctx.browser.setDefaultNavigationTimeout(20_000);
  ctx.page = ctx.browser.pages()[0] || (await ctx.browser.newPage());
  ctx.page.on('pageerror', (e) => console.log(`e2e: page error: ${e.message}`));
}

// The proxy's log so far, without colour codes.
export function proxyLog() {
  return readFileSync(ctx.proxyLog, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
}

// Stops the browser and the proxy, removes the temporary directories.
export async function shutdown() {
  await ctx.browser?.close().catch(() => {});
  await stopProxy();
  if (ctx.userDataDir) rmSync(ctx.userDataDir, { recursive: true, force: true });
  if (ctx.configDir && !process.env.E2E_PROXY_CONFIG_DIR) rmSync(ctx.configDir, { recursive: true, force: true });
}

// ---- the proxy's frames ------------------------------------------------------------------

// The proxy's own origin, where the read flow's frames are served.
export const ORIGIN_HOST = 'smime-proxy.invalid';

// The webmail's own documents (the page and its frames, not the proxy's) hold no `needle`,
// and a script of the page cannot read the proxy frame.
export async function assertWebmailDomClean(page, needle) {
  for (const frame of page.frames()) {
    if (frame.url().startsWith(`https://${ORIGIN_HOST}/`)) continue;
    const html = await frame.evaluate(() => document.documentElement.outerHTML).catch(() => '');
    assert.ok(!html.includes(needle), `the webmail document ${frame.url()} contains the plaintext marker`);
  }
  const reach = await page.evaluate(() => {
    const f = document.querySelector('iframe.smime-proxy-view');
    try { return f?.contentDocument?.documentElement?.outerHTML ?? null; } catch { return 'threw'; }
  });
  assert.ok(reach === null || reach === 'threw', 'a script of the webmail page cannot read the proxy frame');
}

// ---- mailboxes on disk -----------------------------------------------------------------------

// The messages of `user`'s maildir folder ('' = INBOX, 'Sent', 'Drafts'), newest first.
export function maildirMessages(user, folder = '') {
  const base = path.join(ctx.stack.E2E_MAIL_DIR, user, 'Maildir', folder ? `.${folder}` : '');
  const files = [];
  for (const sub of ['cur', 'new']) {
    const dir = path.join(base, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      files.push({ file, mtime: statSync(file).mtimeMs });
    }
  }
  return files.sort((a, b) => b.mtime - a.mtime).map((f) => f.file);
}

// Waits until a message whose raw text matches `pattern` is in the folder (and is none of
// the files in `except`); returns its file.
export async function waitForMessage(user, folder, pattern, ms = 20_000, except = new Set()) {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = maildirMessages(user, folder).find((f) => !except.has(f) && pattern.test(readFileSync(f, 'latin1')));
    if (hit) return hit;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Runs `openssl ARGS` with `input` on stdin; returns { code, stdout (Buffer), stderr }.
export function openssl(args, input) {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    // A child that reads a file instead (`-in FILE`) may exit before the write reaches it:
    // EPIPE is not a failure (its exit code tells); any other error is told in stderr.
    child.stdin.on('error', (e) => { if (e.code !== 'EPIPE') err.push(Buffer.from(`stdin: ${e.message}\n`)); });
    child.stdin.end(input);
  });
}

// Every file under `dirs` (recursively) whose bytes contain one of `needles`.
export function filesContaining(dirs, needles) {
  const hits = [];
  const walk = (dir) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        let data;
        try { data = readFileSync(p); } catch { continue; }
        for (const n of needles) if (data.includes(n)) hits.push(`${p}: ${n}`);
      }
    }
  };
  dirs.forEach(walk);
  return hits;
}
