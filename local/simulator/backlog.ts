/**
 * A retained backlog, as the first deploy reads it from TRIM_HORIZON (docs/alerting.md):
 * `seconds` of readings per sensor, one a second, an hour old, with a spike every 25th
 * reading. Each line carries its own timestamp, so the detector judges it in its past.
 */
export const BACKLOG_AGE_MS = 3_600_000;

export function backlogLines(
  sensors: number,
  seconds: number,
  nowMs: number,
): { key: string; value: string }[] {
  const lines: { key: string; value: string }[] = [];
  const start = nowMs - BACKLOG_AGE_MS - seconds * 1000;
  let n = 0;
  for (let s = 0; s < seconds; s += 1) {
    for (let i = 1; i <= sensors; i += 1) {
      n += 1;
      const sensorId = `sensor_${i}`;
      const value = n % 25 === 0 ? 200 + (n % 7) : 50 + ((n * 7) % 11) - 5;
      lines.push({ key: sensorId, value: `${sensorId},${value},${start + s * 1000}` });
    }
  }
  return lines;
}
