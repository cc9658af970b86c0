import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it); overridable for other machines. */
export const CHROMIUM_PATH = process.env.HWLAT_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine without internet (background fetches are refused). */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/** Why browser tests cannot run here, or undefined when Chromium is present. */
export function browserUnavailable(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, as .ci/run does)`;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh profile directory, removed again on close.
 * `webgpu: true` adds `--enable-unsafe-webgpu` (a software adapter here: functional, not fast).
 */
export async function launchBrowser(options: { webgpu?: boolean; extraArgs?: string[] } = {}): Promise<LaunchedBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-chromium-'));
  const args = [...CHROMIUM_ARGS, ...(options.webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader'] : ['--disable-gpu']), ...(options.extraArgs ?? [])];
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, headless: true, args });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
