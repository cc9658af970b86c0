/**
 * What the /agent page's progress shows, defined once. Two sources count different things, so
 * they are named apart:
 * - jobs (the bar): the collector's count over every campaign for this device, from every tab and
 *   every visit: `done` of `total`, `failed` given up;
 * - results (the line under it): what this tab measured. A disturbed result is stored marked and
 *   its job measured again, so this tab can hold more results than the jobs it completed.
 */

/** The tab's own counters, updated from the agent loop's events. */
export interface TabCounts {
  leases: number;
  /** results measured by this tab (each sent or kept in the outbox) */
  results: number;
  /** of those, judged disturbed: stored marked, their jobs measured again */
  disturbed: number;
  /** results the collector acknowledged (stored), re-sent ones from earlier visits included */
  acked: number;
  resent: number;
  failedJobs: number;
  /** results in the outbox, measured but not yet acknowledged */
  pending: number;
  connections: number;
}

/** This device's jobs, summed over the collector's campaigns. */
export interface DeviceJobs {
  total: number;
  done: number;
  failed: number;
}

export interface ProgressView {
  /** the bar: jobs finished (done or given up) of `max`; null value = indeterminate */
  value: number | null;
  max: number;
  /** beside the bar, about jobs */
  jobs: string;
  /** under it, about this tab's results */
  results: string;
}

export function emptyCounts(): TabCounts {
  return { leases: 0, results: 0, disturbed: 0, acked: 0, resent: 0, failedJobs: 0, pending: 0, connections: 0 };
}

/**
 * @example
 * progressView({ total: 305, done: 84, failed: 0 }, { ...emptyCounts(), results: 88, disturbed: 4, acked: 85, pending: 3 });
 * // { value: 84, max: 305, jobs: '84 / 305 jobs done', results: 'this tab: 88 results (4 disturbed, their jobs measured again) · 85 stored · 3 waiting to be sent' }
 */
export function progressView(jobs: DeviceJobs | null, c: TabCounts): ProgressView {
  const parts = [`this tab: ${c.results} result${c.results === 1 ? '' : 's'}${c.disturbed ? ` (${c.disturbed} disturbed, their jobs measured again)` : ''}`, `${c.acked} stored`];
  if (c.pending) parts.push(`${c.pending} waiting to be sent`);
  if (c.resent) parts.push(`${c.resent} re-sent`);
  if (c.failedJobs) parts.push(`${c.failedJobs} job${c.failedJobs === 1 ? '' : 's'} failed`);
  const results = parts.join(' · ');
  if (jobs && jobs.total > 0) {
    const finished = jobs.done + jobs.failed;
    return { value: finished, max: jobs.total, jobs: `${jobs.done} / ${jobs.total} jobs done${jobs.failed ? ` (${jobs.failed} given up)` : ''}`, results };
  }
  return { value: null, max: 1, jobs: 'no jobs for this device yet: waiting for a campaign', results };
}
