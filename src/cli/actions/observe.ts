/**
 * The observers of one `visionpipe run` (flags in ../observe-flags.ts): metrics server,
 * structured log, alerts, cost budget and the report, started and stopped with the run.
 */
import { readFileSync } from 'node:fs';
import { AlertSender } from '../../metrics/alert-webhooks.js';
import { ALERT_DEFAULTS, type Alert, AlertMonitor } from '../../metrics/alerts.js';
import { createRunLog, type RunLog } from '../../metrics/log.js';
import type { Metrics } from '../../metrics/prometheus.js';
import { type MetricsServer, serveMetrics } from '../../metrics/serve-metrics.js';
import { refusedForRate, subscribe } from '../../observe/events.js';
import type { RunRecord } from '../../pipeline/record.js';
import type { TimelineEvent } from '../../report/figures.js';
import { writeReport } from '../../report/index.js';
import { CostBudget, type CostEstimator } from '../../runs/budget.js';
import { successOutcome } from '../../runs/quality.js';
import type { Summary } from '../../runs/summary.js';
import type { ObserveFlags } from '../observe-flags.js';
import type { Progress } from '../progress.js';

export interface RunObservers {
  /** Passes inputs on while the cost budget allows (all of them without --max-cost-usd). */
  gate<T>(items: AsyncIterable<T>): AsyncIterable<T>;
  /** Every result of the run as it is made (runBatch's onRecord), resumed ones included. */
  record(record: RunRecord): void;
  /**
   * How the budget counts a record whose cost is unknown (runs/budget.ts costUnknown); a
   * no-op without --max-cost-usd.
   */
  estimateCostsWith(estimate: CostEstimator): void;
  /** The run's input count, once counted (the budget projects the run's total cost from it). */
  expect(total: number): void;
  /** Why the run stopped early for its budget, or undefined. */
  readonly budgetStopped: string | undefined;
  started(details: Record<string, string | number>): void;
  /** The run's confidence threshold (the summary's): the live success-rate alert judges by it. */
  judgeWith(minConfidence: number | undefined): void;
  /** Logs the end, writes the report, sends pending alerts; /metrics stays up (call linger). */
  finish(
    summary: Summary,
    context: { results: string; completed: boolean; config: Record<string, string> },
  ): Promise<void>;
  /**
   * Keeps /metrics up for --metrics-linger (a last scrape sees the final figures and
   * `visionpipe_run_in_progress 0`), then closes everything. Called after the summary is
   * printed, so a user or a script sees the run's end while the scrape window is open.
   * `stop` (SIGINT/SIGTERM) ends it at once, or skips it when it already fired: a
   * stopped process must exit promptly, not after the scrape window.
   */
  linger(stop: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function startRunObservers(
  flags: ObserveFlags,
  progress: Progress,
  subject: string,
): Promise<RunObservers> {
  const log: RunLog = createRunLog({
    ...(flags.logFile ? { file: flags.logFile, level: flags.logLevel } : {}),
    ...(process.stderr.isTTY ? { console: (line: string) => progress.log(line) } : {}),
  });
  let metrics: Metrics | undefined;
  let server: MetricsServer | undefined;
  let running: { set(value: number): void } | undefined;
  if (flags.metricsPort !== undefined) {
    // prom-client (32 modules) loads only for a run that serves metrics.
    const { createMetrics } = await import('../../metrics/prometheus.js');
    metrics = createMetrics();
    const { Gauge } = await import('prom-client');
    running = new Gauge({
      name: 'visionpipe_run_in_progress',
      help: '1 while the run is going, 0 once it ended (scrape once more, then it exits)',
      registers: [metrics.registry],
    });
    running.set(1);
    server = await serveMetrics(metrics, flags.metricsPort, flags.metricsHost);
    progress.log(`Metrics at ${server.url}/metrics`);
  }
  const budget = flags.maxCostUsd === undefined ? undefined : new CostBudget(flags.maxCostUsd);
  const sender = flags.alertWebhook?.length
    ? new AlertSender(flags.alertWebhook, {
        subject,
        onError: (message) => log.logger.warn({ event: 'alert.undelivered' }, message),
      })
    : undefined;
  const monitor = new AlertMonitor(
    {
      minSuccessRate: flags.alertSuccessRate,
      maxP95Ms: flags.alertP95,
      windowMs: flags.alertWindow,
      minSamples: flags.alertMinSamples,
      intervalMs: flags.alertInterval,
      budgetWarnFraction: ALERT_DEFAULTS.budgetWarnFraction,
      ...(budget ? { budgetUsd: budget.limitUsd } : {}),
    },
    (alert: Alert) => {
      log.logger.warn(
        { event: 'alert', condition: alert.condition, state: alert.state, value: alert.value },
        alert.message,
      );
      sender?.send(alert);
    },
  ).start();
  const timeline: TimelineEvent[] = [];
  let minConfidence: number | undefined;
  const unsubscribe = [
    // The summary's definition of a success (runs/quality.ts successOutcome), threshold included.
    subscribe('image', ({ record }) => {
      const outcome = successOutcome(record, minConfidence);
      monitor.image(
        outcome === 'success',
        record.latency_ms,
        outcome === 'not_attempted',
        record.attempts > 0,
      );
    }),
    subscribe('circuit', (e) => monitor.circuit(e.provider, e.state === 'open' || e.state === 'isolated')),
    ...(flags.report
      ? [
          subscribe('retry', () => timeline.push({ at: Date.now(), kind: 'retry' })),
          subscribe('attempt', (e) => {
            if (refusedForRate(e)) timeline.push({ at: Date.now(), kind: 'rate_limited' });
          }),
        ]
      : []),
  ];
  const projectCost = () => {
    if (!budget) return;
    const total = budget.totalCount;
    monitor.cost(budget.projectedUsd, {
      spentUsd: budget.spentUsd,
      done: budget.doneCount,
      ...(total === undefined ? {} : { total }),
    });
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const off of unsubscribe) off();
    monitor.stop();
    await sender?.flush();
    await server?.close();
    metrics?.close();
    log.close();
  };
  return {
    gate: (items) => (budget ? budget.gate(items) : items),
    estimateCostsWith: (estimate) => budget?.estimateWith(estimate),
    record(record) {
      if (!budget) return;
      budget.finished(record);
      projectCost();
    },
    expect(total) {
      if (!budget) return;
      budget.setTotal(total);
      if (budget.doneCount > 0) projectCost();
    },
    get budgetStopped() {
      return budget?.stopped;
    },
    judgeWith(min) {
      minConfidence = min;
    },
    started(details) {
      log.logger.info(
        { event: 'run.start', visionpipe: packageVersion(), ...details },
        `run started: ${subject}`,
      );
    },
    async finish(summary, context) {
      if (budget?.stopped) {
        log.logger.warn(
          { event: 'budget.stopped', spent_usd: budget.spentUsd, budget_usd: budget.limitUsd },
          budget.stopped,
        );
        const total = budget.totalCount;
        monitor.cost(Math.max(budget.projectedUsd, budget.limitUsd), {
          spentUsd: budget.spentUsd,
          done: budget.doneCount,
          ...(total === undefined ? {} : { total }),
        });
      }
      const { alerts: _alerts, ...figures } = summary;
      log.logger.info(
        { event: 'run.end', completed: context.completed, ...figures },
        `run ended: ${summary.total} images`,
      );
      if (flags.report) {
        await writeReport({
          results: context.results,
          out: flags.report,
          events: timeline,
          waits: { held_ms: summary.rate_limited.held_ms, paced_ms: summary.rate_limited.paced_ms },
          config: { visionpipe: packageVersion(), ...context.config },
          warn: (message) => progress.log(`warning: ${message}`),
        });
      }
      running?.set(0);
      await sender?.flush();
    },
    async linger(stop) {
      if (server && !closed && flags.metricsLinger > 0 && !stop.aborted) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            stop.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, flags.metricsLinger);
          stop.addEventListener('abort', done, { once: true });
        });
      }
      await close();
    },
    close,
  };
}
