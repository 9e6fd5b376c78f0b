// test/e2e/kind/run.sh where no Docker engine answers: it must say loudly that it skipped and
// exit 77, never 0, so no CI job counts the skip as a pass; and it must build nothing (kind is
// built from the Go module proxy only once Docker answers). `docker` and `go` are stubs first
// on PATH, so this never starts a cluster even on a machine with Docker.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../e2e/kind/run.sh', import.meta.url));
const DOCKER_DOWN =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

describe('npm run e2e:kind without a Docker engine', () => {
  let stubs: string;
  beforeAll(async () => {
    stubs = await mkdtemp(join(tmpdir(), 'kind-e2e-skip-'));
    const stub = async (name: string, body: string) => {
      await writeFile(join(stubs, name), `#!/bin/sh\n${body}\n`);
      await chmod(join(stubs, name), 0o755);
    };
    await stub('docker', `echo 'Client:'; echo '${DOCKER_DOWN}' >&2; exit 1`);
    await stub('go', `touch '${join(stubs, 'go-was-run')}'; exit 1`);
  });
  afterAll(async () => {
    await rm(stubs, { recursive: true, force: true });
  });

  it('exits 77 with a loud SKIPPED banner naming why, and builds nothing', async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        'bash',
        [SCRIPT],
        { env: { PATH: `${stubs}:/usr/bin:/bin`, HOME: stubs } },
        (err, out, errOut) =>
          resolve({ code: err ? (err.code as number) : 0, stdout: out, stderr: errOut }),
      );
    });
    expect(code).toBe(77);
    expect(stderr).toContain(
      `kind e2e SKIPPED: no Docker engine (docker info failed: ${DOCKER_DOWN})`,
    );
    expect(stderr).toContain('this run is NOT a pass');
    expect(stderr).not.toMatch(/PASSED/);
    expect(stdout).toBe('');
    expect(existsSync(join(stubs, 'go-was-run'))).toBe(false);
  });
});
