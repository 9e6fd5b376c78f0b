import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHealthServer, type HealthServer, type Readiness } from './health-server.ts';

describe('health server', () => {
  let server: HealthServer | undefined;
  afterEach(() => server?.close());

  it('answers liveness always, readiness by its check, and serves the registry', async () => {
    const registry = new Registry();
    new Counter({ name: 'example_total', help: 'example', registers: [registry] }).inc(3);
    let readiness: Readiness = {
      ready: false,
      reasons: ['cache not synced: Team llmtenancy.dev/v1alpha1'],
    };
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readiness: () => readiness,
    });
    const get = (path: string) => fetch(`http://127.0.0.1:${server!.port}${path}`);

    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe(
      'not ready:\n- cache not synced: Team llmtenancy.dev/v1alpha1\n',
    );
    readiness = { ready: true, reasons: [] };
    expect((await get('/readyz')).status).toBe(200);

    const metrics = await get('/metrics');
    expect(metrics.headers.get('content-type')).toBe(registry.contentType);
    expect(await metrics.text()).toContain('example_total 3');
    expect((await get('/nothing')).status).toBe(404);
    expect(
      (await fetch(`http://127.0.0.1:${server.port}/healthz`, { method: 'POST' })).status,
    ).toBe(405);
  });
});
