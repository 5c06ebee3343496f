import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`; .ci/run installs it), or CHROMIUM_PATH. No
 * browser is downloaded. Missing, the browser tests FAIL with this message: a console that was
 * never opened in a browser is not tested.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`the web console's browser tests need Chromium: none at ${candidates.join(', ')}. Install it (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  return found;
}

/** One headless Chromium per test file, shared by its tests (each test opens its own context). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: CI and this machine run the tests as root, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
}
