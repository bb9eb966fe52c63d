import { anomalyLine } from '../alert-text.ts';
import type { Digest, DigestEntry } from './digest.ts';
import type { EpisodeEnd } from './episodes.ts';

/** Sensor ids are free text: short and printable in an email. */
function shortId(sensorId: string): string {
  const ascii = sensorId.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 64 ? `${ascii.slice(0, 61)}...` : ascii;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function entryLine(e: DigestEntry): string {
  const how =
    e.route === 'stale'
      ? 'while catching up'
      : e.escalated === true
        ? 'escalated'
        : e.route === 'held'
          ? 'held back'
          : 'notified';
  return `${anomalyLine({ sensorId: shortId(e.sensorId), value: e.value, mean: e.mean })}  ${e.severity}  ${how}  ${iso(e.eventTimeMs)}  ${e.alertId}`;
}

/** "while catching up: N anomalies on M sensors" (docs/alerting.md). */
export function catchingUpLine(d: Digest): string | null {
  if (d.counts.stale === 0) return null;
  const sensors = `${d.staleSensorsAtLeast ? 'at least ' : ''}${d.staleSensors} ${d.staleSensors === 1 ? 'sensor' : 'sensors'}`;
  return `while catching up: ${d.counts.stale} ${d.counts.stale === 1 ? 'anomaly' : 'anomalies'} on ${sensors}`;
}

/** The period digest as email subject, body and JSON (one message per period per stack). */
export function digestText(d: Digest): { subject: string; body: string; json: string } {
  const c = d.counts;
  const top = c.critical > 0 ? 'critical' : 'warning';
  const from = iso(d.periodStartMs);
  const to = iso(d.periodStartMs + d.periodMs);
  const more = c.alerts - d.listed.length;
  const catchingUp = catchingUpLine(d);
  // Email subjects: printable ASCII, no line breaks, under 100 characters (API_Publish).
  const subject =
    `[${top}] ${c.alerts} sensor anomalies (${c.critical} critical), ${from.slice(11, 16)}-${to.slice(11, 16)} UTC`.slice(
      0,
      99,
    );
  const body = [
    `${c.alerts} anomalies from ${from} to ${to} (${c.critical} critical, ${c.alerts - c.critical} warning): ${c.notified} notified (${c.escalated} escalated through a cooldown), ${c.heldBack} held back by cooldowns, ${c.stale} judged while catching up.`,
    ...(catchingUp === null ? [] : [`${catchingUp[0]?.toUpperCase()}${catchingUp.slice(1)}.`]),
    ...(c.resolved > 0 ? [`${c.resolved} episodes ended (back to normal).`] : []),
    '',
    'Most severe first:',
    ...d.listed.map(entryLine),
    ...(more > 0
      ? [
          '',
          `... and ${more} more not listed: the detector's log group has every one (Logs Insights: filter message like /^ANOMALY/).`,
        ]
      : []),
    '',
    'Email receives at most one digest per period; SMS and machine subscribers get each notified alert as it happens.',
  ].join('\n');
  const json = JSON.stringify({
    kind: 'digest',
    periodStart: from,
    periodEnd: to,
    ...c,
    staleSensors: d.staleSensors,
    ...(d.staleSensorsAtLeast ? { staleSensorsAtLeast: true } : {}),
    alerts: d.listed.map((e) => ({
      alertId: e.alertId,
      sensorId: e.sensorId,
      severity: e.severity,
      value: e.value,
      mean: e.mean,
      eventTime: iso(e.eventTimeMs),
      route: e.route,
      ...(e.escalated === true ? { escalated: true } : {}),
    })),
    ...(more > 0 ? { notListed: more } : {}),
  });
  return { subject, body, json };
}

/** `RESOLVED → sensor_1: back to normal after 3 anomalies (peak critical)`. */
export function episodeEndLine(e: EpisodeEnd): string {
  return `RESOLVED → ${e.sensorId}: back to normal after ${e.anomalies} ${e.anomalies === 1 ? 'anomaly' : 'anomalies'} (peak ${e.peak}, since ${iso(e.startMs)})`;
}

export function episodeEndJson(e: EpisodeEnd) {
  return {
    event: 'resolved',
    episodeId: e.episodeId,
    sensorId: e.sensorId,
    peak: e.peak,
    anomalies: e.anomalies,
    startTime: iso(e.startMs),
    endTime: iso(e.endMs),
    endId: e.endId,
  };
}
