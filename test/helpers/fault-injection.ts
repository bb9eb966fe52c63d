import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { AlertPublishError } from '../../functions/adapters/sns-alert-publisher.ts';
import { StoreUnavailableError } from '../../functions/adapters/store-errors.ts';
import type {
  Page,
  PageKey,
  PageWrite,
  PartitionRoot,
  PartitionStore,
} from '../../functions/batch/state.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { AlertPublisher } from '../../functions/ports.ts';
import { FAULT_HEADER, type ProxyFault } from './fault-proxy.ts';

/**
 * What can go wrong at one DynamoDB or SNS call, from the function's point of view:
 * - `lost-response`: the call took effect, the function never learns it (crash, timeout);
 * - `throttle`: refused before taking effect (throttling, 5xx, connection refused);
 * - `duplicate-request`: an earlier copy of the same request already took effect (an SDK
 *   retry after a timeout): a conditional write then fails its version check, a publish
 *   is delivered twice;
 * - `zombie`: another invocation of the same batch (a poller that lost its partition
 *   but still runs) does the whole batch just before this call: real write conflicts.
 */
export type CallFault = 'lost-response' | 'throttle' | 'duplicate-request' | 'zombie';
export const CALL_FAULTS: readonly CallFault[] = [
  'lost-response',
  'throttle',
  'duplicate-request',
  'zombie',
];

export class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

export interface InjectedRecord {
  readonly call: number;
  readonly operation: string;
  readonly fault: CallFault;
}

/** Counts the calls of one run (store and publisher together) and says which one fails how. */
export class FaultSchedule {
  calls = 0;
  readonly injected: InjectedRecord[] = [];
  zombieFailures = 0;

  constructor(
    private readonly faults: ReadonlyMap<number, CallFault> = new Map(),
    /** Runs the current batch once more, as a duplicate invocation would. */
    public zombie: (() => Promise<void>) | null = null,
  ) {}

  next(operation: string): CallFault | null {
    this.calls += 1;
    const fault = this.faults.get(this.calls) ?? null;
    if (fault !== null) this.injected.push({ call: this.calls, operation, fault });
    return fault;
  }

  async runZombie(): Promise<void> {
    try {
      await this.zombie?.();
    } catch {
      // A zombie runs alone between two calls of the real invocation: it must succeed.
      this.zombieFailures += 1;
    }
  }
}

/**
 * A PartitionStore in front of another (the in-memory one) that injects CallFaults, one item
 * per call as the DynamoDB adapter writes them (one PutItem each).
 */
export class FaultInjectingStore implements PartitionStore {
  constructor(
    readonly inner: PartitionStore,
    private readonly schedule: FaultSchedule,
  ) {}

  get limits() {
    return this.inner.limits;
  }
  readRoots(pids: readonly string[]): Promise<ReadonlyMap<string, PartitionRoot>> {
    return this.call('root-read', () => this.inner.readRoots(pids));
  }
  readPages(keys: readonly PageKey[], now: number): Promise<ReadonlyMap<string, Page>> {
    return this.call('page-read', () => this.inner.readPages(keys, now));
  }
  async putPages(writes: readonly PageWrite[]): Promise<void> {
    for (const w of writes) await this.call('page', () => this.inner.putPages([w]));
  }
  commitRoot(pid: string, root: PartitionRoot, expected: number | null): Promise<void> {
    return this.call('root', () => this.inner.commitRoot(pid, root, expected));
  }

  private async call<T>(operation: string, effect: () => Promise<T>): Promise<T> {
    const fault = this.schedule.next(operation);
    switch (fault) {
      case null:
        return effect();
      case 'throttle':
        throw new StoreUnavailableError(
          `${operation}: ProvisionedThroughputExceededException (injected)`,
          {
            cause: new InjectedFailure('throttled'),
          },
        );
      case 'lost-response':
        await effect();
        throw new StoreUnavailableError(
          `${operation}: socket hang up (injected after the call took effect)`,
          {
            cause: new InjectedFailure('lost response'),
          },
        );
      case 'duplicate-request':
        // The first copy lands; the caller sees the answer to the second one.
        await effect().catch(() => {});
        return effect();
      case 'zombie':
        await this.schedule.runZombie();
        return effect();
    }
  }
}

/** A publisher in front of another that injects CallFaults, one per publish call. */
export function faultInjectingPublisher(
  inner: AlertPublisher,
  schedule: FaultSchedule,
): AlertPublisher {
  return {
    async publish(alerts: readonly AlertDecision[]) {
      const fault = schedule.next('publish');
      switch (fault) {
        case null:
          return inner.publish(alerts);
        case 'throttle':
          throw new AlertPublishError('SNS publish failed: Throttling (injected)', {
            cause: new InjectedFailure('throttled'),
          });
        case 'lost-response':
          // Half of a PublishBatch fan-out went through, then the function died.
          await inner.publish(alerts.slice(0, Math.ceil(alerts.length / 2)));
          throw new AlertPublishError('SNS publish failed: socket hang up (injected)', {
            cause: new InjectedFailure('lost response'),
          });
        case 'duplicate-request':
          await inner.publish(alerts);
          return inner.publish(alerts);
        case 'zombie':
          await schedule.runZombie();
          return inner.publish(alerts);
      }
    },
  };
}

type AnyClient = DynamoDBClient | SNSClient;

/**
 * SDK middleware shared by a run's DynamoDB and SNS clients: numbers every call (in the
 * order the function sends them) and, for the planned ones, tags the request so the
 * fault proxy in front of the service applies the fault on the wire, or runs a zombie
 * invocation first. Nothing is mocked: the SDK parses real error responses.
 */
export class SdkFaultInjector {
  calls = 0;
  readonly injected: InjectedRecord[] = [];
  plan: ReadonlyMap<number, CallFault> = new Map();
  zombie: (() => Promise<void>) | null = null;
  zombieFailures = 0;
  readonly zombieErrors: unknown[] = [];
  /** Optional delay before a call (ms), to vary the interleaving of concurrent invocations. */
  delayMs: ((call: number) => number) | null = null;

  /** Starts a new run: calls are numbered from 1 again. */
  arm(plan: ReadonlyMap<number, CallFault>, zombie: (() => Promise<void>) | null = null): void {
    this.calls = 0;
    this.injected.length = 0;
    this.zombieFailures = 0;
    this.zombieErrors.length = 0;
    this.plan = plan;
    this.zombie = zombie;
  }

  attach(client: AnyClient, service: 'dynamodb' | 'sns'): void {
    (client as DynamoDBClient).middlewareStack.add(
      (next, context) => async (args) => {
        this.calls += 1;
        const call = this.calls;
        const fault = this.plan.get(call);
        const delay = this.delayMs?.(call) ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (fault !== undefined) {
          this.injected.push({ call, operation: String(context.commandName), fault });
          if (fault === 'zombie') {
            try {
              await this.zombie?.();
            } catch (error) {
              // The invocation's own parallel writes are still in flight: a zombie can lose.
              this.zombieFailures += 1;
              this.zombieErrors.push(error);
            }
          } else {
            const request = args.request as { headers?: Record<string, string> } | undefined;
            if (request?.headers !== undefined)
              request.headers[FAULT_HEADER] = wireFault(fault, service, call);
          }
        }
        return next(args);
      },
      { step: 'build', name: `fault-injector-${Math.random()}` },
    );
  }
}

/** Alternates the error shapes so both throttling exceptions (and SNS 5xx) are met. */
function wireFault(
  fault: Exclude<CallFault, 'zombie'>,
  service: 'dynamodb' | 'sns',
  call: number,
): ProxyFault {
  if (fault !== 'throttle') return fault;
  if (service === 'sns') return call % 2 === 0 ? 'throttle' : 'internal';
  return call % 2 === 0 ? 'throttle' : 'provisioned';
}

/** The innermost cause of an error chain (adapters wrap SDK errors with `cause`). */
export function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}
