// Setting up from nothing (issue 17): `smime-proxy ca install` into a fresh home makes a
// Chromium that was given only the PAC URL (no --ignore-certificate-errors-spki-list) load the
// real webmail through the proxy; a .p12 imported through the proxy's own page (a real
// upload in Chromium) is stored, unlocked and signs; the webmail's page, another origin,
// cannot import anything. Runs at the end of suite.mjs (it adds a key to the suite's proxy).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ctx, step, shot, run, proxyBin, proxyCli, openssl, ORIGIN_HOST, ACTION_TIMEOUT, PROXY_INTERMEDIATE_CN,
} from './harness.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function onboardSteps() {
  step('ca install into a fresh home: Chromium with only the PAC URL loads the webmail through the proxy', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-home-'));
    const { chromium } = await import('playwright-core');
    let browser;
    try {
      const env = { ...process.env, HOME: home };
      const { stdout } = await run(proxyBin(), ['--config-dir', ctx.configDir, 'ca', 'install',
        '--system-root', path.join(home, 'no-system')], { env, timeout: 30_000 });
      assert.match(stdout, /^Chromium NSS database .*\/\.pki\/nssdb: trusted now \(added\)$/m, stdout);
      browser = await chromium.launch({
        executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
        args: [...CHROMIUM_ARGS, `--proxy-pac-url=http://${ctx.proxyAddr}/proxy.pac`],
        env,
      });
      const page = await browser.newPage();
      const res = await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
      assert.equal(res.status(), 200);
      await page.locator('#rcmloginuser').waitFor({ state: 'visible', timeout: ACTION_TIMEOUT });
      const issuer = (await res.securityDetails())?.issuer || '';
      // The leaf comes from the run's name-constrained intermediate, under the root that
      // `ca install` put into the NSS database (and the page loaded: Chromium trusted it).
      assert.equal(issuer, PROXY_INTERMEDIATE_CN, `the page came with the proxy's certificate (issuer "${issuer}")`);
    } finally {
      await browser?.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  step('a .p12 uploaded on the own page is imported, unlocked and signs; the webmail\'s page cannot import', async () => {
    const page = ctx.page;
    const work = mkdtempSync(path.join(os.tmpdir(), 'smime-proxy-e2e-p12-'));
    try {
      // A key of a new user, exported as a PKCS#12 file as a user would bring it.
      const key = path.join(work, 'erin.key');
      const cert = path.join(work, 'erin.pem');
      const p12 = path.join(work, 'erin.p12');
      for (const args of [
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
          '-days', '30', '-subj', '/CN=Erin', '-addext', 'subjectAltName=email:erin@example.test',
          '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=emailProtection'],
        ['pkcs12', '-export', '-in', cert, '-inkey', key, '-passout', 'pass:erin export', '-out', p12],
      ]) {
        const made = await openssl(args, '');
        assert.equal(made.code, 0, made.stderr);
      }

      // The webmail's page posts the same form to the own origin: refused, nothing imported.
      await page.goto(ctx.stack.E2E_WEBMAIL_URL, { waitUntil: 'domcontentloaded' });
      await Promise.all([
        page.waitForURL(`https://${ORIGIN_HOST}/api/keys/import`),
        page.evaluate((action) => {
          const form = document.createElement('form');
          Object.assign(form, { method: 'post', action, enctype: 'multipart/form-data' });
          for (const [name, value] of [['token', '0'.repeat(64)], ['p12_passphrase', 'x'], ['store_passphrase', 'y']]) {
            const input = document.createElement('input');
            Object.assign(input, { type: 'hidden', name, value });
            form.append(input);
          }
          document.body.append(form);
          form.submit();
        }, `https://${ORIGIN_HOST}/api/keys/import`),
      ]);
      assert.match(await page.locator('body').innerText(), /refused/);

      // The own page: choose the file, give both passphrases, import.
      await page.goto(`https://${ORIGIN_HOST}/`, { waitUntil: 'domcontentloaded' });
      assert.ok(!(await page.content()).includes('erin@example.test'), 'not imported by the other origin');
      const form = page.locator('#import-key');
      await form.locator('input[name="p12"]').setInputFiles(p12);
      await form.locator('input[name="p12_passphrase"]').fill('erin export');
      await form.locator('input[name="store_passphrase"]').fill(ctx.storePassphrase);
      await Promise.all([page.waitForURL(`https://${ORIGIN_HOST}/`), form.locator('button').click()]);
      const home = await page.content();
      assert.match(home, /erin@example\.test/, 'erin\'s key is listed');
      assert.match(home, /Unlocked \([0-9]+ keys\)/, `the store is unlocked, erin's key with the others: ${home.match(/(Locked|Unlocked)[^<]*/)?.[0]}`);
      await shot('own page, a key imported');

      // The stored key signs; OpenSSL verifies the signature.
      const message = path.join(work, 'message.eml');
      writeFileSync(message, 'From: erin@example.test\r\nTo: bob@example.test\r\nSubject: t\r\n\r\nIMPORTED-ON-THE-PAGE\r\n');
      const signed = path.join(work, 'signed.eml');
      await proxyCli('message', 'sign', '--from-store', 'erin@example.test', '--store-passphrase-file',
        path.join(ctx.configDir, 'store-passphrase.txt'), '--in', message, '--out', signed);
      const verified = await openssl(['cms', '-verify', '-in', signed, '-CAfile', cert, '-purpose', 'any'], '');
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout.toString(), /IMPORTED-ON-THE-PAGE/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
}
