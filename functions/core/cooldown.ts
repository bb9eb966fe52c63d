/** Per-sensor notification cooldown state (semantics.md §4). */
export interface CooldownState {
  /** Event time of the last notified anomaly; null before the first. */
  readonly lastNotifiedEventTimeMs: number | null;
  /** Anomalies held back since the last notification. */
  readonly heldBack: number;
}

export const INITIAL_COOLDOWN: CooldownState = { lastNotifiedEventTimeMs: null, heldBack: 0 };

export interface CooldownDecision {
  readonly notify: boolean;
  readonly heldBackBefore: number;
  readonly next: CooldownState;
}

/**
 * At most one notification per `cooldownMs` of event time: an anomaly is notified when its
 * event time is at least `cooldownMs` after the last notified one. An out-of-order anomaly
 * that is older than the last notification is held back too, so a late burst cannot bypass
 * the limit.
 */
export function decideNotification(
  state: CooldownState,
  eventTimeMs: number,
  cooldownMs: number,
): CooldownDecision {
  const last = state.lastNotifiedEventTimeMs;
  if (last === null || eventTimeMs - last >= cooldownMs) {
    return {
      notify: true,
      heldBackBefore: state.heldBack,
      next: { lastNotifiedEventTimeMs: eventTimeMs, heldBack: 0 },
    };
  }
  return {
    notify: false,
    heldBackBefore: 0,
    next: { lastNotifiedEventTimeMs: last, heldBack: state.heldBack + 1 },
  };
}
