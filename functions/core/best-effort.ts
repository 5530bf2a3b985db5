/** Where a best-effort action's failure is reported (a log line, a pass's error list). */
export type OnFailed = (what: string, error: unknown) => void;

/**
 * Runs an action whose failure must not undo or block what was already decided: a Slack message
 * after a decision, a grant or a revoke is stored (Slack never decides whether access exists; the
 * next render or the reconciler puts the message right), or one record of a reconciler pass.
 * The failure is reported, never thrown.
 */
export async function bestEffort(
  what: string,
  action: () => Promise<void>,
  onFailed?: OnFailed,
): Promise<void> {
  try {
    await action();
  } catch (error) {
    onFailed?.(what, error);
  }
}
