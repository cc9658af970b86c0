import type { Command } from 'commander';

/** One `hwlat` command: what `hwlat --help` lists, and how to load its module. */
export interface CatalogEntry {
  name: string;
  /** the line `hwlat --help` shows; the command's own --help shows its full description */
  summary: string;
  load(): Promise<Command>;
}

/**
 * Every command, in the order `hwlat --help` lists them. Modules load only when their command runs:
 * together they pull in tfjs, onnxruntime, onnx-proto and SQLite, which takes a second or more
 * that `hwlat --help` should not pay.
 */
export const COMMANDS: readonly CatalogEntry[] = Object.freeze([
  { name: 'profile', summary: 'profile a space on this machine (every layer key, or sampled networks) into SQLite', load: async () => (await import('./commands/profile.ts')).profileCommand() },
  { name: 'ops', summary: 'operators, blocks and search spaces: list them, build ONNX models, list LUT keys', load: async () => (await import('./commands/ops.ts')).opsCommand() },
  { name: 'measurements', summary: 'list stored measurements and the devices they belong to', load: async () => (await import('./commands/measurements.ts')).measurementsCommand() },
  { name: 'lut', summary: 'lookup tables: build one from stored measurements, import or export one', load: async () => (await import('./commands/lut.ts')).lutCommand() },
  { name: 'train', summary: "train a device's latency predictor for a space", load: async () => (await import('./commands/predict.ts')).trainCommand() },
  { name: 'predict', summary: 'predict the latency of an architecture, a CSV of them, or any ONNX model on a device', load: async () => (await import('./commands/predict.ts')).predictCommand() },
  { name: 'eval', summary: 'accuracy of every predictor kind on held-out networks', load: async () => (await import('./commands/predict.ts')).evalCommand() },
  { name: 'serve', summary: "start the collector: HTTP API, dashboard and the agents' ws endpoint", load: async () => (await import('./commands/serve.ts')).serveCommand() },
  { name: 'agent', summary: "the device agent: measure a collector's jobs, or print this device's fingerprint", load: async () => (await import('./commands/agent.ts')).agentCommand() },
  { name: 'campaign', summary: 'ask the fleet to profile a space (create) and follow its progress (status)', load: async () => (await import('./commands/campaign.ts')).campaignCommand() },
  { name: 'setup', summary: "fetch optional runtime parts (onnxruntime-node's CUDA providers)", load: async () => (await import('./commands/setup.ts')).setupCommand() },
  { name: 'demo', summary: 'the main job on one machine: collector, local agents, LUTs, predictors and a report', load: async () => (await import('./commands/demo.ts')).demoCommand() },
  { name: 'fewshot', summary: "predict a new device's latency from a few of its measurements and reference devices", load: async () => (await import('./commands/fewshot.ts')).fewshotCommand() },
  { name: 'onnx', summary: 'ONNX models: strip weights for small uploads', load: async () => (await import('./commands/onnx.ts')).onnxCommand() },
  { name: 'kernels', summary: 'kernels timed in context: run the kernel-sampling campaign, list what is stored', load: async () => (await import('./commands/kernels.ts')).kernelsCommand() },
  { name: 'export', summary: "export a predictor's differentiable expected-latency model (ONNX or JSON)", load: async () => (await import('./commands/export.ts')).exportCommand() },
  { name: 'db', summary: 'copy a database between SQLite and PostgreSQL (either way, without loss)', load: async () => (await import('./commands/db.ts')).dbCommand() },
  { name: 'search', summary: 'a differentiable architecture search (supernet on MNIST) with E[latency] in the loss', load: async () => (await import('./commands/search.ts')).searchCommand() },
]);

/** The command an argument list runs (`hwlat help <name>` counts as <name>); undefined for none. */
export function commandIn(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
