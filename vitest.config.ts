import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no servers; `integration` starts the real test bed
// (kube-apiserver + etcd, redis-server, OIDC provider) once per run in globalSetup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{cli,crds,contracts,operator,gateway}/**/*.test.ts', 'test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
