import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/logger.ts';
import type { ReconcileFunction } from '../../runtime/controller.ts';
import type { Request } from '../../runtime/request.ts';
import { modelCatalogRefresher } from './catalog-refresh.ts';

const context = { signal: new AbortController().signal, log: silentLogger };

describe('modelCatalogRefresher', () => {
  it('queues its one request, refreshes, and comes back after the interval', async () => {
    let refreshes = 0;
    const options = modelCatalogRefresher({
      catalog: {
        refreshIntervalMs: 60_000,
        refresh: async () => {
          refreshes++;
          return false;
        },
      },
      random: () => 0.5,
    });
    const queued: Request[] = [];
    for (const source of options.sources ?? []) source((request) => queued.push(request));
    expect(queued).toEqual([{ name: 'litellm' }]);

    const result = await (options.reconciler as ReconcileFunction)(queued[0]!, context);
    expect(refreshes).toBe(1);
    expect(result).toEqual({ requeueAfter: 63_000 });
  });

  it('lets a failed refresh fail (the queue backs off), never longer than the interval', async () => {
    const options = modelCatalogRefresher({
      catalog: {
        refreshIntervalMs: 5_000,
        refresh: () => Promise.reject(new Error('LiteLLM down')),
      },
    });
    await expect(
      (options.reconciler as ReconcileFunction)({ name: 'litellm' }, context),
    ).rejects.toThrow('LiteLLM down');
    const delays = Array.from({ length: 12 }, () => options.rateLimiter!.when('litellm'));
    expect(delays[0]).toBeGreaterThanOrEqual(200);
    expect(delays[0]).toBeLessThan(300);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
    expect(delays.at(-1)).toBe(5_000);
  });
});
