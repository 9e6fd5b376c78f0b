// The Containerfile, without a container engine (none runs on these machines, and no base
// image registry is reachable from them): every path it copies exists, and the image's
// contents, assembled the way its stages assemble them (the COPY sources, then
// `npm ci --omit=dev`), run both entrypoints on Node 24 with production dependencies only.
// The operator is started with an empty environment, so it must load its whole module graph
// before refusing its configuration; the gateway is started for real against the test Redis
// and stopped with SIGTERM, which it must answer by exiting 0.
import { execFile } from 'node:child_process';
import { access, cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startProcess, waitUntilReady } from '../harness/process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The sources of the runtime stage's COPY lines that come from the build context. */
async function contextCopies(): Promise<string[]> {
  const file = await readFile(join(root, 'Containerfile'), 'utf8');
  const sources: string[] = [];
  for (const line of file.split('\n')) {
    const m = /^COPY\s+(?!--from)(.+)\s+\S+$/.exec(line.trim());
    if (m) sources.push(...m[1]!.trim().split(/\s+/));
  }
  return sources;
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('the image, assembled as its Containerfile says', () => {
  let app: string;

  beforeAll(async () => {
    const sources = await contextCopies();
    expect(sources).toEqual(
      expect.arrayContaining([
        'package.json',
        'package-lock.json',
        'crds/',
        'operator/src/',
        'gateway/src/',
      ]),
    );
    app = await mkdtemp(join(tmpdir(), 'llm-tenancy-image-'));
    for (const source of sources) {
      await access(join(root, source));
      await cp(join(root, source), join(app, source), { recursive: true });
    }
    // The dependencies stage: production dependencies only, from the lock file.
    const npm = await run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: app },
    );
    expect(npm.stderr.replace(/npm warn EBADENGINE[^\n]*\n?/g, '')).not.toMatch(/npm error/);
    expect(npm.code).toBe(0);
  }, 240_000);

  it('holds production dependencies only', async () => {
    // The lock file marks every package only the dev tools need ("dev": true).
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev === true)
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/node']));
    for (const path of devOnly) {
      const present = await access(join(app, path)).then(
        () => true,
        () => false,
      );
      expect(present, `dev-only ${path} in the image`).toBe(false);
    }
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const dependency of Object.keys(pkg.dependencies)) {
      await access(join(app, 'node_modules', dependency));
    }
  });

  it('loads the operator’s whole module graph, then refuses an empty configuration by name', async () => {
    const result = await run(process.execPath, [join(app, 'operator/src/main.ts')], {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: app },
    });
    expect(result.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(result.code).not.toBe(0);
    expect(result.stderr + result.stdout).toContain('LITELLM_URL');
  });

  it('runs the gateway, which answers /readyz and exits 0 on SIGTERM', async () => {
    const logFile = join(app, 'gateway.log');
    const gateway = await startProcess({
      name: 'gateway from the image contents',
      command: 'env',
      args: [
        '-i',
        `PATH=${process.env.PATH}`,
        'LITELLM_URL=http://127.0.0.1:9',
        `REDIS_URL=${inject('redisUrl')}`,
        'ROUTING_PREFIX=image-test:',
        'PORT=0',
        'MANAGEMENT_PORT=0',
        'HOST=127.0.0.1',
        'NODE_ENV=production',
        process.execPath,
        join(app, 'gateway/src/main.ts'),
      ],
      logFile,
    });
    let listening: { url: string; managementUrl: string } | undefined;
    await waitUntilReady(
      gateway,
      async () => {
        const line = (await readFile(logFile, 'utf8'))
          .split('\n')
          .find((l) => l.includes('gateway listening'));
        if (!line) return false;
        listening = JSON.parse(line) as { url: string; managementUrl: string };
        return true;
      },
      { what: 'the gateway’s "gateway listening" log line', timeoutMs: 30_000 },
    );
    const health = await fetch(`${listening!.managementUrl}/healthz`);
    expect(health.status).toBe(200);
    await gateway.stop(15_000);
    expect(await gateway.exited).toMatchObject({ code: 0 });
  }, 60_000);
});
