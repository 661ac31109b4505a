// End-to-end: a real SOGo 5.8 (tests/e2e/sogo/stack.sh) driven by Debian's Chromium
// through smime-proxy, which adds Sign/Encrypt controls to SOGo's compose dialog, signs and
// encrypts on the device, submits the message over SMTP as the user and stores the copy in
// Sent, and shows S/MIME messages in its own frame. The steps run in order: preflight and
// interception here, then the compose flow's (sogo/compose.mjs) and the read flow's
// (sogo/read.mjs); ../harness.mjs and sogo/lib.mjs hold what they share.
//
//   tests/e2e/stack.sh all && tests/e2e/sogo/stack.sh all      # once (root; Debian packages)
//   cd tests/e2e && npm ci && node --test-reporter=spec sogo/suite.mjs
//
// Environment: as ../suite.mjs (SMIME_PROXY_BIN, E2E_OUT_DIR, E2E_CHROMIUM, E2E_STACK_DIR),
// plus E2E_SOGO_DIR (forwarded to sogo/stack.sh). E2E_PROXY_ADDR is not supported here: the
// suite locks the key store with SIGUSR1 and needs the proxy's SMTP submission for this site.
//
// Messages are found by a subject or body marker that holds this run's id (the maildirs are
// shared with other suites); S/MIME messages whose subject is protected ("[...]" outside) are
// found by decrypting the recent ones.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

import {
  ctx, shot, OUT, runId, stackEnv, stackStatus, startProxy, startBrowser, shutdown, certThroughProxy,
  proxyCertThroughProxy, PROXY_INTERMEDIATE_CN,
} from '../harness.mjs';
import { step, sogoEnv, sogoStatus, printTimings } from './lib.mjs';
import { composeSteps, composeChecks } from './compose.mjs';
import { readSteps } from './read.mjs';

describe('SOGo through smime-proxy', () => {
  before(async () => {
    ctx.stack = { ...(await stackEnv()), ...(await sogoEnv()) };
    const s = ctx.stack;
    ctx.sites = [`${s.E2E_SOGO_SITE}=sogo,submission=${s.E2E_SOGO_SUBMISSION_HOST}:${s.E2E_SOGO_SUBMISSION_PORT}`];
    console.log(`e2e sogo: run ${runId}`);
  });

  after(async () => {
    await shutdown();
    printTimings();
    console.log(`e2e sogo: screenshots and logs in ${OUT}`);
    setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  });
  process.on('exit', () => { if (ctx.proxy && ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL'); });

  step('preflight: the base stack and the SOGo stack are up', async () => {
    assert.ok(!process.env.E2E_PROXY_ADDR, 'this suite starts its own proxy (unset E2E_PROXY_ADDR)');
    const [base, sogo] = await Promise.all([stackStatus(), sogoStatus()]);
    if (base) assert.fail(`the base stack is not (fully) running; start it with tests/e2e/stack.sh start\n${base}`);
    if (sogo) assert.fail(`the SOGo stack is not (fully) running; start it with tests/e2e/sogo/stack.sh all\n${sogo}`);
  }, 40_000);

  step('preflight: smime-proxy listens (--site <sogo>=sogo,submission=…, keys unlocked)', startProxy, 90_000);

  step('SOGo is intercepted: a certificate from the proxy CA', async () => {
    const { cert, authorized, authorizationError } =
      await proxyCertThroughProxy(ctx.stack.E2E_SOGO_HOST, ctx.stack.E2E_SOGO_PORT);
    assert.ok(authorized, `the leaf (issuer "${cert.issuer}") chains to the proxy CA (${authorizationError})`);
    assert.equal(cert.issuer.match(/^CN=(.*)$/m)?.[1], PROXY_INTERMEDIATE_CN, 'through the run\'s intermediate');
    assert.ok(cert.checkHost(ctx.stack.E2E_SOGO_HOST), `the leaf is valid for ${ctx.stack.E2E_SOGO_HOST}`);
    assert.ok(!cert.checkIssued(new X509Certificate(readFileSync(ctx.stack.E2E_SOGO_CA))), 'not SOGo\'s own leaf');
  });

  step('chromium starts, through the proxy, trusting only the proxy CA (by SPKI)', startBrowser, 40_000);

  step('the SOGo login page comes through the proxy, with its certificate', async () => {
    const page = ctx.page;
    await page.goto('about:blank');
    const res = await page.goto(ctx.stack.E2E_SOGO_URL, { waitUntil: 'domcontentloaded' });
    assert.equal(res.status(), 200, `login page status (${res.url()})`);
    const sec = await res.securityDetails();
    assert.ok(sec, 'an HTTPS response has security details');
    assert.equal(sec.issuer, PROXY_INTERMEDIATE_CN, 'the page certificate is issued by the proxy CA\'s intermediate');
    assert.equal(sec.subjectName, ctx.stack.E2E_SOGO_HOST);
    await page.locator('form[name=loginForm] input[ng-model="app.creds.username"]').waitFor();
    assert.equal(await page.locator('#smime-proxy-controls').count(), 0, 'no S/MIME controls on the login page');
    await shot('sogo login page');
  });

  composeSteps();
  readSteps();
  composeChecks();
});
