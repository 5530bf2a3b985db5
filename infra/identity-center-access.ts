import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type Policy, ruleCoversAccount, rulePermissionSets } from '../functions/core/policy';
import { sessionEndingPermissionSets } from '../functions/core/session-ending';

// IAM statements for IAM Identity Center, built from the access policy: the assignment actions
// name the instance, every permission set and every account of the policy, nothing else. Adding
// an account or a permission set to the policy and redeploying is what widens them.

/** `arn:aws:sso:::account/<id>` of every account the policy names. */
export function accountArns(policy: Policy): string[] {
  return policy.accounts.map((account) => `${partitionPrefix(policy)}:sso:::account/${account.id}`);
}

export function permissionSetArns(policy: Policy): string[] {
  return policy.permissionSets.map((ps) => ps.arn);
}

/** "arn:aws" (the policy schema only admits the aws partition today). */
function partitionPrefix(policy: Policy): string {
  return policy.identityCenter.instanceArn.split(':sso:')[0] ?? 'arn:aws';
}

/**
 * Create/DeleteAccountAssignment and ListAccountAssignments are authorized against the instance,
 * the permission set AND the target account: all three kinds of ARN go in Resource.
 */
function assignmentResources(policy: Policy): string[] {
  return [policy.identityCenter.instanceArn, ...permissionSetArns(policy), ...accountArns(policy)];
}

export function createAssignmentStatement(policy: Policy): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'CreateAssignmentsNamedByPolicy',
    actions: ['sso:CreateAccountAssignment'],
    resources: assignmentResources(policy),
  });
}

export function deleteAssignmentStatement(policy: Policy): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DeleteAssignmentsNamedByPolicy',
    actions: ['sso:DeleteAccountAssignment'],
    resources: assignmentResources(policy),
  });
}

export function listAssignmentsStatement(policy: Policy): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ListAssignmentsNamedByPolicy',
    actions: ['sso:ListAccountAssignments'],
    resources: assignmentResources(policy),
  });
}

/** The status of an assignment operation is authorized against the instance only. */
export function describeStatusStatement(
  policy: Policy,
  kinds: ReadonlyArray<'creation' | 'deletion'>,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DescribeAssignmentOperations',
    actions: kinds.map((kind) =>
      kind === 'creation'
        ? 'sso:DescribeAccountAssignmentCreationStatus'
        : 'sso:DescribeAccountAssignmentDeletionStatus',
    ),
    resources: [policy.identityCenter.instanceArn],
  });
}

/**
 * Ending sessions at revoke (core/session-ending.ts), for the permission sets whose policy entry
 * says `endSessionsOnRevoke` and for no other: their inline policy read, written and deleted (the
 * reconciler deletes it when its last statement of this product's goes and nothing else is left),
 * their session duration read, and their provisioning to the accounts a rule may grant them on.
 * One statement per set of resource types the Service Authorization Reference gives the actions
 * (Get/Put/DeleteInlinePolicy and DescribePermissionSet: the instance and the permission set;
 * ProvisionPermissionSet: also the account; DescribePermissionSetProvisioningStatus: the
 * instance only). Empty when no permission set opts in: then no role may edit a permission set.
 */
export function endSessionsStatements(policy: Policy): iam.PolicyStatement[] {
  const permissionSets = sessionEndingPermissionSets(policy);
  if (permissionSets.length === 0) return [];
  const instance = policy.identityCenter.instanceArn;
  const arns = permissionSets.map((ps) => ps.arn);
  const accounts = policy.accounts
    .filter((account) =>
      policy.rules.some(
        (rule) =>
          ruleCoversAccount(rule, account) &&
          rulePermissionSets(policy, rule).some((ps) => arns.includes(ps.arn)),
      ),
    )
    .map((account) => `${partitionPrefix(policy)}:sso:::account/${account.id}`);
  return [
    new iam.PolicyStatement({
      sid: 'EditInlinePolicyOfSessionEndingPermissionSets',
      actions: [
        'sso:GetInlinePolicyForPermissionSet',
        'sso:PutInlinePolicyToPermissionSet',
        'sso:DeleteInlinePolicyFromPermissionSet',
        'sso:DescribePermissionSet',
      ],
      resources: [instance, ...arns],
    }),
    new iam.PolicyStatement({
      sid: 'ProvisionSessionEndingPermissionSets',
      actions: ['sso:ProvisionPermissionSet'],
      resources: [instance, ...arns, ...accounts],
    }),
    new iam.PolicyStatement({
      sid: 'DescribePermissionSetProvisioning',
      actions: ['sso:DescribePermissionSetProvisioningStatus'],
      resources: [instance],
    }),
  ];
}

/**
 * DescribePermissionSet for the Slack function's request form, which says how long a grant's
 * sessions outlive its window (core/session-exposure.ts): on the instance and the permission sets
 * of the policy that do not end sessions at revoke (the form knows the others' answer from the
 * policy), both kinds of ARN as the Service Authorization Reference gives the action. A read of
 * the permission set's metadata only; undefined when every permission set ends sessions at revoke.
 */
export function describeSessionDurationsStatement(policy: Policy): iam.PolicyStatement | undefined {
  const arns = policy.permissionSets.filter((ps) => !ps.endSessionsOnRevoke).map((ps) => ps.arn);
  if (arns.length === 0) return undefined;
  return new iam.PolicyStatement({
    sid: 'ReadSessionDurationsForRequestForm',
    actions: ['sso:DescribePermissionSet'],
    resources: [policy.identityCenter.instanceArn, ...arns],
  });
}

/**
 * identitystore:GetUserId on this policy's identity store. The store ARN carries the account
 * that owns Identity Center (the management account, which may not be this stack's account when
 * deployed to a delegated administrator): that account when configured, else `*` — store ids
 * are globally unique, so the wildcard names the same single store. Users have no store in
 * their ARN (`arn:aws:identitystore:::user/<id>`): the user being looked up is not known in
 * advance, hence `user/*`.
 */
export const USER_LOOKUP_REASON =
  'identitystore:GetUserId: a user ARN (arn:aws:identitystore:::user/<id>) names no store and the ' +
  'user looked up is unknown in advance, hence user/*; the store ARN carries the Identity Center ' +
  '(management) account, * unless managementAccountId is configured; store ids are globally ' +
  "unique, so it still names this policy's store only.";

export function getUserIdStatement(policy: Policy, managementAccountId?: string): iam.PolicyStatement {
  return userStatement(policy, 'FindUserInIdentityStore', 'identitystore:GetUserId', managementAccountId);
}

/** One identitystore user action on this policy's store and any user (USER_LOOKUP_REASON). */
function userStatement(policy: Policy, sid: string, action: string, managementAccountId?: string) {
  const prefix = partitionPrefix(policy);
  return new iam.PolicyStatement({
    sid,
    actions: [action],
    resources: [
      `${prefix}:identitystore::${managementAccountId ?? '*'}:identitystore/${policy.identityCenter.identityStoreId}`,
      `${prefix}:identitystore:::user/*`,
    ],
  });
}

/**
 * identitystore:DescribeUser on this policy's identity store, for the reconciler to find the
 * users of live grants that Identity Center no longer has (deleted: their offboarding is handed
 * off, core/offboarding.ts). Scoped as GetUserId is (USER_LOOKUP_REASON).
 */
export function describeUserStatement(policy: Policy, managementAccountId?: string): iam.PolicyStatement {
  return userStatement(policy, 'CheckUserStillExists', 'identitystore:DescribeUser', managementAccountId);
}

/**
 * Reading identitystore groups for the policy's identityCenterGroup: selectors: a group's members
 * (GetGroupId, ListGroupMemberships, DescribeUser) and one person's groups (GetUserId,
 * ListGroupMembershipsForMember, DescribeGroup). One statement per set of resource types the
 * Service Authorization Reference gives the actions (Identity Store: GetGroupId and DescribeGroup
 * on Group; ListGroupMemberships on Group and AllGroupMemberships; GetUserId and DescribeUser on
 * User; ListGroupMembershipsForMember on User and AllGroupMemberships; all of them on the store),
 * so no action is allowed on a type it is not authorized against. Group, membership and user ids
 * are assigned by the IdP's SCIM and not known at synth, hence the wildcards on those; the store
 * ARN names this policy's store only (as for GetUserId). Read-only: no role may create or delete
 * a membership.
 */
export const GROUP_READ_REASON =
  'identitystore group reads for identityCenterGroup: selectors: group, membership and user ids are ' +
  "assigned by the IdP's SCIM and unknown at synth, hence group/*, membership/* and user/*; the " +
  "store ARN names this policy's store only; read actions only.";

export function readGroupsStatements(policy: Policy, managementAccountId?: string): iam.PolicyStatement[] {
  const prefix = partitionPrefix(policy);
  const store = `${prefix}:identitystore::${managementAccountId ?? '*'}:identitystore/${policy.identityCenter.identityStoreId}`;
  const group = `${prefix}:identitystore:::group/*`;
  const memberships = `${prefix}:identitystore:::membership/*`;
  const user = `${prefix}:identitystore:::user/*`;
  const statement = (sid: string, actions: string[], resources: string[]) =>
    new iam.PolicyStatement({ sid, actions: actions.map((a) => `identitystore:${a}`), resources });
  return [
    statement('ReadIdentityStoreGroup', ['GetGroupId', 'DescribeGroup'], [store, group]),
    statement('ReadIdentityStoreGroupMembers', ['ListGroupMemberships'], [store, group, memberships]),
    // A person's own groups (may this requester request, may this clicker approve).
    statement('ReadIdentityStoreUser', ['GetUserId', 'DescribeUser'], [store, user]),
    statement('ReadIdentityStoreUserGroups', ['ListGroupMembershipsForMember'], [store, user, memberships]),
  ];
}

/**
 * Group access (core/group-access.ts): adding the requester to a group the policy's group rules
 * offer, and taking them out again, on this policy's identity store only. Resource types as the
 * Service Authorization Reference (Identity Store) gives them: CreateGroupMembership on
 * Identitystore, Group and User; GetGroupMembershipId and DeleteGroupMembership also on
 * GroupMembership. The groups are named one by one (`accessGroups` ids, known at synth); the user
 * added and the membership id are not known in advance, hence user/* and membership/*. Empty when
 * no rule offers a group: then no role may change a membership.
 */
export const GROUP_MEMBERSHIP_REASON =
  'identitystore membership changes for group access: the groups are named one by one (the ' +
  "policy's accessGroups offered by a rule); the user added and the membership id are unknown at " +
  "synth, hence user/* and membership/*; the store ARN names this policy's store only.";

/** The groups some rule offers (what the membership statements name). */
export function offeredGroupIds(policy: Policy): string[] {
  const offered = new Set(policy.rules.flatMap((rule) => rule.accessGroups ?? []));
  return (policy.accessGroups ?? []).filter((g) => offered.has(g.name)).map((g) => g.id);
}

export function groupMembershipStatements(
  policy: Policy,
  operations: ReadonlyArray<'add' | 'remove'>,
  managementAccountId?: string,
): iam.PolicyStatement[] {
  const groupIds = offeredGroupIds(policy);
  if (groupIds.length === 0) return [];
  const prefix = partitionPrefix(policy);
  const store = `${prefix}:identitystore::${managementAccountId ?? '*'}:identitystore/${policy.identityCenter.identityStoreId}`;
  const groups = groupIds.map((id) => `${prefix}:identitystore:::group/${id}`);
  const user = `${prefix}:identitystore:::user/*`;
  const membership = `${prefix}:identitystore:::membership/*`;
  const lookup = ['identitystore:GetGroupMembershipId'];
  return [
    ...(operations.includes('add')
      ? [
          new iam.PolicyStatement({
            sid: 'AddToGroupsNamedByPolicy',
            actions: ['identitystore:CreateGroupMembership'],
            resources: [store, ...groups, user],
          }),
        ]
      : []),
    new iam.PolicyStatement({
      sid: operations.includes('remove')
        ? 'FindAndRemoveMembershipsOfGroupsNamedByPolicy'
        : 'FindMembershipsOfGroupsNamedByPolicy',
      actions: operations.includes('remove') ? [...lookup, 'identitystore:DeleteGroupMembership'] : lookup,
      resources: [store, ...groups, membership, user],
    }),
  ];
}

/**
 * When an assignment targets the account Identity Center runs in (the management account),
 * Identity Center provisions the AWSReservedSSO_* role there with the caller's own credentials
 * (in member accounts its service-linked role does it). Followed: IAM Identity Center User Guide,
 * "Delegate who can assign single sign-on access to users and groups in the management account"
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/howtodelegatessoaccess.html): by
 * default only the root user or a principal with AWSSSOMasterAccountAdministrator *and*
 * IAMFullAccess may assign access into the management account — the IAM part is what these
 * statements stand for. Instead of IAMFullAccess, this stack grants only the role and SAML
 * provider actions of that provisioning, on the reserved role path and the AWSSSO_* provider of
 * its own account (the only one where its credentials act), and only when the policy can target
 * that account (`reservedRolesNeeded`). The guide does not list the individual IAM actions; they
 * are the ones Identity Center's provisioning performs (create/attach/put/update on create,
 * detach/delete on delete, reads of the role and the provider).
 */
export const RESERVED_ROLES_REASON =
  'Assigning into the account Identity Center runs in makes Identity Center create or delete the ' +
  'AWSReservedSSO_<permission set>_<hash> role (a name the service chooses) under ' +
  'role/aws-reserved/sso.amazonaws.com/ and read its AWSSSO_<id>_DO_NOT_DELETE SAML provider ' +
  "with the caller's credentials: only that reserved path and provider pattern, in this account only.";

/**
 * Whether the workers need the reserved-role IAM statements: only when an assignment can target
 * the deployment account itself, i.e. when the policy lists it (from a delegated administrator
 * Identity Center refuses the management account anyway, see infra/config.ts). An unknown
 * deployment account (env-agnostic synth: context `account` unset) may be any account the policy
 * lists, so the statements stay; set `account` to drop them when the policy does not list it.
 */
export function reservedRolesNeeded(policy: Policy, deploymentAccount: string | undefined): boolean {
  return deploymentAccount === undefined || policy.accounts.some((a) => a.id === deploymentAccount);
}

export function provisionReservedRolesStatements(
  scope: Construct,
  operation: 'create' | 'delete' | 'update',
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const reservedRoles = stack.formatArn({
    service: 'iam',
    region: '',
    resource: 'role',
    resourceName: 'aws-reserved/sso.amazonaws.com/*',
  });
  const samlProvider = stack.formatArn({
    service: 'iam',
    region: '',
    resource: 'saml-provider',
    resourceName: 'AWSSSO_*_DO_NOT_DELETE',
  });
  const read = ['iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies'];
  // update: ProvisionPermissionSet of a changed inline policy (ending sessions at revoke) rewrites
  // the role's inline policy, or deletes it with the permission set's.
  const roleActions =
    operation === 'update'
      ? [...read, 'iam:PutRolePolicy', 'iam:DeleteRolePolicy']
      : operation === 'create'
        ? [
            ...read,
            'iam:CreateRole',
            'iam:AttachRolePolicy',
            'iam:PutRolePolicy',
            'iam:PutRolePermissionsBoundary',
            'iam:UpdateRole',
            'iam:UpdateRoleDescription',
          ]
        : [
            ...read,
            'iam:DeleteRole',
            'iam:DetachRolePolicy',
            'iam:DeleteRolePolicy',
            'iam:DeleteRolePermissionsBoundary',
          ];
  return [
    new iam.PolicyStatement({
      sid: {
        create: 'ProvisionReservedSsoRoles',
        delete: 'RemoveReservedSsoRoles',
        update: 'UpdateReservedSsoRoles',
      }[operation],
      actions: roleActions,
      resources: [reservedRoles],
    }),
    new iam.PolicyStatement({
      sid: {
        create: 'ReadSsoSamlProviderForCreate',
        delete: 'ReadSsoSamlProviderForDelete',
        update: 'ReadSsoSamlProviderForUpdate',
      }[operation],
      actions: ['iam:GetSAMLProvider'],
      resources: [samlProvider],
    }),
  ];
}

/**
 * kms:Decrypt on the customer managed KMS key of an Identity Center instance (context
 * `identityCenterKmsKeyArn`), for the functions that call sso-admin or identitystore: with a
 * customer managed key, Identity Center and the identity store decrypt the workforce data a call
 * reads with the caller's own permissions on the key. Followed: IAM Identity Center User Guide,
 * "Implementing customer managed KMS keys in AWS IAM Identity Center"
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/identity-center-customer-managed-keys.html)
 * and its "Baseline KMS key and IAM policy statements"
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/baseline-KMS-key-policy.html):
 * principals that use the Identity Center or identity store APIs (administrators, custom
 * workflows) need permissions on the key in an IAM policy and in the key policy. kms:Decrypt only:
 * the product reads users and assignments and never writes identity data (no user or group
 * changes), which is what kms:Encrypt / GenerateDataKey* in the guide's administrator statements
 * are for. Only through those two services (`kms:ViaService`, in the Identity Center region): the
 * roles cannot decrypt with the key directly. The key policy must allow these roles too
 * (docs/DEPLOY.md).
 */
export function identityCenterKeyStatement(policy: Policy, keyArn: string): iam.PolicyStatement {
  const region = policy.identityCenter.region;
  return new iam.PolicyStatement({
    sid: 'DecryptIdentityCenterData',
    actions: ['kms:Decrypt'],
    resources: [keyArn],
    conditions: {
      StringEquals: {
        'kms:ViaService': [`sso.${region}.amazonaws.com`, `identitystore.${region}.amazonaws.com`],
      },
    },
  });
}
