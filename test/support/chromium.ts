// Headless Chromium for the dashboard tests: the system's chromium, no sandbox (CI containers), no
// network of its own, one page at the dashboard's usual size.
import { type Browser, chromium, type Page } from "playwright-core";
import { findTool } from "./tools.js";

export const CHROMIUM = findTool("chromium") ?? "/usr/bin/chromium";

export async function launchHeadless(
  viewport: { width: number; height: number } = { width: 1400, height: 900 },
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return { browser, page: await browser.newPage({ viewport }) };
}
