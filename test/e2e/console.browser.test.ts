import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Sandbox } from '../../local/sandbox/sandbox';
import { startTestSandbox, waitFor } from '../sandbox/helpers';

// The console in a real browser (Debian's chromium driven by playwright-core): Alice requests
// production access, Carol approves, Alice sees the grant and ends it. Screenshots go to
// test-artifacts/ (git-ignored).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y chromium';
const ARTIFACTS = path.join(__dirname, '../../test-artifacts');
const hasChromium = existsSync(CHROMIUM);
const requireBrowser = process.env.CI === 'true';

// Without a browser the test is reported as skipped with the install hint; CI must have one.
const browserIt = hasChromium || requireBrowser ? it : it.skip;
const title = hasChromium
  ? 'the sandbox console in a real browser'
  : `the sandbox console in a real browser (skipped: no chromium at ${CHROMIUM}; ${INSTALL_HINT})`;

if (!hasChromium && !requireBrowser)
  console.warn(
    `Skipping the browser test: no chromium at ${CHROMIUM}; ${INSTALL_HINT} (CI=true makes this a failure)`,
  );

let sandbox: Sandbox | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;
/** Script errors and console.error lines of the page: the console must not have any. */
let pageErrors: string[] = [];

afterEach(async () => {
  await context?.close();
  context = undefined;
  if (profile) await rm(profile, { recursive: true, force: true });
  profile = undefined;
  const host = sandbox?.standIns.stepFunctions.host;
  if (host) {
    await Promise.all(
      host
        .listExecutions({ statusFilter: 'RUNNING' })
        .map((e) => host.stopExecution(e.executionArn).catch(() => undefined)),
    );
  }
  await sandbox?.stop();
  sandbox = undefined;
});

async function launch(): Promise<Page> {
  if (!hasChromium) throw new Error(`CI=true needs a browser: no chromium at ${CHROMIUM}; ${INSTALL_HINT}`);
  pageErrors = [];
  profile = await mkdtemp(path.join(os.tmpdir(), 'sandbox-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  return page;
}

async function actAs(page: Page, name: string): Promise<void> {
  const option = page.locator('#persona option', { hasText: name });
  await page.locator('#persona').selectOption((await option.getAttribute('value')) ?? '');
}

async function open(page: Page, nav: string): Promise<void> {
  await page.locator(`[data-nav="${nav}"]`).click();
}

/**
 * `/request-access` typed in the composer, and the form it opens. Picking an account or permission
 * set dispatches block_actions; the app answers with views.update (durations narrowed to the
 * pair's maximum): `pick` waits for the new view each time.
 */
async function requestForm(page: Page) {
  await page.locator('#composer-input').fill('/request-access');
  await page.locator('#composer-input').press('Enter');
  const modal = page.locator('form.modal');
  await modal.waitFor();
  const pick = async (field: string, query: string, value: string) => {
    const hash = await modal.getAttribute('data-view-hash');
    await modal.locator(`[data-action-id="${field}"] input`).fill(query);
    await modal.locator(`[data-action-id="${field}"] select`).selectOption(value);
    await page.locator(`form.modal:not([data-view-hash="${hash}"])`).waitFor();
  };
  return { modal, pick };
}

describe(title, () => {
  browserIt(
    'requests, approves, shows the grant and ends it, as two people',
    async () => {
      await mkdir(ARTIFACTS, { recursive: true });
      // 1 minute = 1 s: a 30-minute grant lasts 30 s, long enough to end it by hand.
      sandbox = await startTestSandbox({ msPerMinute: 1000 });
      const page = await launch();
      await page.goto(`${sandbox.url}/?as=alice`);

      // Alice: /request-access, then the form rendered from the app's view JSON.
      const { modal, pick } = await requestForm(page);
      await pick('account', 'prod', '111111111111');
      await pick('permission_set', 'Read', 'ReadOnly');
      // The duration dispatches too: the line on how long sessions outlive the window follows it
      // (ReadOnly's session duration, DescribePermissionSet from the Identity Center stand-in).
      const beforeDuration = await modal.getAttribute('data-view-hash');
      await modal.locator('select[data-action-id="duration"]').selectOption('30');
      await page.locator(`form.modal:not([data-view-hash="${beforeDuration}"])`).waitFor();
      await modal
        .getByText(
          "Access for 30m; sessions signed in during it stay valid up to 1h after it ends (ReadOnly's session duration), so up to 1h 30m in all.",
        )
        .waitFor();
      await modal.locator('textarea[data-action-id="reason"]').fill('Investigating INC-42 from the console');
      // The on-call rule allows a later start: Slack's date-time picker, a local date-time input
      // here. Left empty, the access begins when approved.
      await expect(
        modal.locator('input[type="datetime-local"][data-action-id="start_at"]').count(),
      ).resolves.toBe(1);
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-0-form.png') });
      await modal.locator('button[type="submit"]').click();
      await page.getByText('Request sent').waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-1-requested.png') });
      await modal.locator('.modal-close').click();
      await modal.waitFor({ state: 'detached' });

      // Carol: the approval message in #access-requests.
      await actAs(page, 'Carol');
      await open(page, 'channel:C0APPROVALS');
      const request = page.locator('.message', { hasText: 'Investigating INC-42 from the console' });
      await request.getByRole('button', { name: 'Approve' }).click();

      // Alice: the DM says the access is ready; Identity Center shows the assignment.
      await actAs(page, 'Alice');
      await open(page, 'dm');
      await page.locator('.message', { hasText: 'Access ready' }).waitFor();
      const assignments = page.getByTestId('assignments');
      const grantRow = assignments.locator('tr', { hasText: 'alice' });
      await grantRow.filter({ hasText: 'production' }).filter({ hasText: 'ReadOnly' }).waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-2-granted.png'), fullPage: true });
      expect(await page.getByTestId('audit').textContent()).toContain('window.opened');

      // End access now: the assignment goes, the DM says so.
      await page
        .locator('.message', { hasText: 'Access ready' })
        .getByRole('button', { name: 'End access now' })
        .click();
      await page.locator('.message', { hasText: 'has been revoked' }).waitFor();
      await grantRow.waitFor({ state: 'detached' });
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-3-ended.png'), fullPage: true });

      expect(await assignments.textContent()).not.toContain('alice');
      expect(await page.getByTestId('audit').textContent()).toContain('window.ended-early');
      expect(await page.getByTestId('requests').textContent()).toContain('REVOKED');
      expect(pageErrors).toEqual([]);
    },
    60_000,
  );

  browserIt(
    'asks for three accounts in one request, approved once, and ends them all from one button',
    async () => {
      sandbox = await startTestSandbox({ msPerMinute: 1000 });
      const page = await launch();
      await page.goto(`${sandbox.url}/?as=alice`);
      const { modal, pick } = await requestForm(page);
      await pick('account', 'stag', '222222222222');
      await pick('permission_set', 'Admin', 'AdministratorAccess');
      // More accounts: each picked from the app's options becomes a chip (no view update).
      const more = modal.locator('[data-action-id="more_accounts"]');
      for (const [query, value] of [
        ['sand', '333333333333'],
        ['qa', '444444444444'],
      ] as const) {
        await more.locator('input').fill(query);
        await more.locator(`select option[value="${value}"]`).waitFor({ state: 'attached' });
        await more.locator('select').selectOption(value);
      }
      await expect(more.locator('.sk-chip').count()).resolves.toBe(2);
      // A duration picked updates the view: the chips are kept, as Slack keeps input values.
      const beforeDuration = await modal.getAttribute('data-view-hash');
      await modal.locator('select[data-action-id="duration"]').selectOption('60');
      await page.locator(`form.modal:not([data-view-hash="${beforeDuration}"])`).waitFor();
      await expect(modal.locator('[data-action-id="more_accounts"] .sk-chip').count()).resolves.toBe(2);
      await modal.locator('textarea[data-action-id="reason"]').fill('Migrating the queues');
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-4-three-accounts.png') });
      await modal.locator('button[type="submit"]').click();
      await page.getByText('Request sent').waitFor();
      await modal.locator('.modal-close').click();
      await modal.waitFor({ state: 'detached' });

      await actAs(page, 'Carol');
      await open(page, 'channel:C0APPROVALS');
      const request = page.locator('.message', { hasText: 'Migrating the queues' });
      await request.getByText('for 3 accounts').waitFor();
      // Decided once every account's request is stored (each shows in the message as it is).
      await waitFor(
        async () => ((await request.textContent()) ?? '').match(/waiting for approval/g)?.length === 3,
        'the three accounts waiting for approval',
        10_000,
      );
      await request.getByRole('button', { name: 'Approve' }).click();

      await actAs(page, 'Alice');
      await open(page, 'dm');
      const rows = page.getByTestId('assignments').locator('tr', { hasText: 'alice' }).filter({
        hasText: 'AdministratorAccess',
      });
      // End all from the first "Access ready" DM: accounts still being granted end as they open.
      await page
        .locator('.message', { hasText: 'Access ready' })
        .first()
        .getByRole('button', { name: 'End all 3 accounts now' })
        .click();
      await waitFor(
        async () =>
          ((await sandbox?.state.requests()) ?? []).filter(
            (r) => r.request.set !== undefined && r.status === 'REVOKED' && r.endedBy === 'alice@example.com',
          ).length === 3,
        'the three ended early',
        20_000,
      );
      await waitFor(async () => (await rows.count()) === 0, 'the three revoked', 10_000);
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-5-three-ended.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    },
    60_000,
  );
});
