import { DECIMAL } from './delimited.ts';

export const TIME_UNITS = ['auto', 's', 'ms', 'us', 'ns'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

const MS_PER_UNIT = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 } as const;
const UNIT_NAMES = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
} as const;
const MAX_EPOCH_MS = 8.64e15;

// 2026-01-01T00:00:00Z, 2026-01-01 00:00:00.123, 2026/01/01 00:00, with or without a zone.
const ISO_LIKE =
  /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
// 21.11.2026 10:00:00: the day first, as European spreadsheets write dates.
const DAY_FIRST = /^(\d{2})\.(\d{2})\.(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?$/;

/**
 * Reads a file's timestamps. Epoch numbers are told apart by magnitude on the first one seen
 * (below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds:
 * each boundary is past the year 5000 in the smaller unit), unless a unit is given; dates are
 * ISO-like or day-first (`21.11.2026 10:00`), and read as UTC without a zone. `choice` says
 * what was decided, for the summary.
 */
export class TimeReader {
  private unit: Exclude<TimeUnit, 'auto'> | null;
  private readonly given: boolean;
  choice: string | null = null;

  constructor(unit: TimeUnit) {
    this.given = unit !== 'auto';
    this.unit = unit === 'auto' ? null : unit;
  }

  /** Epoch ms, or null when the text is no time this reader knows. */
  toEpochMs(text: string): number | null {
    const t = text.trim();
    if (DECIMAL.test(t)) return this.fromNumber(Number(t), t);
    const iso = ISO_LIKE.exec(t);
    if (iso !== null) {
      const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = iso;
      return this.fromParts(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac}`, zone, t);
    }
    const dayFirst = DAY_FIRST.exec(t);
    if (dayFirst !== null) {
      const [, d, mo, y, h = '00', mi = '00', s = '00', frac = ''] = dayFirst;
      return this.fromParts(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac}`, undefined, t);
    }
    return null;
  }

  private fromNumber(n: number, text: string): number | null {
    if (!Number.isFinite(n) || n < 0) return null;
    if (this.unit === null) {
      this.unit = n < 1e11 ? 's' : n < 1e14 ? 'ms' : n < 1e17 ? 'us' : 'ns';
    }
    const ms = Math.floor(n * MS_PER_UNIT[this.unit]);
    if (ms > MAX_EPOCH_MS) return null;
    this.choice ??= `timestamps: epoch ${UNIT_NAMES[this.unit]}${this.given ? ' (--time-unit)' : ` by magnitude (${text} = ${new Date(ms).toISOString()}; override with --time-unit)`}`;
    return ms;
  }

  private fromParts(iso: string, zone: string | undefined, text: string): number | null {
    const ms = Date.parse(`${iso}${zone === undefined ? 'Z' : zone.toUpperCase()}`);
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_EPOCH_MS) return null;
    this.choice ??=
      zone === undefined
        ? `timestamps: dates without a zone, read as UTC (${text} = ${new Date(ms).toISOString()})`
        : 'timestamps: dates with a zone';
    return ms;
  }
}
