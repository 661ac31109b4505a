// End-to-end: a real Roundcube (tests/e2e/stack.sh) driven by Debian's Chromium through
// smime-proxy. The steps run in order: preflight and interception here, then the compose
// flow's (compose.mjs), the read flow's (read.mjs), the address book's encrypted fields
// (contacts.mjs), a conversation between two people with a proxy each (conversation.mjs),
// onboarding (onboard.mjs) and a fresh proxy unlocking a key from the key server (roam.mjs);
// harness.mjs holds what they share. Run by tests/e2e/run.sh; by hand:
//
//   tests/e2e/stack.sh all                 # once (root; Debian packages)
//   cd tests/e2e && npm ci && node --test-reporter=spec suite.mjs
//
// Environment:
//   SMIME_PROXY_BIN      the binary (default $CARGO_TARGET_DIR/debug/smime-proxy,
//                        CARGO_TARGET_DIR defaulting to ~/.cache/smime-proxy/target)
//   E2E_PROXY_ADDR       use a proxy already listening there instead of starting one
//                        (with E2E_PROXY_CONFIG_DIR = its --config-dir, for the CA)
//   E2E_OUT_DIR          screenshots and logs (default tests/e2e/out/<timestamp>/)
//   E2E_CHROMIUM         browser (default /usr/bin/chromium)
//   E2E_STACK_DIR        forwarded to stack.sh (state dir of the webmail stack)
//
// Every step has its own bounded timeout, and the whole file has a watchdog: a stopped
// stack or a dead proxy fails in the first step with a message that says which.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

import {
  ctx, step, shot, OUT, stackEnv, stackStatus, startProxy, startBrowser, shutdown, certThroughProxy,
  proxyCertThroughProxy, PROXY_INTERMEDIATE_CN,
} from './harness.mjs';
import { composeSteps } from './compose.mjs';
import { readSteps } from './read.mjs';
import { conversationSteps } from './conversation.mjs';
import { onboardSteps } from './onboard.mjs';
import { contactSteps } from './contacts.mjs';
import { roamSteps } from './roam.mjs';

// ---- the suite -----------------------------------------------------------------------------

describe('Roundcube through smime-proxy', () => {

  before(async () => {
    ctx.stack = await stackEnv();
  });

  after(async () => {
    await shutdown();
    console.log(`e2e: screenshots and logs in ${OUT}`);
    // Nothing may keep the process alive after the last step (a stuck socket, a browser that
    // will not close): give the runner a moment to print its summary, then exit.
    setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  });
  process.on('exit', () => { if (ctx.proxy && ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL'); });

  step('preflight: the webmail stack is up', async () => {
    const down = await stackStatus();
    if (down) assert.fail(`the webmail stack is not (fully) running; start it with tests/e2e/stack.sh start\n${down}`);
  }, 35_000);

  step('preflight: smime-proxy listens (started with --site <webmail>=roundcube, keys unlocked)', startProxy, 90_000);

  step('a site that is not configured is tunnelled (its own certificate)', async () => {
    // The same nginx under another name (its certificate covers both), not a configured site.
    const other = ctx.stack.E2E_WEBMAIL_HOST === 'localhost' ? '127.0.0.1' : 'localhost';
    const { cert, authorized, authorizationError } = await certThroughProxy(other, ctx.stack.E2E_WEBMAIL_PORT,
      { ca: readFileSync(ctx.stack.E2E_STACK_CA) });
    assert.ok(authorized, `the real certificate, valid under the stack CA (${authorizationError})`);
    assert.ok(cert.checkIssued(new X509Certificate(readFileSync(ctx.stack.E2E_STACK_CA))), 'issued by the stack CA');
  });

  step('the webmail is intercepted: the browser sees a certificate from the proxy CA', async () => {
    const { cert, authorized, authorizationError } =
      await proxyCertThroughProxy(ctx.stack.E2E_WEBMAIL_HOST, ctx.stack.E2E_WEBMAIL_PORT);
    assert.ok(authorized, `the leaf (issuer "${cert.issuer}") chains to the proxy CA (${authorizationError})`);
    assert.equal(cert.issuer.match(/^CN=(.*)$/m)?.[1], PROXY_INTERMEDIATE_CN, 'through the run\'s intermediate');
    assert.ok(cert.checkHost(ctx.stack.E2E_WEBMAIL_HOST), `the leaf is valid for ${ctx.stack.E2E_WEBMAIL_HOST}`);
  });

  step('chromium starts, trusting only the proxy CA (by SPKI)', startBrowser, 40_000);

  step('the listen address\'s setup page: no proxy settings → the PAC URL; proxy without the CA → trust it; this browser → ready', async () => {
    const url = `http://${ctx.proxyAddr}/`;
    // This suite's browser goes through the proxy (loopback too) and trusts its CA by SPKI.
    await ctx.page.goto(url, { waitUntil: 'domcontentloaded' });
    await ctx.page.locator('#ready').waitFor({ state: 'visible' });
    assert.ok(await ctx.page.locator('#no-proxy').isHidden(), 'no proxy step for a browser that uses the proxy');
    await shot('setup page, ready');
    // A browser with no proxy settings at all reaches the same page directly.
    const { chromium } = await import('playwright-core');
    const launch = (extra) => chromium.launch({
      executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
    });
    const bare = await launch([]);
    try {
      const page = await bare.newPage();
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await page.locator('#no-proxy').waitFor({ state: 'visible' });
      assert.ok((await page.locator('#no-proxy').innerText()).includes(`http://${ctx.proxyAddr}/proxy.pac`));
      const pac = await page.context().request.get(`${url}proxy.pac`);
      assert.match(await pac.text(), /function FindProxyForURL/);
    } finally {
      await bare.close();
    }
    // Through the proxy (its PAC file) but not trusting the CA yet: the next step is the CA.
    const untrusting = await launch([`--proxy-pac-url=${url}proxy.pac`]);
    try {
      const page = await untrusting.newPage();
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await page.locator('#no-ca').waitFor({ state: 'visible' });
    } finally {
      await untrusting.close();
    }
  });

  step('the login page comes through the proxy, with its certificate', async () => {
    const page = ctx.page;
    const res = await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200);
    const sec = await res.securityDetails();
    assert.ok(sec, 'an HTTPS response has security details');
    assert.equal(sec.issuer, PROXY_INTERMEDIATE_CN, 'the page certificate is issued by the proxy CA\'s intermediate');
    assert.equal(sec.subjectName, ctx.stack.E2E_WEBMAIL_HOST);
    await page.locator('#rcmloginuser').waitFor();
    assert.equal(await page.locator('#smime-proxy-controls').count(), 0, 'no S/MIME controls outside the compose page');
    await shot('login page');
  });

  composeSteps();
  readSteps();
  contactSteps();
  conversationSteps();
  onboardSteps();
  roamSteps();
});
