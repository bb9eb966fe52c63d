import type { Verdict } from './detectors.ts';
import { javaDoubleToString, pythonRepr } from './float-text.ts';
import type { Anomaly } from './types.ts';

/**
 * The explanation fields of an anomaly, from its verdict: what the batch path spreads into the
 * Anomaly it builds (`...explanation(verdict)`), so the log line, the SNS message and the sinks
 * say which test fired, with the score and the band. Empty for detectors that do not explain.
 */
export function explanation(
  verdict: Verdict,
): Pick<Anomaly, 'test' | 'score' | 'expected' | 'expectedLow' | 'expectedHigh'> {
  if (verdict.test === undefined) return {};
  return {
    test: verdict.test,
    score: verdict.score,
    ...(verdict.expected === undefined ? {} : { expected: verdict.expected }),
    ...(verdict.expectedLow === undefined ? {} : { expectedLow: verdict.expectedLow }),
    ...(verdict.expectedHigh === undefined ? {} : { expectedHigh: verdict.expectedHigh }),
  };
}

/** One line of why: `level shift (score 0.93), expected 10.2 (normal 8.1 … 12.3)`. */
export function explanationLine(anomaly: Anomaly): string | undefined {
  if (anomaly.test === undefined) return undefined;
  const score = anomaly.score === undefined ? '' : ` (score ${anomaly.score.toFixed(3)})`;
  const expected = anomaly.expected === undefined ? '' : `, expected ${round4(anomaly.expected)}`;
  const band =
    anomaly.expectedLow === undefined && anomaly.expectedHigh === undefined
      ? ''
      : ` (normal ${anomaly.expectedLow === undefined ? '−∞' : round4(anomaly.expectedLow)} … ${anomaly.expectedHigh === undefined ? '+∞' : round4(anomaly.expectedHigh)})`;
  return `${anomaly.test}${score}${expected}${band}`;
}

/** Four significant digits: a band of a 0.001-scale sensor is not rounded to 0. */
function round4(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** Prints a number as Python's repr does (150 → "150.0"), as the Flink job's lines did. */
export function pythonFloat(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value);
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The Flink job's line: `ANOMALY → sensor_1: value=150.0, avg=59.21`. A window-close decision
 * prints exactly what the seed printed: the value as its window function saw it (a 4-byte float
 * in the PyFlink job) and the average unrounded (docs/parity.md).
 */
export function anomalyLine(
  anomaly: Pick<Anomaly, 'sensorId' | 'value' | 'mean' | 'seedFormat'>,
): string {
  if (anomaly.seedFormat !== undefined) {
    const python = anomaly.seedFormat === 'python';
    const print = python ? pythonRepr : javaDoubleToString;
    const value = python ? Math.fround(anomaly.value) : anomaly.value;
    return `ANOMALY → ${anomaly.sensorId}: value=${print(value)}, avg=${print(anomaly.mean)}`;
  }
  return `ANOMALY → ${anomaly.sensorId}: value=${pythonFloat(anomaly.value)}, avg=${pythonFloat(round2(anomaly.mean))}`;
}

/** The anomaly as machine subscribers (SQS, Lambda, HTTP) and the log line receive it. */
export function anomalyJson(anomaly: Anomaly, heldBackBefore: number) {
  return {
    alertId: anomaly.alertId,
    sensorId: anomaly.sensorId,
    value: anomaly.value,
    mean: anomaly.mean,
    count: anomaly.count,
    deviation: anomaly.deviation,
    ...(anomaly.detector === 'threshold' ? { threshold: anomaly.limit } : { limit: anomaly.limit }),
    ...(anomaly.sigma === undefined ? {} : { sigma: anomaly.sigma }),
    detector: anomaly.detector,
    ...(anomaly.test === undefined ? {} : { test: anomaly.test }),
    ...(anomaly.score === undefined ? {} : { score: anomaly.score }),
    ...(anomaly.expected === undefined ? {} : { expected: anomaly.expected }),
    ...(anomaly.expectedLow === undefined ? {} : { expectedLow: anomaly.expectedLow }),
    ...(anomaly.expectedHigh === undefined ? {} : { expectedHigh: anomaly.expectedHigh }),
    ...(anomaly.windowEndMs === undefined
      ? {}
      : { windowEnd: new Date(anomaly.windowEndMs).toISOString() }),
    eventTime: new Date(anomaly.eventTimeMs).toISOString(),
    severity: anomaly.severity,
    heldBackBefore,
    topic: anomaly.source.topic,
    partition: anomaly.source.partition,
    offset: anomaly.source.offset,
  };
}

const SMS_MAX_CHARS = 140;
const SUBJECT_MAX_CHARS = 99;

/**
 * Sensor ids are free text. Email subjects must be printable ASCII without line breaks
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), and SMS should stay short.
 */
function asciiId(sensorId: string, maxChars: number): string {
  const ascii = sensorId.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > maxChars ? `${ascii.slice(0, maxChars - 3)}...` : ascii;
}

function heldBackNote(heldBackBefore: number): string {
  return heldBackBefore > 0 ? ` (+${heldBackBefore} held back)` : '';
}

export function smsText(anomaly: Anomaly, heldBackBefore: number): string {
  const why = anomaly.test === undefined ? '' : `${anomaly.test} `;
  const text =
    `${anomaly.severity.toUpperCase()} ${why}${asciiId(anomaly.sensorId, 40)} ` +
    `value=${pythonFloat(anomaly.value)} avg=${pythonFloat(round2(anomaly.mean))} ` +
    `at ${new Date(anomaly.eventTimeMs).toISOString().slice(0, 19)}Z${heldBackNote(heldBackBefore)}`;
  return text.length > SMS_MAX_CHARS ? text.slice(0, SMS_MAX_CHARS) : text;
}

export function emailSubject(anomaly: Anomaly): string {
  const subject = `[${anomaly.severity}] Sensor anomaly on ${asciiId(anomaly.sensorId, 50)}: value ${pythonFloat(anomaly.value)}`;
  return subject.slice(0, SUBJECT_MAX_CHARS);
}

export function emailBody(anomaly: Anomaly, heldBackBefore: number): string {
  const limitName = anomaly.detector === 'threshold' ? 'threshold' : 'limit';
  return [
    anomalyLine(anomaly),
    '',
    `Sensor:     ${JSON.stringify(anomaly.sensorId)}`,
    `Severity:   ${anomaly.severity}`,
    `Value:      ${anomaly.value}`,
    // ewma compares with the mean it learned from the sensor's history, not with a window.
    anomaly.detector === 'ewma' || anomaly.detector === 'robust' || anomaly.detector === 'adaptive'
      ? `Learned avg: ${round2(anomaly.mean)} from ${anomaly.count} readings`
      : `Window avg: ${round2(anomaly.mean)} over ${anomaly.count} readings`,
    `Deviation:  ${round2(anomaly.deviation)} (${limitName} ${round2(anomaly.limit)}, detector ${anomaly.detector})`,
    ...(anomaly.test === undefined ? [] : [`Why:        ${explanationLine(anomaly)}`]),
    `Event time: ${new Date(anomaly.eventTimeMs).toISOString()}`,
    `Alert id:   ${anomaly.alertId}`,
    heldBackBefore > 0
      ? `\n${heldBackBefore} further anomalies of this sensor were logged but not notified during the cooldown.`
      : '',
  ].join('\n');
}
