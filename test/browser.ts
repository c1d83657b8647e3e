// What the suites that drive a browser or another runtime share: Debian's Chromium, launched the same
// way everywhere, and the rule for skipping a suite whose runtime is not installed.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * The first of `paths` that is not installed, outside CI (with a warning naming `suite`, `name` and
 * how to install it); under CI nothing is skipped, so the checks fail instead.
 */
export function absent(suite: string, name: string, paths: string[], install: string): string | undefined {
  const missing = process.env.CI ? undefined : paths.find((p) => !existsSync(p));
  if (missing) console.warn(`[${suite}] ${name}: skipped, ${missing} is not installed (${install})`);
  return missing;
}

/** Headless Chromium without the background services, whose connections this machine's closed network refuses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
