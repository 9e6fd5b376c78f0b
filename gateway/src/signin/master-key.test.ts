import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MasterKey } from './master-key.ts';

const dir = mkdtempSync(join(tmpdir(), 'master-key-'));
const logger = pino({ level: 'silent' });

describe('MasterKey', () => {
  it('matches the file’s key only, trimmed, and follows a swapped file', async () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'sk-one\n');
    const key = new MasterKey({ file, logger, checkIntervalMs: 0 });
    await key.load();
    expect(await key.matches('sk-one')).toBe(true);
    for (const wrong of ['sk-on', 'sk-one ', 'SK-ONE', ''])
      expect(await key.matches(wrong)).toBe(false);
    writeFileSync(join(dir, 'next'), 'sk-two');
    renameSync(join(dir, 'next'), file);
    expect(await key.matches('sk-two')).toBe(true);
    expect(await key.matches('sk-one')).toBe(false);
  });

  it('matches nothing while the file is missing or empty, and recovers', async () => {
    const file = join(dir, 'later');
    const key = new MasterKey({ file, logger, checkIntervalMs: 0 });
    await key.load();
    expect(await key.matches('')).toBe(false);
    writeFileSync(file, '   \n');
    expect(await key.matches('')).toBe(false);
    writeFileSync(file, 'sk-back');
    expect(await key.matches('sk-back')).toBe(true);
    rmSync(file);
    expect(await key.matches('sk-back')).toBe(false);
  });

  it('hands out the current key for calls to LiteLLM: rotated, and none while unreadable', async () => {
    const file = join(dir, 'outgoing');
    writeFileSync(file, 'sk-first\n');
    const key = new MasterKey({ file, logger, checkIntervalMs: 0 });
    await key.load();
    expect(await key.current()).toBe('sk-first');
    writeFileSync(join(dir, 'outgoing-next'), 'sk-second');
    renameSync(join(dir, 'outgoing-next'), file);
    expect(await key.current()).toBe('sk-second');
    writeFileSync(file, '\n');
    expect(await key.current()).toBeUndefined();
    rmSync(file);
    expect(await key.current()).toBeUndefined();
  });
});
