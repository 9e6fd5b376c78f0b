// The outbox with a fake clock and a scripted sink: the backoff between attempts, Retry-After,
// what is not retried, the bound on attempts and on what waits, and that enqueue never waits.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../runtime/fake-clock.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { AlertOutbox } from './alert-outbox.ts';
import { DeliveryError, type AlertSink } from './alert-sink.ts';
import type { BudgetAlert } from './budget-alert.ts';
import { aThresholdAlert } from './test-alert.ts';

type Step = 'ok' | DeliveryError | Promise<void>;

function scriptedSink(name: string, steps: Step[]) {
  const calls: { at: number; alert: string }[] = [];
  const sink: AlertSink = {
    name,
    deliver: async (alert: BudgetAlert) => {
      calls.push({ at: clock.now(), alert: alert.id });
      const step = steps.shift() ?? 'ok';
      if (step instanceof DeliveryError) throw step;
      if (step !== 'ok') await step;
    },
  };
  const clock = new FakeClock(0);
  return { sink, calls, clock };
}

function outboxWith(sinks: AlertSink[], clock: FakeClock, options: { capacity?: number } = {}) {
  const registry = new Registry();
  const outbox = new AlertOutbox({
    sinks,
    registry,
    log: silentLogger,
    clock,
    random: () => 0.5, // the middle of each jittered range
    retry: { maxAttempts: 4, initialDelayMs: 1_000, maxDelayMs: 60_000 },
    ...options,
  });
  const count = async (sink: string, result: string) =>
    (await registry.getSingleMetric('llmtenancy_budget_alert_deliveries_total')!.get()).values.find(
      (v) => v.labels.sink === sink && v.labels.result === result,
    )?.value;
  return { outbox, count };
}

const unavailable = () => new DeliveryError('webhook answered 503', true);

describe('AlertOutbox', () => {
  it('retries with jittered exponential backoff, then delivers', async () => {
    const { sink, calls, clock } = scriptedSink('webhook', [unavailable(), unavailable(), 'ok']);
    const { outbox, count } = outboxWith([sink], clock);
    outbox.enqueue(aThresholdAlert());
    await outbox.settled();
    expect(calls.map((c) => c.at)).toEqual([0]);
    // Equal jitter at 0.5: attempt 1 waits 750 ms (of [500, 1000)), attempt 2 1500 ms.
    clock.advance(749);
    await outbox.settled();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await outbox.settled();
    clock.advance(1_500);
    await outbox.settled();
    expect(calls.map((c) => c.at)).toEqual([0, 750, 2_250]);
    expect(await count('webhook', 'retried')).toBe(2);
    expect(await count('webhook', 'delivered')).toBe(1);
    expect(outbox.pending).toBe(0);
  });

  it("waits the receiver's Retry-After, capped at the longest backoff", async () => {
    const { sink, calls, clock } = scriptedSink('webhook', [
      new DeliveryError('webhook answered 429', true, 30_000),
      new DeliveryError('webhook answered 429', true, 3_600_000),
    ]);
    const { outbox } = outboxWith([sink], clock);
    outbox.enqueue(aThresholdAlert());
    await outbox.settled();
    clock.advance(30_000);
    await outbox.settled();
    clock.advance(60_000);
    await outbox.settled();
    expect(calls.map((c) => c.at)).toEqual([0, 30_000, 90_000]);
  });

  it('does not retry what the receiver refused, and gives up after maxAttempts', async () => {
    const refused = scriptedSink('webhook', [new DeliveryError('webhook answered 400', false)]);
    const one = outboxWith([refused.sink], refused.clock);
    one.outbox.enqueue(aThresholdAlert());
    await one.outbox.settled();
    refused.clock.advance(600_000);
    await one.outbox.settled();
    expect(refused.calls).toHaveLength(1);
    expect(await one.count('webhook', 'failed')).toBe(1);

    const down = scriptedSink('webhook', Array.from({ length: 10 }, unavailable));
    const other = outboxWith([down.sink], down.clock);
    other.outbox.enqueue(aThresholdAlert());
    for (let i = 0; i < 10; i++) {
      await other.outbox.settled();
      down.clock.advance(60_000);
    }
    expect(down.calls).toHaveLength(4);
    expect(await other.count('webhook', 'retried')).toBe(3);
    expect(await other.count('webhook', 'failed')).toBe(1);
    expect(other.outbox.pending).toBe(0);
  });

  it('never blocks enqueue: a hung sink holds its slots, overflow is dropped and counted', async () => {
    const hung = new Promise<void>(() => {});
    const { sink, calls, clock } = scriptedSink(
      'webhook',
      Array.from({ length: 10 }, () => hung),
    );
    const { outbox, count } = outboxWith([sink], clock, { capacity: 3 });
    for (let i = 0; i < 10; i++) outbox.enqueue(aThresholdAlert(50, `key-${i}`)); // returns at once
    // 4 in flight (the concurrency), 3 waiting (the capacity), 3 dropped.
    expect(calls).toHaveLength(4);
    expect(outbox.pending).toBe(7);
    expect(await count('webhook', 'dropped')).toBe(3);
    outbox.close();
    expect(outbox.pending).toBe(4); // the hung attempts were aborted; nothing waits
  });

  it('delivers each alert to every sink, independently', async () => {
    const clock = new FakeClock(0);
    const calls: string[] = [];
    const failing: AlertSink = {
      name: 'email',
      deliver: async () => {
        calls.push('email');
        throw new DeliveryError('SMTP server answered 550', false);
      },
    };
    const working: AlertSink = {
      name: 'webhook',
      deliver: async () => void calls.push('webhook'),
    };
    const { outbox, count } = outboxWith([failing, working], clock);
    outbox.enqueue(aThresholdAlert());
    await outbox.settled();
    expect(calls.sort()).toEqual(['email', 'webhook']);
    expect(await count('webhook', 'delivered')).toBe(1);
    expect(await count('email', 'failed')).toBe(1);
  });
});
