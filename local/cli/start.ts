import '../flags/user-cwd.ts';
import '../flags/quiet-sdk.ts';
import { ConfigError, type DetectorConfig } from '../../functions/config.ts';
import { loadRulesFile } from '../../functions/rules-file.ts';
import { ServiceUnavailableError } from '../embedded/reachable.ts';
import {
  parseStartOptions,
  START_HELP,
  STOP_SENSOR_SILENCE_SECONDS,
  type StartOptions,
  UsageError,
} from '../flags/start-options.ts';
import { LivePortInUseError, type LiveView } from '../live/live-server.ts';
import { startPipelineLiveView } from '../live/pipeline-live-view.ts';
import { ConsoleReporter } from '../pipeline/console-reporter.ts';
import { localDetectorConfig } from '../pipeline/local-detector.ts';
import { type LocalPipeline, startLocalPipeline } from '../pipeline/local-pipeline.ts';
import { silenceCheckMs } from '../pipeline/silence-timer.ts';
import { detectionLine, printBanner, rulesChangeLine } from '../pipeline/start-banner.ts';
import { backlogLines } from '../simulator/backlog.ts';
import { type RunningSimulator, startSimulator } from '../simulator/run-simulator.ts';

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
      digestPeriodSeconds: options.digestSeconds,
      ...(rulesFile?.freshnessSeconds === undefined
        ? {}
        : { freshnessSeconds: rulesFile.freshnessSeconds }),
      ...(options.evaluation === 'window-close'
        ? {
            evaluation: 'window-close' as const,
            allowedLatenessMs: options.allowedLatenessMs,
            flinkFormat: options.flinkFormat,
          }
        : {}),
      ...(silenceSeconds === undefined ? {} : { silenceSeconds }),
      ...(rulesFile?.readingFields === undefined ? {} : { readingFields: rulesFile.readingFields }),
      ...(rulesFile?.alerting === undefined ? {} : { alerting: rulesFile.alerting }),
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
  let liveView: LiveView | null = null;
  try {
    liveView = options.noLive
      ? null
      : await startPipelineLiveView(options, config, reporter, () => pipeline);
  } catch (error) {
    if (error instanceof LivePortInUseError) {
      process.stderr.write(`npm start: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const live = liveView;
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
      unkeyed: options.unkeyed,
      ...(options.anomaliesTopic === undefined ? {} : { anomaliesTopic: options.anomaliesTopic }),
      ...(options.dynamodbEndpoint === undefined
        ? {}
        : { dynamodbEndpoint: options.dynamodbEndpoint }),
      ...(options.snsEndpoint === undefined ? {} : { snsEndpoint: options.snsEndpoint }),
      lambdaLogs: options.lambdaLogs,
      // As the Lambda: the rules document in the table, once a `npm run rules -- put` wrote one.
      liveRules: {
        refreshMs: options.rulesRefreshSeconds * 1000,
        changed: (now) => {
          const line = rulesChangeLine(now);
          say(line);
          live?.rulesChanged(
            detectionLine({ ...config, defaultDetector: now.defaultDetector, rules: now.rules }),
            line,
          );
        },
        invalid: (problem) => {
          const line = `RULES ✗ ${problem}; keeping the rules in use`;
          say(line);
          live?.failed(line);
        },
      },
      // One email digest per period (docs/alerting.md), as the schedule sends it in AWS.
      digest: {
        intervalMs: 1000,
        onDigest: (d) => reporter.digest(d),
        onError: (error) =>
          say(`DIGEST FAILED: ${(error as Error).message}; it runs again next time`),
      },
      // Always on: a `npm run rules -- put` may set silenceSeconds while it runs.
      silenceCheck: {
        intervalMs: silenceCheckMs(config),
        onAlert: (a) => {
          reporter.silence(a);
          live?.silence(a);
        },
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
        published: (alerts) => live?.published(alerts),
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
  printBanner(say, running, options, config, live?.url);

  // A retained backlog first, as a first deploy reads it from TRIM_HORIZON (docs/alerting.md).
  if (options.backlog > 0)
    await running.send(backlogLines(options.sensors, options.backlog, Date.now()));
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`npm start failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
