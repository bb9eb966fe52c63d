import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbFeedbackStore } from '../adapters/dynamodb-feedback-store.ts';
import { DynamoDbRulesStore } from '../adapters/dynamodb-rules-store.ts';
import { DynamoDbSilenceStore } from '../adapters/dynamodb-silence-store.ts';
import type { DetectorConfig } from '../config.ts';
import { LiveFeedback } from '../live-feedback.ts';
import { LiveRules, type RulesSnapshot, snapshotSilence } from '../live-rules.ts';
import { LastSeenRecorder } from '../silence/last-seen-recorder.ts';
import { METRIC } from '../telemetry-names.ts';

/**
 * The readers of what operators change in the table while the functions run (the rules
 * document, the verdicts on alerts) and the silent-sensor recorder, built per container with
 * their events logged and counted. Shared by the detector, the silence check and the window
 * flush, so each logs the same lines and counts the same metrics.
 */

/** What every reader is built from: the deployed config and the table's client. */
type TableDeps = { readonly config: DetectorConfig; readonly dynamodb: DynamoDBClient };

export interface LiveRulesSettings {
  /** @default RULES_REFRESH_MS (30 s) */
  readonly refreshMs?: number;
  /** Told when a different set of rules is in use (the local console prints it). */
  readonly changed?: (now: RulesSnapshot, before: RulesSnapshot) => void;
  /** Told when the stored document is invalid, once per version. */
  readonly invalid?: (problem: string, version: number) => void;
}

/**
 * The rules document reader of a container, its events logged and counted: the detector's
 * and the silence check's.
 */
export function liveRules(
  deps: TableDeps & { readonly liveRules: LiveRulesSettings },
  logger: Logger,
  metrics: Metrics,
  clock: () => number,
) {
  const settings = deps.liveRules;
  const describe = (r: RulesSnapshot) => ({
    source: r.source,
    version: r.version,
    rules: r.rules.length,
    defaultDetector: r.defaultDetector.kind,
    ...(r.updatedBy === undefined ? {} : { updatedBy: r.updatedBy, updatedAt: r.updatedAt }),
  });
  return new LiveRules({
    store: new DynamoDbRulesStore({ client: deps.dynamodb, tableName: deps.config.tableName }),
    deployed: {
      defaultDetector: deps.config.defaultDetector,
      rules: deps.config.rules,
      ...(deps.config.silenceSeconds === undefined
        ? {}
        : { silenceSeconds: deps.config.silenceSeconds }),
      ...(deps.config.readingFields === undefined
        ? {}
        : { readingFields: deps.config.readingFields }),
      ...(deps.config.freshnessSeconds === undefined
        ? {}
        : { freshnessSeconds: deps.config.freshnessSeconds }),
      ...(deps.config.alerting === undefined ? {} : { alerting: deps.config.alerting }),
    },
    clock,
    ...(settings.refreshMs === undefined ? {} : { refreshMs: settings.refreshMs }),
    events: {
      changed(now, before) {
        logger.info('rules changed', { ...describe(now), previousVersion: before.version });
        settings.changed?.(now, before);
      },
      invalid(problem, stored, kept, firstTime) {
        // Counted on every check while the document stays invalid (the alarm stays in ALARM),
        // logged once per version.
        metrics.addMetric(METRIC.rulesDocumentInvalid, MetricUnit.Count, 1);
        if (!firstTime) return;
        logger.error('rules document invalid: keeping the rules in use', {
          problem,
          invalidVersion: stored.version,
          invalidUpdatedBy: stored.updatedBy,
          invalidUpdatedAt: stored.updatedAt,
          kept: describe(kept),
        });
        settings.invalid?.(problem, stored.version);
      },
      readFailed(error, kept) {
        logger.warn('rules document not read: keeping the rules in use', {
          error: (error as Error).message,
          kept: describe(kept),
        });
      },
    },
  });
}

/** The verdicts reader of a container, its changes and failures logged. */
export function liveFeedback(
  deps: TableDeps & { readonly liveFeedback?: { readonly refreshMs?: number } },
  logger: Logger,
  clock: () => number,
): LiveFeedback {
  return new LiveFeedback({
    store: new DynamoDbFeedbackStore({ client: deps.dynamodb, tableName: deps.config.tableName }),
    clock,
    ...(deps.liveFeedback?.refreshMs === undefined
      ? {}
      : { refreshMs: deps.liveFeedback.refreshMs }),
    events: {
      changed: (verdicts, before) => logger.info('feedback changed', { verdicts, before }),
      readFailed: (error) =>
        logger.warn('feedback not read: keeping the verdicts in use', {
          error: (error as Error).message,
        }),
      skipped: (invalid, truncated) =>
        logger.warn('feedback items skipped', { invalid, truncated }),
    },
  });
}

/**
 * Silent sensors (docs/silence.md): with live rules always a recorder, as a stored document
 * can set silenceSeconds at any time (it writes nothing while no limit applies); with the
 * deployed rules only, one when they set a limit.
 */
export function lastSeenRecorder(deps: TableDeps, live: boolean) {
  const { config } = deps;
  const deployed = snapshotSilence(config.defaultDetector, config.rules, config.silenceSeconds);
  if (!live && deployed.limits.length === 0) return undefined;
  const recorder = new LastSeenRecorder({
    store: new DynamoDbSilenceStore(deps.dynamodb, config.tableName),
    ...deployed,
  });
  return { deployed, record: recorder.record.bind(recorder) };
}
