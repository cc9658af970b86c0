import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { openStore, startCollector } from '../../collector/index.ts';
import { intOption } from '../output.ts';

export function serveCommand(): Command {
  return new Command('serve')
    .description('start the collector: HTTP API and the agents\' ws endpoint on one port, results in SQLite')
    .requiredOption('--db <file>', 'SQLite database file (created if missing)')
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0), 8700)
    .option('--host <addr>', "address to listen on ('0.0.0.0' to accept agents from other machines)", '127.0.0.1')
    .option('--token <secret>', 'token agents and write requests must present (default: $HWLAT_TOKEN, else a random one is printed)')
    .option('--lease-ttl <ms>', 'lease lifetime without a heartbeat', intOption('--lease-ttl', 100), 60_000)
    .option('--log-json', 'print server events as JSON lines')
    .action(async (o: { db: string; port: number; host: string; token?: string; leaseTtl: number; logJson?: boolean }) => {
      const token = o.token ?? process.env.HWLAT_TOKEN ?? randomBytes(12).toString('hex');
      const store = openStore({ path: o.db });
      const log = o.logJson ? (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`) : undefined;
      const collector = await startCollector({ store, token, port: o.port, host: o.host, leaseTtlMs: o.leaseTtl, log });
      const shown = o.token || process.env.HWLAT_TOKEN ? '<your token>' : token;
      const lines = [
        `hwlat collector on ${collector.url} (db ${o.db})`,
        `agents:    npx hwlat agent --collector ${collector.wsUrl} --token ${shown}`,
        `campaigns: npx hwlat campaign create --collector ${collector.url} --token ${shown} --space fbnet --ops --networks 300`,
      ];
      if (o.logJson) log?.({ event: 'listening', url: collector.url, wsUrl: collector.wsUrl, port: collector.port });
      else process.stdout.write(`${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await collector.close();
      store.close();
    });
}
