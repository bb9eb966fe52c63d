import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { describe } from 'vitest';

/** Debian's chromium package; CHROMIUM_BIN overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const CHROMIUM_MISSING_MESSAGE = `chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get update && apt-get install -y chromium\` (CI does this in .ci/run)`;

/**
 * Why the browser tests cannot run here, or null when they can. On CI (CI set) a missing
 * browser is an error, never a skip, as for kcat.
 */
export const chromiumSkipReason: string | null = (() => {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return null;
  } catch {
    if (process.env.CI)
      throw new Error(`${CHROMIUM_MISSING_MESSAGE}; CI must not skip the browser tests`);
    return CHROMIUM_MISSING_MESSAGE;
  }
})();

if (chromiumSkipReason !== null) console.warn(`[skipping browser tests] ${chromiumSkipReason}`);

export const describeWithChromium = describe.skipIf(chromiumSkipReason !== null);

/** Headless Chromium with a fresh profile, removed on close. */
export async function launchChromium(): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
