import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { createBackend, fingerprint, listProviders, nodeProbe, parseBackendSpec, runAgent, type AgentEvent } from '../../agent/index.ts';
import { threadWarning } from '../../conditions/index.ts';
import { emit, intOption, table } from '../output.ts';
import { examples } from '../help-examples.ts';
import { readTokenFile } from '../token.ts';

interface AgentFlags {
  backend: string;
  threads: number;
  json?: boolean;
  collector?: string;
  token?: string;
  tokenFile?: string;
  name?: string;
  stateDir?: string;
  maxJobs: number;
  logJson?: boolean;
}

/** `--collector`'s URLs (comma-separated: collector replicas, used in turn); errors name the flag and the bad URL. */
export function parseCollectors(value: string): string[] {
  const urls = value.split(',').map((u) => u.trim());
  const seen = new Set<string>();
  for (const u of urls) {
    let url: URL | null = null;
    try {
      url = new URL(u);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || !url.host) {
      throw new TypeError(
        urls.length > 1
          ? `'--collector' must be ws:// or wss:// URLs separated by commas; '${u}' is not one`
          : `'--collector' must be a ws:// or wss:// URL, got '${u}'`,
      );
    }
    if (seen.has(u)) throw new TypeError(`'--collector' names '${u}' twice`);
    seen.add(u);
  }
  return urls;
}

/** Checks the collector-mode flags; errors name the flag. */
function checkFlags(o: AgentFlags): { collector: string[]; token: string } {
  const collector = parseCollectors(o.collector as string);
  const token = o.token ?? (o.tokenFile !== undefined ? readTokenFile(o.tokenFile) : undefined) ?? process.env.HWLAT_TOKEN ?? '';
  if (token.length === 0) throw new TypeError("'--token', '--token-file' or $HWLAT_TOKEN is required with '--collector'");
  if (o.json) throw new TypeError("'--json' prints the fingerprint; with '--collector' use '--log-json' for JSON event lines");
  return { collector, token };
}

function short(value: unknown): string {
  return typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : String(value);
}

/** One short line per event for people; null for the chatty ones. */
function humanLine(e: AgentEvent): string | null {
  const time = new Date().toTimeString().slice(0, 8);
  const text = ((): string | null => {
    switch (e.event) {
      case 'start':
        return `agent ${short(e.agentId)} for ${short(e.deviceId)} (${short(e.name)}) → ${Array.isArray(e.collectors) ? e.collectors.join(', ') : short(e.collector)}`;
      case 'connecting':
        return e.attempt === 0 ? null : `reconnecting (attempt ${short(e.attempt)})`;
      case 'connected':
        return `connected to ${short(e.url)} (session ${short(e.session)})`;
      case 'disconnected':
        return `disconnected (${e.error ? short(e.error) : `code ${short(e.code)}`}${e.reason ? `, ${short(e.reason)}` : ''}); retrying in ${short(e.retryInMs)} ms`;
      case 'failover':
        return `collector ${short(e.from)} failed; next: ${short(e.to)}${e.retryInMs ? ` in ${short(e.retryInMs)} ms` : ''} (unacknowledged results go with the agent)`;
      case 'lease':
        return `lease ${short(e.leaseId)}: ${short(e.jobs)} jobs`;
      case 'measuring':
        return `measuring ${short(e.jobs)} jobs`;
      case 'result':
        return `result ${short(e.jobId)} ${short(e.key)}: median ${short(e.median)} ms${e.quality && e.quality !== 'clean' ? ` [${short(e.quality)}]` : ''}${e.sent ? '' : ' (queued)'}`;
      case 'ack':
        return `acked ${(e.resultIds as unknown[]).length} result(s)`;
      case 'resend':
        return `re-sent ${short(e.count)} unacknowledged result(s)`;
      case 'job_failed':
        return `job ${short(e.jobId)} (${short(e.key)}) failed to ${e.stage === 'build' ? 'build' : 'run'}: ${short(e.message)}${e.sent ? '; reported' : ''}`;
      case 'result_dropped':
        return `collector refused result ${short(e.resultId)} (${short(e.code)}): ${short(e.message)}; dropped`;
      case 'error':
        return `collector error ${short(e.code)}: ${short(e.message)}`;
      case 'released':
        return `released lease(s) ${(e.leaseIds as unknown[]).join(', ')}`;
      case 'stopping':
        return `stopping${e.openLeases ? `: releasing ${short(e.openLeases)} unfinished lease(s)` : ''}`;
      case 'stopped':
        return `stopped: ${short(e.results)} results, ${short(e.acked)} acked, ${short(e.failedJobs)} failed jobs, ${short(e.pending)} pending in the outbox`;
      case 'idle':
        return 'no jobs for this device; waiting';
      case 'fatal': // the CLI prints the error itself
      case 'heartbeat':
      case 'closed':
        return null;
      default: {
        const rest = Object.entries(e).filter(([k]) => k !== 'event').map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : short(v)}`);
        return `${e.event} ${rest.join(' ')}`.trim();
      }
    }
  })();
  return text === null ? null : `${time} ${text}`;
}

export function agentCommand(): Command {
  return new Command('agent')
    .description(
      "the device agent: with '--collector' it leases jobs from a collector, measures them and reports the results until Ctrl-C; " +
        "without, it prints this device's fingerprint and the execution providers that really load here",
    )
    .option('--backend <name[:provider]>', "runtime backend and execution provider: ort-node:cpu|cuda|…, or ort-web:wasm (onnxruntime-web's wasm, what browsers run)", 'ort-node:cpu')
    .option('--threads <n>', 'intra-op threads (0 = runtime default)', intOption('--threads', 0), 1)
    .option('--json', 'machine-readable output (fingerprint mode)')
    .option(
      '--collector <ws-url[,ws-url…]>',
      "the collector's agent endpoint, e.g. ws://127.0.0.1:8700/ws; several, comma-separated (replicas on one database): " +
        'the agent uses one and fails over to the next when it fails, its unacknowledged results with it',
    )
    .option('--token <token>', 'the collector token (default: $HWLAT_TOKEN; a command line is visible to other users in ps, prefer $HWLAT_TOKEN or --token-file)')
    .option('--token-file <file>', "read the collector token from this file's first line")
    .option('--name <name>', "display name for this device (its id stays the fingerprint's)")
    .option('--state-dir <dir>', 'folder for the durable outbox (default .hwlat/agent/<device id>)')
    .option('--max-jobs <n>', 'jobs per lease, measured together (1-256)', (v: string) => {
      const n = intOption('--max-jobs', 1)(v);
      if (n > 256) throw new RangeError(`'--max-jobs' must be an integer from 1 to 256, got '${v}'`);
      return n;
    }, 4)
    .option('--log-json', 'print agent events as JSON lines (collector mode)')
    .addHelpText(
      'after',
      examples(
        'hwlat agent                                    # this device\'s fingerprint and the providers that load',
        'hwlat agent --backend ort-node:cuda --json',
        'HWLAT_TOKEN=$(cat hwlat.sqlite.token) hwlat agent --collector ws://127.0.0.1:8700/ws --threads 2',
        'hwlat agent --collector ws://192.168.1.20:8700/ws --token-file ~/.hwlat-token --backend ort-web:wasm --name laptop-wasm --log-json',
        'hwlat agent --collector ws://10.0.0.1:8700/ws,ws://10.0.0.2:8700/ws --token-file ~/.hwlat-token   # two replicas: fails over',
      ),
    )
    .action(async (o: AgentFlags) => {
      if (o.name !== undefined && o.name.trim().length === 0) throw new TypeError(`'--name' must not be empty`);
      const connect = o.collector !== undefined ? checkFlags(o) : null;
      const { name, provider } = parseBackendSpec(o.backend);
      const backend = await createBackend(name, { provider, threads: o.threads });
      try {
        const probed = await fingerprint(backend.info);
        const device = o.name !== undefined ? { ...probed, name: o.name.trim() } : probed;
        // ORT's spinning threads collapse when there are fewer free cores than threads
        const probe = nodeProbe();
        const warning = threadWarning({ threads: backend.info.threads || 1, cores: probe.cores() ?? 1, loadAverage: probe.loadAverage() });
        if (warning !== null) process.stderr.write(`hwlat agent: warning: ${warning}\n`);
        if (connect) {
          const log = o.logJson
            ? (e: AgentEvent) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`)
            : (e: AgentEvent) => {
                const line = humanLine(e);
                if (line !== null) process.stdout.write(`${line}\n`);
              };
          const ctl = new AbortController();
          let signals = 0;
          const onSignal = (sig: NodeJS.Signals) => {
            signals++;
            if (signals === 1) {
              process.stderr.write(`hwlat agent: ${sig}: finishing the measurement in hand (again to exit now)\n`);
              ctl.abort();
            } else {
              process.stderr.write(`hwlat agent: ${sig} again: exiting now; unacknowledged results stay in the outbox\n`);
              process.exit(130);
            }
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          try {
            await runAgent({
              collector: connect.collector,
              token: connect.token,
              backend,
              device,
              stateDir: resolve(o.stateDir ?? join('.hwlat', 'agent', device.id)),
              maxJobs: o.maxJobs,
              log,
              signal: ctl.signal,
            });
          } finally {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          }
          return;
        }
        const providers = await listProviders();
        emit(Boolean(o.json), { device, providers }, () =>
          [
            `device ${device.id}: ${device.name}`,
            `  cpu ${device.hardware.cpu}, ${device.hardware.cores} cores, ${(device.hardware.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${device.hardware.os} ${device.hardware.arch}`,
            `  runtime ${device.runtime.backend}:${device.runtime.provider} ${device.runtime.version}, ${device.runtime.threads} threads`,
            ...device.hardware.gpus.map((g) => `  gpu ${g.vendor} ${g.model}`),
            '',
            'execution providers (onnxruntime-node):',
            table(['provider', 'bundled', 'loads', 'note'], providers.map((p) => [p.name, p.bundled ? 'yes' : 'no', p.loads ? 'yes' : 'no', p.loads ? '' : (p.error ?? '').split('\n')[0]?.slice(0, 90) ?? ''])),
            providers.some((p) => !p.loads && (p.name === 'cuda' || p.name === 'tensorrt')) ? "\nGPU providers need 'hwlat setup --cuda' (and CUDA 12 drivers)." : '',
          ].join('\n'),
        );
      } finally {
        await backend.dispose();
      }
    });
}
