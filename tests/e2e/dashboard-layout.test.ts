import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openStore, predictorFor, startCollector, trainingData, type Collector, type SqliteStore } from '../../collector/index.ts';
import { getSpace, sampleArchs, spaceUnits, specKey } from '../../ops-library/index.ts';
import { PREDICTOR_KINDS } from '../../predictor/index.ts';
import type { DeviceProfile, Measurement } from '../../protocol/index.ts';
import { browserUnavailable, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';

// The dashboard as a phone shows it (issue 18 #2, #3): a real collector on 127.0.0.1 over a real
// SQLite file, real headless Chromium. The measurements are a fixture (two FBNet devices, every
// layer and 24 networks each; the second lacks four layers, so its predictions use the regressor):
// what is under test is the page, and the fixture makes its figures known in advance.
const SPACE = getSpace('fbnet');
const PHONE = { width: 390, height: 844 };
const dir = mkdtempSync(join(tmpdir(), 'hwlat-dashboard-layout-'));
const A = 'dev-a11ce0000001';
const B = 'dev-b0b000000002';
const TOKEN = 'dashboard-layout-secret-0123';
/** layers device B never measured (four of archs[0]'s): their latency comes from the per-kernel regressor */
let missing: string[] = [];
let store: SqliteStore;
let collector: Collector;
let browser: LaunchedBrowser | undefined;
let archs: string[];

function device(id: string, name: string): DeviceProfile {
  return {
    id, name,
    hardware: { cpu: 'Fixture CPU with a rather long model name', cores: 8, physicalCores: 4, memoryBytes: 8 * 2 ** 30, os: 'android 14', arch: 'arm64', gpus: [], host: 'phone' },
    runtime: { backend: 'ort-web', provider: 'wasm', version: '1.30.0', threads: 4 },
  };
}

/** A deterministic, key-dependent latency in ms (0.02 to ~0.5). */
function layerMs(key: string, scale: number): number {
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return scale * (0.02 + (h % 1000) / 2000);
}

async function seed(deviceId: string, name: string, scale: number, skip: readonly string[]): Promise<void> {
  await store.upsertDevice(device(deviceId, name));
  const passId = `pass-fixture-${deviceId}`;
  const at = '2025-01-01T00:00:00.000Z';
  await store.startPass({ id: passId, deviceId, startedAt: at, finishedAt: at, calibrationKey: 'fixture', calibrationMs: 2, calibrationTrace: [] });
  const stats = (ms: number, i: number) => {
    const m = ms * (1 + 0.01 * Math.sin(i));
    return { median: m, mean: m, p10: 0.97 * m, p90: 1.04 * m, stddev: 0.02 * m, min: 0.95 * m, cv: 0.02, repeats: 20, outliers: 0 };
  };
  const base = { deviceId, passId, batch: 1, warmup: 2, wallMs: 40, calibrationMs: 2, createdAt: at };
  const ms: Measurement[] = [];
  let i = 0;
  for (const [key, spec] of spaceUnits(SPACE)) {
    if (!skip.includes(key)) ms.push({ ...base, id: `${passId}:op:${i}`, level: 'op', space: SPACE.name, key, spec, stats: stats(layerMs(key, scale), i++) });
  }
  archs.forEach((arch, n) => {
    // the network is faster than its layers run one by one (fusion, no per-call overhead)
    const sum = SPACE.units(arch).reduce((a, u) => a + layerMs(specKey(u), scale), 0);
    ms.push({ ...base, id: `${passId}:net:${n}`, level: 'network', space: SPACE.name, key: arch, stats: stats(0.8 * sum + 0.05, n) });
  });
  assert.equal((await store.insertMeasurements(ms)).inserted, ms.length);
}

before(async () => {
  store = openStore({ path: join(dir, 'lat.sqlite') });
  archs = sampleArchs(SPACE, { count: 24, seed: 5 });
  const fixed = new Set(SPACE.fixedUnits.map(specKey));
  missing = [...new Set(SPACE.units(archs[0] as string).map(specKey))].filter((k) => !fixed.has(k)).slice(0, 4);
  await seed(A, 'pixel-fixture', 1, []);
  await seed(B, 'tablet-fixture-with-a-long-name', 2.5, missing);
  collector = await startCollector({ store, token: TOKEN, port: 0, host: '127.0.0.1' });
  // a campaign waiting for agents: its progress rows are on the page too
  const res = await fetch(`${collector.url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ space: SPACE.name, networks: 3, seed: 2, devices: [A, B], name: 'a campaign with a name long enough to wrap on a phone' }),
  });
  assert.equal(res.status, 201, await res.text());
  if (!browserUnavailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await collector?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs in the page (a string: tsx's helpers do not exist there). Lists every element of a card
 * (the sections, cards and campaign boxes of <main>) that leaves it horizontally, unless it sits
 * inside a table's horizontal scroller, and every chart wider than its box.
 */
const LAYOUT_PROBE = `(() => {
  const out = [];
  const box = (e) => e.getBoundingClientRect();
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  // the nearest ancestor below the card that scrolls horizontally: wider content is reachable there
  const scroller = (e, card) => {
    for (let p = e.parentElement; p && p !== card; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return p;
    }
    return null;
  };
  for (const card of document.querySelectorAll('main > section, main .card, main .campaign')) {
    const c = box(card);
    if (c.right > window.innerWidth + 0.5) out.push(name(card) + ' ends at ' + c.right.toFixed(0) + ' px, past the screen');
    // the outermost offender of each subtree is named, not every element inside it
    const named = new Set();
    for (const e of card.querySelectorAll('*')) {
      if (e.parentElement && named.has(e.parentElement)) {
        named.add(e);
        continue;
      }
      const r = box(e);
      if (r.width === 0 && r.height === 0) continue;
      const s = scroller(e, card);
      if (s && !s.querySelector('table')) {
        out.push(name(s) + ' scrolls sideways (only tables may)');
        named.add(e);
      } else if (!s && (r.right > c.right + 0.5 || r.left < c.left - 0.5)) {
        out.push(name(e) + ' [' + r.left.toFixed(0) + ', ' + r.right.toFixed(0) + '] leaves ' + name(card) + ' [' + c.left.toFixed(0) + ', ' + c.right.toFixed(0) + ']');
        named.add(e);
      }
    }
  }
  for (const chart of document.querySelectorAll('.chart')) {
    const svg = chart.querySelector('svg');
    if (svg && box(svg).width > chart.clientWidth + 0.5) {
      out.push(name(chart) + ' draws ' + box(svg).width.toFixed(0) + ' px in a ' + chart.clientWidth + ' px box');
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, problems: [...new Set(out)] };
})()`;

/** A phone-sized page on the dashboard, with device A's charts drawn; page errors are collected. */
async function phonePage(): Promise<{ page: Page; errors: string[] }> {
  const page = await (browser as LaunchedBrowser).context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.setViewportSize(PHONE);
  await page.goto(collector.url);
  await page.locator(`#device-table tbody tr[data-device="${A}"]`).waitFor({ timeout: 20_000 });
  await page.selectOption('#device-select', A);
  await page.locator('#lut-chart svg g.mark-rect.role-mark path').first().waitFor({ timeout: 30_000 });
  await page.locator('#acc-scatter svg g.mark-symbol.role-mark path').first().waitFor({ timeout: 120_000 });
  await page.locator('#acc-hist svg g.mark-rect.role-mark path').first().waitFor({ timeout: 30_000 });
  return { page, errors };
}

/** Submits the prediction form for `arch` and returns the result's text once it is drawn. */
async function predict(page: Page, arch: string, kind = ''): Promise<string> {
  await page.selectOption('#predict-space', SPACE.name);
  await page.selectOption('#predict-kind', kind);
  await page.fill('#predict-arch', arch);
  await page.click('#predict-submit');
  await page.locator('#predict-ms, #predict-error').first().waitFor({ timeout: 60_000 });
  return page.locator('#predict-result').innerText();
}

test('at 390 px the dashboard fits the screen: no element leaves its card, charts fit their boxes, tables scroll inside theirs; screenshot', async (t) => {
  if (!browser) return t.skip(browserUnavailable());
  const { page, errors } = await phonePage();
  try {
    await predict(page, archs[0] as string);
    const report = (await page.evaluate(LAYOUT_PROBE)) as { scrollWidth: number; problems: string[] };
    const shot = join(tmpdir(), `hwlat-dashboard-390px-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot (390 px): ${shot}`);
    assert.ok(statSync(shot).size > 20_000, 'a screenshot with content was written');
    assert.deepEqual(report.problems, [], 'nothing overflows its card');
    assert.ok(report.scrollWidth <= PHONE.width, `the page is ${report.scrollWidth} px wide on a ${PHONE.width} px screen`);
    // every heatmap column and the legend are drawn inside the box
    const cells = await page.locator('#lut-chart svg g.mark-rect.role-mark path').count();
    assert.equal(cells, SPACE.positions.reduce((a, p) => a + p.choices.length, 0), 'one heatmap cell per candidate');
    assert.equal(await page.locator('#lut-chart svg g.role-legend').count(), 1, 'the heatmap legend');
    assert.equal(await page.locator('.campaign .progress-row').count(), 2, 'the campaign of both devices');

    // turned to a wider screen, the charts grow with their boxes (and still fit them)
    await page.setViewportSize({ width: 1024, height: 800 });
    await page.waitForFunction(() => {
      const chart = document.querySelector('#lut-chart') as HTMLElement;
      const svg = chart.querySelector('svg');
      return svg !== null && svg.getBoundingClientRect().width > 500 && svg.getBoundingClientRect().width <= chart.clientWidth + 0.5;
    }, undefined, { timeout: 10_000 });
    const wide = (await page.evaluate(LAYOUT_PROBE)) as { scrollWidth: number; problems: string[] };
    const wideShot = join(tmpdir(), `hwlat-dashboard-1024px-${process.pid}.png`);
    await page.screenshot({ path: wideShot, fullPage: true });
    t.diagnostic(`screenshot (1024 px): ${wideShot}`);
    assert.deepEqual(wide.problems, [], 'nothing overflows at 1024 px either');
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
});

test('switching device clears the prediction shown for the previous device, and drops one still in flight', async (t) => {
  if (!browser) return t.skip(browserUnavailable());
  const { page, errors } = await phonePage();
  try {
    await predict(page, archs[1] as string);
    assert.equal(await page.locator('#predict-ms').count(), 1, "device A's prediction");
    await page.selectOption('#device-select', B);
    await page.locator('#predict-ms').waitFor({ state: 'detached', timeout: 5_000 });
    assert.equal((await page.locator('#predict-result').innerText()).trim(), '', 'nothing of device A is left under device B');
    assert.equal(await page.inputValue('#predict-device'), B, 'the form follows the selected device');

    // an answer that arrives after the switch is not drawn under the new device
    await page.route('**/api/predict', async (route) => {
      await new Promise((r) => setTimeout(r, 700));
      await route.continue();
    });
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/predict'));
    await page.fill('#predict-arch', archs[1] as string);
    await page.click('#predict-submit');
    await page.selectOption('#device-select', A);
    await (await answered).finished();
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    assert.equal(await page.locator('#predict-ms').count(), 0, 'the late answer for device B is dropped');
    await page.unroute('**/api/predict');

    // changing the form's own device or kind clears it too
    await predict(page, archs[1] as string);
    await page.selectOption('#predict-device', B);
    assert.equal(await page.locator('#predict-ms').count(), 0);
    assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), [], 'no errors in the page');
  } finally {
    await page.close();
  }
});

test('every predictor kind of the registry is offered in the form and evaluated in the accuracy table', async (t) => {
  if (!browser) return t.skip(browserUnavailable());
  const { page, errors } = await phonePage();
  try {
    const offered = await page.locator('#predict-kind option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(offered, ['', ...PREDICTOR_KINDS], 'the default and every kind of the predictor registry');
    for (const kind of PREDICTOR_KINDS) {
      const cells = await page.locator(`#acc-table tr[data-kind="${kind}"] td`).allInnerTexts();
      assert.equal(cells[0], kind);
      assert.match(cells[1] as string, /^\d+\.\d%$/, `${kind} is evaluated: ${cells.join(' | ')}`);
    }
    // the scatter's legend names every kind it draws
    const legend = await page.locator('#acc-scatter svg g.role-legend text').allTextContents();
    for (const kind of PREDICTOR_KINDS) assert.ok(legend.includes(kind), `${kind} in the scatter legend: ${legend.join(' | ')}`);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
});

test("the error histogram's count axis says what it counts", async (t) => {
  if (!browser) return t.skip(browserUnavailable());
  const { page, errors } = await phonePage();
  try {
    const axisTitles = await page.locator('#acc-hist svg g.role-axis-title text').allTextContents();
    assert.ok(axisTitles.includes('held-out networks'), `histogram axis titles: ${axisTitles.join(' | ')}`);
    assert.ok(!axisTitles.some((x) => /Count of Records/.test(x)), 'no default count title');
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
});

test('the prediction says how many layers came from the LUT and the regressor, and where its predictor came from', async (t) => {
  if (!browser) return t.skip(browserUnavailable());
  const { page, errors } = await phonePage();
  try {

    // device A: every layer in the LUT, a predictor trained from the store
    const api = async (device: string, arch: string) =>
      (await (await fetch(`${collector.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device, space: SPACE.name, arch }) })).json()) as {
        breakdown: Array<{ source: string }>; predictor: { networks: number };
      };
    await predict(page, archs[0] as string);
    const a = await api(A, archs[0] as string);
    const textA = await page.locator('#predict-result p.muted').innerText();
    assert.equal(textA.replace(/^LUT sum [\d.]+ ms: /, ''),
      `all ${a.breakdown.length} layers from the LUT; predictor trained by the collector on ${a.predictor.networks} of the device's network measurements`);

    // device B lacks four of these layers: the regressor's share is counted
    await page.selectOption('#device-select', B);
    const b = await api(B, archs[0] as string);
    const fromRegressor = b.breakdown.filter((r) => r.source === 'regressor').length;
    assert.ok(fromRegressor >= 1, 'the fixture leaves layers of archs[0] out of device B');
    await predict(page, archs[0] as string);
    assert.match(await page.locator('#predict-result p.muted').innerText(),
      new RegExp(`: ${b.breakdown.length - fromRegressor} of ${b.breakdown.length} layers from the LUT, ${fromRegressor} from the per-kernel regressor \\(not in the LUT\\); predictor trained by the collector`));
    // a kind the served predictor lacks is the server's clear 400
    assert.match(await predict(page, archs[0] as string, 'encoding-mlp'), /has no 'encoding-mlp' model/);

    // a preloaded predictor (`hwlat serve --model`, the demo) is named as such, and its encoding-mlp kind predicts
    collector.predictors.preload(await predictorFor((await trainingData(store, A, SPACE.name)), { encodingBaseline: true, epochs: 20 }));
    await page.selectOption('#device-select', A);
    const shown = await predict(page, archs[0] as string, 'encoding-mlp');
    assert.match(shown, /· encoding-mlp/);
    assert.match(await page.locator('#predict-result p.muted').innerText(), /: all \d+ layers from the LUT; predictor preloaded when the server started \(`hwlat serve --model` or the demo\), trained on \d+ networks$/);
    assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), [], 'no errors in the page');
  } finally {
    await page.close();
  }
});
