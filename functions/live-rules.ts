import type { StoredRules } from './adapters/dynamodb-rules-store.ts';
import { ConfigError, parseRulesFile, type ReadingFields } from './config.ts';
import { compileFreshness, type FreshnessResolver } from './core/alerting/freshness.ts';
import {
  type AlertingPolicy,
  type AlertingRules,
  compileAlerting,
} from './core/alerting/policy.ts';
import { compileRules, type DetectorResolver, type DetectorRule } from './core/detector-rules.ts';
import type { DetectorSpec } from './core/detectors.ts';
import {
  compileSilence,
  type SilenceResolver,
  seenGranularityMs,
  silenceLimits,
} from './core/silence.ts';

/** How long a container uses the rules it read before it reads the item again. */
export const RULES_REFRESH_MS = 30_000;
/** After a failed read, how long before the next try (the rules in hand stay in use). */
const RETRY_AFTER_READ_ERROR_MS = 5_000;

/** The rules a batch is judged with, and where they came from. */
export interface RulesSnapshot {
  readonly source: 'table' | 'deployed';
  /** The stored document's version; 0 for the deployed rules. */
  readonly version: number;
  readonly defaultDetector: DetectorSpec;
  readonly rules: readonly DetectorRule[];
  readonly resolve: DetectorResolver;
  /** The file's `silenceSeconds`: for sensors whose rule sets none (docs/silence.md). */
  readonly silenceSeconds?: number;
  /** Silent sensors under these rules: the recorder and the check both follow the snapshot. */
  readonly silence: SnapshotSilence;
  /**
   * Each sensor's freshness limit under these rules (docs/alerting.md): a rule's
   * `freshnessSeconds`, else the file's, else the deployed function's.
   */
  readonly freshnessOf: FreshnessResolver;
  /** The document's field mappings (docs/input-formats.md): how this batch reads its records. */
  readonly readingFields?: ReadingFields;
  /** Alert groups and maintenance windows, compiled (docs/alerting-groups.md). */
  readonly alerting: AlertingPolicy;
  /** Of the stored document, when source is 'table': a fresh id per write. */
  readonly writeId?: string;
  /** Of the stored document, when source is 'table'. */
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

export interface SnapshotSilence {
  /** Each (sensor, topic)'s limit in seconds, or undefined: not watched. */
  readonly silenceOf: SilenceResolver;
  /** Every limit the rules give; empty: no sensor is watched. */
  readonly limits: readonly number[];
  /** The recording granularity, and the check's slack past a limit (seenGranularityMs). */
  readonly granularityMs: number;
}

/** The silence part of a snapshot of `rules`. */
export function snapshotSilence(
  defaultDetector: DetectorSpec,
  rules: readonly DetectorRule[],
  silenceSeconds: number | undefined,
): SnapshotSilence {
  const limits = silenceLimits(rules, silenceSeconds);
  return {
    silenceOf: compileSilence(defaultDetector, rules, silenceSeconds),
    limits,
    granularityMs: seenGranularityMs(limits),
  };
}

/** What LiveRules tells its owner (the handler logs and counts these). */
export interface LiveRulesEvents {
  /** A different set of rules is in use from now on (not called for the first deployed set). */
  changed?(now: RulesSnapshot, before: RulesSnapshot): void;
  /**
   * The stored document does not validate: `kept` stays in use. Called on every check of an
   * invalid document (for the metric); `firstTime` once per version (for the log).
   */
  invalid?(problem: string, stored: StoredRules, kept: RulesSnapshot, firstTime: boolean): void;
  /** The item could not be read; `kept` stays in use until the next try. */
  readFailed?(error: unknown, kept: RulesSnapshot): void;
}

export interface LiveRulesOptions {
  readonly store: { get(): Promise<StoredRules | null> };
  /** The rules deployed with the function (DETECTOR_RULES and DETECTOR): no document, these. */
  readonly deployed: {
    readonly defaultDetector: DetectorSpec;
    readonly rules: readonly DetectorRule[];
    /** The deployed rules file's `silenceSeconds`. @default none */
    readonly silenceSeconds?: number;
    /** The deployed rules file's field mappings. @default none */
    readonly readingFields?: ReadingFields;
    /** The function's freshness limit (FRESHNESS_SECONDS, or the deployed file's). @default 300 */
    readonly freshnessSeconds?: number;
    /** The deployed rules file's groups and maintenance windows. @default none */
    readonly alerting?: AlertingRules;
  };
  /** @default RULES_REFRESH_MS */
  readonly refreshMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly events?: LiveRulesEvents;
}

/**
 * Flink's broadcast state for the detector rules: every container reads the one rules
 * document from the table at most once per `refreshMs` (one GetItem, shared by concurrent
 * batches), never per batch, and judges each batch with one consistent snapshot.
 *
 * Precedence (docs/rules.md): a valid stored document replaces the deployed rules (its
 * `default`, when it has one, replaces the deployed default detector); no document, the
 * deployed rules. An invalid document never takes the function down: the container keeps the
 * rules it was using (the last valid document, or the deployed rules) and reports it.
 */
export class LiveRules {
  private readonly refreshMs: number;
  private readonly clock: () => number;
  private readonly deployed: RulesSnapshot;
  private current: RulesSnapshot;
  private nextCheckMs = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<RulesSnapshot> | null = null;
  private readonly reportedInvalid = new Set<string>();
  private loadedOnce = false;

  constructor(private readonly options: LiveRulesOptions) {
    this.refreshMs = options.refreshMs ?? RULES_REFRESH_MS;
    this.clock = options.clock ?? Date.now;
    const d = options.deployed;
    this.deployed = {
      source: 'deployed',
      version: 0,
      defaultDetector: d.defaultDetector,
      rules: d.rules,
      resolve: compileRules(d.defaultDetector, d.rules),
      ...(d.silenceSeconds === undefined ? {} : { silenceSeconds: d.silenceSeconds }),
      silence: snapshotSilence(d.defaultDetector, d.rules, d.silenceSeconds),
      freshnessOf: compileFreshness(d.defaultDetector, d.rules, d.freshnessSeconds),
      ...(d.readingFields === undefined ? {} : { readingFields: d.readingFields }),
      alerting: compileAlerting(d.alerting ?? {}),
    };
    this.current = this.deployed;
  }

  /** The rules to judge a batch with now: read again when the cache period is over. */
  async snapshot(): Promise<RulesSnapshot> {
    if (this.clock() < this.nextCheckMs) return this.current;
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<RulesSnapshot> {
    const now = this.clock();
    let stored: StoredRules | null;
    try {
      stored = await this.options.store.get();
    } catch (error) {
      // Never read yet: fail the batch (the mapping retries it) rather than judge it with
      // rules that a stored document may have replaced. DynamoDB being unreadable fails the
      // batch's own reads anyway.
      if (!this.loadedOnce) throw error;
      this.nextCheckMs = now + Math.min(RETRY_AFTER_READ_ERROR_MS, this.refreshMs);
      this.options.events?.readFailed?.(error, this.current);
      return this.current;
    }
    this.loadedOnce = true;
    this.nextCheckMs = now + this.refreshMs;
    const next = this.fromStored(stored);
    if (next !== this.current) {
      const before = this.current;
      this.current = next;
      this.options.events?.changed?.(next, before);
    }
    return this.current;
  }

  private fromStored(stored: StoredRules | null): RulesSnapshot {
    if (stored === null) return this.deployed;
    const c = this.current;
    // Version and write id: a version is never reused by the CLI (a delete leaves a
    // tombstone), and the write id catches an item written around it that reuses one.
    if (c.source === 'table' && c.version === stored.version && c.writeId === stored.writeId)
      return c;
    try {
      const file = parseRulesFile(stored.document, `rules document version ${stored.version}`);
      const defaultDetector = file.defaultDetector ?? this.deployed.defaultDetector;
      return {
        source: 'table',
        version: stored.version,
        defaultDetector,
        rules: file.rules,
        resolve: compileRules(defaultDetector, file.rules),
        ...(file.silenceSeconds === undefined ? {} : { silenceSeconds: file.silenceSeconds }),
        silence: snapshotSilence(defaultDetector, file.rules, file.silenceSeconds),
        freshnessOf: compileFreshness(
          defaultDetector,
          file.rules,
          file.freshnessSeconds ?? this.options.deployed.freshnessSeconds,
        ),
        ...(file.readingFields === undefined ? {} : { readingFields: file.readingFields }),
        alerting: compileAlerting(file.alerting ?? {}),
        writeId: stored.writeId,
        updatedAt: stored.updatedAt,
        updatedBy: stored.updatedBy,
      };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const key = `${stored.version}:${stored.writeId}`;
      const firstTime = !this.reportedInvalid.has(key);
      this.reportedInvalid.add(key);
      this.options.events?.invalid?.(error.message, stored, c, firstTime);
      return c;
    }
  }
}
