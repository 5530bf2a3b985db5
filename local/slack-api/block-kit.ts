// The Block Kit limits the stand-in enforces, as Slack documents them, and Slack's answers when a
// payload breaks one. A message or view Slack would refuse is refused here too, so a rendering that
// outgrows a limit fails in the tests and the sandbox, not in production.
//
// Limits (docs.slack.dev):
//   - section block: `text` "maximum length is 3000 characters"; each of `fields` 2000
//     (https://docs.slack.dev/reference/block-kit/blocks/section-block);
//   - "up to 50 blocks in each message, and 100 blocks in modals or Home tabs"
//     (https://docs.slack.dev/reference/block-kit/blocks); a modal's `title`, `submit`, `close`:
//     "max length of 24 characters" (https://docs.slack.dev/reference/views/modal-views; Home tab:
//     https://docs.slack.dev/reference/views/home-tab-views, "Max of 100 blocks");
//   - option object: `text` "Maximum length ... 75 characters", `value` "Maximum length ... 150
//     characters" (https://docs.slack.dev/reference/block-kit/composition-objects/option-object);
//     an options answer holds at most 100 options or option groups
//     (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select);
//   - `response_action: errors`: an object keyed by the block_id of each input block the message
//     goes under (https://docs.slack.dev/surfaces/modals, displaying errors; Bolt's
//     ViewErrorsResponseAction: `errors: { [blockId: string]: string }`); Slack shows errors only
//     under input blocks and refuses the answer when a key names no input block of the view.
//
// Slack's answers: chat.postMessage/update/postEphemeral say `invalid_blocks` with the problems in
// `errors` and again, prefixed "[ERROR]", in `response_metadata.messages`, each ending with a JSON
// pointer, e.g. {"ok":false,"error":"invalid_blocks","errors":["must be less than 3001 characters
// [json-pointer:/blocks/0/text/text]"],"response_metadata":{"messages":["[ERROR] must be less
// than 3001 characters [json-pointer:/blocks/0/text/text]"]}}. The views methods say
// `invalid_arguments`, with the messages only (e.g. "[ERROR] must define submit to use input block
// [json-pointer:/view/blocks/0/input]").

export const BLOCK_KIT_LIMITS = {
  sectionText: 3000,
  sectionField: 2000,
  messageBlocks: 50,
  viewBlocks: 100,
  modalTitle: 24,
  modalButton: 24,
  optionText: 75,
  optionValue: 150,
  optionsPerAnswer: 100,
} as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const textOf = (value: unknown): string | undefined =>
  isObject(value) && typeof value.text === 'string' ? value.text : undefined;

/** Slack's wording: a string limit of n is "must be less than n+1 characters". */
const tooLong = (max: number, pointer: string) =>
  `must be less than ${max + 1} characters [json-pointer:${pointer}]`;
const tooMany = (max: number, pointer: string) =>
  `no more than ${max} items allowed [json-pointer:${pointer}]`;

function checkText(value: unknown, max: number, pointer: string, problems: string[]): void {
  const text = textOf(value);
  if (text !== undefined && text.length > max) problems.push(tooLong(max, `${pointer}/text`));
}

function checkOption(option: unknown, pointer: string, problems: string[]): void {
  if (!isObject(option)) return;
  checkText(option.text, BLOCK_KIT_LIMITS.optionText, `${pointer}/text`, problems);
  if (typeof option.value === 'string' && option.value.length > BLOCK_KIT_LIMITS.optionValue)
    problems.push(tooLong(BLOCK_KIT_LIMITS.optionValue, `${pointer}/value`));
}

/** Every option an element (or an options answer) carries: options, option groups, initial ones. */
function checkOptions(element: Json, pointer: string, problems: string[]): void {
  const list = (key: string) => (Array.isArray(element[key]) ? (element[key] as unknown[]) : []);
  for (const [i, o] of list('options').entries()) checkOption(o, `${pointer}/options/${i}`, problems);
  for (const [g, group] of list('option_groups').entries()) {
    if (!isObject(group) || !Array.isArray(group.options)) continue;
    for (const [i, o] of group.options.entries())
      checkOption(o, `${pointer}/option_groups/${g}/options/${i}`, problems);
  }
  for (const [i, o] of list('initial_options').entries())
    checkOption(o, `${pointer}/initial_options/${i}`, problems);
  if (element.initial_option !== undefined)
    checkOption(element.initial_option, `${pointer}/initial_option`, problems);
}

function checkBlock(block: unknown, pointer: string, problems: string[]): void {
  if (!isObject(block)) return;
  if (block.type === 'section') {
    checkText(block.text, BLOCK_KIT_LIMITS.sectionText, `${pointer}/text`, problems);
    if (Array.isArray(block.fields))
      for (const [i, f] of block.fields.entries())
        checkText(f, BLOCK_KIT_LIMITS.sectionField, `${pointer}/fields/${i}`, problems);
    if (isObject(block.accessory)) checkOptions(block.accessory, `${pointer}/accessory`, problems);
  }
  if (isObject(block.element)) checkOptions(block.element, `${pointer}/element`, problems);
  if (Array.isArray(block.elements))
    for (const [i, e] of block.elements.entries())
      if (isObject(e)) checkOptions(e, `${pointer}/elements/${i}`, problems);
}

function checkBlocks(blocks: unknown, max: number, pointer: string, problems: string[]): void {
  if (!Array.isArray(blocks)) return;
  if (blocks.length > max) problems.push(tooMany(max, pointer));
  for (const [i, block] of blocks.entries()) checkBlock(block, `${pointer}/${i}`, problems);
}

/** What Slack would refuse in a message's blocks (chat.postMessage, chat.update, chat.postEphemeral, response_url). */
export function messageBlockProblems(blocks: unknown): string[] {
  const problems: string[] = [];
  checkBlocks(blocks, BLOCK_KIT_LIMITS.messageBlocks, '/blocks', problems);
  return problems;
}

/** What Slack would refuse in a view (views.open, push, update, publish). */
export function viewProblems(view: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(view)) return problems;
  checkBlocks(view.blocks, BLOCK_KIT_LIMITS.viewBlocks, '/view/blocks', problems);
  if (view.type === 'modal') {
    checkText(view.title, BLOCK_KIT_LIMITS.modalTitle, '/view/title', problems);
    checkText(view.submit, BLOCK_KIT_LIMITS.modalButton, '/view/submit', problems);
    checkText(view.close, BLOCK_KIT_LIMITS.modalButton, '/view/close', problems);
  }
  return problems;
}

/** What Slack would refuse in an app's answer to a block_suggestion (an external select's options). */
export function optionsAnswerProblems(answer: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(answer)) return ['must provide an object [json-pointer:/]'];
  for (const key of ['options', 'option_groups']) {
    const list = answer[key];
    if (Array.isArray(list) && list.length > BLOCK_KIT_LIMITS.optionsPerAnswer)
      problems.push(tooMany(BLOCK_KIT_LIMITS.optionsPerAnswer, `/${key}`));
  }
  checkOptions(answer, '', problems);
  return problems;
}

/**
 * What Slack would refuse in a view submission's `response_action: errors`: every key must be
 * the block_id of an input block of the submitted view.
 */
export function responseErrorsProblems(view: unknown, errors: unknown): string[] {
  if (!isObject(errors)) return ['errors must be an object [json-pointer:/errors]'];
  const blocks = isObject(view) && Array.isArray(view.blocks) ? view.blocks : [];
  const inputs = new Set(
    blocks.filter((b) => isObject(b) && b.type === 'input').map((b) => String((b as Json).block_id)),
  );
  return Object.keys(errors)
    .filter((key) => !inputs.has(key))
    .map((key) => `"${key}" is not the block_id of an input block [json-pointer:/errors/${key}]`);
}

/** Slack's answer to a message whose blocks break a limit. */
export function invalidBlocks(problems: string[]): {
  ok: false;
  error: 'invalid_blocks';
  errors: string[];
  response_metadata: { messages: string[] };
} {
  return {
    ok: false,
    error: 'invalid_blocks',
    errors: problems,
    response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
  };
}

/** Slack's answer to a view that breaks a limit. */
export function invalidView(problems: string[]): {
  ok: false;
  error: 'invalid_arguments';
  response_metadata: { messages: string[] };
} {
  return {
    ok: false,
    error: 'invalid_arguments',
    response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
  };
}
