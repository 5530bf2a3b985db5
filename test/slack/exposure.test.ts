import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { parse as parseYaml } from 'yaml';
import { SsoAdminPermissionSets } from '../../functions/adapters/sso-admin-permission-sets';
import { validatePolicy } from '../../functions/core/policy-file';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import { CALLBACK_IDS, FORM_EXPOSURE_BLOCK, FORM_FIELDS } from '../../functions/slack/render/ids';
import {
  type RunningIdentityCenter,
  type SandboxFileInput,
  sandboxFileSchema,
  startIdentityCenterStandIn,
} from '../../local/identity-center';
import { formValues, type Harness, PEOPLE, type Person, startHarness, TEAM_ID } from './support/harness';

// The request form's line on how long a grant's sessions outlive its window, seen from Slack: the
// real Bolt App (support/harness.ts) reading session durations through the sso-admin adapter from
// the Identity Center stand-in (DescribePermissionSet), once per permission set and container.
// The example policy, with PowerUser ending sessions at revoke and a Billing permission set.

interface Block {
  type: string;
  block_id?: string;
  dispatch_action?: boolean;
  elements?: Array<{ type: string; text: string }>;
}

const ORIGINAL = parseYaml(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
) as {
  identityCenter: { instanceArn: string };
  permissionSets: Array<{ name: string; arn: string; endSessionsOnRevoke?: boolean }>;
  rules: Array<{ name: string; permissionSets: string[] }>;
};
const doc = structuredClone(ORIGINAL);
const INSTANCE = doc.identityCenter.instanceArn;
const BILLING = `${INSTANCE.replace(':instance/', ':permissionSet/')}/ps-b1b2b3b4b5b6b7b8`;
for (const ps of doc.permissionSets) if (ps.name === 'PowerUser') ps.endSessionsOnRevoke = true;
doc.permissionSets.push({ name: 'Billing', arn: BILLING });
for (const rule of doc.rules) if (rule.name === 'staging-self-service') rule.permissionSets.push('Billing');
const policy = validatePolicy(doc);
const arnOf = (name: string) => policy.permissionSets.find((ps) => ps.name === name)?.arn as string;

const sandbox = sandboxFileSchema.parse({
  instanceArn: INSTANCE,
  identityStoreId: 'd-9067a1b2c3',
  accounts: policy.accounts.map((a) => ({ id: a.id, name: a.name })),
  permissionSets: [
    { name: 'ReadOnly', arn: arnOf('ReadOnly'), sessionDuration: 'PT4H' },
    { name: 'PowerUser', arn: arnOf('PowerUser'), sessionDuration: 'PT12H' },
    { name: 'Admin', arn: arnOf('Admin'), sessionDuration: 'PT12H' },
    { name: 'Billing', arn: BILLING, sessionDuration: 'PT2H' },
  ],
} satisfies SandboxFileInput);

let h: Harness;
let identityCenter: RunningIdentityCenter;
let client: SSOAdminClient;
beforeAll(async () => {
  identityCenter = await startIdentityCenterStandIn({ sandbox, requestsPerSecond: Number.POSITIVE_INFINITY });
  client = new SSOAdminClient({
    endpoint: identityCenter.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...awsClientConfig(AWS_CALLS.ssoAdmin),
  });
  h = await startHarness({ policy, sessionDurations: new SsoAdminPermissionSets(client, INSTANCE) });
});
afterAll(async () => {
  await h.close();
  client.destroy();
  await identityCenter.close();
});
beforeEach(() => {
  h.slack.standIn.reset();
  identityCenter.standIn.setFaults({ latencyMs: 0, failNext: [] });
});

const describes = () =>
  identityCenter.standIn.operationLog().filter((entry) => entry.operation === 'DescribePermissionSet');

/** A change of one of the form's selects (block_actions), answered by views.update: the updated view's blocks. */
async function change(
  person: Person,
  field: 'account' | 'permissionSet' | 'duration',
  picked: { account?: string; permissionSet?: string; duration?: string },
): Promise<Block[]> {
  const actionId = FORM_FIELDS[field];
  await h.interact({
    type: 'block_actions',
    team: { id: TEAM_ID, domain: 'sandbox' },
    user: { id: person.id, username: person.name, name: person.name, team_id: TEAM_ID },
    api_app_id: 'A0JITAPP',
    trigger_id: h.slack.standIn.issueTriggerId(person.id),
    container: { type: 'view', view_id: 'V0FORM' },
    actions: [
      {
        type: field === 'duration' ? 'static_select' : 'external_select',
        action_id: actionId,
        block_id: actionId,
        action_ts: '1',
      },
    ],
    view: {
      id: 'V0FORM',
      type: 'modal',
      callback_id: CALLBACK_IDS.requestForm,
      hash: '1.abc',
      private_metadata: '',
      state: { values: formValues(picked) },
    },
  });
  const updated = h.slack.standIn.calls('views.update');
  expect(updated).toHaveLength(1);
  return (updated[0]?.args.view as { blocks?: Block[] } | undefined)?.blocks ?? [];
}

const exposureLine = (blocks: Block[]) =>
  blocks.find((b) => b.block_id === FORM_EXPOSURE_BLOCK)?.elements?.map((e) => e.text);

describe('the request form’s exposure line', () => {
  it('shows the window plus the session duration once account and permission set are picked, under the duration', async () => {
    const before = describes().length;
    const blocks = await change(PEOPLE.alice, 'permissionSet', {
      account: '111111111111',
      permissionSet: 'ReadOnly',
    });

    // No duration picked yet: the one the form shows (1 hour of production-engineers' 4).
    expect(exposureLine(blocks)).toEqual([
      "Access for 1h; sessions signed in during it stay valid up to 4h after it ends (ReadOnly's session duration), so up to 5h in all.",
    ]);
    const ids = blocks.map((b) => b.block_id);
    expect(ids.indexOf(FORM_EXPOSURE_BLOCK)).toBe(ids.indexOf(FORM_FIELDS.duration) + 1);
    expect(blocks.find((b) => b.block_id === FORM_FIELDS.duration)?.dispatch_action).toBe(true);
    expect(
      describes()
        .slice(before)
        .map((e) => e.params),
    ).toEqual([{ InstanceArn: INSTANCE, PermissionSetArn: arnOf('ReadOnly') }]);
  });

  it('follows a new duration from the cache, with no second DescribePermissionSet', async () => {
    const before = describes().length;
    const blocks = await change(PEOPLE.alice, 'duration', {
      account: '111111111111',
      permissionSet: 'ReadOnly',
      duration: '240',
    });
    expect(exposureLine(blocks)).toEqual([
      "Access for 4h; sessions signed in during it stay valid up to 4h after it ends (ReadOnly's session duration), so up to 8h in all.",
    ]);
    expect(describes().length).toBe(before);
  });

  it('says sessions end at revoke for a permission set with endSessionsOnRevoke, without reading it', async () => {
    const before = describes().length;
    const blocks = await change(PEOPLE.alice, 'permissionSet', {
      account: '111111111111',
      permissionSet: 'PowerUser',
      duration: '120',
    });
    expect(exposureLine(blocks)).toEqual(['Access for 2h. Sessions end at revoke.']);
    expect(describes().length).toBe(before);
  });

  it('shows no line while the account is not picked', async () => {
    const before = describes().length;
    const blocks = await change(PEOPLE.alice, 'permissionSet', { permissionSet: 'ReadOnly' });
    expect(exposureLine(blocks)).toBeUndefined();
    expect(describes().length).toBe(before);
  });

  it('leaves the line out when DescribePermissionSet fails, and still updates the form', async () => {
    identityCenter.standIn.setFaults({
      failNext: [{ operation: 'DescribePermissionSet', error: 'AccessDeniedException' }],
    });
    const blocks = await change(PEOPLE.carol, 'permissionSet', {
      account: '111111111111',
      permissionSet: 'Admin',
    });
    expect(exposureLine(blocks)).toBeUndefined();
    expect(blocks.map((b) => b.block_id)).toContain(FORM_FIELDS.ticket);
    expect(describes().at(-1)?.outcome).not.toBe('ok');
  });

  it('does not hold the form for a slow first read, and shows the line once the read has landed', async () => {
    identityCenter.standIn.setFaults({ latencyMs: 1500 });
    const before = describes().length;
    const started = Date.now();
    const first = await change(PEOPLE.alice, 'account', {
      account: '222222222222',
      permissionSet: 'Billing',
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(exposureLine(first)).toBeUndefined();

    for (let i = 0; i < 100 && describes().length === before; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 50));
    identityCenter.standIn.setFaults({ latencyMs: 0 });
    h.slack.standIn.reset();
    const second = await change(PEOPLE.alice, 'duration', {
      account: '222222222222',
      permissionSet: 'Billing',
      duration: '480',
    });
    expect(exposureLine(second)).toEqual([
      "Access for 8h; sessions signed in during it stay valid up to 2h after it ends (Billing's session duration), so up to 10h in all.",
    ]);
    expect(describes().length).toBe(before + 1);
  });
});
