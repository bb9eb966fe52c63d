import type { DetectorConfig } from '../../functions/config.ts';
import { silenceLimits } from '../../functions/core/silence.ts';
import type { RulesSnapshot } from '../../functions/live-rules.ts';
import type { StartOptions } from '../flags/start-options.ts';
import { describeDetector } from '../rules/describe-detector.ts';
import { LOCAL_TABLE_NAME } from './local-detector.ts';
import type { LocalPipeline } from './local-pipeline.ts';
import { silenceCheckMs } from './silence-timer.ts';

/** What `npm start` prints once everything runs: where each part is and what it does. */
export function printBanner(
  say: (line: string) => void,
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
  if (options.unkeyed && mode.kind !== 'in-process') {
    say(
      `  repartition ${options.topic} (unkeyed) → ${options.topic}.by-sensor (keyed by sensor) → the detector`,
    );
  }
  if (liveUrl !== undefined) say(`  live view   ${liveUrl}  (open it in a browser)`);
  say('');
}

/** `default threshold 50, 2 rules (1 by topic)`. */
export function rulesSummary(rules: RulesSnapshot): string {
  const topics = rules.rules.filter((r) => r.topic !== undefined).length;
  return (
    `default ${describeDetector(rules.defaultDetector)}, ${rules.rules.length} rule${rules.rules.length === 1 ? '' : 's'}` +
    (topics > 0 ? ` (${topics} by topic)` : '')
  );
}

/** The console's (and the live view's feed) line for a change of the rules in use. */
export function rulesChangeLine(now: RulesSnapshot): string {
  return now.source === 'table'
    ? `RULES → version ${now.version} by ${now.updatedBy}: ${rulesSummary(now)}`
    : `RULES → no rules document: back to the rules npm start began with (${rulesSummary(now)})`;
}

/** The detection settings in one line: the banner's and the live view's header. */
export function detectionLine(config: DetectorConfig): string {
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
    `alert cooldown ${config.alertCooldownMs / 1000} s` +
    (config.evaluation === 'window-close'
      ? `, each window judged when it closes (lateness ${(config.allowedLatenessMs ?? 2000) / 1000} s)`
      : '')
  );
}
