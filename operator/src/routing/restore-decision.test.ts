import { describe, expect, it } from 'vitest';
import { decideRestore } from './restore-decision.ts';

const meta = (fields: Partial<Record<string, string>> = {}) => ({
  schemaVersion: '1',
  revision: '7',
  epoch: 'e1',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...fields,
});

describe('decideRestore', () => {
  it('republishes when the meta hash is missing (restart, flush)', () => {
    expect(decideRestore({}, { epoch: 'e1', revision: 7 })).toEqual({
      action: 'republish',
      reason: 'missing',
    });
    expect(decideRestore({}, { epoch: undefined, revision: 0 })).toEqual({
      action: 'republish',
      reason: 'missing',
    });
  });

  it('republishes when the meta hash is damaged or of another schema version', () => {
    expect(decideRestore({ revision: '3' }, { epoch: 'e1', revision: 3 })).toEqual({
      action: 'republish',
      reason: 'invalid',
    });
    expect(decideRestore(meta({ schemaVersion: '2' }), { epoch: 'e1', revision: 7 })).toEqual({
      action: 'republish',
      reason: 'invalid',
    });
  });

  it('adopts another epoch (another publisher, or our first look)', () => {
    expect(decideRestore(meta(), { epoch: undefined, revision: 0 })).toEqual({
      action: 'adopt',
      epoch: 'e1',
      revision: 7,
    });
    expect(decideRestore(meta({ revision: '2' }), { epoch: 'e0', revision: 9 })).toEqual({
      action: 'adopt',
      epoch: 'e1',
      revision: 2,
    });
  });

  it('republishes when our epoch went back in revision (an older snapshot)', () => {
    expect(decideRestore(meta({ revision: '6' }), { epoch: 'e1', revision: 7 })).toEqual({
      action: 'republish',
      reason: 'revision_regressed',
    });
  });

  it('is current at our revision or later', () => {
    expect(decideRestore(meta(), { epoch: 'e1', revision: 7 })).toEqual({ action: 'current' });
    expect(decideRestore(meta({ revision: '8' }), { epoch: 'e1', revision: 7 })).toEqual({
      action: 'current',
    });
  });
});
