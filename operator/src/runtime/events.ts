// Kubernetes Events (events.k8s.io/v1) about our objects: what `kubectl describe` and
// `kubectl events` show the people who own them. Identical events (same object, type,
// reason, action and note) within a window are folded into one Event whose `series.count`
// grows, like client-go's EventCorrelator (simplified): a reconcile that fails every few
// seconds yields one Event with a count, not thousands of objects.
//
// Notes are shown to anyone who can read Events in the namespace (app teams, for their
// namespaces): callers must never put key material, tokens or other secrets in a note.
// Recording is best effort: a failure to record is logged, never thrown into a reconcile.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { V1MicroTime } from '@kubernetes/client-node';
import { systemClock, type Clock } from './clock.ts';
import type { ResourceType } from './discovery.ts';
import { isNotFound, type KubeClient } from './kube-client.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { KubeObject } from './object.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSpec {
  type: EventType;
  /** Why, CamelCase: "Created", "LiteLLMUnavailable". */
  reason: string;
  /** What we did or failed to do, CamelCase: "Reconcile", "CreateTeam". Default "Reconcile". */
  action?: string;
  /** Human-readable, at most 1 kB (longer is cut). Never a secret. */
  note: string;
}

/** Events of cluster-scoped objects (Team, User) go to "default", as client-go does. */
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';
export const MAX_NOTE_BYTES = 1024;
export const EVENT_RESOURCE: ResourceType = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
};

/** Cuts `note` to at most MAX_NOTE_BYTES of UTF-8, never inside a character. */
export function boundNote(note: string): string {
  if (Buffer.byteLength(note) <= MAX_NOTE_BYTES) return note;
  let out = '';
  let bytes = 0;
  for (const ch of note) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > MAX_NOTE_BYTES - 3) break;
    out += ch;
    bytes += size;
  }
  return `${out}…`;
}

export interface SeenEvent {
  namespace: string;
  name: string;
  count: number;
  lastSeen: number;
}

/**
 * Decides whether an event is new or a repeat of one recorded within `windowMs`; keeps at
 * most `maxEntries` remembered events (the oldest are forgotten first).
 */
export class EventCorrelator {
  readonly #seen = new Map<string, SeenEvent>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;

  constructor(options: { windowMs?: number; maxEntries?: number; clock?: Clock } = {}) {
    this.#windowMs = options.windowMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 4096;
    this.#clock = options.clock ?? systemClock;
  }

  static key(object: KubeObject, event: EventSpec): string {
    const m = object.metadata ?? {};
    return JSON.stringify([
      m.uid ?? '',
      object.kind,
      m.namespace ?? '',
      m.name,
      event.type,
      event.reason,
      event.action ?? '',
      event.note,
    ]);
  }

  /** The earlier Event this one repeats, with its count already incremented; or undefined. */
  repeatOf(key: string): SeenEvent | undefined {
    const seen = this.#seen.get(key);
    if (!seen) return undefined;
    const now = this.#clock.now();
    if (now - seen.lastSeen > this.#windowMs) {
      this.#seen.delete(key);
      return undefined;
    }
    seen.count++;
    seen.lastSeen = now;
    // Map order is insertion order: move it to the back (most recently used).
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    return seen;
  }

  remember(key: string, event: { namespace: string; name: string }): void {
    this.#seen.delete(key);
    this.#seen.set(key, { ...event, count: 1, lastSeen: this.#clock.now() });
    while (this.#seen.size > this.#maxEntries) this.#seen.delete(this.#seen.keys().next().value!);
  }

  forget(key: string): void {
    this.#seen.delete(key);
  }
}

export interface EventRecorderOptions {
  /** events.k8s.io reportingController, e.g. "llmtenancy.dev/operator". */
  reportingController: string;
  /** This replica (the pod name). Default: the host name. */
  reportingInstance?: string;
  windowMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export class EventRecorder {
  readonly #kube: Pick<KubeClient, 'create' | 'mergePatch'>;
  readonly #controller: string;
  readonly #instance: string;
  readonly #correlator: EventCorrelator;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(kube: Pick<KubeClient, 'create' | 'mergePatch'>, options: EventRecorderOptions) {
    this.#kube = kube;
    this.#controller = options.reportingController;
    this.#instance = (options.reportingInstance ?? hostname()).slice(0, 128);
    this.#clock = options.clock ?? systemClock;
    this.#correlator = new EventCorrelator({ windowMs: options.windowMs, clock: this.#clock });
    this.#log = options.logger ?? silentLogger;
  }

  /** Records `event` about `object`; never throws. */
  async record(object: KubeObject, event: EventSpec): Promise<void> {
    const note = boundNote(event.note);
    const spec = { ...event, note, action: event.action ?? 'Reconcile' };
    const key = EventCorrelator.key(object, spec);
    try {
      const repeat = this.#correlator.repeatOf(key);
      if (repeat) {
        const ok = await this.#updateSeries(repeat);
        if (ok) return;
        this.#correlator.forget(key); // the Event expired (1 h TTL by default): create anew
      }
      const created = await this.#create(object, spec);
      this.#correlator.remember(key, created);
    } catch (err) {
      this.#log.warn(
        {
          err,
          reason: event.reason,
          name: object.metadata?.name,
          namespace: object.metadata?.namespace,
        },
        'recording an event failed',
      );
    }
  }

  async #create(
    object: KubeObject,
    event: Required<EventSpec>,
  ): Promise<{ namespace: string; name: string }> {
    const m = object.metadata ?? {};
    const namespace = m.namespace ?? CLUSTER_SCOPED_EVENT_NAMESPACE;
    const body = {
      // "<object>.<time><random>", as client-go names them (generateName may not end in ".").
      metadata: {
        name: `${(m.name ?? 'object').slice(0, 200)}.${this.#clock.now().toString(16)}${randomBytes(3).toString('hex')}`,
        namespace,
      },
      eventTime: new V1MicroTime(this.#clock.now()),
      reportingController: this.#controller,
      reportingInstance: this.#instance,
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note,
      regarding: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
    };
    const created = await this.#kube.create(EVENT_RESOURCE, body as KubeObject);
    return { namespace, name: created.metadata!.name! };
  }

  /** Bumps the series of an existing Event; false when it no longer exists. */
  async #updateSeries(seen: SeenEvent): Promise<boolean> {
    try {
      await this.#kube.mergePatch(
        EVENT_RESOURCE,
        { namespace: seen.namespace, name: seen.name },
        {
          series: {
            count: seen.count,
            lastObservedTime: new V1MicroTime(this.#clock.now()).toISOString(),
          },
        },
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
