import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FencedWriteError, WriteFence } from './write-fence.ts';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const request = (method: HttpMethod) =>
  new RequestContext('https://127.0.0.1:6443/api/v1/namespaces/a/configmaps', method);

describe('WriteFence', () => {
  it('passes every request through, with the credentials, while open', async () => {
    const fence = new WriteFence();
    const guarded = fence.guard(kubeConfig());
    const post = request(HttpMethod.POST);
    await guarded.applySecurityAuthentication(post);
    expect(post.getHeaders().Authorization).toBe('Bearer secret-token');
    expect(guarded.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it('refuses everything but GET once closed, before credentials are added', async () => {
    const fence = new WriteFence();
    const guarded = fence.guard(kubeConfig());
    const lost = new Error('leadership lost');
    fence.close(lost);
    for (const method of [HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE]) {
      const context = request(method);
      const refused = guarded.applySecurityAuthentication(context);
      await expect(refused).rejects.toBeInstanceOf(FencedWriteError);
      await expect(refused).rejects.toMatchObject({ cause: lost });
      expect(context.getHeaders().Authorization).toBeUndefined();
    }
    const get = request(HttpMethod.GET);
    await guarded.applySecurityAuthentication(get);
    expect(get.getHeaders().Authorization).toBe('Bearer secret-token');
    expect(fence.closedBy).toBe(lost);
  });
});
