// The e2e tests' browser: Debian's Chromium (/usr/bin/chromium), headless, driven by playwright-core,
// with nothing of its own reaching the network (no updates, sync or QUIC).
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
