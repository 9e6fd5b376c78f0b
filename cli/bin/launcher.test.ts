// The launcher under an older Node, as kubectl runs it when PATH's node is not 24: it re-runs
// the plugin under the pinned Node 24, or says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAUNCHER = fileURLToPath(new URL('./kubectl-llm.js', import.meta.url));
const OLD_NODE = '/usr/bin/node';
const oldVersion = existsSync(OLD_NODE)
  ? spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()
  : undefined;
const older = oldVersion !== undefined && Number(oldVersion.slice(1).split('.')[0]) < 24;

// Each case starts two Node processes: on a loaded machine that takes more than vitest's 5 s.
describe.skipIf(!older)(`the launcher under ${oldVersion}`, { timeout: 30_000 }, () => {
  it('re-runs the plugin under the pinned Node 24 with the same arguments and exit code', () => {
    const help = spawnSync(OLD_NODE, [LAUNCHER, 'keys', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('kubectl llm keys ');
    const usage = spawnSync(OLD_NODE, [LAUNCHER, 'keys', '--frobnicate'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });

  it('says which Node it needs when none is found', () => {
    const result = spawnSync(OLD_NODE, [LAUNCHER, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, KUBECTL_LLM_REEXEC: '1' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `kubectl-llm needs Node.js 24 or later, and this is ${oldVersion}`,
    );
  });
});
