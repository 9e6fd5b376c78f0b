import { describe, expect, it } from 'vitest';
import {
  groupLabelValue,
  groupTeamManifest,
  hasGroupSyncFields,
  syncedGroupOf,
} from './group-team.ts';

describe('groupTeamManifest', () => {
  it('declares only the label, the group name and spec.groups', () => {
    expect(groupTeamManifest('ml-research')).toEqual({
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'Team',
      metadata: {
        name: 'ml-research',
        labels: { 'llmtenancy.dev/group': 'ml-research' },
        annotations: { 'llmtenancy.dev/group-name': 'ml-research' },
      },
      spec: { groups: ['ml-research'] },
    });
  });

  it('labels with the Team name when the group name cannot be a label value', () => {
    expect(groupLabelValue('ML_Research')).toBe('ML_Research');
    expect(groupLabelValue('/org/ml')).toMatch(/^org-ml-[0-9a-f]{8}$/);
  });
});

describe('recognising a group-sync Team', () => {
  const manifest = groupTeamManifest('ml');
  const team = { metadata: manifest.metadata, spec: { ...manifest.spec } };

  it('knows the group a Team was created for', () => {
    expect(syncedGroupOf(team)).toBe('ml');
    expect(syncedGroupOf({ metadata: { name: 'ml' } })).toBeUndefined();
  });

  it('sees when an applied field is missing', () => {
    expect(hasGroupSyncFields(team, 'ml')).toBe(true);
    expect(hasGroupSyncFields({ ...team, spec: { groups: ['other'] } }, 'ml')).toBe(false);
    expect(hasGroupSyncFields({ ...team, spec: { groups: ['other', 'ml'] } }, 'ml')).toBe(true);
  });
});
