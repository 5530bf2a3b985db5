import { PHASE_CALLS } from '../../functions/core/admission';
import { reservedCalls } from '../../functions/shared/admission-charge';

// What a Grant or Revoke attempt runs on, read from the input the state machine gives it: only a
// first attempt after a successful AdmitGrant runs on a reservation, so no call is charged twice
// and none goes uncharged.

const step = {
  version: 1,
  requestId: 'r-1',
  accountId: '111111111111',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1',
  principalId: 'u-1',
};
const admitted = { at: '2026-12-01T09:00:01Z', calls: 7, revokeCalls: PHASE_CALLS.revoke };

describe('reservedCalls', () => {
  it('gives a first attempt what AdmitGrant reserved for it (List pages included)', () => {
    expect(reservedCalls('grant', { ...step, admission: admitted, retryCount: 0 })).toBe(7);
    expect(reservedCalls('revoke', { ...step, reason: 'expired', admission: admitted, retryCount: 0 })).toBe(
      PHASE_CALLS.revoke,
    );
  });

  it('gives a retry nothing: its calls were never reserved', () => {
    expect(reservedCalls('grant', { ...step, admission: admitted, retryCount: 1 })).toBe(0);
    expect(reservedCalls('revoke', { ...step, admission: admitted, retryCount: 3 })).toBe(0);
  });

  it('gives nothing after a failed AdmitGrant (its error stands in the admission slot)', () => {
    const failed = { Error: 'Lambda.Unknown', Cause: 'timed out' };
    expect(reservedCalls('grant', { ...step, admission: failed, retryCount: 0 })).toBe(0);
    expect(reservedCalls('revoke', { ...step, admission: failed, retryCount: 0 })).toBe(0);
  });

  it('keeps what a definition that passed no admission reserved: the common grant, no revoke', () => {
    expect(reservedCalls('grant', step)).toBe(PHASE_CALLS.grant);
    expect(reservedCalls('revoke', step)).toBe(0);
  });

  it('reads a validation admission (no revoke share) as no revoke reservation', () => {
    expect(reservedCalls('revoke', { ...step, admission: { at: '2026-12-01T09:00:00Z', calls: 1 } })).toBe(0);
  });
});
