// End-to-end in Firefox: Debian's firefox-esr, driven over WebDriver BiDi (puppeteer-core,
// no browser download), through smime-proxy to the real Roundcube of the shared mail stack.
// The browser is set up the way the README tells a user to: the proxy's PAC file from the
// listen address, and the proxy's CA trusted in the Firefox profile's own certificate
// database by `smime-proxy ca install`. No certificate errors are ignored. Then the same story as the Chromium suite,
// shorter: alice logs in, the compose page has the S/MIME controls, she sends a signed and
// encrypted message to bob (opened with openssl in bob's maildir), and bob reads it
// decrypted and verified in the proxy's frame, the webmail's own document never holding it.
//
//   tests/e2e/stack.sh all && tests/e2e/firefox/stack.sh install
//   cd tests/e2e && npm ci && node --test-reporter=spec firefox/suite.mjs
//
// Environment: as suite.mjs, plus E2E_FIREFOX (default /usr/bin/firefox-esr).
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ctx, step, shot, OUT, run, runId, stackEnv, stackStatus, startProxy, shutdown, proxyBin, waitForMessage, maildirMessages,
  ORIGIN_HOST, ACTION_TIMEOUT,
} from '../harness.mjs';
import { decryptFor, verifyEntity } from '../compose.mjs';

const FIREFOX = process.env.E2E_FIREFOX || '/usr/bin/firefox-esr';
const secret = {
  subject: `firefox e2e ${runId}`,
  marker: `firefox-body-marker-${runId}`,
};

// A Firefox profile that trusts the proxy's CA, put there as a user does it: a home with
// one (never started) Firefox profile, and `smime-proxy ca install`, which finds it through
// profiles.ini and adds the CA to its NSS database (the system store of an empty tree).
async function profileTrustingProxyCa() {
  const home = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-firefox-home-'));
  const profiles = path.join(home, '.mozilla', 'firefox');
  const profile = path.join(profiles, 'e2e.default-esr');
  mkdirSync(profile, { recursive: true });
  writeFileSync(path.join(profiles, 'profiles.ini'),
    '[Profile0]\nName=default-esr\nIsRelative=1\nPath=e2e.default-esr\nDefault=1\n\n[General]\nVersion=2\n');
  const system = path.join(home, 'system');
  mkdirSync(system);
  const { stdout } = await run(proxyBin(), ['--config-dir', ctx.configDir, 'ca', 'install', '--system-root', system],
    { timeout: 30_000, env: { ...process.env, HOME: home } });
  console.log(stdout.trimEnd().replace(/^/gm, 'e2e: ca install: '));
  assert.ok(stdout.split('\n').some((l) => l.startsWith(`Firefox profile ${profile}`) && l.includes('trusted now')),
    'ca install trusted the CA in the Firefox profile');
  const list = await run('certutil', ['-L', '-d', `sql:${profile}`], { timeout: 15_000 });
  assert.match(list.stdout, /smime-proxy local CA\s+C,,/, 'the profile trusts the proxy CA for TLS servers');
  return { home, profile };
}

async function launchFirefox(profile) {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    defaultViewport: { width: 1280, height: 900 },
    extraPrefsFirefox: {
      // Automatic proxy configuration from the listen address, as the setup page says.
      'network.proxy.type': 2,
      'network.proxy.autoconfig_url': `http://${ctx.proxyAddr}/proxy.pac`,
      // The stack's names resolve to 127.0.0.1 through /etc/hosts; no DNS over HTTPS.
      'network.trr.mode': 5,
    },
  });
}

// A fresh browser context (own cookies) with one page; it becomes ctx.page.
async function freshPage() {
  const context = await ctx.browser.createBrowserContext();
  ctx.page = await context.newPage();
  ctx.page.setDefaultTimeout(ACTION_TIMEOUT);
  ctx.page.setDefaultNavigationTimeout(20_000);
  return ctx.page;
}

async function login(user, pass) {
  const page = await freshPage();
  const res = await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
  assert.equal(res?.status(), 200, 'the login page comes through the proxy over HTTPS, its certificate trusted');
  await page.waitForSelector('#rcmloginuser');
  await page.type('#rcmloginuser', user);
  await page.type('#rcmloginpwd', pass);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#rcmloginsubmit')]);
  assert.match(page.url(), /[?&]_task=mail/, `${user} is logged in (at ${page.url()})`);
  await page.waitForSelector('#messagelist');
  return page;
}

// The UID of the newest INBOX message whose list row shows `text`, checking mail until there is one.
async function newestUid(page, text) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const uids = await page.$$eval('#messagelist tbody tr', (rows, t) => rows.filter((r) => r.textContent.includes(t))
      .map((r) => r.querySelector('a[href*="_uid="]')?.getAttribute('href')).filter(Boolean), text);
    if (uids.length) return Math.max(...uids.map((h) => Number(new URL(h, page.url()).searchParams.get('_uid'))));
    assert.ok(Date.now() < deadline, `"${text}" not in the inbox after 20s`);
    await page.evaluate(() => window.rcmail.command('checkmail'));
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('Roundcube through smime-proxy, in Firefox', () => {
  before(async () => {
    ctx.stack = await stackEnv();
    ctx.keyUsers = ['alice', 'bob'];
    ctx.storedCerts = ['alice', 'bob'];
  });

  after(async () => {
    await shutdown();
    console.log(`e2e: screenshots and logs in ${OUT}`);
    setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  });
  process.on('exit', () => { if (ctx.proxy && ctx.proxy.exitCode === null) ctx.proxy.kill('SIGKILL'); });

  step('preflight: the mail stack is up and firefox-esr is installed', async () => {
    const down = await stackStatus(path.join(path.dirname(new URL(import.meta.url).pathname), 'stack.sh'));
    if (down) assert.fail(`not ready; start tests/e2e/stack.sh and install tests/e2e/firefox/stack.sh\n${down}`);
  }, 35_000);

  step('preflight: smime-proxy listens (alice\'s and bob\'s keys unlocked)', startProxy, 90_000);

  step('ca install trusts the proxy CA in a Firefox profile; firefox starts with it and the PAC from the listen address', async () => {
    const { home, profile } = await profileTrustingProxyCa();
    ctx.userDataDir = home;
    ctx.browser = await launchFirefox(profile);
    const page = await freshPage();
    console.log(`e2e: ${await ctx.browser.version()}`);
    // The listen address's setup page sees a browser that goes through the proxy and trusts its CA.
    await page.goto(`http://${ctx.proxyAddr}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#ready', { visible: true });
    await shot('firefox setup page ready');
  }, 60_000);

  step('a Firefox profile without the proxy CA gets a certificate error for the webmail (none is ignored)', async () => {
    const bare = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-firefox-bare-'));
    const browser = await launchFirefox(bare);
    try {
      const page = await browser.newPage();
      const error = await page.goto(ctx.stack.E2E_WEBMAIL_URL).then(() => null, (e) => e.message);
      console.log(`e2e: without the CA: ${error}`);
      assert.match(error ?? 'loaded', /SEC_ERROR_UNKNOWN_ISSUER|MOZILLA_PKIX_ERROR|SSL_ERROR|certificate/i,
        `without the CA the proxy's certificate is refused (got: ${error ?? 'the page loaded'})`);
    } finally {
      await browser.close();
      rmSync(bare, { recursive: true, force: true });
    }
  }, 60_000);

  step('alice logs in; the compose page shows the S/MIME controls', async () => {
    const [user, pass] = ctx.stack.E2E_ALICE.split(':');
    const page = await login(user, pass);
    await page.goto(new URL('?_task=mail&_action=compose', ctx.stack.E2E_WEBMAIL_URL).href, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#compose-subject');
    await page.waitForSelector('#smime-proxy-controls');
    for (const name of ['sign', 'encrypt']) {
      const checked = await page.$eval(`#smime-proxy-controls input[name="_smime_${name}"]`, (e) => e.checked);
      assert.equal(checked, false, `${name} is off by default`);
    }
    await shot('firefox alice compose');
  });

  step('alice sends a signed and encrypted message to bob; openssl opens bob\'s copy', async () => {
    const page = ctx.page;
    const bob = ctx.stack.E2E_BOB.split(':')[0];
    for (const name of ['sign', 'encrypt']) {
      await page.click(`#smime-proxy-controls label.custom-control-label[for="smime-proxy-${name}"]`);
      assert.ok(await page.$eval(`#smime-proxy-controls input[name="_smime_${name}"]`, (e) => e.checked), `${name} switched on`);
    }
    await page.type('#compose_to ul.recipient-input input', `${bob}, `);
    await page.type('#compose-subject', secret.subject);
    await page.type('#composebody', `Dear Bob,\n${secret.marker}\n`);
    await shot('firefox alice compose filled');
    const before = new Set(maildirMessages('bob'));
    await page.click('button.send');
    const file = await waitForMessage('bob', '', /application\/(x-)?pkcs7-mime/i, 30_000, before);
    assert.ok(file, 'an S/MIME message reached bob\'s INBOX');
    const raw = readFileSync(file, 'latin1');
    assert.ok(!raw.includes(secret.marker), 'bob\'s stored copy holds no plaintext');
    const content = await verifyEntity(await decryptFor(file, 'bob'));
    assert.ok(content.includes(secret.marker), 'decrypted with bob\'s key, the signature verifies, the text is inside');
  });

  step('bob reads it in Firefox: decrypted and verified in the proxy\'s frame, not in the webmail\'s page', async () => {
    const [user, pass] = ctx.stack.E2E_BOB.split(':');
    const page = await login(user, pass);
    // Header protection: the webmail lists the subject as "[...]"; the real one is inside.
    const uid = await newestUid(page, '[...]');
    await page.goto(new URL(`?_task=mail&_mbox=INBOX&_uid=${uid}&_action=show`, ctx.stack.E2E_WEBMAIL_URL).href,
      { waitUntil: 'domcontentloaded' });
    const handle = await page.waitForSelector(`#messagebody iframe.smime-proxy-view[src^="https://${ORIGIN_HOST}/view/"]`);
    const frame = await handle.contentFrame();
    await frame.waitForSelector('.smime-banner');
    const banner = await frame.$eval('.smime-banner', (e) => e.textContent);
    assert.match(banner, /Signature valid/, `the banner says the signature is valid (got: ${banner})`);
    const text = await frame.$eval('body', (e) => e.innerText);
    assert.ok(text.includes(secret.marker), 'the frame shows the decrypted text');
    assert.ok(text.includes(secret.subject), 'and the real subject, from inside the encryption');
    await shot('firefox bob reads');
    const outer = await page.evaluate(() => document.documentElement.outerHTML);
    assert.ok(!outer.includes(secret.marker), 'the webmail\'s document holds no plaintext');
    const reach = await page.evaluate(() => {
      const f = document.querySelector('iframe.smime-proxy-view');
      try { return f?.contentDocument?.documentElement?.outerHTML ?? null; } catch { return 'threw'; }
    });
    assert.ok(reach === null || reach === 'threw', 'a script of the webmail page cannot read the proxy frame');
  });
});
