import './quiet-sdk.ts';
import { ConfigError, type DetectorConfig } from '../../functions/config.ts';
import { seenGranularityMs, silenceLimits } from '../../functions/core/silence.ts';
import type { RulesSnapshot } from '../../functions/live-rules.ts';
import { loadRulesFile } from '../../functions/rules-file.ts';
import { ServiceUnavailableError } from '../embedded/reachable.ts';
import { type LiveView, startLiveView } from '../live/live-server.ts';
import { LOCAL_TABLE_NAME, localDetectorConfig } from '../pipeline/local-detector.ts';
import { type LocalPipeline, startLocalPipeline } from '../pipeline/local-pipeline.ts';
import { describeDetector } from '../rules/rules-cli.ts';
import { type RunningSimulator, startSimulator } from '../simulator/run-simulator.ts';
import { ConsoleReporter } from './console-reporter.ts';
import {
  parseStartOptions,
  START_HELP,
  STOP_SENSOR_SILENCE_SECONDS,
  type StartOptions,
  UsageError,
} from './start-options.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: readonly string[]): Promise<number> {
  let options: StartOptions;
  let config: DetectorConfig;
  try {
    options = parseStartOptions(argv);
    if (options.help) {
      say(START_HELP);
      return 0;
    }
    // The same rules file the CDK app deploys (its "default" wins over --detector).
    const rulesFile = options.rules === undefined ? undefined : loadRulesFile(options.rules);
    if (rulesFile?.defaultDetector !== undefined && options.detectorGiven) {
      throw new UsageError(
        `--detector ${options.defaultDetector.kind} and the "default" of ${options.rules}: choose one`,
      );
    }
    // --silence-seconds wins over the rules file's; --stop-sensor alone watches every sensor.
    const silenceSeconds =
      options.silenceSeconds ??
      rulesFile?.silenceSeconds ??
      (options.stopSensor === undefined ? undefined : STOP_SENSOR_SILENCE_SECONDS);
    config = localDetectorConfig({
      tableName: options.tableName,
      topicArn: options.topicArn,
      slideMs: options.slideSeconds * 1000,
      windowMs: options.windowSeconds * 1000,
      defaultDetector: rulesFile?.defaultDetector ?? options.defaultDetector,
      rules: rulesFile?.rules ?? [],
      alertCooldownMs: options.alertCooldownSeconds * 1000,
      ...(silenceSeconds === undefined ? {} : { silenceSeconds }),
    });
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee: npm start -- --help\n`);
      return 2;
    }
    throw error;
  }

  const reporter = new ConsoleReporter(say);
  say('Starting the local anomaly-detection pipeline…');
  let pipeline: LocalPipeline | undefined;
  const live = options.noLive ? null : await startLive(options, config, reporter, () => pipeline);
  const consoleHooks = reporter.hooks();
  try {
    pipeline = await startLocalPipeline({
      config,
      topic: options.topic,
      groupId: options.groupId,
      fromBeginning: options.startingPosition === 'trim-horizon',
      eventSource: options.eventSource,
      batching: { batchSize: options.batchSize, batchingWindowMs: options.batchingWindowMs },
      ...(options.brokers === undefined ? {} : { brokers: options.brokers }),
      inProcess: options.inProcess,
      ...(options.anomaliesTopic === undefined ? {} : { anomaliesTopic: options.anomaliesTopic }),
      ...(options.dynamodbEndpoint === undefined
        ? {}
        : { dynamodbEndpoint: options.dynamodbEndpoint }),
      ...(options.snsEndpoint === undefined ? {} : { snsEndpoint: options.snsEndpoint }),
      lambdaLogs: options.lambdaLogs,
      // As the Lambda: the rules document in the table, once a `npm run rules -- put` wrote one.
      liveRules: {
        refreshMs: options.rulesRefreshSeconds * 1000,
        changed: (now) =>
          say(
            now.source === 'table'
              ? `RULES → version ${now.version} by ${now.updatedBy}: ${rulesSummary(now)}`
              : `RULES → no rules document: back to the rules npm start began with (${rulesSummary(now)})`,
          ),
        invalid: (problem) => say(`RULES ✗ ${problem}; keeping the rules in use`),
      },
      // Always on: a `npm run rules -- put` may set silenceSeconds while it runs.
      silenceCheck: {
        intervalMs: silenceCheckMs(config),
        onAlert: (a) => reporter.silence(a),
        onError: (error) =>
          say(`SILENCE CHECK FAILED: ${(error as Error).message}; it runs again next time`),
      },
      // The live view gets the same events as the console, and each judged reading for its charts.
      observer: {
        anomaly: (d) => {
          reporter.anomaly(d);
          live?.anomaly(d);
        },
        rejected: (r) => {
          reporter.rejected(r);
          live?.rejected(r);
        },
        ...(live === null ? {} : { evaluated: (e) => live.evaluated(e) }),
      },
      onNotification: (n) => {
        reporter.notification(n);
        live?.notification(n);
      },
      hooks: {
        ...consoleHooks,
        failed: (info) => {
          consoleHooks.failed?.(info);
          live?.failed(
            `BATCH FAILED (${info.records} records, attempt ${info.attempt}): ${(info.error as Error).message}; retrying in ${info.retryInMs} ms`,
          );
        },
      },
      log: say,
      serviceWaitMs: options.serviceWaitSeconds * 1000,
    });
  } catch (error) {
    await live?.close();
    if (error instanceof ServiceUnavailableError) {
      process.stderr.write(`npm start: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const running = pipeline;
  printBanner(running, options, config, live?.url);

  const simulator: RunningSimulator | null = options.noSimulator
    ? null
    : startSimulator({
        sensors: options.sensors,
        anomalyRate: options.anomalyRate,
        ratePerSecond: options.rate,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(options.stopSensor === undefined ? {} : { stops: [options.stopSensor] }),
        send: (readings) => running.send(readings.map((r) => ({ key: r.sensorId, value: r.line }))),
      });

  const statusTimer =
    options.statusInterval > 0
      ? setInterval(() => {
          void pipeline
            .lag()
            .catch(() => null)
            .then((lag) => reporter.status(running.stats(), lag));
        }, options.statusInterval * 1000)
      : null;

  const reason = await new Promise<'duration' | 'signal' | 'error'>((resolve) => {
    if (options.duration > 0)
      setTimeout(() => resolve('duration'), options.duration * 1000).unref();
    const onSignal = () => {
      say('\nStopping (Ctrl-C again to quit at once)…');
      // One Ctrl-C in a terminal signals the whole foreground group, and tsx also relays it to
      // this process: a second SIGINT within a second is the same key press, not a new one.
      const firstAtMs = Date.now();
      const onAgain = () => {
        if (Date.now() - firstAtMs < 1000) process.once('SIGINT', onAgain);
        else process.exit(130);
      };
      process.once('SIGINT', onAgain);
      resolve('signal');
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    simulator?.finished.catch((error: unknown) => {
      process.stderr.write(`the simulator could not send: ${(error as Error).message}\n`);
      resolve('error');
    });
  });

  if (statusTimer !== null) clearInterval(statusTimer);
  await simulator?.stop().catch(() => {});
  // Give the poller time to process what was produced, so the summary adds up.
  const drainMs = reason === 'duration' ? 20_000 : 3_000;
  const drained = await running.drain(drainMs).catch(() => false);
  if (!drained)
    say(`(not everything was processed within ${drainMs / 1000} s; it stays uncommitted)`);
  const lag = await running.lag().catch(() => null);
  reporter.summary(running.stats(), simulator?.produced() ?? null, lag);
  await running.stop();
  await live?.close();
  return reason === 'error' ? 1 : 0;
}

function printBanner(
  pipeline: LocalPipeline,
  options: StartOptions,
  config: DetectorConfig,
  liveUrl: string | undefined,
): void {
  const { mode } = pipeline;
  const kafka =
    mode.kind === 'external'
      ? `Kafka brokers ${mode.brokers.join(',')}`
      : mode.kind === 'embedded'
        ? `embedded Kafka (librdkafka mock cluster via kcat) at ${mode.bootstrap}`
        : `in-process topic, no broker (${mode.reason})`;
  say(`  mode        ${mode.kind === 'in-process' ? 'in-process' : 'kafka'}: ${kafka}`);
  if (mode.kind === 'in-process') {
    say(
      '              for a real broker, install kcat (`sudo apt-get update && sudo apt-get install -y kcat`;',
    );
    say('              macOS: `brew install kcat`)');
    say(
      '              or set KAFKA_BROKERS (e.g. `docker compose up -d redpanda redpanda-init`, localhost:9092)',
    );
  }
  say(
    `  topic       ${options.topic} (group ${options.groupId}, ${options.eventSource} events, batch ${options.batchSize} / ${options.batchingWindowMs} ms)`,
  );
  say(
    `  DynamoDB    ${pipeline.dynamodbEndpoint}${pipeline.dynamodbEmbedded ? ' (embedded dynalite)' : ''} table ${config.tableName}`,
  );
  say(
    `  SNS         ${pipeline.snsEndpoint}${pipeline.snsEmbedded ? ' (embedded capture endpoint)' : ''} topic ${pipeline.topicArn}`,
  );
  say(`  detection   ${detectionLine(config)}`);
  const tableFlag = config.tableName === LOCAL_TABLE_NAME ? '' : ` --table ${config.tableName}`;
  say(
    `  rules       change them while it runs (read every ${options.rulesRefreshSeconds} s): npm run rules -- put FILE --endpoint ${pipeline.dynamodbEndpoint}${tableFlag}`,
  );
  const checkMs = silenceCheckMs(config);
  const limits = silenceLimits(config.rules, config.silenceSeconds);
  say(
    limits.length === 0
      ? `  silence     off until the rules set silenceSeconds, checked every ${checkMs / 1000} s (docs/silence.md)`
      : `  silence     SILENT after ${Math.min(...limits)} s without a reading${limits.length > 1 ? ' (or the rules’ limits)' : ''}, checked every ${checkMs / 1000} s (docs/silence.md)`,
  );
  if (options.noSimulator) {
    const brokers =
      mode.kind === 'external'
        ? mode.brokers.join(',')
        : mode.kind === 'embedded'
          ? mode.bootstrap
          : '';
    say(`  simulator   off: npm run produce -- --brokers ${brokers} --topic ${options.topic}`);
  } else {
    say(
      `  simulator   ${options.sensors} sensors, ${options.rate} readings/s, anomaly rate ${options.anomalyRate}` +
        (options.duration > 0 ? `, for ${options.duration} s` : ', until Ctrl-C'),
    );
    const stop = options.stopSensor;
    if (stop !== undefined) {
      say(
        `              ${stop.sensorId} sends nothing from ${stop.fromSeconds} s` +
          (Number.isFinite(stop.toSeconds) ? ` to ${stop.toSeconds} s` : ' on'),
      );
    }
    if (mode.kind === 'embedded') {
      say(
        `              (add your own: npm run produce -- --brokers ${mode.bootstrap} --topic ${options.topic})`,
      );
    }
  }
  if (options.anomaliesTopic !== undefined && mode.kind !== 'in-process') {
    const brokers = mode.kind === 'external' ? mode.brokers.join(',') : mode.bootstrap;
    say(
      `  anomalies   topic ${options.anomaliesTopic}: kcat -C -b ${brokers} -t ${options.anomaliesTopic} -f '%k %h %s\\n'`,
    );
  }
  if (liveUrl !== undefined) say(`  live view   ${liveUrl}  (open it in a browser)`);
  say('');
}

function rulesSummary(rules: RulesSnapshot): string {
  const topics = rules.rules.filter((r) => r.topic !== undefined).length;
  return (
    `default ${describeDetector(rules.defaultDetector)}, ${rules.rules.length} rule${rules.rules.length === 1 ? '' : 's'}` +
    (topics > 0 ? ` (${topics} by topic)` : '')
  );
}

/** How often `npm start` checks when its start-time rules set no limit (a few reads). */
const IDLE_SILENCE_CHECK_MS = 2000;

/**
 * How often `npm start` runs the silence check: a quarter of the smallest limit, 1–60 s (the
 * deployed schedule runs every minute); every 2 s when no start-time rule sets silenceSeconds,
 * so a rules document that sets one later is followed within seconds.
 */
function silenceCheckMs(config: DetectorConfig): number {
  const limits = silenceLimits(config.rules, config.silenceSeconds);
  if (limits.length === 0) return IDLE_SILENCE_CHECK_MS;
  const quarter = Math.ceil(Math.min(...limits) / 4) * 1000;
  return Math.max(seenGranularityMs(limits), Math.min(60_000, quarter));
}

function detectionLine(config: DetectorConfig): string {
  const spec = config.defaultDetector;
  const detector =
    spec.kind === 'threshold'
      ? `threshold ${spec.threshold}`
      : spec.kind === 'zscore'
        ? `zscore ${spec.sigma}σ`
        : spec.kind === 'adaptive' || spec.kind === 'robust'
          ? `${spec.kind} (score > ${spec.scoreThreshold}), half-life ${spec.halfLifeReadings} readings`
          : spec.kind === 'limits'
            ? `limits ${spec.low ?? '-∞'} … ${spec.high ?? '+∞'}`
            : `ewma ${spec.sigma}σ, half-life ${spec.halfLifeReadings} readings`;
  return (
    `${detector}${config.rules.length > 0 ? ` (+${config.rules.length} per-sensor rules)` : ''}, ` +
    `window ${config.windowMs / 1000} s sliding every ${config.slideMs / 1000} s, ` +
    `alert cooldown ${config.alertCooldownMs / 1000} s`
  );
}

/** The live view, its status counters read from the pipeline only while a browser watches. */
async function startLive(
  options: StartOptions,
  config: DetectorConfig,
  reporter: ConsoleReporter,
  pipeline: () => LocalPipeline | undefined,
): Promise<LiveView> {
  const startedMs = Date.now();
  let last = { atMs: startedMs, processed: 0 };
  return startLiveView({
    port: options.livePort,
    title: `npm start: ${options.topic}`,
    detection: detectionLine(config),
    status: async () => {
      const p = pipeline();
      const stats = p?.stats();
      const lag = p === undefined ? null : await p.lag().catch(() => null);
      const now = Date.now();
      const processed = stats?.recordsProcessed ?? 0;
      const rate = ((processed - last.processed) * 1000) / Math.max(1, now - last.atMs);
      last = { atMs: now, processed };
      const t = reporter.totals;
      return {
        atMs: now,
        elapsedSeconds: (now - startedMs) / 1000,
        readingsPerSecond: Math.round(rate * 10) / 10,
        lag,
        processed,
        batches: stats?.batches ?? 0,
        anomalies: t.anomalies,
        notifications: t.notifications,
        heldBack: t.heldBack,
        rejected: t.rejected,
        retries: t.retries,
      };
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`npm start failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
