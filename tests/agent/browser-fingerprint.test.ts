// The browser agent's pure parts, in Node: device profiles from what a page sees, the SHA-256 its
// ids use where Web Crypto is missing (plain-http LAN pages), ids.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { browserName, browserProfile, osName, type BrowserEnv } from '../../agent/browser/fingerprint.ts';
import { sha256Hex } from '../../agent/browser/sha256.ts';
import { randomId } from '../../agent/ids.ts';
import { DeviceProfileSchema } from '../../protocol/index.ts';

const PIXEL_UA = 'Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const EDGE_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

const PIXEL: BrowserEnv = {
  userAgent: PIXEL_UA, platform: 'Linux armv81', hardwareConcurrency: 8, deviceMemory: 8, architecture: 'arm', model: 'Pixel 7',
  gpu: { vendor: 'arm', architecture: 'valhall', device: '', description: 'Mali-G710' },
};
const WASM = { backend: 'ort-web', provider: 'wasm', version: '1.30.0', threads: 1 };
const WEBGPU = { ...WASM, provider: 'webgpu' };

test('sha256Hex matches node:crypto, padding edges and UTF-8 included', () => {
  for (const s of ['', 'abc', 'x'.repeat(55), 'y'.repeat(56), 'z'.repeat(64), 'é☃𝄞'.repeat(50)]) {
    assert.equal(sha256Hex(s), createHash('sha256').update(s).digest('hex'), `length ${s.length}`);
  }
});

test('browser and OS names come from the user agent', () => {
  assert.equal(browserName(PIXEL_UA), 'Chrome 131');
  assert.equal(browserName(IPHONE_UA), 'Safari 17');
  assert.equal(browserName(FIREFOX_UA), 'Firefox 133');
  assert.equal(browserName(EDGE_UA), 'Edge 131');
  assert.equal(browserName('curl/8'), 'browser');
  assert.equal(osName(PIXEL_UA, ''), 'Android 14');
  assert.equal(osName(IPHONE_UA, 'iPhone'), 'iOS 17');
  assert.equal(osName(EDGE_UA, 'Win32'), 'Windows');
  assert.equal(osName(FIREFOX_UA, 'Linux x86_64'), 'Linux');
});

test('browserProfile: a valid, stable profile; each backend is its own device', () => {
  const wasm = browserProfile(PIXEL, WASM);
  DeviceProfileSchema.parse(wasm);
  assert.match(wasm.id, /^dev-[0-9a-f]{12}$/);
  assert.equal(browserProfile({ ...PIXEL }, { ...WASM }).id, wasm.id, 'same page, same id');
  assert.equal(wasm.name, 'Chrome 131 Android 14 Pixel 7 ort-web:wasm t1');
  assert.equal(wasm.hardware.cores, 8);
  assert.equal(wasm.hardware.memoryBytes, 8 * 2 ** 30);
  assert.equal(wasm.hardware.userAgent, PIXEL_UA);
  assert.deepEqual(wasm.hardware.gpus, [{ vendor: 'arm', model: 'valhall Mali-G710' }]);

  const gpu = browserProfile(PIXEL, WEBGPU);
  assert.notEqual(gpu.id, wasm.id, 'wasm and webgpu are separate devices');
  assert.equal(gpu.runtime.provider, 'webgpu');
  assert.match(gpu.name, /ort-web:webgpu t1 \(arm valhall Mali-G710\)$/);
  assert.notEqual(browserProfile(PIXEL, { ...WASM, threads: 4 }).id, wasm.id, 'threads change the device');
  assert.notEqual(browserProfile({ ...PIXEL, userAgent: PIXEL_UA.replace('Chrome/131', 'Chrome/132') }, WASM).id, wasm.id, 'a browser update is a new device');
  assert.notEqual(browserProfile({ ...PIXEL, model: 'Pixel 8' }, WASM).id, wasm.id);
  // a desktop without userAgentData or a GPU still gets a valid profile
  const plain = browserProfile({ userAgent: FIREFOX_UA, platform: 'Linux x86_64', hardwareConcurrency: 4, gpu: null }, WASM);
  assert.equal(plain.hardware.arch, 'x86');
  assert.equal(plain.hardware.memoryBytes, 0);
  assert.deepEqual(plain.hardware.gpus, []);
});

test('browserProfile rejects bad input with errors naming it', () => {
  assert.throws(() => browserProfile(PIXEL, { ...WASM, threads: -1 }), { name: 'TypeError', message: /'runtime\.threads'/ });
  assert.throws(() => browserProfile(null as unknown as BrowserEnv, WASM), { name: 'TypeError', message: /'env'/ });
});

test('randomId gives distinct UUID v4 strings', () => {
  const ids = new Set(Array.from({ length: 100 }, () => randomId()));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
