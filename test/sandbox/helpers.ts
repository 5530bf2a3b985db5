import { type Sandbox, type SandboxOptions, startSandbox } from '../../local/sandbox/sandbox';

/** Polls `probe` until it returns a value (not undefined/false); fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
  );
}

/**
 * A sandbox for tests: an ephemeral port, every stand-in whatever the machine's credentials, and
 * fast time (1 product minute = 100 ms: a 30-minute grant lasts 3 s; Identity Center provisions
 * in 50 ms).
 */
export function startTestSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({
    port: 0,
    forceStandIns: true,
    msPerMinute: 100,
    retryIntervalMs: 20,
    ...options,
    identityCenter: { provisioningDelayMs: 50, ...options.identityCenter },
  });
}

export const PEOPLE = {
  alice: { slackUserId: 'U0ALICE', email: 'alice@example.com' },
  carol: { slackUserId: 'U0CAROL', email: 'carol@example.com' },
  dave: { slackUserId: 'U0DAVE', email: 'dave@example.com' },
} as const;

export const ACCOUNTS = { production: '111111111111', staging: '222222222222' } as const;
export const PERMISSION_SETS = {
  readOnly: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  powerUser: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
} as const;
