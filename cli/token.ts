import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

/** Where a token came from, for what the CLI prints (never the token itself). */
export type TokenSource = 'flag' | 'file' | 'env' | 'saved' | 'generated';

/**
 * Reads a token from a file (first line, trimmed): a file the user can keep readable by them only,
 * unlike a command line, which every user of the machine sees in `ps`.
 */
export function readTokenFile(file: string, flag = '--token-file'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TypeError(`'${flag}': cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token.length === 0) throw new TypeError(`'${flag}': '${file}' is empty; put the token on its first line`);
  return token;
}

/** Whether other users may read the file (group or world bits), which a token file should not allow. */
export function readableByOthers(file: string): boolean {
  return (statSync(file).mode & 0o077) !== 0;
}

/**
 * The collector's token: `--token`, else `--token-file`, else $HWLAT_TOKEN, else the one saved
 * beside the database by an earlier run (`<db>.token`), else a new random one saved there (mode
 * 600) so agents and later runs can read it and it never has to be printed.
 */
export function collectorToken(o: { token?: string; tokenFile?: string; db: string }): { token: string; source: TokenSource; file?: string } {
  if (o.token !== undefined) return { token: o.token, source: 'flag' };
  if (o.tokenFile !== undefined) return { token: readTokenFile(o.tokenFile), source: 'file', file: o.tokenFile };
  const env = process.env.HWLAT_TOKEN;
  if (env) return { token: env, source: 'env' };
  const saved = `${o.db}.token`;
  if (existsSync(saved)) return { token: readTokenFile(saved, `${saved}`), source: 'saved', file: saved };
  const token = randomBytes(16).toString('hex');
  writeFileSync(saved, `${token}\n`, { mode: 0o600 });
  chmodSync(saved, 0o600); // the mode above is masked by the umask; this is not
  return { token, source: 'generated', file: saved };
}

/**
 * Throws when a token from `collectorToken` is shorter than `minChars`, naming where it came from.
 */
export function checkTokenLength(t: { token: string; source: TokenSource; file?: string }, minChars: number): void {
  if (t.token.length >= minChars) return;
  const from = t.source === 'flag' ? "'--token'" : t.source === 'env' ? '$HWLAT_TOKEN' : `'${t.file}'`;
  throw new RangeError(`the token (from ${from}) has ${t.token.length} characters; it needs at least ${minChars} (e.g. \`openssl rand -hex 16\`)`);
}

/** The browser agent's link with its token replaced, for logs and terminals that did not ask for it. */
export function maskedLink(link: string): string {
  return link.replace(/([?&]token=)[^&#]*/, '$1***');
}
