import type { RemovalPolicy } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ENV } from '../../functions/config.ts';
import { DETECTOR_DEFAULTS, type SensorAnomalyDetectorProps } from '../props/detector-props.ts';
import { AnomalySinks, type AnomalySinksProps } from './anomaly-sinks.ts';
import { DigestSchedule } from './digest-schedule.ts';
import { SilenceCheck } from './silence-check.ts';
import { WindowFlush } from './window-flush.ts';

/** What the detector's scheduled functions share with it: its table, topics and settings. */
export interface ScheduledFunctionsContext {
  readonly table: ITable;
  readonly alertTopic: ITopic;
  /** The alert topic's key, when it is encrypted with one the functions must be granted. */
  readonly alertTopicKey?: IKey;
  /** Where their errors alarms go. */
  readonly opsTopic: ITopic;
  /** The detector's environment: they judge and word alerts with the same settings. */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The detector's anomaly sinks, which the silence check and window flush send to too. */
  readonly sinksProps?: AnomalySinksProps;
}

export interface ScheduledFunctions {
  readonly silenceCheck?: SilenceCheck;
  readonly windowFlush?: WindowFlush;
  readonly digestSchedule?: DigestSchedule;
}

/**
 * The detector's scheduled functions, each when the props want it: the silent-sensor check,
 * the window flush (window-close evaluation) and the email digest by time. Created in this
 * order under the detector's scope, so their construct ids and logical ids are the detector's.
 */
export function wireScheduledFunctions(
  scope: Construct,
  props: SensorAnomalyDetectorProps,
  ctx: ScheduledFunctionsContext,
): ScheduledFunctions {
  let silenceCheck: SilenceCheck | undefined;
  let windowFlush: WindowFlush | undefined;
  let digestSchedule: DigestSchedule | undefined;
  // What every one of them is given alike; each gets its own alarm action on the ops topic.
  const shared = {
    table: ctx.table,
    alertTopic: ctx.alertTopic,
    ...(ctx.alertTopicKey === undefined ? {} : { alertTopicKey: ctx.alertTopicKey }),
    detectorEnvironment: ctx.detectorEnvironment,
    logRetention: ctx.logRetention,
    removalPolicy: ctx.removalPolicy,
  };
  // The same sinks as the anomalies, with the same grants (docs/silence.md).
  const sinksFor = (id: string, fn: LambdaFunction) => {
    if (ctx.sinksProps !== undefined)
      new AnomalySinks(scope, id, { ...ctx.sinksProps, function: fn, grantSecretRead: true });
  };
  // Always, unless turned off: with no limit anywhere a check costs a few reads a minute
  // (docs/silence.md, cost), and the detector writes no last-seen record.
  const silenceMinutes = props.silenceCheckMinutes ?? DETECTOR_DEFAULTS.silenceCheckMinutes;
  if (silenceMinutes > 0) {
    silenceCheck = new SilenceCheck(scope, 'SilenceCheck', {
      ...shared,
      detectorTimeoutSeconds: props.timeoutSeconds ?? DETECTOR_DEFAULTS.timeoutSeconds,
      scheduleMinutes: silenceMinutes,
      ...(props.silenceCheckReservedConcurrency === undefined
        ? {}
        : { reservedConcurrency: props.silenceCheckReservedConcurrency }),
      alarmAction: new SnsAction(ctx.opsTopic),
    });
    sinksFor('SilenceSinks', silenceCheck.function);
  }

  // Window-close evaluation: windows of partitions gone quiet close by a scheduled flush.
  if (props.detection?.evaluation === 'window-close') {
    windowFlush = new WindowFlush(scope, 'WindowFlush', {
      ...shared,
      scheduleMinutes: props.windowFlushMinutes ?? 1,
      alarmAction: new SnsAction(ctx.opsTopic),
    });
    sinksFor('WindowFlushSinks', windowFlush.function);
  }

  // Email digests by time (docs/alerting.md): one function per stack's detector, run once per
  // period; the detector writes the contributions, the function only reads them.
  const digestPeriod = Number(ctx.detectorEnvironment[ENV.digestPeriodSeconds] ?? 0);
  if (digestPeriod > 0)
    digestSchedule = new DigestSchedule(scope, 'Digest', {
      ...shared,
      periodSeconds: digestPeriod,
      detectorTimeoutSeconds: props.timeoutSeconds ?? DETECTOR_DEFAULTS.timeoutSeconds,
      alarmAction: new SnsAction(ctx.opsTopic),
    });
  return {
    ...(silenceCheck === undefined ? {} : { silenceCheck }),
    ...(windowFlush === undefined ? {} : { windowFlush }),
    ...(digestSchedule === undefined ? {} : { digestSchedule }),
  };
}
