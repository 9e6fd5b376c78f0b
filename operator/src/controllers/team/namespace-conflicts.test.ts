import { describe, expect, it } from 'vitest';
import { namespaceConflictMessage, namespaceConflicts } from './namespace-conflicts.ts';

const claims: Record<string, string[]> = {
  'ns-a': ['ml', 'nlp'],
  'ns-b': ['ml', 'nlp', 'vision'],
  'ns-c': ['ml'],
};
const claimantsOf = (ns: string) => claims[ns] ?? [];

describe('namespaceConflicts', () => {
  it('names every other Team claiming one of our namespaces, with the shared namespaces', () => {
    expect(namespaceConflicts('ml', ['ns-c', 'ns-b', 'ns-a'], claimantsOf)).toEqual([
      { team: 'nlp', namespaces: ['ns-a', 'ns-b'] },
      { team: 'vision', namespaces: ['ns-b'] },
    ]);
  });

  it('finds nothing when only this Team claims its namespaces', () => {
    expect(namespaceConflicts('ml', ['ns-c'], claimantsOf)).toEqual([]);
    expect(namespaceConflicts('ml', [], claimantsOf)).toEqual([]);
  });

  it('says which namespaces are claimed twice and what to do', () => {
    expect(
      namespaceConflictMessage([
        { team: 'nlp', namespaces: ['ns-a', 'ns-b'] },
        { team: 'vision', namespaces: ['ns-b'] },
      ]),
    ).toBe(
      'namespaces ns-a, ns-b are also claimed by Team nlp; namespace ns-b is also claimed by Team vision. A namespace belongs to at most one Team: remove it from all but one of them.',
    );
  });
});
