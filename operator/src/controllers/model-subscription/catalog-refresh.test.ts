import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/logger.ts';
import { modelCatalogRefresher } from './catalog-refresh.ts';

const context = { signal: new AbortController().signal, log: silentLogger };

describe('modelCatalogRefresher', () => {
  it('refreshes, and comes back after the interval', async () => {
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
    const next = await options.pass(context);
    expect(refreshes).toBe(1);
    expect(next).toBe(63_000);
  });

  it('lets a failed refresh fail (the queue backs off), never longer than the interval', async () => {
    const options = modelCatalogRefresher({
      catalog: {
        refreshIntervalMs: 5_000,
        refresh: () => Promise.reject(new Error('LiteLLM down')),
      },
    });
    await expect(options.pass(context)).rejects.toThrow('LiteLLM down');
    const delays = Array.from({ length: 12 }, () => options.rateLimiter!.when('model-catalog'));
    expect(delays[0]).toBeGreaterThanOrEqual(200);
    expect(delays[0]).toBeLessThan(300);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
    expect(delays.at(-1)).toBe(5_000);
  });
});
