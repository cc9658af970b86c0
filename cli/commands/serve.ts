import { Command } from 'commander';
import { MIN_TOKEN_CHARS, notifierFor, openStoreAt, redactUrl, startCollector, storeKind } from '../../collector/index.ts';
import { loadPredictor, type LatencyPredictor } from '../../predictor/index.ts';
import { intOption } from '../output.ts';
import { dbOption } from '../store-options.ts';
import { agentPageLink, terminalQr } from '../agent-link.ts';
import { checkTokenLength, collectorToken, maskedLink, readableByOthers } from '../token.ts';

interface ServeFlags {
  db: string;
  port: number;
  host: string;
  token?: string;
  tokenFile?: string;
  leaseTtl: number;
  logJson?: boolean;
  model: string[];
  printLink?: boolean;
  openPredict: boolean;
  allowedHost: string[];
  maxConnections: number;
  maxConnectionsPerAddress: number;
  poolSize: number;
}

function booleanOption(flag: string) {
  return (v: string): boolean => {
    if (/^(true|yes|1|on)$/i.test(v)) return true;
    if (/^(false|no|0|off)$/i.test(v)) return false;
    throw new TypeError(`'${flag}' must be true or false, got '${v}'`);
  };
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      "start the collector: HTTP API and the agents' ws endpoint on one port, results in SQLite, or in PostgreSQL " +
        'shared by several collector replicas (agents fail over between them, dashboards and caches follow every replica\'s writes)',
    )
    .addOption(dbOption({ creates: true, about: 'SQLite database file, or a postgres://USER@HOST:PORT/DATABASE URL that collector replicas share' }))
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0), 8700)
    .option('--host <addr>', "address to listen on ('0.0.0.0' to accept agents from other machines)", '127.0.0.1')
    .option('--token <secret>', `token agents and write requests must present, ${MIN_TOKEN_CHARS}+ characters (visible to other users in ps: prefer $HWLAT_TOKEN or --token-file)`)
    .option('--token-file <file>', "read the token from this file's first line")
    .option('--lease-ttl <ms>', 'lease lifetime without a heartbeat', intOption('--lease-ttl', 100), 60_000)
    .option('--log-json', 'print server events as JSON lines (the token never appears in them)')
    .option('--print-link', "print the browser agent's link with its token, and a QR code of it (else the link is shown with the token masked)")
    .option('--open-predict <bool>', 'prediction endpoints open to anyone (true) or behind the token (false)', booleanOption('--open-predict'), true)
    .option('--allowed-host <name>', 'a host name requests may use besides IP addresses and localhost (the public name behind a reverse proxy); repeatable', collect, [] as string[])
    .option('--max-connections <n>', 'agent connections open at once', intOption('--max-connections', 1), 2000)
    .option('--max-connections-per-address <n>', 'agent connections from one address (raise it behind a NAT or a reverse proxy)', intOption('--max-connections-per-address', 1), 256)
    .option('--pool-size <n>', 'PostgreSQL connections this replica keeps for the store (the notifier adds 3)', intOption('--pool-size', 1), 10)
    .option(
      '--model <dir>',
      'serve this predictor directory (from `hwlat train`) for its device and space instead of training one from the database; repeatable',
      collect,
      [] as string[],
    )
    .addHelpText(
      'after',
      `
The token comes from --token, --token-file, $HWLAT_TOKEN, or else the file <db>.token (a random one is
written there, readable by you only, on the first run). It is never printed unless --print-link asks.
With a PostgreSQL --db, every replica needs the same token from --token, --token-file or $HWLAT_TOKEN,
and the replicas tell each other (and their dashboards) of every write by LISTEN/NOTIFY on that database.

Examples:
  $ hwlat serve                                                  # hwlat.sqlite, token saved in hwlat.sqlite.token
  $ hwlat serve --db lat.sqlite                                  # token saved in lat.sqlite.token
  $ HWLAT_TOKEN=$(cat lat.sqlite.token) hwlat agent --collector ws://127.0.0.1:8700/ws
  $ hwlat serve --db lat.sqlite --host 0.0.0.0 --print-link      # a phone scans the QR code
  $ hwlat serve --db lat.sqlite --open-predict=false --allowed-host lat.example.com
  $ HWLAT_TOKEN=$(cat fleet.token) hwlat serve --db postgres://hwlat@db.lab:5432/hwlat --host 0.0.0.0   # one replica; start more
  $ hwlat agent --collector ws://10.0.0.1:8700/ws,ws://10.0.0.2:8700/ws --token-file fleet.token      # an agent that fails over`,
    )
    .action(async (o: ServeFlags) => {
      const kind = storeKind(o.db);
      if (kind === 'postgres' && o.token === undefined && o.tokenFile === undefined && !process.env.HWLAT_TOKEN) {
        // no <db>.token beside a URL, and replicas that made up a token each would refuse each other's agents
        throw new TypeError(`with a PostgreSQL '--db' the token must come from '--token', '--token-file' or $HWLAT_TOKEN (the same on every replica)`);
      }
      const { token, source, file } = collectorToken({ token: o.token, tokenFile: o.tokenFile, db: o.db });
      checkTokenLength({ token, source, file }, MIN_TOKEN_CHARS);
      if (file && readableByOthers(file)) process.stderr.write(`hwlat: warning: the token file '${file}' is readable by other users; chmod 600 it\n`);
      // predictor directories load before the database opens and the port is taken: a bad one fails fast
      const predictors: LatencyPredictor[] = [];
      for (const dir of o.model) predictors.push(await loadPredictor(dir));
      // a postgres:// URL opens the PostgreSQL store, anything else a SQLite file
      const store = await openStoreAt(o.db, { argument: '--db', poolSize: o.poolSize });
      const log = o.logJson ? (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`) : undefined;
      let collector;
      try {
        collector = await startCollector({
          store, token, port: o.port, host: o.host, leaseTtlMs: o.leaseTtl, log, predictors, openPredict: o.openPredict,
          allowedHosts: o.allowedHost, maxConnections: o.maxConnections, maxConnectionsPerAddress: o.maxConnectionsPerAddress,
          // the store kind picks it: LISTEN/NOTIFY among the replicas of a PostgreSQL database, this process alone on SQLite
          notifier: notifierFor(o.db, { log: log ?? (() => {}) }),
        });
      } catch (e) {
        await store.close();
        throw e;
      }
      const models = predictors.map((p, i) => `${p.data.space} on ${p.data.deviceId} (${o.model[i]})`);
      // the browser agent's link carries the token itself (a phone has no other way to get it), so
      // it is shown in full only on request, and once
      const agentUrl = agentPageLink({ listenHost: o.host, port: collector.port, token });
      const tokenFrom = file ? `--token-file ${file}` : null;
      const agentCmd = tokenFrom ? `npx hwlat agent --collector ${collector.wsUrl} ${tokenFrom}` : `HWLAT_TOKEN=<your token> npx hwlat agent --collector ${collector.wsUrl}`;
      const campaignEnv = file ? `HWLAT_TOKEN=$(cat ${file})` : 'HWLAT_TOKEN=<your token>';
      if (o.logJson) {
        log?.({
          event: 'listening', url: collector.url, wsUrl: collector.wsUrl, agentUrl: maskedLink(agentUrl), port: collector.port, tokenSource: source,
          store: kind, notifier: collector.notifier.kind, replica: collector.notifier.origin,
          ...(file ? { tokenFile: file } : {}), openPredict: o.openPredict, models: predictors.map((p) => ({ device: p.data.deviceId, space: p.data.space })),
        });
        // asked for: once, to the terminal, outside the event stream that logs keep
        if (o.printLink) process.stderr.write(`browser agent link (holds the token): ${agentUrl}\n`);
      } else {
        const lines = [
          `hwlat collector on ${collector.url} (db ${redactUrl(o.db)}${kind === 'postgres' ? `, replica ${collector.notifier.origin}` : ''})`,
          `token:     ${source === 'generated' ? `generated and saved in ${file} (readable by you only)` : source === 'saved' ? `from ${file}` : source === 'file' ? `from ${file}` : source === 'env' ? 'from $HWLAT_TOKEN' : 'from --token'}`,
          `agents:    ${agentCmd}`,
          `campaigns: ${campaignEnv} npx hwlat campaign create --collector ${collector.url} --space fbnet --ops --networks 300`,
          `predict:   curl -s ${collector.url}/api/predict -d '{"device":"DEVICE","space":"fbnet","arch":"…"}'${o.openPredict ? '' : " -H 'Authorization: Bearer <token>'"}`,
          ...(models.length > 0 ? [`models:    ${models.join('; ')}`] : []),
        ];
        if (o.printLink) lines.push(`browser:   ${agentUrl}  (a phone or laptop opens it to become a measured device; scan:)`, await terminalQr(agentUrl));
        else lines.push(`browser:   ${maskedLink(agentUrl)}  (run with --print-link to show the link with its token and a QR code)`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await collector.close();
      await store.close();
    });
}
