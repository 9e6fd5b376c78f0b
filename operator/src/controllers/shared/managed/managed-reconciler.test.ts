// The managed reconciler against small in-memory fakes of its collaborators: a LiteLLM of
// "widgets" (a map of id → size and metadata), a status writer that keeps the last status,
// finalizers kept on the object, and an Event recorder that lists what it was told.
import { beforeEach, describe, expect, it } from 'vitest';
import { LiteLLMError, type LiteLLMErrorKind } from '../../../litellm/errors.ts';
import { getCondition, setConditions, type Condition } from '../../../runtime/conditions.ts';
import type { ReconcileContext } from '../../../runtime/controller.ts';
import type { ResourceType } from '../../../runtime/discovery.ts';
import type { EventSpec } from '../../../runtime/events.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { isDeleting, type KubeObject } from '../../../runtime/object.ts';
import { isTerminalError, type Result } from '../../../runtime/result.ts';
import { sameJson, type StatusWriteResult } from '../../../runtime/status.ts';
import { ownerMetadata, ADOPT_ANNOTATION, MANAGED_BY_KEY, OWNER_UID_KEY } from '../ownership.ts';
import { isReleased, RELEASED_KEY } from '../released.ts';
import type {
  ExternalClient,
  ExternalContext,
  ExternalObservation,
  Observed,
  Waiting,
} from './external-client.ts';
import { ManagedReconciler, type ManagedKind } from './managed-reconciler.ts';
import { unlessNotFound } from './unless-not-found.ts';

interface Widget {
  apiVersion: 'example.dev/v1';
  kind: 'Widget';
  metadata: {
    name: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec: { size: number; deletionPolicy?: 'Delete' | 'Orphan'; blockedBy?: string };
  status?: { size?: number; conditions?: Condition[] };
}

interface Row {
  size: number;
  metadata: Record<string, unknown>;
}

const FINALIZER = 'example.dev/cleanup';
const INSTALLATION = 'install-a';
const RESYNC_MS = 60_000;
const RESOURCE: ResourceType = {
  apiVersion: 'example.dev/v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: false,
};
const NOW = new Date('2026-01-01T00:00:00Z');

const fail = (kind: LiteLLMErrorKind) =>
  new LiteLLMError({ kind, method: 'POST', endpoint: '/widget', detail: `${kind} on purpose` });

/** LiteLLM, as far as widgets go; `failing` makes every call fail with that kind. */
class FakeLiteLLM {
  readonly rows = new Map<string, Row>();
  readonly writes: string[] = [];
  failing: LiteLLMErrorKind | undefined;
  /** Create answers 409 this many times (as if another replica had been faster). */
  conflictsOnCreate = 0;
  /** ...and leaves nothing observe can find (something else than the id is taken). */
  conflictLeavesNothing = false;
  /** The kind reports such a 409 as waiting (User: the e-mail address is taken). */
  waitsOnUnseenConflict = false;

  call(what: string): void {
    if (this.failing) throw fail(this.failing);
    if (what !== 'read') this.writes.push(what);
  }
}

class WidgetClient implements ExternalClient<Widget, Row> {
  readonly id: string;
  readonly #widget: Widget;
  readonly #litellm: FakeLiteLLM;
  readonly #context: ExternalContext;

  constructor(widget: Widget, litellm: FakeLiteLLM, context: ExternalContext) {
    this.id = widget.metadata.name;
    this.#widget = widget;
    this.#litellm = litellm;
    this.#context = context;
  }

  blocked(): Waiting | undefined {
    const by = this.#widget.spec.blockedBy;
    return by
      ? { kind: 'waiting', reason: 'DependencyNotReady', message: `${by} is not Ready` }
      : undefined;
  }

  async observe(): Promise<ExternalObservation<Row>> {
    const row = await unlessNotFound(async () => {
      this.#litellm.call('read');
      const found = this.#litellm.rows.get(this.id);
      if (!found) throw fail('notFound');
      return structuredClone(found);
    });
    if (!row) return { exists: false };
    return { exists: true, ...this.#observed(row) };
  }

  async create(metadata: Record<string, string>): Promise<Observed<Row>> {
    this.#litellm.call('create');
    if (this.#litellm.conflictsOnCreate > 0) {
      this.#litellm.conflictsOnCreate--;
      if (!this.#litellm.conflictLeavesNothing)
        this.#litellm.rows.set(this.id, { size: 1, metadata });
      throw fail('conflict');
    }
    const row = { size: this.#widget.spec.size, metadata };
    this.#litellm.rows.set(this.id, structuredClone(row));
    this.#context.changes.push({ reason: 'Created', note: `created widget ${this.id}` });
    return this.#observed(row);
  }

  createConflict(): Waiting | undefined {
    if (!this.#litellm.waitsOnUnseenConflict) return undefined;
    return { kind: 'waiting', reason: 'WidgetTaken', message: 'its serial number is taken' };
  }

  async update(observed: Observed<Row>, metadata: Record<string, unknown> | undefined) {
    this.#litellm.call('update');
    this.#litellm.rows.set(this.id, {
      size: this.#widget.spec.size,
      metadata: metadata ?? observed.metadata ?? {},
    });
    if (observed.resource.size !== this.#widget.spec.size)
      this.#context.changes.push({ reason: 'Updated', note: `resized widget ${this.id}` });
  }

  async updateMetadata(observed: Observed<Row>, metadata: Record<string, unknown>) {
    this.#litellm.call('updateMetadata');
    this.#litellm.rows.set(this.id, { ...observed.resource, metadata });
  }

  async delete() {
    this.#litellm.call('delete');
    if (!this.#litellm.rows.delete(this.id)) throw fail('notFound');
  }

  syncedStatus(current: Widget, observed: Observed<Row>, now: Date) {
    return {
      size: observed.resource.size,
      conditions: setConditions(
        current.status?.conditions,
        [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'matches' }],
        now,
      ),
    };
  }

  #observed(row: Row): Observed<Row> {
    return { resource: row, metadata: row.metadata, upToDate: row.size === this.#widget.spec.size };
  }
}

function widgetKind(litellm: FakeLiteLLM): ManagedKind<Widget, Row> {
  return {
    kind: 'Widget',
    resource: RESOURCE,
    finalizer: FINALIZER,
    connect: (widget, context) => new WidgetClient(widget, litellm, context),
    notReadyStatus: (current, { reason, message, generation }, now) => ({
      ...current.status,
      conditions: setConditions(
        current.status?.conditions,
        [{ type: 'Ready', status: 'False', reason, message, observedGeneration: generation }],
        now,
      ),
    }),
    conflictReason: 'WidgetConflict',
    conflictMessage: (id, ownership, holder) => `widget ${id} is ${ownership} (${holder})`,
    cleansUp: new Set(['ours', 'previous-incarnation']),
    adopted: (id, ownership) => ({ reason: 'Adopted', note: `adopted ${id} (${ownership})` }),
    orphaned: (id) => ({ reason: 'Orphaned', note: `left ${id}` }),
    deleted: (id) => ({ reason: 'Deleted', note: `deleted ${id}` }),
  };
}

/** The API server, as far as one Widget's finalizers and status go. */
class FakeCluster {
  widget: Widget | undefined;
  statusWrites = 0;
  readonly log: string[] = [];

  readonly finalizers = {
    reconcile: async <T extends KubeObject>(
      object: T,
      finalizer: string,
      handlers: { apply: (o: T) => Promise<Result>; cleanup: (o: T) => Promise<Result | void> },
    ): Promise<Result> => {
      const has = object.metadata?.finalizers?.includes(finalizer) ?? false;
      if (isDeleting(object)) {
        if (!has) return {};
        await handlers.cleanup(object);
        this.log.push('finalizer removed');
        this.widget = undefined; // nothing else held it
        return {};
      }
      if (!has) {
        this.log.push('finalizer added');
        const widget = object as unknown as Widget;
        this.widget = { ...widget, metadata: { ...widget.metadata, finalizers: [finalizer] } };
      }
      return handlers.apply(this.widget as unknown as T);
    },
  };

  readonly status = {
    update: async <T>(
      _r: ResourceType,
      object: T,
      compute: unknown,
    ): Promise<StatusWriteResult<T>> => {
      const current = (this.widget ?? object) as Widget;
      const status = (compute as (c: Widget) => Widget['status'])(current);
      if (sameJson(current.status, status)) return { outcome: 'unchanged', object: current as T };
      this.statusWrites++;
      this.widget = { ...current, status };
      return { outcome: 'updated', object: this.widget as T };
    },
  };
}

const context = (): ReconcileContext => ({
  signal: new AbortController().signal,
  log: silentLogger,
});
const request = { name: 'w' };

function aWidget(spec: Partial<Widget['spec']> = {}): Widget {
  return {
    apiVersion: 'example.dev/v1',
    kind: 'Widget',
    metadata: { name: 'w', uid: 'uid-1', generation: 1, resourceVersion: '1' },
    spec: { size: 3, ...spec },
  };
}

const ours = () =>
  ownerMetadata({ kind: 'Widget', name: 'w', uid: 'uid-1', installation: INSTALLATION });

describe('ManagedReconciler', () => {
  let litellm: FakeLiteLLM;
  let cluster: FakeCluster;
  let events: EventSpec[];
  let reconciler: ManagedReconciler<Widget, Row>;

  beforeEach(() => {
    litellm = new FakeLiteLLM();
    cluster = new FakeCluster();
    events = [];
    reconciler = new ManagedReconciler<Widget, Row>({
      kind: widgetKind(litellm),
      lookup: () => cluster.widget,
      finalizers: cluster.finalizers,
      status: cluster.status,
      recorder: { record: async (_object, event) => void events.push(event) },
      installationId: INSTALLATION,
      resyncIntervalMs: RESYNC_MS,
      now: () => NOW,
      random: () => 0.5,
    });
  });

  const ready = () => getCondition(cluster.widget?.status?.conditions, 'Ready');
  const reasons = () => events.map((e) => `${e.type}/${e.reason}`);

  it('does nothing for an object that is gone', async () => {
    expect(await reconciler.reconcile(request, context())).toEqual({});
    expect(litellm.writes).toEqual([]);
  });

  it('adds the finalizer, then creates what observe says is absent, with our metadata', async () => {
    cluster.widget = aWidget();
    const result = await reconciler.reconcile(request, context());

    expect(cluster.log).toEqual(['finalizer added']);
    expect(litellm.writes).toEqual(['create']);
    expect(litellm.rows.get('w')).toEqual({ size: 3, metadata: ours() });
    expect(cluster.widget?.status?.size).toBe(3);
    expect(ready()?.status).toBe('True');
    expect(reasons()).toEqual(['Normal/Created']);
    // The resync interval, jittered upwards by at most 10 %.
    expect(result.requeueAfter).toBeGreaterThanOrEqual(RESYNC_MS);
    expect(result.requeueAfter).toBeLessThanOrEqual(RESYNC_MS * 1.1);
  });

  it('writes nothing anywhere when LiteLLM and status are up to date', async () => {
    cluster.widget = aWidget();
    await reconciler.reconcile(request, context());
    const statusWrites = cluster.statusWrites;
    events.length = 0;

    await reconciler.reconcile(request, context());

    expect(litellm.writes).toEqual(['create']);
    expect(cluster.statusWrites).toBe(statusWrites);
    expect(events).toEqual([]);
  });

  it('updates what the diff finds different, and tells it', async () => {
    litellm.rows.set('w', { size: 1, metadata: ours() });
    cluster.widget = aWidget({ size: 5 });
    await reconciler.reconcile(request, context());

    expect(litellm.writes).toEqual(['update']);
    expect(litellm.rows.get('w')).toEqual({ size: 5, metadata: ours() });
    expect(reasons()).toEqual(['Normal/Updated']);
  });

  it('restores our metadata without the released mark, even when the fields agree', async () => {
    litellm.rows.set('w', {
      size: 3,
      metadata: { ...ours(), [RELEASED_KEY]: 'then', other: 'kept' },
    });
    cluster.widget = aWidget();
    await reconciler.reconcile(request, context());

    expect(litellm.writes).toEqual(['update']);
    expect(litellm.rows.get('w')?.metadata).toEqual({ ...ours(), other: 'kept' });
  });

  it("observes again after create's 409 and goes on with what is there", async () => {
    litellm.conflictsOnCreate = 1;
    cluster.widget = aWidget();
    await reconciler.reconcile(request, context());

    expect(litellm.writes).toEqual(['create', 'update']);
    expect(litellm.rows.get('w')?.size).toBe(3);
    expect(ready()?.status).toBe('True');
  });

  it('fails with the 409 when observe then finds nothing, unless the kind calls it waiting', async () => {
    litellm.conflictsOnCreate = 2;
    litellm.conflictLeavesNothing = true;
    cluster.widget = aWidget();
    const err = await reconciler.reconcile(request, context()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'conflict' });
    expect(ready()).toMatchObject({ status: 'False', reason: 'LiteLLMError' });

    litellm.waitsOnUnseenConflict = true;
    const result = await reconciler.reconcile(request, context());
    expect(ready()).toMatchObject({ status: 'False', reason: 'WidgetTaken' });
    expect(result.requeueAfter).toBeGreaterThanOrEqual(RESYNC_MS);
    expect(litellm.rows.size).toBe(0);
  });

  it('adopts a previous incarnation: our metadata with the new uid, an Adopted Event', async () => {
    litellm.rows.set('w', { size: 3, metadata: { ...ours(), [OWNER_UID_KEY]: 'uid-0' } });
    cluster.widget = aWidget();
    await reconciler.reconcile(request, context());

    expect(litellm.rows.get('w')?.metadata).toEqual(ours());
    expect(reasons()).toEqual(['Normal/Adopted']);
  });

  it('waits on a conflict for an object it does not own, and never writes to it', async () => {
    litellm.rows.set('w', { size: 1, metadata: { note: 'made by hand' } });
    cluster.widget = aWidget();
    const result = await reconciler.reconcile(request, context());

    expect(litellm.writes).toEqual([]);
    expect(ready()).toMatchObject({ status: 'False', reason: 'WidgetConflict' });
    expect(ready()?.message).toContain('unmanaged');
    expect(reasons()).toEqual(['Warning/WidgetConflict']);
    expect(result.requeueAfter).toBeGreaterThanOrEqual(RESYNC_MS);

    // Waiting again changes nothing: no status write, no second Event.
    const statusWrites = cluster.statusWrites;
    await reconciler.reconcile(request, context());
    expect(cluster.statusWrites).toBe(statusWrites);
    expect(reasons()).toEqual(['Warning/WidgetConflict']);
  });

  it('adopts an unmanaged object when the annotation asks', async () => {
    litellm.rows.set('w', { size: 1, metadata: { note: 'made by hand' } });
    cluster.widget = aWidget();
    cluster.widget.metadata.annotations = { [ADOPT_ANNOTATION]: 'true' };
    await reconciler.reconcile(request, context());

    expect(litellm.rows.get('w')).toEqual({
      size: 3,
      metadata: { note: 'made by hand', ...ours() },
    });
    expect(reasons()).toEqual(['Normal/Updated', 'Normal/Adopted']);
  });

  it('returns a waiting outcome as status, without an error and without calling LiteLLM', async () => {
    cluster.widget = aWidget({ blockedBy: 'the team' });
    const result = await reconciler.reconcile(request, context());

    expect(ready()).toMatchObject({
      status: 'False',
      reason: 'DependencyNotReady',
      message: 'the team is not Ready',
      observedGeneration: 1,
    });
    expect(litellm.rows.size).toBe(0);
    expect(reasons()).toEqual(['Warning/DependencyNotReady']);
    expect(result.requeueAfter).toBeGreaterThanOrEqual(RESYNC_MS);
  });

  it('turns a failed LiteLLM call into Ready=False with its reason and rethrows it for backoff', async () => {
    cluster.widget = aWidget();
    litellm.failing = 'unavailable';
    const failure = reconciler.reconcile(request, context());

    await expect(failure).rejects.toBeInstanceOf(LiteLLMError);
    await failure.catch((err: unknown) => expect(isTerminalError(err)).toBe(false));
    expect(ready()).toMatchObject({ status: 'False', reason: 'LiteLLMUnavailable' });
    expect(reasons()).toEqual(['Warning/LiteLLMUnavailable']);
  });

  it('makes an invalid request terminal: retrying the same spec cannot help', async () => {
    cluster.widget = aWidget();
    litellm.failing = 'invalid';
    const err = await reconciler.reconcile(request, context()).catch((e: unknown) => e);

    expect(isTerminalError(err)).toBe(true);
    expect(ready()).toMatchObject({ status: 'False', reason: 'LiteLLMRejected' });
  });

  it('writes nothing when the controller is stopping', async () => {
    cluster.widget = aWidget();
    litellm.failing = 'unavailable';
    const stopping = new AbortController();
    stopping.abort();
    await expect(
      reconciler.reconcile(request, { signal: stopping.signal, log: silentLogger }),
    ).rejects.toBeInstanceOf(LiteLLMError);
    expect(ready()).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('deletes, then releases the finalizer', async () => {
    cluster.widget = aWidget();
    await reconciler.reconcile(request, context());
    cluster.widget = deleting(cluster.widget);
    events.length = 0;

    expect(await reconciler.reconcile(request, context())).toEqual({});
    expect(litellm.writes).toEqual(['create', 'delete']);
    expect(litellm.rows.has('w')).toBe(false);
    expect(cluster.log).toEqual(['finalizer added', 'finalizer removed']);
    expect(reasons()).toEqual(['Normal/Deleted']);
  });

  it('keeps the finalizer while the delete fails', async () => {
    cluster.widget = aWidget();
    await reconciler.reconcile(request, context());
    cluster.widget = deleting(cluster.widget);
    litellm.failing = 'unavailable';

    await expect(reconciler.reconcile(request, context())).rejects.toBeInstanceOf(LiteLLMError);
    expect(cluster.log).toEqual(['finalizer added']);
    expect(ready()).toMatchObject({ status: 'False', reason: 'LiteLLMUnavailable' });
  });

  it('under deletionPolicy Orphan, leaves the object in place, marked released', async () => {
    cluster.widget = aWidget({ deletionPolicy: 'Orphan' });
    await reconciler.reconcile(request, context());
    cluster.widget = deleting(cluster.widget);
    events.length = 0;

    await reconciler.reconcile(request, context());
    expect(litellm.writes).toEqual(['create', 'updateMetadata']);
    expect(isReleased(litellm.rows.get('w')?.metadata)).toBe(true);
    expect(cluster.log).toEqual(['finalizer added', 'finalizer removed']);
    expect(reasons()).toEqual(['Normal/Orphaned']);
  });

  it('leaves alone, while deleting, what is not ours', async () => {
    litellm.rows.set('w', { size: 1, metadata: { [MANAGED_BY_KEY]: 'someone else' } });
    cluster.widget = deleting({
      ...aWidget(),
      metadata: { ...aWidget().metadata, finalizers: [FINALIZER] },
    });

    await reconciler.reconcile(request, context());
    expect(litellm.writes).toEqual([]);
    expect(litellm.rows.has('w')).toBe(true);
    expect(cluster.log).toEqual(['finalizer removed']);
  });

  it('releases the finalizer at once when LiteLLM has nothing (apply never ran)', async () => {
    cluster.widget = deleting({
      ...aWidget(),
      metadata: { ...aWidget().metadata, finalizers: [FINALIZER] },
    });
    await reconciler.reconcile(request, context());
    expect(litellm.writes).toEqual([]);
    expect(cluster.log).toEqual(['finalizer removed']);
  });
});

function deleting(widget: Widget): Widget {
  return { ...widget, metadata: { ...widget.metadata, deletionTimestamp: NOW.toISOString() } };
}
