// README's install sections must work verbatim: every `helm install` of "Install on OpenShift"
// and "Install on plain Kubernetes", run as `helm template` with the same arguments (plus the
// cluster facts helm reads from a real cluster: its version and, on OpenShift, the Route API),
// renders what the section says; and every repository path the README names exists.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { access, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { helm, KUBE_VERSION } from '../harness/helm.ts';
import { objectsOf } from '../harness/kustomize.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function readme(): Promise<string> {
  return readFile(join(ROOT, 'README.md'), 'utf8');
}

/** The text of the README section under `heading`, up to the next heading of any level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  return end === -1 ? rest : rest.slice(0, end);
}

/** The `helm install` commands of a section's sh blocks, continuation lines joined, as argv. */
function helmInstalls(text: string): string[][] {
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('helm install '))
    .map((line) => line.split(/\s+/));
}

describe('README install commands', () => {
  it.each([
    {
      heading: '### Install on OpenShift',
      apiVersions: ['route.openshift.io/v1'],
      exposure: 'Route',
    },
    { heading: '### Install on plain Kubernetes', apiVersions: [], exposure: 'Ingress' },
  ])(
    '$heading: its helm install renders, with a $exposure',
    async ({ heading, apiVersions, exposure }) => {
      const commands = helmInstalls(section(await readme(), heading));
      expect(commands).toHaveLength(1);
      const [, , ...args] = commands[0]!;
      const result = await helm([
        'template',
        ...args.map((a) => (a === 'charts/llm-tenancy' ? join(ROOT, a) : a)),
        '--kube-version',
        KUBE_VERSION,
        ...apiVersions.flatMap((v) => ['--api-versions', v]),
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const kinds = objectsOf(result.stdout).map((o) => o.kind);
      expect(kinds).toContain(exposure);
      expect(kinds).toContain('CustomResourceDefinition');
    },
  );

  it('names only repository paths that exist', async () => {
    const paths = new Set(
      [...(await readme()).matchAll(/(?:examples|charts|test|crds)\/[\w./-]*[\w/]/g)].map(
        (m) => m[0],
      ),
    );
    expect(paths.size).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const path of paths) {
      await access(join(ROOT, path)).catch(() => missing.push(path));
    }
    expect(missing).toEqual([]);
  });
});
