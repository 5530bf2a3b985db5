import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type SandboxFile, sandboxFileSchema } from '../identity-center/sandbox';

// The sandbox file (config/sandbox.yaml): the Identity Center seed (read by the stand-in's own
// schema) plus the Slack side the console plays: personas and channels.

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;

export const personaSchema = z
  .object({
    slackUserId: z.string().regex(SLACK_USER_ID, 'must be a Slack user id like U0ALICE'),
    name: z.string().min(1),
    realName: z.string().min(1).optional(),
    email: z.email(),
    role: z.enum(['requester', 'approver', 'admin']),
    description: z.string().optional(),
  })
  .strict();
export type Persona = z.infer<typeof personaSchema>;

const slackSectionSchema = z
  .object({
    teamId: z
      .string()
      .regex(/^T[A-Z0-9]{2,}$/)
      .default('T0SANDBOX'),
    teamDomain: z.string().min(1).default('sandbox'),
    channels: z
      .array(
        z
          .object({
            id: z.string().regex(SLACK_CHANNEL_ID, 'must be a Slack channel id like C0GENERAL'),
            name: z.string().min(1),
          })
          .strict(),
      )
      .min(1, 'needs at least one channel (where /request-access is typed)'),
  })
  .strict();

const consoleSideSchema = z.object({
  slack: slackSectionSchema,
  personas: z.array(personaSchema).min(1, 'needs at least one persona'),
});

export interface SandboxConfig {
  /** The Identity Center seed (users, accounts, permission sets, permanent assignments). */
  identityCenter: SandboxFile;
  slack: z.infer<typeof slackSectionSchema>;
  personas: Persona[];
}

/** Validates a parsed sandbox document; problems name their path. */
export function parseSandboxConfig(document: unknown, source = 'sandbox file'): SandboxConfig {
  const consoleSide = consoleSideSchema.safeParse(document);
  const identityCenter = sandboxFileSchema.safeParse(document);
  const problems = [
    ...(consoleSide.success ? [] : [z.prettifyError(consoleSide.error)]),
    ...(identityCenter.success ? [] : [z.prettifyError(identityCenter.error)]),
  ];
  if (!consoleSide.success || !identityCenter.success)
    throw new Error(`invalid ${source}:\n${problems.join('\n')}`);
  const config: SandboxConfig = { identityCenter: identityCenter.data, ...consoleSide.data };
  const ids = config.personas.map((p) => p.slackUserId);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`invalid ${source}: persona ${duplicate} is listed twice`);
  return config;
}

/** Reads config/sandbox.yaml (or a JSON file by extension). */
export async function loadSandboxConfig(path: string): Promise<SandboxConfig> {
  const text = await readFile(path, 'utf8');
  let document: unknown;
  try {
    document = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`${path} is not valid YAML/JSON: ${error instanceof Error ? error.message : error}`);
  }
  return parseSandboxConfig(document, path);
}

export function findPersona(config: { personas: Persona[] }, who: string): Persona | undefined {
  const key = who.toLowerCase();
  return config.personas.find(
    (p) =>
      p.slackUserId === who ||
      p.name.toLowerCase() === key ||
      p.email.toLowerCase() === key ||
      p.role === key,
  );
}
