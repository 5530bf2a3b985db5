import { SlackNotifier } from '../adapters/slack-notifier';
import { SlackUserGroups, type SlackUserGroupsOptions } from '../adapters/slack-user-groups';
import { type SlackWebApi, SlackWebApiClient } from '../adapters/slack-web-api';
import type { GroupSource } from '../core/directory';
import { approvalChannelFor, findRule, type Policy } from '../core/policy';
import type { Notifier } from '../core/ports';
import { SLACK_CLIENTS } from './clients';
import { ENV, optionalEnv, orgTrail } from './config';
import { once } from './once';
import { loadSlackCredentials } from './slack-credentials';

// Slack as the workers, decisions and the reconciler post to it, and as every function reads
// user groups (the Slack function answers people with Bolt's own client). Retries and timeouts:
// SLACK_CLIENTS.worker in functions/shared/clients.ts.

export async function slackWebApi(): Promise<SlackWebApi> {
  const credentials = await loadSlackCredentials();
  const slackApiUrl = optionalEnv(ENV.slackApiUrl);
  return new SlackWebApiClient(credentials.botToken, SLACK_CLIENTS.worker.options, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
  });
}

export function slackNotifier(policy: Policy, client: SlackWebApi): SlackNotifier {
  const ruleOf = (ruleName: string | undefined) => (ruleName ? findRule(policy, ruleName) : undefined);
  const alertChannel = optionalEnv(ENV.alertChannel);
  const portalUrl = policy.identityCenter.portalUrl;
  const trail = orgTrail();
  return new SlackNotifier(client, {
    approvalChannelFor: (record) => {
      const rule = ruleOf(record.ruleName);
      return rule ? approvalChannelFor(policy, rule) : policy.slack.approvalChannel;
    },
    notifyApproversByDm: (record) => {
      const rule = ruleOf(record.ruleName);
      return !!rule && rule.approval !== 'none' && rule.approval.notifyApproversByDm;
    },
    ...(alertChannel ? { alertChannel } : {}),
    ...(portalUrl ? { portalUrl } : {}),
    ssoRegion: policy.identityCenter.region,
    ...(trail ? { orgTrail: trail } : {}),
  });
}

/** The Slack port of a worker that posts (request-approval, access-window, finish). */
export function slackPort(policy: Policy): { notifier: Notifier } {
  const notifier = once(async () => slackNotifier(policy, await slackWebApi()));
  return { notifier: deferredNotifier(notifier) };
}

/**
 * The `slackUserGroup:` directory (a DirectoryCache source): user groups and their members'
 * emails (bot scopes usergroups:read, users:read, users:read.email). Its client is built on the
 * first lookup, so a function that never resolves a group never reads the Slack secret; pass the
 * handler's own once(slackWebApi) to share the client it posts with.
 */
export function slackUserGroups(
  client: () => Promise<SlackWebApi> = slackWebApi,
  options: SlackUserGroupsOptions = {},
): GroupSource {
  const source = once(async () => new SlackUserGroups(await client(), options));
  return { members: async (handle) => (await source()).members(handle) };
}

/**
 * A notifier built on its first message: a step that never posts never reads the Slack secret.
 * `load` is the caller's once(), so the client is built once per container.
 */
export function deferredNotifier(load: () => Promise<Notifier>): Notifier {
  return {
    requestApproval: async (...args) => (await load()).requestApproval(...args),
    updateRequestMessages: async (...args) => (await load()).updateRequestMessages(...args),
    notifyRequester: async (...args) => (await load()).notifyRequester(...args),
    updateRequesterDm: async (...args) => (await load()).updateRequesterDm(...args),
    alert: async (...args) => (await load()).alert(...args),
    breakGlassAlert: async (...args) => (await load()).breakGlassAlert(...args),
    remindApprovers: async (...args) => (await load()).remindApprovers(...args),
    breakGlassUpdate: async (...args) => (await load()).breakGlassUpdate(...args),
  };
}
