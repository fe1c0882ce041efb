// Opens HTML in the system's Chromium (Debian's `chromium`), headless, offline, with a fresh profile, driven by
// playwright-core (which downloads no browser of its own). A missing browser fails the test with what to install.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots are kept after the run (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenedPage {
  page: Page;
  /** Every URL the page requested (the page itself included). */
  requests: string[];
  consoleErrors: string[];
  close(): Promise<void>;
}

/** Writes `html` to a temporary file and opens it; call `close()` in `finally`. */
export async function openHtml(html: string): Promise<OpenedPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the HTML report tests need it (apt-get install -y chromium; scripts/bootstrap.sh installs it), or set CHROMIUM_PATH`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), '4pass-html-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, html);
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      offline: true,
      viewport: { width: 1200, height: 900 },
    });
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
    const opened = context;
    return {
      page,
      requests,
      consoleErrors,
      close: async () => {
        await opened.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Saves a full-page screenshot under test-artifacts/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
