import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { openStore, startCollector } from '../../collector/index.ts';
import { loadPredictor, type LatencyPredictor } from '../../predictor/index.ts';
import { intOption } from '../output.ts';
import { agentPageLink, terminalQr } from '../agent-link.ts';

export function serveCommand(): Command {
  return new Command('serve')
    .description('start the collector: HTTP API and the agents\' ws endpoint on one port, results in SQLite')
    .requiredOption('--db <file>', 'SQLite database file (created if missing)')
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0), 8700)
    .option('--host <addr>', "address to listen on ('0.0.0.0' to accept agents from other machines)", '127.0.0.1')
    .option('--token <secret>', 'token agents and write requests must present (default: $HWLAT_TOKEN, else a random one is printed)')
    .option('--lease-ttl <ms>', 'lease lifetime without a heartbeat', intOption('--lease-ttl', 100), 60_000)
    .option('--log-json', 'print server events as JSON lines')
    .option(
      '--model <dir>',
      'serve this predictor directory (from `hwlat train`) for its device and space instead of training one from the database; repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .action(async (o: { db: string; port: number; host: string; token?: string; leaseTtl: number; logJson?: boolean; model: string[] }) => {
      const token = o.token ?? process.env.HWLAT_TOKEN ?? randomBytes(12).toString('hex');
      // predictor directories load before the database opens and the port is taken: a bad one fails fast
      const predictors: LatencyPredictor[] = [];
      for (const dir of o.model) predictors.push(await loadPredictor(dir));
      const store = openStore({ path: o.db });
      const log = o.logJson ? (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`) : undefined;
      let collector;
      try {
        collector = await startCollector({ store, token, port: o.port, host: o.host, leaseTtlMs: o.leaseTtl, log, predictors });
      } catch (e) {
        store.close();
        throw e;
      }
      const shown = o.token || process.env.HWLAT_TOKEN ? '<your token>' : token;
      const models = predictors.map((p, i) => `${p.data.space} on ${p.data.deviceId} (${o.model[i]})`);
      // the browser agent's link carries the token itself: a phone has no other way to get it
      const agentUrl = agentPageLink({ listenHost: o.host, port: collector.port, token });
      const lines = [
        `hwlat collector on ${collector.url} (db ${o.db})`,
        `agents:    npx hwlat agent --collector ${collector.wsUrl} --token ${shown}`,
        `campaigns: npx hwlat campaign create --collector ${collector.url} --token ${shown} --space fbnet --ops --networks 300`,
        `predict:   curl -s ${collector.url}/api/predict -d '{"device":"DEVICE","space":"fbnet","arch":"…"}'`,
        ...(models.length > 0 ? [`models:    ${models.join('; ')}`] : []),
        `browser:   ${agentUrl}  (a phone or laptop opens it to become a measured device; scan:)`,
        await terminalQr(agentUrl),
      ];
      if (o.logJson) {
        log?.({ event: 'listening', url: collector.url, wsUrl: collector.wsUrl, agentUrl, port: collector.port, models: predictors.map((p) => ({ device: p.data.deviceId, space: p.data.space })) });
      } else process.stdout.write(`${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await collector.close();
      store.close();
    });
}
