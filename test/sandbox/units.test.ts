import path from 'node:path';
import { verifySlackRequest } from '@slack/bolt';
import { parseCli } from '../../local/sandbox/main';
import { DEFAULT_PERSIST_DIR } from '../../local/sandbox/sandbox';
import { parseSandboxConfig } from '../../local/sandbox/sandbox-file';
import { planServices, SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET } from '../../local/sandbox/services';
import {
  FORM,
  interactiveElements,
  normalizeBlocks,
  signRequest,
  slackSignature,
  slashCommandBody,
} from '../../local/sandbox/slack-payloads';
import { msPerAslSecond, parseMinuteScale } from '../../local/sandbox/time-scale';

const SANDBOX_ARN = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';
const OTHER_ARN = 'arn:aws:sso:::instance/ssoins-0123456789abcdef';

describe('planServices', () => {
  const plan = (env: NodeJS.ProcessEnv, policyInstanceArn = SANDBOX_ARN) =>
    planServices({ env, policyInstanceArn, sandboxInstanceArn: SANDBOX_ARN });

  it('uses every stand-in and the sandbox secrets with an empty environment', () => {
    const result = plan({});

    expect(result.slack).toEqual({
      mode: 'stand-in',
      botToken: SANDBOX_BOT_TOKEN,
      signingSecret: SANDBOX_SIGNING_SECRET,
      signingSecretSource: 'default',
    });
    expect(result.identityCenter.mode).toBe('stand-in');
    expect(result.dynamo.mode).toBe('stand-in');
    expect(result.awsCredentials).toBe(false);
  });

  it('honours SLACK_SIGNING_SECRET alone with the Slack stand-in', () => {
    const result = plan({ SLACK_SIGNING_SECRET: 'from-env' });

    expect(result.slack).toEqual(
      expect.objectContaining({ mode: 'stand-in', signingSecret: 'from-env', signingSecretSource: 'env' }),
    );
  });

  it('connects to real Slack only with a bot token and a signing secret that are not the sandbox defaults', () => {
    expect(plan({ SLACK_BOT_TOKEN: 'xoxb-real', SLACK_SIGNING_SECRET: 'real' }).slack.mode).toBe('real');
    expect(plan({ SLACK_BOT_TOKEN: SANDBOX_BOT_TOKEN, SLACK_SIGNING_SECRET: 'real' }).slack.mode).toBe(
      'stand-in',
    );
    expect(plan({ SLACK_BOT_TOKEN: 'xoxb-real' }).slack.mode).toBe('stand-in');
  });

  it('uses real Identity Center with AWS credentials and a policy naming another instance', () => {
    expect(plan({ AWS_PROFILE: 'ops' }, OTHER_ARN).identityCenter).toEqual({ mode: 'real', profile: 'ops' });
    expect(plan({ AWS_PROFILE: 'ops' }, SANDBOX_ARN).identityCenter.mode).toBe('stand-in');
    expect(plan({}, OTHER_ARN).identityCenter.mode).toBe('stand-in');
  });

  it('uses real DynamoDB only with credentials and both table names', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'x', STATE_TABLE: 's', AUDIT_TABLE: 'a' };
    expect(plan(env).dynamo).toEqual({ mode: 'real', stateTable: 's', auditTable: 'a' });
    expect(plan({ ...env, AUDIT_TABLE: '' }).dynamo.mode).toBe('stand-in');
  });

  it('ignores every credential when stand-ins are forced', () => {
    const result = planServices({
      env: { AWS_PROFILE: 'ops', SLACK_BOT_TOKEN: 'xoxb-real', SLACK_SIGNING_SECRET: 'real' },
      policyInstanceArn: OTHER_ARN,
      sandboxInstanceArn: SANDBOX_ARN,
      forceStandIns: true,
    });

    expect([result.slack.mode, result.identityCenter.mode, result.dynamo.mode]).toEqual([
      'stand-in',
      'stand-in',
      'stand-in',
    ]);
  });
});

describe('parseMinuteScale', () => {
  it.each([
    ['1s', 1000],
    ['60s', 60_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['250', 250],
  ])('reads %s as %d ms per product minute', (text, ms) => {
    expect(parseMinuteScale(text)).toBe(ms);
  });

  it('rejects what is not a duration', () => {
    expect(() => parseMinuteScale('fast')).toThrow(/--minute=fast/);
    expect(() => parseMinuteScale('0s')).toThrow(/above zero/);
  });

  it('turns a minute into the Step Functions host scale (ms per ASL second)', () => {
    expect(msPerAslSecond(60_000)).toBe(1000);
    expect(msPerAslSecond(1000) * 1800).toBeCloseTo(30_000);
  });
});

describe('signed Slack requests', () => {
  const team = {
    teamId: 'T0SANDBOX',
    teamDomain: 'sandbox',
    appId: 'A0JITAPP',
    botUserId: 'U0JITBOT',
    verificationToken: 'v',
  };
  const body = slashCommandBody(
    team,
    { slackUserId: 'U0ALICE', name: 'alice' },
    {
      command: '/request-access',
      text: '',
      channelId: 'C0GENERAL',
      channelName: 'general',
      triggerId: '1.2.t',
      responseUrl: 'http://127.0.0.1/_standin/response/R1',
    },
  );

  it('are signed so that Bolt accepts them', () => {
    const signed = signRequest('secret', body, FORM);

    expect(() =>
      verifySlackRequest({
        signingSecret: 'secret',
        body,
        headers: {
          'x-slack-signature': signed.headers['x-slack-signature'] ?? '',
          'x-slack-request-timestamp': Number(signed.headers['x-slack-request-timestamp']),
        },
      }),
    ).not.toThrow();
  });

  it('fail Bolt verification with another secret', () => {
    const signed = signRequest('other-secret', body, FORM);

    expect(() =>
      verifySlackRequest({
        signingSecret: 'secret',
        body,
        headers: {
          'x-slack-signature': signed.headers['x-slack-signature'] ?? '',
          'x-slack-request-timestamp': Number(signed.headers['x-slack-request-timestamp']),
        },
      }),
    ).toThrow();
  });

  it("sign as Slack's documentation shows (its worked example)", () => {
    const example =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
      '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';

    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, example)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('carry the slash command fields Slack sends', () => {
    const fields = Object.fromEntries(new URLSearchParams(body));

    expect(fields).toEqual(
      expect.objectContaining({
        command: '/request-access',
        user_id: 'U0ALICE',
        team_id: 'T0SANDBOX',
        channel_id: 'C0GENERAL',
        trigger_id: '1.2.t',
        api_app_id: 'A0JITAPP',
      }),
    );
  });
});

describe('normalizeBlocks', () => {
  it('fills the block and action ids Slack would fill, keeping the app’s own', () => {
    const blocks = normalizeBlocks([
      { type: 'section', text: { type: 'mrkdwn', text: 'hi' } },
      {
        type: 'actions',
        block_id: 'decision',
        elements: [{ type: 'button', action_id: 'approve' }, { type: 'button' }],
      },
      { type: 'input', element: { type: 'plain_text_input' } },
    ]);

    expect(interactiveElements(blocks).map((f) => `${f.blockId}/${f.actionId}`)).toEqual([
      'decision/approve',
      'decision/sandbox-action-1-1',
      'sandbox-block-2/sandbox-action-2',
    ]);
    expect(blocks[0]?.block_id).toBe('sandbox-block-0');
  });
});

describe('parseSandboxConfig', () => {
  it('names the path of a problem', () => {
    expect(() =>
      parseSandboxConfig({
        slack: { channels: [{ id: 'general', name: 'general' }] },
        personas: [{ slackUserId: 'U0A', name: 'a', email: 'a@example.com', role: 'requester' }],
        instanceArn: SANDBOX_ARN,
        identityStoreId: 'd-9067a1b2c3',
      }),
    ).toThrow(/slack\.channels\[0\]\.id/);
  });
});

describe('npm start flags', () => {
  it('reads port, time scale, persistence, files and forced stand-ins', () => {
    const { options } = parseCli(
      [
        '--port=0',
        '--minute=1s',
        '--persist',
        '--sandbox=a.yaml',
        '--policy=b.yaml',
        '--stand-ins',
        '--provisioning=200',
      ],
      '/tmp/here',
    );

    expect(options).toEqual({
      port: 0,
      msPerMinute: 1000,
      persistDir: DEFAULT_PERSIST_DIR,
      sandboxFile: path.resolve('/tmp/here', 'a.yaml'),
      policyFile: path.resolve('/tmp/here', 'b.yaml'),
      forceStandIns: true,
      identityCenter: { provisioningDelayMs: 200 },
    });
  });

  it('takes a persistence folder and leaves unset flags to their defaults', () => {
    expect(parseCli(['--persist=data'], '/tmp/here').options).toEqual({
      persistDir: path.resolve('/tmp/here', 'data'),
    });
    expect(parseCli([]).options).toEqual({});
  });

  it('rejects a bad port and unknown flags', () => {
    expect(() => parseCli(['--port=http'])).toThrow(/--port=http is not a port/);
    expect(() => parseCli(['--colour'])).toThrow(/colour/);
  });
});
