// Imported first by suite.mjs, before ../harness.mjs reads E2E_OUT_DIR: this suite's
// screenshots and logs go to tests/e2e/out/horde-<time>/ unless E2E_OUT_DIR says otherwise.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

if (!process.env.E2E_OUT_DIR) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  process.env.E2E_OUT_DIR = path.join(here, '..', 'out', `horde-${new Date().toISOString().replace(/[:.]/g, '-')}`);
}
