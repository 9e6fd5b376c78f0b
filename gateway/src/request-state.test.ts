import { describe, expect, it } from 'vitest';
import { overheadMs } from './request-state.ts';

describe('overheadMs', () => {
  it('is all the time so far before the request went upstream', () => {
    expect(overheadMs({ startedAt: 100 }, 112.5)).toBe(12.5);
  });

  it('is all the time so far when the upstream never answered', () => {
    expect(overheadMs({ startedAt: 100, forwardedAt: 103 }, 150)).toBe(50);
  });

  it('leaves out the wait for the upstream headers', () => {
    // 3ms in the gateway, 1000ms waiting for LiteLLM, 2ms since its headers.
    expect(overheadMs({ startedAt: 100, forwardedAt: 103, upstreamHeadersAt: 1103 }, 1105)).toBe(5);
  });

  it('is 0 for a request that took no time of its own', () => {
    expect(overheadMs({ startedAt: 0, forwardedAt: 0, upstreamHeadersAt: 40 }, 40)).toBe(0);
  });
});
