import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { extensionChoices } from '../../functions/core/extensions';
import type { RequestRecord } from '../../functions/core/model';
import type { Policy } from '../../functions/core/policy';
import { validatePolicy } from '../../functions/core/policy-file';
import { resolvePrincipal } from '../../functions/core/principal';
import {
  checkRequestForm,
  durationChoices,
  maxMinutesFor,
  searchAccounts,
  searchPermissionSets,
} from '../../functions/core/request-form';
import { requestIdForView } from '../../functions/core/request-id';
import { examplePolicy } from './support/harness';

describe('request form rules', () => {
  const policy = examplePolicy();

  it('offers durations up to the maximum, always including it', () => {
    expect(durationChoices(60)).toEqual([15, 30, 60]);
    expect(durationChoices(90)).toEqual([15, 30, 60, 90]);
    expect(durationChoices(0)).toEqual([]);
  });

  it('bounds durations by the rule of the chosen account and permission set', () => {
    expect(maxMinutesFor(policy, 'alice@example.com')).toBe(480);
    expect(maxMinutesFor(policy, 'alice@example.com', '111111111111', 'ReadOnly')).toBe(240);
    expect(maxMinutesFor(policy, 'carol@example.com', '111111111111', 'Admin')).toBe(60);
    expect(maxMinutesFor(policy, 'alice@example.com', '111111111111', 'Admin')).toBeUndefined();
    expect(maxMinutesFor(policy, 'erin@elsewhere.org')).toBeUndefined();
  });

  it('lists only permission sets the requester may ask for on the account', () => {
    expect(searchPermissionSets(policy, 'alice@example.com', '111111111111', '').map((p) => p.name)).toEqual([
      'PowerUser',
      'ReadOnly',
    ]);
    expect(
      searchPermissionSets(policy, 'carol@example.com', '111111111111', 'adm').map((p) => p.name),
    ).toEqual(['Admin']);
  });

  it('accepts a valid form and names the field of each problem', () => {
    const ok = checkRequestForm(policy, 'alice@example.com', {
      accountId: '222222222222',
      permissionSet: 'PowerUser',
      durationMinutes: '120',
      reason: '  deploy  ',
      ticket: '',
    });
    expect(ok.ok && ok.value).toMatchObject({
      accountId: '222222222222',
      durationMinutes: 120,
      reason: 'deploy',
    });
    expect(ok.ok && 'ticket' in ok.value).toBe(false);

    const bad = checkRequestForm(policy, 'alice@example.com', { ticket: 'x'.repeat(101) });
    expect(bad.ok ? {} : bad.errors).toEqual({
      account: 'Pick an account.',
      permissionSet: 'Pick a permission set.',
      duration: 'Pick a duration.',
      reason: 'Please say why you need this access.',
      ticket: 'A ticket reference has at most 100 characters.',
    });
  });

  it('derives the same request id for the same view, a different one for another', () => {
    const id = requestIdForView('T1', 'V123');
    expect(id).toBe(requestIdForView('T1', 'V123'));
    expect(id).not.toBe(requestIdForView('T1', 'V124'));
    expect(id).toMatch(/^req-[0-9a-f]{24}$/);
  });

  it('finds the Identity Center user by the email as given, then in lower case', async () => {
    const asked: string[] = [];
    const users = {
      findUserIdByEmail: async (email: string) => {
        asked.push(email);
        return email === 'bob@example.com' ? 'u-bob' : undefined;
      },
    };
    expect(await resolvePrincipal(users, 'Bob@Example.com')).toEqual({
      principalId: 'u-bob',
      email: 'bob@example.com',
    });
    expect(asked).toEqual(['Bob@Example.com', 'bob@example.com']);
    expect(await resolvePrincipal(users, 'nobody@example.com')).toBeUndefined();
  });

  it('offers extensions only up to what the rule still allows', () => {
    const record = {
      request: {
        requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
        accountId: '111111111111',
        permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
        durationMinutes: 180,
      },
      extendedMinutes: 60,
    } as unknown as RequestRecord;
    expect(extensionChoices(policy, record)).toEqual([]);
    expect(extensionChoices(policy, { ...record, extendedMinutes: 0 })).toEqual([15, 30, 60]);
  });
});

describe('a policy with hundreds of accounts', () => {
  const base = parse(
    readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
  ) as Record<string, unknown>;
  const accounts = Array.from({ length: 450 }, (_, i) => ({
    id: String(100000000000 + i),
    name: `team-${String(i).padStart(3, '0')}`,
  }));
  const policy: Policy = validatePolicy({
    ...base,
    accounts,
    rules: [
      {
        name: 'everyone-everywhere',
        requesters: ['*@example.com'],
        accounts: ['*'],
        permissionSets: ['ReadOnly'],
        maxDuration: '2h',
        approval: 'none',
      },
    ],
  });

  it('never returns more than 100 options, and finds any account by what is typed', () => {
    expect(searchAccounts(policy, 'alice@example.com', '')).toHaveLength(100);
    expect(searchAccounts(policy, 'alice@example.com', 'team-44').map((a) => a.name)).toEqual([
      'team-440',
      'team-441',
      'team-442',
      'team-443',
      'team-444',
      'team-445',
      'team-446',
      'team-447',
      'team-448',
      'team-449',
    ]);
    expect(searchAccounts(policy, 'alice@example.com', '100000000399').map((a) => a.name)).toEqual([
      'team-399',
    ]);
  });

  it('accepts a request for the 400th account', () => {
    const result = checkRequestForm(policy, 'alice@example.com', {
      accountId: '100000000399',
      permissionSet: 'ReadOnly',
      durationMinutes: 60,
      reason: 'x',
    });
    expect(result.ok).toBe(true);
  });
});
