import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatMinutes, parseDurationMinutes } from '../core/duration';
import { PolicyError } from '../core/errors';
import { type Policy, rulePermissionSets } from '../core/policy';
import {
  type AccessChange,
  diffPolicies,
  explain,
  offerText,
  unapprovable,
  unreachableRules,
} from '../core/policy-review';
import { ticketRuleText } from '../core/ticket';
import { loadPolicyWithDirectory, type PolicyDirectory, type ResolvedPolicy } from './directory';
import { runMain } from './run';

// `npm run policy -- <command>`: the access policy for the people who review it, offline.
//   validate FILE              problems with their paths (exit 1); warnings for rules that never decide
//   explain FILE --requester EMAIL --account NAME|ID --permission-set NAME [--duration 2h]
//   explain FILE --requester EMAIL --group NAME|ID [--duration 2h]   (group access)
//   diff OLD NEW [--json]      what NEW grants and takes away compared with OLD (exit 0; with
//                              --exit-code, 1 when anything changed, as `git diff --exit-code`)

const USAGE = `Usage: npm run policy -- validate FILE [--directory FILE | --live]
       npm run policy -- explain FILE --requester EMAIL --account NAME|ID --permission-set NAME [--duration 1h] [--directory FILE | --live]
       npm run policy -- explain FILE --requester EMAIL --group NAME|ID [--duration 1h] [--directory FILE | --live]
       npm run policy -- diff OLD NEW [--json] [--exit-code] [--directory FILE | --live]
  --directory FILE  resolve groups, OUs and tags from a directory file (config/sandbox.yaml's format)
  --live            resolve them from Organizations, identitystore and Slack (AWS credentials, SLACK_BOT_TOKEN)
  Default: the directory synth compiles the policy with (cdk.json context "directory").`;

/** cdk.json's `directory` (a file relative to cdk.json, or `live`), when this runs beside one. */
function deploymentDirectory(): string | undefined {
  const file = path.resolve('cdk.json');
  if (!existsSync(file)) return undefined;
  const directory = (JSON.parse(readFileSync(file, 'utf8')) as { context?: { directory?: unknown } }).context
    ?.directory;
  if (typeof directory !== 'string' || !directory.trim()) return undefined;
  return directory === 'live' ? 'live' : path.resolve(path.dirname(file), directory);
}

async function load(
  file: string | undefined,
  what: string,
  where: string | undefined,
): Promise<ResolvedPolicy> {
  if (!file) throw new Error(`${what} is missing\n${USAGE}`);
  return loadPolicyWithDirectory(readFileSync(file, 'utf8'), where);
}

export async function main(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      requester: { type: 'string' },
      account: { type: 'string' },
      'permission-set': { type: 'string' },
      group: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      'exit-code': { type: 'boolean', default: false },
      directory: { type: 'string' },
      live: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, first, second] = positionals;
  if (values.help || !command) {
    print(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (values.directory && values.live) throw new Error(`--directory and --live exclude each other\n${USAGE}`);
  const where = values.live ? 'live' : (values.directory ?? deploymentDirectory());
  try {
    if (command === 'validate')
      return await validate(await load(first, 'FILE', where), first as string, print);
    if (command === 'explain') {
      const { requester, account, group } = values;
      const permissionSet = values['permission-set'];
      if (!requester || (group ? account || permissionSet : !account || !permissionSet))
        throw new Error(
          `explain needs --requester, and --account with --permission-set or else --group\n${USAGE}`,
        );
      const durationMinutes = values.duration === undefined ? 1 : parseDurationMinutes(values.duration);
      if (!durationMinutes) throw new Error(`--duration ${values.duration} is not a duration (e.g. 30m, 2h)`);
      return explainRequest(
        (await load(first, 'FILE', where)).policy,
        group
          ? { requester, group, durationMinutes }
          : { requester, account: account ?? '', permissionSet: permissionSet ?? '', durationMinutes },
        values.duration !== undefined,
        print,
      );
    }
    if (command === 'diff') {
      const changes = diffPolicies(
        (await load(first, 'OLD', where)).policy,
        (await load(second, 'NEW', where)).policy,
      );
      if (values.json) print(JSON.stringify(changes, null, 2));
      else printChanges(changes, print);
      return values['exit-code'] && changes.length ? 1 : 0;
    }
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    for (const problem of error.problems) print(`error: ${problem}`);
    return 1;
  }
  throw new Error(`Unknown command ${command}\n${USAGE}`);
}

async function validate(
  { policy, directory, missingGroups }: ResolvedPolicy,
  file: string,
  print: (line: string) => void,
): Promise<number> {
  for (const selector of missingGroups)
    print(`warning: ${selector} is not in the ${directory?.source ?? 'directory'}: it selects nobody`);
  const longSessions = directory ? await sessionsOverMaximum(policy, directory) : [];
  for (const { rule, permissionSet, sessionMinutes } of longSessions)
    print(
      `warning: rule ${rule} allows ${permissionSet} for at most ${formatMinutes(ruleMax(policy, rule))}, but its session duration is ${formatMinutes(sessionMinutes)}: a session opened near the end outlives the grant`,
    );
  const unreachable = unreachableRules(policy);
  for (const rule of unreachable)
    print(`warning: rule ${rule} never decides: every request it matches is decided by an earlier rule`);
  const stuck = unapprovable(policy);
  for (const { rule, requester, approvers, required } of stuck)
    print(
      `warning: rule ${rule} cannot approve requests by ${requester}: ${approvers} approver(s) other than the requester, ${required} required`,
    );
  const warnings = missingGroups.length + longSessions.length + unreachable.length + stuck.length;
  print(
    `OK: ${file}: ${policy.rules.length} rules, ${policy.accounts.length} accounts, ` +
      `${policy.permissionSets.length} permission sets${warnings ? `, ${warnings} warnings` : ''}`,
  );
  return 0;
}

const ruleMax = (policy: Policy, name: string) => policy.rules.find((r) => r.name === name)?.maxDuration ?? 0;

/**
 * Rule × permission set pairs whose permission set's session duration is longer than the rule's
 * maximum. A permission set that ends sessions at revoke (endSessionsOnRevoke) is not one: its
 * sessions end with the grant (core/session-ending.ts).
 */
async function sessionsOverMaximum(policy: Policy, directory: PolicyDirectory) {
  const found: Array<{ rule: string; permissionSet: string; sessionMinutes: number }> = [];
  for (const rule of policy.rules)
    for (const permissionSet of rulePermissionSets(policy, rule)) {
      if (permissionSet.endSessionsOnRevoke) continue;
      const sessionMinutes = await directory.sessionDurationMinutes(permissionSet.arn);
      if (sessionMinutes !== undefined && sessionMinutes > rule.maxDuration)
        found.push({ rule: rule.name, permissionSet: permissionSet.name, sessionMinutes });
    }
  return found;
}

function explainRequest(
  policy: Policy,
  request: Parameters<typeof explain>[1],
  given: boolean,
  print: (line: string) => void,
): number {
  const result = explain(policy, request);
  const target =
    'group' in request
      ? `group ${result.group?.name ?? request.group}`
      : `${result.permissionSet?.name ?? request.permissionSet} on ${result.account?.name ?? request.account}`;
  const duration = `${formatMinutes(request.durationMinutes)}${given ? '' : ' (no --duration: the shortest request)'}`;
  print(`${request.requester}, ${target}, ${duration}:`);
  for (const { rule, why } of result.passedOver) print(`  rule ${rule}: not this one, ${why}`);
  const { decision } = result;
  if (!decision.allowed) {
    print(`  refused: ${decision.reason}`);
    return 1;
  }
  print(`  decided by rule ${decision.rule}`);
  if (decision.approval === 'auto') print('  approval: none (granted at once)');
  else {
    const { approvers, required, selfApproval, channel } = decision.approval;
    print(
      `  approval: ${required} of ${approvers.length ? approvers.join(', ') : 'nobody (no approver other than the requester)'}`,
    );
    print(
      `  self-approval: ${selfApproval ? 'allowed' : 'not allowed'}${channel ? `; posted to ${channel}` : ''}`,
    );
  }
  print(`  ticket: ${ticketRuleText(decision.ticket)}`);
  if (result.longestMinutes) print(`  longest any rule allows: ${formatMinutes(result.longestMinutes)}`);
  return 0;
}

function printChanges(changes: AccessChange[], print: (line: string) => void): void {
  if (!changes.length) {
    print('No change in what anyone may request.');
    return;
  }
  const sign = { gained: '+', lost: '-', changed: '~' } as const;
  for (const change of changes) {
    const what = `${sign[change.change]} ${change.requester}: ${change.group ? `group ${change.group}` : `${change.permissionSet} on ${change.account}`}`;
    if (change.change === 'gained') print(`${what}: ${offerText(change.after)}`);
    else if (change.change === 'lost') print(`${what}: was ${offerText(change.before)}`);
    else print(`${what}: ${offerText(change.before)} -> ${offerText(change.after)}`);
  }
  const count = (kind: AccessChange['change']) => changes.filter((c) => c.change === kind).length;
  print(`${count('gained')} gained, ${count('lost')} lost, ${count('changed')} changed`);
}

if (require.main === module) runMain(main);
