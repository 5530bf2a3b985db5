import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { REQUEST_COMMAND } from '../../functions/slack/listeners/commands/request-access';
import { SLACK_EVENTS_PATH } from '../../functions/slack/receivers';

// The Slack app manifest: parsed and checked against the parts of Slack's manifest schema the
// product depends on (the official JSON schema is not available offline).

const manifestPath = path.join(__dirname, '../../slack/manifest.yaml');
const url = z
  .string()
  .url()
  .refine((u) => new URL(u).pathname === SLACK_EVENTS_PATH, `must end in ${SLACK_EVENTS_PATH}`);

const manifestSchema = z
  .object({
    _metadata: z.object({ major_version: z.literal(2), minor_version: z.number().int() }),
    display_information: z.object({
      name: z.string().min(1).max(35),
      description: z.string().max(140),
      background_color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
    }),
    features: z.object({
      app_home: z.object({
        home_tab_enabled: z.literal(true),
        messages_tab_enabled: z.boolean(),
        messages_tab_read_only_enabled: z.boolean(),
      }),
      bot_user: z.object({
        display_name: z.string().regex(/^[a-z0-9._-]{1,80}$/),
        always_online: z.boolean(),
      }),
      slash_commands: z
        .array(
          z.object({
            command: z.string().regex(/^\/[a-z0-9_-]{1,31}$/),
            url,
            description: z.string().min(1).max(2000),
            usage_hint: z.string().max(1000).optional(),
            should_escape: z.boolean(),
          }),
        )
        .length(1),
    }),
    oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }).strict() }),
    settings: z.object({
      event_subscriptions: z.object({ request_url: url, bot_events: z.array(z.string()) }),
      interactivity: z.object({
        is_enabled: z.literal(true),
        request_url: url,
        message_menu_options_url: url,
      }),
      org_deploy_enabled: z.boolean(),
      socket_mode_enabled: z.boolean(),
      token_rotation_enabled: z.boolean(),
    }),
  })
  .strict();

describe('slack/manifest.yaml', () => {
  const manifest = manifestSchema.parse(parse(readFileSync(manifestPath, 'utf8')));

  it('declares the command, interactivity, options and events on /slack/events', () => {
    expect(manifest.features.slash_commands[0]?.command).toBe(REQUEST_COMMAND);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened', 'user_change']);
  });

  it('asks for the minimal bot scopes and no user scopes', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'commands', 'usergroups:read', 'users:read', 'users:read.email'].sort(),
    );
  });

  it('is an HTTP app, not a Socket Mode one', () => {
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
