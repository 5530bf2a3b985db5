import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { transformSync } from 'esbuild';

// The console's Block Kit renderer (local/console/blocks.js, a browser module) run in Node: its
// source turned into CommonJS by esbuild and given a minimal DOM, so its mrkdwn rendering of
// Slack's date displays is checked without a browser. The time zone and "now" are injected.

/** The least of the DOM that blocks.js touches: elements with children, attributes and text. */
class FakeNode {
  readonly children: FakeNode[] = [];
  constructor(readonly text = '') {}
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join('');
  }
  append(...nodes: FakeNode[]): void {
    this.children.push(...nodes);
  }
}
class FakeElement extends FakeNode {
  readonly attributes: Record<string, string> = {};
  readonly dataset: Record<string, string> = {};
  className = '';
  constructor(readonly tagName: string) {
    super();
  }
  setAttribute(name: string, value: string): void {
    this.attributes[name] = value;
  }
  addEventListener(): void {}
}

type Blocks = {
  mrkdwn: (text: string, ctx?: object) => FakeElement;
  slackDateText: (token: string, options?: { now?: number; timeZone?: string; locale?: string }) => string;
};

function loadBlocks(): Blocks {
  const source = readFileSync(path.join(__dirname, '../../local/console/blocks.js'), 'utf8');
  const { code } = transformSync(source, { format: 'cjs', loader: 'js' });
  const module = { exports: {} as Blocks };
  const document = {
    createElement: (tag: string) => new FakeElement(tag),
    createTextNode: (text: string) => new FakeNode(text),
  };
  runInNewContext(code, { module, exports: module.exports, document, Node: FakeNode, Intl, Date });
  return module.exports;
}

const blocks = loadBlocks();
const find = (node: FakeNode, test: (n: FakeElement) => boolean): FakeElement | undefined => {
  if (node instanceof FakeElement && test(node)) return node;
  for (const child of node.children) {
    const found = find(child, test);
    if (found) return found;
  }
  return undefined;
};

const UNIX = Date.UTC(2026, 11, 1, 10) / 1000; // 10:00 UTC
const TOKEN = `!date^${UNIX}^{date_short_pretty} {time}|10:00 UTC`;
const NOW = Date.UTC(2026, 11, 1, 9, 15);

describe('Slack date displays in the sandbox console', () => {
  it('shows the time in the reader’s zone, "Today" for today, with the fallback kept as a title', () => {
    expect(blocks.slackDateText(TOKEN, { now: NOW, timeZone: 'Europe/Paris', locale: 'en-GB' })).toBe(
      'Today 11:00',
    );
    expect(blocks.slackDateText(TOKEN, { now: NOW, timeZone: 'America/New_York', locale: 'en-GB' })).toBe(
      'Today 05:00',
    );
    expect(blocks.slackDateText(TOKEN, { now: NOW + 86_400_000, timeZone: 'UTC', locale: 'en-GB' })).toBe(
      'Yesterday 10:00',
    );
    expect(blocks.slackDateText(TOKEN, { now: NOW + 3 * 86_400_000, timeZone: 'UTC', locale: 'en-GB' })).toBe(
      '1 Dec 2026 10:00',
    );
  });

  it('falls back to the fallback text for a malformed token or a format it does not know', () => {
    expect(blocks.slackDateText('!date^soon^{time}|10:00 UTC')).toBe('10:00 UTC');
    expect(blocks.slackDateText(`!date^${UNIX}^{ago}|10:00 UTC`)).toBe('10:00 UTC');
    expect(blocks.slackDateText(`!date^${UNIX}^{time}|10:00 UTC`, { timeZone: 'Not/AZone' })).toBe(
      '10:00 UTC',
    );
  });

  it('renders the token inside mrkdwn as a date, not as a mention', () => {
    const shown = blocks.mrkdwn(`:unlock: Granted until <${TOKEN}>`, {
      dateOptions: { now: NOW, timeZone: 'Asia/Tokyo', locale: 'en-GB' },
    });
    expect(shown.textContent).toBe('🔓 Granted until Today 19:00');
    const date = find(shown, (n) => n.className === 'sk-date');
    expect(date?.attributes.title).toBe('10:00 UTC');
    expect(find(shown, (n) => n.className === 'mention')).toBeUndefined();
  });

  it('decodes entities in a link’s address, as Slack does', () => {
    const shown = blocks.mrkdwn(
      '<https://example.awsapps.com/start/#/console?account_id=111111111111&amp;role_name=ReadOnly|Open the AWS console>',
    );
    const link = find(shown, (n) => n.tagName === 'a');
    expect(link?.attributes.href).toBe(
      'https://example.awsapps.com/start/#/console?account_id=111111111111&role_name=ReadOnly',
    );
    expect(link?.textContent).toBe('Open the AWS console');
  });
});
