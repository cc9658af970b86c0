import { Command } from 'commander';
import type { CampaignProgress } from '../../protocol/index.ts';
import { emit, intOption, numberOption, table } from '../output.ts';
import { examples } from '../help-examples.ts';

function httpUrl(flag: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TypeError(`'${flag}' must be an http:// or https:// URL, got '${value}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`'${flag}' must be an http:// or https:// URL, got '${value}'`);
  return u.origin;
}

async function call(method: string, url: string, token?: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`cannot reach the collector at ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new Error(`collector answered ${res.status}: ${json.error ?? res.statusText}`);
  return json;
}

function progressTable(progress: CampaignProgress[]): string {
  return table(
    ['device', 'done', 'leased', 'queued', 'failed', 'total'],
    progress.map((p) => [p.deviceId, p.done, p.leased, p.queued, p.failed, p.total]),
  );
}

export function campaignCommand(): Command {
  const cmd = new Command('campaign')
    .description('ask the fleet to profile a space (create) and follow its progress (status)')
    .addHelpText('after', examples('hwlat campaign create --collector http://127.0.0.1:8700 --space fbnet --ops --networks 300', 'hwlat campaign status --collector http://127.0.0.1:8700'));
  cmd
    .command('create')
    .description("create a campaign: every matching device profiles the space's layer keys and/or N sampled networks")
    .requiredOption('--collector <url>', 'collector HTTP URL, e.g. http://HOST:8700')
    .option('--token <secret>', 'collector token (default: $HWLAT_TOKEN)')
    .requiredOption('--space <name>', 'search space')
    .option('--ops', 'profile every distinct layer key of the space')
    .option('--max-ops <n>', 'at most this many layer keys', intOption('--max-ops', 1))
    .option('--networks <n>', 'sampled networks to profile', intOption('--networks', 0), 0)
    .option('--seed <n>', 'sampler seed', intOption('--seed', 0), 0)
    .option('--fewshot <k>', 'also the K networks the few-shot plan picks from the fleet (then `hwlat fewshot --db --device` predicts the rest)', intOption('--fewshot', 1))
    .option('--devices <list>', "'all' (also devices that join later) or comma-separated device ids", 'all')
    .option('--batch <n>', 'batch size', intOption('--batch', 1), 1)
    .option('--warmup <n>', 'warm-up runs', intOption('--warmup', 0), 3)
    .option('--repeats <n>', 'minimum timed runs', intOption('--repeats', 1), 10)
    .option('--min-time <ms>', 'minimum timed ms per model', numberOption('--min-time', 0), 200)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'HWLAT_TOKEN=… hwlat campaign create --collector http://127.0.0.1:8700 --space fbnet --ops --networks 300',
        'hwlat campaign create --collector http://192.168.1.20:8700 --space nasbench201 --networks 100 --fewshot 10 --devices dev-0123456789ab,dev-1a2b3c4d5e6f --json',
      ),
    )
    .action(async (o: { collector: string; token?: string; space: string; ops?: boolean; maxOps?: number; networks: number; seed: number; devices: string; batch: number; warmup: number; repeats: number; minTime: number; fewshot?: number; json?: boolean }) => {
      const base = httpUrl('--collector', o.collector);
      const token = o.token ?? process.env.HWLAT_TOKEN;
      if (!token) throw new TypeError("'--token' (or $HWLAT_TOKEN) is required to create a campaign");
      const devices = o.devices === 'all' ? 'all' : o.devices.split(',').map((s) => s.trim()).filter(Boolean);
      const created = await call('POST', `${base}/api/campaigns`, token, {
        space: o.space, ops: Boolean(o.ops), maxOps: o.maxOps, networks: o.networks, seed: o.seed, devices, fewshot: o.fewshot,
        settings: { batch: o.batch, warmup: o.warmup, minRepeats: o.repeats, minTimeMs: o.minTime },
      });
      emit(Boolean(o.json), created, () => `campaign ${created.id}: ${created.tasks} tasks per device on ${o.space}\n${progressTable(created.progress)}`);
    });
  cmd
    .command('status')
    .description('progress of one campaign (--id) or of all, per device')
    .requiredOption('--collector <url>', 'collector HTTP URL')
    .option('--id <campaign>', 'campaign id')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('hwlat campaign status --collector http://127.0.0.1:8700', 'hwlat campaign status --collector http://127.0.0.1:8700 --id <campaign id> --json'))
    .action(async (o: { collector: string; id?: string; json?: boolean }) => {
      const base = httpUrl('--collector', o.collector);
      if (o.id) {
        const c = await call('GET', `${base}/api/campaigns/${encodeURIComponent(o.id)}`);
        emit(Boolean(o.json), c, () => `campaign ${c.id} (${c.request.space}, ${c.tasks} tasks per device)\n${progressTable(c.progress)}`);
      } else {
        const { campaigns } = await call('GET', `${base}/api/campaigns`);
        emit(Boolean(o.json), campaigns, () =>
          campaigns.map((c: any) => `campaign ${c.id} (${c.request.space}, ${c.tasks} tasks per device)\n${progressTable(c.progress)}`).join('\n\n') || 'no campaigns',
        );
      }
    });
  return cmd;
}
