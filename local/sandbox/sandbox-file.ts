import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  type DirectoryFile,
  directoryFileSchema,
  directoryPersonaSchema,
  directorySlackSchema,
  parseDirectoryDocument,
  parseText,
} from '../../functions/core/directory-file';

// The sandbox file (config/sandbox.yaml) is the directory file (functions/core/directory-file.ts:
// Identity Center users and groups, the organization, permission sets, assignments, personas and
// Slack user groups) plus what only the console uses: the workspace's channels and a role label
// per persona. One schema, extended; one parser, `parseDirectoryDocument`.

const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;

export const personaSchema = directoryPersonaSchema
  .extend({
    role: z.enum(['requester', 'approver', 'admin']),
    description: z.string().optional(),
  })
  .strict();
export type Persona = z.infer<typeof personaSchema>;

const slackSectionSchema = directorySlackSchema
  .extend({
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

export const sandboxConfigSchema = directoryFileSchema.extend({
  slack: slackSectionSchema,
  personas: z.array(personaSchema).min(1, 'needs at least one persona'),
});

export interface SandboxConfig {
  /** The whole directory: the stand-ins' seed (users, groups, organization, permission sets, assignments). */
  identityCenter: DirectoryFile;
  slack: z.infer<typeof slackSectionSchema>;
  personas: Persona[];
}

/** Validates a parsed sandbox document; problems name their path. */
export function parseSandboxConfig(document: unknown, source = 'sandbox file'): SandboxConfig {
  const file = parseDirectoryDocument(document, source, sandboxConfigSchema);
  return { identityCenter: file, slack: file.slack, personas: file.personas };
}

/** Reads config/sandbox.yaml (or a JSON file). */
export async function loadSandboxConfig(path: string): Promise<SandboxConfig> {
  return parseSandboxConfig(parseText(await readFile(path, 'utf8'), path), path);
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
