/**
 * Random ids (UUID v4) for agents, passes and results, in Node and in every browser.
 * `crypto.randomUUID` exists only in secure contexts; a phone opening the agent page over
 * plain http on the LAN is not one, but `crypto.getRandomValues` works everywhere.
 *
 * @example
 * randomId(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 */
export function randomId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
