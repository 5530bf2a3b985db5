// Block and action ids of the app's modals. Messages' button ids live in
// render/messages.ts (ACTION_IDS), shared with the workflow's notifier.

export const CALLBACK_IDS = {
  requestForm: 'request_access_form',
  denyReason: 'deny_reason_form',
  extend: 'extend_access_form',
} as const;

/** In the request form, each input's block_id and action_id are the same string. */
export const FORM_FIELDS = {
  account: 'account',
  permissionSet: 'permission_set',
  duration: 'duration',
  reason: 'reason',
  ticket: 'ticket',
  breakGlass: 'break_glass',
  start: 'start_at',
  /** Further accounts for the same permission set (a request of several: core/request-set.ts). */
  moreAccounts: 'more_accounts',
} as const;

/** The request form's line on how long sessions outlive the window (a context block, no input). */
export const FORM_EXPOSURE_BLOCK = 'exposure';

/** The break-glass checkbox's one option value. */
export const BREAK_GLASS_CHOSEN = 'break-glass';

export const DENY_FIELDS = { reason: 'deny_reason' } as const;
export const EXTEND_FIELDS = { minutes: 'extend_minutes' } as const;
