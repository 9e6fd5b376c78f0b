import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import { OwnSecretWrites } from './own-secret-writes.ts';

type KeySecret = V1Secret & KubeObject;

const secret = (resourceVersion: string, name = 'chatbot-key'): KeySecret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace: 'apps',
    resourceVersion,
    ownerReferences: [
      {
        apiVersion: 'llmtenancy.dev/v1alpha1',
        kind: 'VirtualKey',
        name: 'chatbot',
        uid: 'u',
        controller: true,
      },
    ],
  },
});

function setup() {
  const writes = new OwnSecretWrites();
  const enqueued: Request[] = [];
  const handler = writes.handler((r) => enqueued.push(r));
  /** A write whose response the test releases, returning the Secret at `version`. */
  const inFlight = (version: string, before?: string) => {
    let release!: (ok: boolean) => void;
    const answered = new Promise<boolean>((resolve) => (release = resolve));
    const done = writes.around('apps', 'chatbot-key', before, async () => {
      if (!(await answered)) throw new Error('409');
      return secret(version);
    });
    return { release, done: done.catch(() => undefined) };
  };
  return { writes, enqueued, handler, inFlight };
}

const OWNER: Request = { namespace: 'apps', name: 'chatbot' };

describe('OwnSecretWrites', () => {
  it('drops the watch event of its own create when it arrives after the response', async () => {
    const { writes, enqueued, handler, inFlight } = setup();
    const write = inFlight('10');
    write.release(true);
    await write.done;
    handler.add!(secret('10'));
    expect(enqueued).toEqual([]);
    expect(writes.remembered).toBe(0);
  });

  it('drops the event of its own write that arrives before the response', async () => {
    const { enqueued, handler, inFlight } = setup();
    const write = inFlight('11', '10');
    handler.update!(secret('10'), secret('11'));
    expect(enqueued).toEqual([]); // held while the write is in flight
    write.release(true);
    await write.done;
    expect(enqueued).toEqual([]);
  });

  it("enqueues the owner of a tenant's edit, even one that arrives during a write", async () => {
    const { enqueued, handler, inFlight } = setup();
    handler.update!(secret('10'), secret('12')); // no write in flight
    expect(enqueued).toEqual([OWNER]);

    const write = inFlight('14', '12');
    handler.update!(secret('12'), secret('13')); // not the version the write returns
    expect(enqueued).toEqual([OWNER]);
    write.release(true);
    await write.done;
    expect(enqueued).toEqual([OWNER, OWNER]);
  });

  it('enqueues what arrived during a write that failed: whose it was is unknown', async () => {
    const { enqueued, handler, inFlight } = setup();
    const write = inFlight('11', '10');
    handler.update!(secret('10'), secret('11'));
    write.release(false);
    await write.done;
    expect(enqueued).toEqual([OWNER]);
  });

  it('enqueues the owner of every deletion and resync, and of the next edit after its own write', async () => {
    const { enqueued, handler, inFlight } = setup();
    const write = inFlight('20', '19');
    write.release(true);
    await write.done;
    handler.update!(secret('20'), secret('21'));
    handler.delete!(secret('21'));
    handler.resync!(secret('21'));
    expect(enqueued).toEqual([OWNER, OWNER, OWNER]);
  });

  it('ignores an update that is no write (same resourceVersion) and remembers nothing for a write that changed nothing', async () => {
    const { writes, enqueued, handler, inFlight } = setup();
    handler.update!(secret('5'), secret('5'));
    const write = inFlight('5', '5'); // KeyValues.write returned the Secret as it was
    write.release(true);
    await write.done;
    expect(writes.remembered).toBe(0);
    handler.update!(secret('5'), secret('6'));
    expect(enqueued).toEqual([OWNER]);
  });

  it('forgets own versions a later change overtook (a relist skips events)', async () => {
    const { writes, enqueued, handler, inFlight } = setup();
    const write = inFlight('30', '29');
    write.release(true);
    await write.done;
    expect(writes.remembered).toBe(1);
    handler.update!(secret('29'), secret('31'));
    expect(writes.remembered).toBe(0);
    expect(enqueued).toEqual([OWNER]);
  });
});
