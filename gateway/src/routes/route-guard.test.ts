import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { addRouteGuard } from './route-guard.ts';

/** A gateway with the people side's /ui and a catch-all answer: what reached the router. */
async function guarded(peoplePrefixes: readonly string[]) {
  const app = Fastify();
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) =>
    reply.code(error.statusCode ?? 500).send({ refused: error.message }),
  );
  addRouteGuard(app, undefined, peoplePrefixes);
  app.get('/*', async (request) => ({ url: request.url }));
  await app.ready();
  return app;
}

describe('route guard: trailing "/"', () => {
  it('lets the people side serve a directory (the page at /ui/), normalised as any path', async () => {
    const app = await guarded(['/auth', '/api', '/ui']);
    for (const [url, reached] of [
      ['/ui/', '/ui/'],
      ['/ui/?x=1', '/ui/?x=1'],
      ['/ui/%7Eteam/', '/ui/~team/'],
    ] as const) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.json(), url).toEqual({ url: reached });
    }
    await app.close();
  });

  it('still refuses it everywhere else, and empty or dot segments under the people side', async () => {
    const app = await guarded(['/auth', '/api', '/ui']);
    for (const [url, problem] of [
      ['/v1/models/', 'empty segment'],
      ['/ui//', 'empty segment'],
      ['/ui/../v1/', 'is refused'],
      ['/uix/', 'empty segment'],
    ] as const) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json<{ refused: string }>().refused, url).toContain(problem);
    }
    await app.close();
  });

  it('refuses "/ui/" when there is no people side', async () => {
    const app = await guarded([]);
    expect((await app.inject({ url: '/ui/' })).statusCode).toBe(400);
    await app.close();
  });
});
