import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { availableParallelism } from 'node:os';
import { agentLabel, DEFAULT_DEMO_AGENTS, fitAgentsToCores, parseDemoAgents } from '../demo/agents.ts';
import { demoNote, runDemo, type DemoResult } from '../demo/run-demo.ts';
import { intOption, table } from '../output.ts';
import { examples } from '../help-examples.ts';
import { dbOption } from '../store-options.ts';
import { MIN_TOKEN_CHARS } from '../../collector/index.ts';
import { checkTokenLength, collectorToken } from '../token.ts';

interface DemoFlags {
  db: string;
  space: string;
  networks: number;
  seed: number;
  agents?: string;
  out: string;
  port: number;
  host: string;
  minTime: number;
  exit?: boolean;
  json?: boolean;
  token?: string;
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

function summary(r: DemoResult): string {
  const rows = r.devices.map((d) => [
    d.label,
    d.deviceId ?? '–',
    `${d.measurements}${d.measuredNow ? ` (+${d.measuredNow} now)` : ''}`,
    d.kind ?? '–',
    pct(d.metrics?.within10),
    pct(d.metrics?.mape),
    d.metrics ? d.metrics.spearman.toFixed(3) : '–',
    d.predictionsPerSecond ? `${Math.round(d.predictionsPerSecond).toLocaleString('en-US')}/s` : '–',
    demoNote(d),
  ]);
  return [
    `hwlat demo: ${r.space}, campaign ${r.campaignId}${r.reusedCampaign ? ' (reused)' : ''}, ${r.seconds.toFixed(0)} s`,
    table(['agent', 'device', 'measurements', 'predictor', '±10%', 'MAPE', 'Spearman', 'predictions', 'note'], rows),
    `accuracy on held-out networks (${r.devices.find((d) => d.metrics)?.metrics?.n ?? 0} per device); report: ${r.report}`,
  ].join('\n');
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'the main job on one machine: a collector on a local SQLite file, local agents (onnxruntime-node with 1 and 2 threads, onnxruntime-web wasm) ' +
        'measuring a campaign one after another, then per device a LUT, a trained predictor, held-out accuracy, prediction speed and an HTML report; ' +
        'the collector and its dashboard keep running until Ctrl-C (or --exit)',
    )
    .addOption(dbOption({ creates: true, about: 'SQLite file (reused: a second run measures only what is missing)' }))
    .option('--space <name>', 'search space', 'fbnet')
    .option('--networks <n>', 'network measurements per device, besides the op LUT', intOption('--networks', 10), 200)
    .option('--seed <n>', 'seed of the sampled networks', intOption('--seed', 0), 0)
    .option('--agents <list>', `local agents, 'backend[:provider][@threads]' comma-separated (default: ${DEFAULT_DEMO_AGENTS.map((a) => `${a.backend}@${a.threads}`).join(',')}, less those needing more cores than the machine has)`)
    .option('--out <dir>', 'folder for the report, models and agent state', 'hwlat-demo')
    .option('--port <n>', 'collector port (0 = any free port)', intOption('--port', 0), 8700)
    .option('--host <addr>', 'collector address', '127.0.0.1')
    .option('--min-time <ms>', 'measurement time per model and round', intOption('--min-time', 0), 100)
    .option('--token <secret>', 'collector token (default: $HWLAT_TOKEN, else the one saved in <db>.token, else a new one saved there, as `hwlat serve` does)')
    .option('--exit', 'stop the collector at the end instead of serving the dashboard')
    .option('--json', 'print the summary as JSON (implies no progress bars)')
    .addHelpText(
      'after',
      examples(
        'hwlat demo                                   # npm start: hwlat.sqlite, hwlat-demo/, dashboard on http://127.0.0.1:8700',
        'hwlat demo --space nasbench201 --networks 50 --agents ort-node@1,ort-web:wasm@1 --exit --json',
      ),
    )
    .action(async (o: DemoFlags) => {
      // the default fleet leaves out agents the machine's cores cannot measure cleanly; a fleet
      // asked for by name runs as asked (the agent itself warns about threads above free cores)
      const fitted = o.agents === undefined ? fitAgentsToCores(DEFAULT_DEMO_AGENTS, availableParallelism()) : null;
      const agents = fitted?.run ?? parseDemoAgents(o.agents as string);
      if (fitted && fitted.skipped.length > 0 && !o.json) {
        process.stderr.write(
          `skipping ${fitted.skipped.map(agentLabel).join(', ')}: ${availableParallelism()} cores leave too few for its threads plus the collector (name it in --agents to run it anyway)\n`,
        );
      }
      // the token `hwlat serve` would use on this database, so the link below, agents given
      // --token-file <db>.token and a later `hwlat serve` all agree
      const token = collectorToken({ token: o.token, db: o.db });
      checkTokenLength(token, MIN_TOKEN_CHARS);
      // progress bars on a terminal; on a pipe (CI logs) a plain line every 10% instead
      const tty = process.stderr.isTTY === true;
      const lastTenth = new Map<string, number>();
      const bars = o.json || !tty
        ? null
        : new cliProgress.MultiBar(
            { format: '{label} [{bar}] {value}/{total} | {note}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
            cliProgress.Presets.shades_classic,
          );
      const barOf = new Map<string, cliProgress.SingleBar>();
      const log = (line: string) => {
        if (o.json) return;
        if (bars) bars.log(`${line}\n`);
        else process.stderr.write(`${line}\n`);
      };
      const r = await runDemo({
        db: o.db, space: o.space, networks: o.networks, seed: o.seed, agents, out: o.out, port: o.port, host: o.host, minTimeMs: o.minTime, token: token.token,
        log,
        onProgress: (e) => {
          if (!bars) {
            const key = `${e.stage} ${e.label}`;
            const tenth = Math.floor((10 * e.done) / Math.max(1, e.total));
            if (!o.json && lastTenth.get(key) !== tenth) {
              lastTenth.set(key, tenth);
              process.stderr.write(`${e.stage} ${e.label}: ${e.done}/${e.total}${e.note ? ` (${e.note})` : ''}\n`);
            }
            return;
          }
          const key = `${e.stage} ${e.label}`;
          let bar = barOf.get(key);
          if (!bar) {
            bar = bars.create(e.total, 0, { label: `${e.stage === 'measure' ? 'measure' : 'train  '} ${e.label.padEnd(16)}`, note: '' });
            barOf.set(key, bar);
          }
          bar.setTotal(e.total);
          bar.update(e.done, { label: `${e.stage === 'measure' ? 'measure' : 'train  '} ${e.label.padEnd(16)}`, note: e.note ?? '' });
        },
      }).finally(() => bars?.stop());
      const { collector, store, ...plain } = r;
      if (o.json) process.stdout.write(`${JSON.stringify({ ...plain, devices: r.devices }, null, 2)}\n`);
      else process.stdout.write(`${summary(r)}\n`);
      const failed = r.devices.every((d) => d.metrics === null);
      if (o.exit || failed) {
        await collector.close();
        await store.close();
        if (failed) throw new Error('no device produced a predictor; see the notes above');
        return;
      }
      if (!o.json) {
        process.stdout.write(
          `dashboard:     ${collector.url}/  (collector still running; Ctrl-C to stop)\n` +
            `browser agent: ${r.agentUrl}  (a phone or laptop that opens it is measured too)\n`,
        );
      }
      await new Promise<void>((res) => {
        process.once('SIGINT', () => res());
        process.once('SIGTERM', () => res());
      });
      await collector.close();
      await store.close();
    });
}
