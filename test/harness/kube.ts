// Helpers for integration tests, which run in vitest workers and reach the shared test bed
// through `inject`. No controller-manager runs (nothing deletes namespaces' contents), so
// every test file works in a namespace of its own instead of cleaning up after itself.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';

export { impersonating } from './kubeconfig.ts';

/** The admin client configuration of the shared test apiserver. */
export function kubeConfigFromInject(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(inject('kubeconfig'));
  return kc;
}

/**
 * Creates a namespace named `<prefix>-<random>` and returns its name. The prefix is made a
 * valid DNS label (lower case, at most 56 characters) so any test name can be used.
 */
export async function uniqueNamespace(
  prefix: string,
  kubeConfig: KubeConfig = kubeConfigFromInject(),
): Promise<string> {
  const stem =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'test';
  const name = `${stem}-${randomBytes(3).toString('hex')}`;
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { 'llm-tenancy.dev/test': 'true' } } },
  });
  return name;
}
