import cliProgress from 'cli-progress';

/** Prints JSON for scripts (`--json`) or plain text for people. */
export function emit(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** A progress bar on stderr (so `--json` stdout stays clean); silent when stderr is not a TTY. */
export function progressBar(label: string, total: number): { update(done: number, note?: string): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {note}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { note: '' });
  return {
    update: (done, note = '') => bar.update(done, { note }),
    stop: () => bar.stop(),
  };
}

/** A plain text table with left-aligned columns. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}

/** Parses a CLI integer option, naming the flag in the error. */
export function intOption(flag: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`'${flag}' must be an integer >= ${min}, got '${value}'`);
    return n;
  };
}

export function numberOption(flag: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new RangeError(`'${flag}' must be a number >= ${min}, got '${value}'`);
    return n;
  };
}

/** An option whose value must be one of `known`; the error names the flag and lists them. */
export function choiceOption<T extends string>(flag: string, known: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(known as readonly string[]).includes(v)) throw new RangeError(`'${flag}' must be one of ${known.join(', ')}, got '${v}'`);
    return v as T;
  };
}
