import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.ts';

function breaker() {
  let now = 1_000;
  const states: CircuitState[] = [];
  const cb = new CircuitBreaker({
    failureThreshold: 3,
    coolDownMs: 10_000,
    now: () => now,
    onStateChange: (s) => states.push(s),
  });
  return { cb, states, advance: (ms: number) => (now += ms) };
}

function fail(cb: CircuitBreaker, times: number) {
  for (let i = 0; i < times; i++) {
    expect(cb.acquire().allowed).toBe(true);
    cb.recordFailure();
  }
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold; a success resets the count', () => {
    const { cb } = breaker();
    fail(cb, 2);
    cb.recordSuccess();
    fail(cb, 2);
    expect(cb.state).toBe('closed');
    expect(cb.consecutiveFailures).toBe(2);
  });

  it('opens after N consecutive failures and refuses with the remaining cool-down', () => {
    const { cb, states, advance } = breaker();
    fail(cb, 3);
    expect(cb.state).toBe('open');
    expect(cb.acquire()).toEqual({ allowed: false, retryAfterMs: 10_000 });
    advance(4_000);
    expect(cb.acquire()).toEqual({ allowed: false, retryAfterMs: 6_000 });
    expect(states).toEqual(['open']);
  });

  it('lets one probe through after the cool-down; success closes', () => {
    const { cb, states, advance } = breaker();
    fail(cb, 3);
    advance(10_000);
    expect(cb.acquire()).toEqual({ allowed: true, probe: true });
    expect(cb.state).toBe('halfOpen');
    expect(cb.acquire().allowed).toBe(false); // one probe at a time
    cb.recordSuccess();
    expect(cb.state).toBe('closed');
    expect(cb.acquire()).toEqual({ allowed: true, probe: false });
    expect(states).toEqual(['open', 'halfOpen', 'closed']);
  });

  it('a failed probe opens it for another full cool-down', () => {
    const { cb, advance } = breaker();
    fail(cb, 3);
    advance(10_000);
    expect(cb.acquire().allowed).toBe(true);
    cb.recordFailure();
    expect(cb.state).toBe('open');
    expect(cb.acquire()).toEqual({ allowed: false, retryAfterMs: 10_000 });
  });

  it('a probe released without an outcome (caller aborted) lets the next call probe', () => {
    const { cb, advance } = breaker();
    fail(cb, 3);
    advance(10_000);
    expect(cb.acquire().allowed).toBe(true);
    cb.release();
    expect(cb.acquire()).toEqual({ allowed: true, probe: true });
  });
});
