/**
 * Pages opened in the system's real Chromium (Debian's `chromium` package) driven by
 * playwright-core: headless, no sandbox (root in CI), no background network, a fresh
 * profile per session. No browser is ever downloaded: a missing /usr/bin/chromium fails.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.VISIONPIPE_CHROMIUM ?? '/usr/bin/chromium';

export interface BrowserSession {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors seen so far. */
  errors: string[];
  /** Every URL the page requested (to prove a report fetched nothing). */
  requests: string[];
  /** Writes a full-page screenshot into `dir`; a copy also goes to $VISIONPIPE_SHOTS_DIR when set. */
  screenshot(dir: string, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  return {
    page,
    context,
    errors,
    requests,
    async screenshot(dir, name) {
      const file = path.join(dir, name);
      await page.screenshot({ path: file, fullPage: true });
      const extra = process.env.VISIONPIPE_SHOTS_DIR;
      if (extra) {
        await mkdir(extra, { recursive: true });
        await copyFile(file, path.join(extra, name));
      }
      return file;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface ChartSeries {
  id: string;
  /** Whether Chart.js drew a chart on the canvas. */
  drawn: boolean;
  labels: string[];
  datasets: Array<{ label: string; data: number[] }>;
  /** Canvas width in device pixels (0: not laid out). */
  width: number;
}

/** Every canvas of the page with the Chart.js chart drawn on it (evaluated in the page). */
export function chartsOf(page: Page): Promise<ChartSeries[]> {
  return page.evaluate(`[...document.querySelectorAll('canvas')].map((canvas) => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    return {
      id: canvas.id,
      drawn: Boolean(chart),
      labels: chart ? chart.data.labels.map(String) : [],
      datasets: chart ? chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map(Number) })) : [],
      width: canvas.width,
    };
  })`);
}

/** `data-figure` elements: name → {value (data-value), text}. */
export function figuresOf(page: Page): Promise<Record<string, { value: number; text: string }>> {
  return page.evaluate(`Object.fromEntries([...document.querySelectorAll('[data-figure]')].map((n) =>
    [n.getAttribute('data-figure'), { value: Number(n.getAttribute('data-value')), text: n.textContent }]))`);
}
