// Block Kit, the subset the product uses, rendered to DOM: section (text, fields, accessory),
// context, actions, input, divider, header, image; elements: button, static_select,
// external_select, multi_external_select, multi_static_select, plain_text_input, number_input, checkboxes,
// radio_buttons, datepicker, datetimepicker. Text is always inserted as text; mrkdwn is parsed, never trusted.
// Slack's date displays (<!date^…|fallback>) show in the browser's time zone, as Slack shows each
// reader their own (https://api.slack.com/reference/surfaces/formatting#date-formatting).

const EMOJI = {
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  white_check_mark: '✅',
  no_entry: '⛔',
  alarm_clock: '⏰',
  x: '❌',
  gear: '⚙️',
  unlock: '🔓',
  lock: '🔒',
  warning: '⚠️',
  rotating_light: '🚨',
  heavy_plus_sign: '➕',
  key: '🔑',
  wave: '👋',
  information_source: 'ℹ️',
  clock1: '🕐',
  bust_in_silhouette: '👤',
  memo: '📝',
};

/** Creates an element with attributes and children (strings become text nodes). */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function decodeEntities(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const INLINE = [
  { pattern: /```([\s\S]+?)```/, tag: 'pre' },
  { pattern: /`([^`\n]+)`/, tag: 'code' },
  { pattern: /(?<![\w*])\*([^*\n]+)\*(?![\w*])/, tag: 'b' },
  { pattern: /(?<![\w_])_([^_\n]+)_(?![\w_])/, tag: 'i' },
  { pattern: /(?<![\w~])~([^~\n]+)~(?![\w~])/, tag: 's' },
];

/** Appends formatted plain text (entities decoded, *bold* _italic_ ~strike~ `code`, :emoji:, newlines). */
function appendFormatted(parent, text) {
  let rest = text;
  while (rest.length > 0) {
    let first;
    for (const rule of INLINE) {
      const match = rule.pattern.exec(rest);
      if (match && (first === undefined || match.index < first.match.index)) first = { rule, match };
    }
    if (!first) {
      appendPlain(parent, rest);
      return;
    }
    appendPlain(parent, rest.slice(0, first.match.index));
    const node = h(first.rule.tag);
    if (first.rule.tag === 'pre' || first.rule.tag === 'code') appendPlain(node, first.match[1], false);
    else appendFormatted(node, first.match[1]);
    parent.append(node);
    rest = rest.slice(first.match.index + first.match[0].length);
  }
}

function appendPlain(parent, text, emoji = true) {
  const withEmoji = emoji ? text.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] ?? all) : text;
  const lines = withEmoji.split('\n');
  lines.forEach((line, index) => {
    if (index > 0) parent.append(h('br'));
    if (line) parent.append(document.createTextNode(line));
  });
}

/**
 * mrkdwn → DOM. `<@U123>` mentions, `<#C123|name>` channels, `<!here>` specials and `<url|label>`
 * links are parsed first (Slack escapes literal < > & as entities), then inline formatting.
 */
export function mrkdwn(text, ctx = {}) {
  const root = h('span', { class: 'mrkdwn' });
  const source = String(text ?? '');
  let last = 0;
  for (const match of source.matchAll(/<([^<>\n]+)>/g)) {
    appendFormatted(root, decodeEntities(source.slice(last, match.index)));
    root.append(renderToken(match[1], ctx));
    last = match.index + match[0].length;
  }
  appendFormatted(root, decodeEntities(source.slice(last)));
  return root;
}

const DAY_MS = 86_400_000;

/**
 * The text Slack shows for a date token `!date^<unix seconds>^<format>[^<link>]|<fallback>`: the
 * format's {tokens} in the reader's time zone and locale (`options.timeZone`, `options.locale`;
 * default the browser's), or the fallback when the token is malformed or uses a format token this
 * console does not know. `options.now` (ms) decides what "today" is.
 */
export function slackDateText(token, options = {}) {
  const bar = token.indexOf('|');
  const head = bar >= 0 ? token.slice(0, bar) : token;
  const fallback = bar >= 0 ? decodeEntities(token.slice(bar + 1)) : '';
  const [, seconds, format] = head.split('^');
  if (!/^\d{1,12}$/.test(seconds ?? '') || !format) return fallback;
  const date = new Date(Number(seconds) * 1000);
  const now = options.now ?? Date.now();
  try {
    const zone = options.timeZone ? { timeZone: options.timeZone } : {};
    const format_ = (parts, at = date) =>
      new Intl.DateTimeFormat(options.locale, { ...zone, ...parts }).format(at);
    const day = (at) => format_({ year: 'numeric', month: '2-digit', day: '2-digit' }, at);
    const relative = () => {
      for (const [offset, word] of [
        [0, 'today'],
        [-1, 'yesterday'],
        [1, 'tomorrow'],
      ])
        if (day(new Date(now + offset * DAY_MS)) === day(date)) return word;
      return undefined;
    };
    const plainDate = () => format_({ day: 'numeric', month: 'long', year: 'numeric' });
    const shortDate = () => format_({ day: 'numeric', month: 'short', year: 'numeric' });
    const longDate = () => format_({ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    const tokens = {
      date_num: () =>
        new Intl.DateTimeFormat('en-CA', {
          ...zone,
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
        }).format(date),
      date: plainDate,
      date_short: shortDate,
      date_long: longDate,
      date_pretty: () => relative() ?? plainDate(),
      date_short_pretty: () => relative() ?? shortDate(),
      date_long_pretty: () => relative() ?? longDate(),
      time: () => format_({ hour: '2-digit', minute: '2-digit' }),
      time_secs: () => format_({ hour: '2-digit', minute: '2-digit', second: '2-digit' }),
    };
    let unknown = false;
    const text = format.replace(/\{([a-z_]+)\}/g, (all, name) => {
      const render = tokens[name];
      if (!render) unknown = true;
      return render ? render() : all;
    });
    if (unknown) return fallback;
    // Slack capitalizes the display's first letter ("Today 14:00").
    return text.charAt(0).toUpperCase() + text.slice(1);
  } catch {
    return fallback;
  }
}

function renderToken(token, ctx) {
  if (token.startsWith('!date^')) {
    const bar = token.indexOf('|');
    return h(
      'span',
      { class: 'sk-date', title: bar >= 0 ? decodeEntities(token.slice(bar + 1)) : undefined },
      slackDateText(token, ctx.dateOptions),
    );
  }
  const [target, label] = token.split('|');
  if (target.startsWith('@')) {
    const name = ctx.userName?.(target.slice(1)) ?? target.slice(1);
    return h('span', { class: 'mention' }, `@${label ?? name}`);
  }
  if (target.startsWith('#')) return h('span', { class: 'mention' }, `#${label ?? target.slice(1)}`);
  if (target.startsWith('!'))
    return h('span', { class: 'mention' }, `@${label ?? target.slice(1).split('^')[0]}`);
  if (/^(https?:|mailto:)/.test(target)) {
    return h(
      'a',
      // Slack decodes entities in a link's URL too (`&amp;` between query parameters).
      { href: decodeEntities(target), target: '_blank', rel: 'noopener noreferrer' },
      decodeEntities(label ?? target),
    );
  }
  return document.createTextNode(decodeEntities(`<${token}>`));
}

/** A text object (plain_text or mrkdwn). */
export function textObject(value, ctx) {
  if (!value) return h('span');
  if (typeof value === 'string') return mrkdwn(value, ctx);
  if (value.type === 'mrkdwn') return mrkdwn(value.text, ctx);
  const span = h('span');
  appendPlain(span, decodeEntities(String(value.text ?? '')), value.emoji !== false);
  return span;
}

export function plainText(value) {
  if (!value) return '';
  return typeof value === 'string' ? value : String(value.text ?? '');
}

function optionsOf(element) {
  return [...(element.options ?? []), ...(element.option_groups ?? []).flatMap((g) => g.options ?? [])];
}

// ---- elements ----------------------------------------------------------------------------

function button(element, block, ctx) {
  return h(
    'button',
    {
      type: 'button',
      class: `sk-button${element.style ? ` sk-${element.style}` : ''}`,
      dataset: { actionId: element.action_id, blockId: block.block_id },
      onclick: (event) => {
        event.preventDefault();
        ctx.onAction?.({ element, block, actionId: element.action_id, blockId: block.block_id });
      },
    },
    plainText(element.text),
  );
}

function selectOptionNodes(element, selectedValues) {
  const nodes = [];
  const option = (o) =>
    h('option', { value: o.value, selected: selectedValues.includes(o.value) }, plainText(o.text));
  for (const o of element.options ?? []) nodes.push(option(o));
  for (const group of element.option_groups ?? [])
    nodes.push(h('optgroup', { label: plainText(group.label) }, (group.options ?? []).map(option)));
  return nodes;
}

/** A select outside an input block fires block_actions when changed. */
function actionSelect(element, block, ctx) {
  const initial = element.initial_option?.value;
  const select = h(
    'select',
    {
      class: 'sk-select',
      dataset: { actionId: element.action_id, blockId: block.block_id },
      onchange: () => {
        const picked = optionsOf(element).find((o) => o.value === select.value);
        if (picked)
          ctx.onAction?.({
            element,
            block,
            actionId: element.action_id,
            blockId: block.block_id,
            selectedOption: picked,
          });
      },
    },
    h(
      'option',
      { value: '', disabled: true, selected: !initial },
      plainText(element.placeholder) || 'Select…',
    ),
    selectOptionNodes(element, initial ? [initial] : []),
  );
  return select;
}

/** An input element of a modal; the control keeps what `readState` needs in dataset/properties. */
function inputControl(element, block, ctx) {
  const ids = { actionId: element.action_id, blockId: block.block_id, type: element.type };
  const placeholder = plainText(element.placeholder);
  switch (element.type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input': {
      const attributes = {
        class: 'sk-input',
        name: element.action_id,
        placeholder,
        dataset: ids,
        maxlength: element.max_length,
        'aria-label': plainText(block.label) || element.action_id,
      };
      if (element.multiline) return h('textarea', { ...attributes, rows: 3 }, element.initial_value ?? '');
      return h('input', {
        ...attributes,
        type:
          element.type === 'email_text_input' ? 'email' : element.type === 'url_text_input' ? 'url' : 'text',
        value: element.initial_value ?? '',
      });
    }
    case 'number_input':
      return h('input', {
        class: 'sk-input',
        type: 'number',
        name: element.action_id,
        step: element.is_decimal_allowed ? 'any' : '1',
        min: element.min_value,
        max: element.max_value,
        value: element.initial_value ?? '',
        placeholder,
        dataset: ids,
        'aria-label': plainText(block.label) || element.action_id,
      });
    case 'datepicker':
      return h('input', { class: 'sk-input', type: 'date', value: element.initial_date ?? '', dataset: ids });
    case 'datetimepicker':
      // Slack shows it in the reader's time zone and answers Unix seconds: the browser's local time here.
      return h('input', {
        class: 'sk-input',
        type: 'datetime-local',
        value: element.initial_date_time ? localDateTime(element.initial_date_time) : '',
        dataset: ids,
        'aria-label': plainText(block.label) || element.action_id,
      });
    case 'static_select':
    case 'multi_static_select': {
      const multiple = element.type === 'multi_static_select';
      const initial = multiple
        ? (element.initial_options ?? []).map((o) => o.value)
        : element.initial_option
          ? [element.initial_option.value]
          : [];
      const select = h(
        'select',
        {
          class: 'sk-select',
          name: element.action_id,
          multiple,
          dataset: ids,
          'aria-label': plainText(block.label) || element.action_id,
          onchange: () => {
            // An input with dispatch_action tells the app at once (block_actions), as Slack does.
            const picked = optionsOf(element).find((o) => o.value === select.value);
            if (block.dispatch_action && !multiple && picked)
              ctx.onAction?.({
                element,
                block,
                actionId: element.action_id,
                blockId: block.block_id,
                selectedOption: picked,
              });
          },
        },
        multiple
          ? null
          : h('option', { value: '', selected: initial.length === 0 }, placeholder || 'Select…'),
        selectOptionNodes(element, initial),
      );
      select.slackOptions = optionsOf(element);
      return select;
    }
    case 'external_select':
      return externalSelect(element, block, ctx, ids);
    case 'multi_external_select':
      return multiExternalSelect(element, block, ctx, ids);
    case 'checkboxes':
    case 'radio_buttons': {
      const initial =
        element.type === 'checkboxes'
          ? (element.initial_options ?? []).map((o) => o.value)
          : element.initial_option
            ? [element.initial_option.value]
            : [];
      const group = h('div', { class: 'sk-choices', dataset: ids });
      group.slackOptions = element.options ?? [];
      for (const o of element.options ?? []) {
        group.append(
          h(
            'label',
            {},
            h('input', {
              type: element.type === 'checkboxes' ? 'checkbox' : 'radio',
              name: `${block.block_id}/${element.action_id}`,
              value: o.value,
              checked: initial.includes(o.value),
            }),
            ' ',
            textObject(o.text, ctx),
          ),
        );
      }
      return group;
    }
    default:
      return h(
        'div',
        { class: 'sk-unsupported' },
        `(${element.type} is not rendered by the sandbox console)`,
      );
  }
}

/** Options come from the app (block_suggestion) as the person types. */
function externalSelect(element, block, ctx, ids) {
  const minLength = element.min_query_length ?? 3;
  const wrapper = h('div', { class: 'sk-external', dataset: ids });
  const query = h('input', {
    class: 'sk-input',
    type: 'text',
    placeholder:
      plainText(element.placeholder) || `Type ${minLength > 0 ? `${minLength}+ characters` : 'to search'}…`,
    'aria-label': plainText(block.label) || element.action_id,
    value: element.initial_option ? plainText(element.initial_option.text) : '',
  });
  const results = h('select', { class: 'sk-select', size: 1, dataset: { role: 'results' } });
  const status = h('div', { class: 'sk-hint' });
  wrapper.selectedOption = element.initial_option ?? null;
  let counter = 0;
  const search = async () => {
    if (query.value.length < minLength) {
      status.textContent = minLength > 0 ? `Type at least ${minLength} characters` : '';
      return;
    }
    const mine = ++counter;
    status.textContent = 'Asking the app…';
    const options = (await ctx.onSuggest?.({ element, block, value: query.value })) ?? [];
    if (mine !== counter) return;
    results.replaceChildren(
      h(
        'option',
        { value: '', selected: true },
        options.length ? `${options.length} option(s): pick one` : 'No options',
      ),
      ...options.map((o) => h('option', { value: o.value }, plainText(o.text))),
    );
    results.slackOptions = options;
    status.textContent = '';
  };
  let timer;
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  query.addEventListener('focus', () => {
    if (!results.slackOptions) search();
  });
  results.addEventListener('change', () => {
    const picked = (results.slackOptions ?? []).find((o) => o.value === results.value) ?? null;
    wrapper.selectedOption = picked;
    if (picked) query.value = plainText(picked.text);
    if (picked && block.dispatch_action)
      ctx.onAction?.({
        element,
        block,
        actionId: element.action_id,
        blockId: block.block_id,
        selectedOption: picked,
      });
  });
  wrapper.restore = (option) => {
    wrapper.selectedOption = option;
    query.value = option ? plainText(option.text) : '';
    results.replaceChildren(
      ...(option ? [h('option', { value: option.value, selected: true }, plainText(option.text))] : []),
    );
    results.slackOptions = option ? [option] : undefined;
  };
  wrapper.append(query, results, status);
  if (element.initial_option) wrapper.restore(element.initial_option);
  return wrapper;
}

/** Several options from the app (block_suggestion), each picked from the results and shown as a removable chip. */
function multiExternalSelect(element, block, ctx, ids) {
  const max = element.max_selected_items ?? Infinity;
  const wrapper = h('div', { class: 'sk-external sk-multi', dataset: ids });
  const query = h('input', {
    class: 'sk-input',
    type: 'text',
    placeholder: plainText(element.placeholder) || 'Type to search…',
    'aria-label': plainText(block.label) || element.action_id,
  });
  const results = h('select', { class: 'sk-select', size: 1, dataset: { role: 'results' } });
  const chips = h('div', { class: 'sk-chips' });
  wrapper.pickedOptions = [];
  const draw = () => {
    chips.replaceChildren(
      ...wrapper.pickedOptions.map((o) =>
        h(
          'span',
          { class: 'sk-chip' },
          plainText(o.text),
          h(
            'button',
            {
              type: 'button',
              class: 'sk-chip-remove',
              'aria-label': `Remove ${plainText(o.text)}`,
              onclick: () => {
                wrapper.pickedOptions = wrapper.pickedOptions.filter((p) => p.value !== o.value);
                draw();
              },
            },
            '×',
          ),
        ),
      ),
    );
  };
  let counter = 0;
  const search = async () => {
    const mine = ++counter;
    const options = (await ctx.onSuggest?.({ element, block, value: query.value })) ?? [];
    if (mine !== counter) return;
    results.replaceChildren(
      h(
        'option',
        { value: '', selected: true },
        options.length ? `${options.length} option(s): add one` : 'No options',
      ),
      ...options.map((o) => h('option', { value: o.value }, plainText(o.text))),
    );
    results.slackOptions = options;
  };
  let timer;
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  query.addEventListener('focus', () => search());
  results.addEventListener('change', () => {
    const picked = (results.slackOptions ?? []).find((o) => o.value === results.value);
    const taken = wrapper.pickedOptions.some((o) => o.value === picked?.value);
    if (picked && !taken && wrapper.pickedOptions.length < max) wrapper.pickedOptions.push(picked);
    results.value = '';
    draw();
  });
  wrapper.restoreMany = (options) => {
    wrapper.pickedOptions = [...(options ?? [])];
    draw();
  };
  wrapper.append(chips, query, results);
  return wrapper;
}

/** Slack's view.state.values from the rendered inputs of a container. */
export function readState(container) {
  const values = {};
  for (const node of container.querySelectorAll('[data-action-id][data-type]')) {
    const { actionId, blockId, type } = node.dataset;
    let entry;
    switch (type) {
      case 'static_select': {
        const picked = (node.slackOptions ?? []).find((o) => o.value === node.value);
        entry = { type, selected_option: picked ?? null };
        break;
      }
      case 'multi_static_select': {
        const chosen = [...node.selectedOptions].map((o) => o.value);
        entry = { type, selected_options: (node.slackOptions ?? []).filter((o) => chosen.includes(o.value)) };
        break;
      }
      case 'external_select':
        entry = { type, selected_option: node.selectedOption ?? null };
        break;
      case 'multi_external_select':
        entry = { type, selected_options: node.pickedOptions ?? [] };
        break;
      case 'checkboxes': {
        const chosen = [...node.querySelectorAll('input:checked')].map((i) => i.value);
        entry = { type, selected_options: (node.slackOptions ?? []).filter((o) => chosen.includes(o.value)) };
        break;
      }
      case 'radio_buttons': {
        const chosen = node.querySelector('input:checked')?.value;
        entry = { type, selected_option: (node.slackOptions ?? []).find((o) => o.value === chosen) ?? null };
        break;
      }
      case 'datepicker':
        entry = { type, selected_date: node.value || null };
        break;
      case 'datetimepicker':
        entry = {
          type,
          selected_date_time: node.value ? Math.floor(new Date(node.value).getTime() / 1000) : null,
        };
        break;
      default:
        entry = { type, value: node.value === '' ? null : node.value };
    }
    values[blockId] ??= {};
    values[blockId][actionId] = entry;
  }
  return values;
}

/**
 * Puts back what the person had entered after the app replaced the view (views.update): Slack keeps
 * input values whose block_id and action_id are unchanged.
 */
export function applyState(container, values) {
  for (const node of container.querySelectorAll('[data-action-id][data-type]')) {
    const entry = values?.[node.dataset.blockId]?.[node.dataset.actionId];
    if (!entry || entry.type !== node.dataset.type) continue;
    switch (entry.type) {
      case 'static_select':
        if (entry.selected_option) node.value = entry.selected_option.value;
        break;
      case 'external_select':
        if (entry.selected_option) node.restore?.(entry.selected_option);
        break;
      case 'multi_external_select':
        node.restoreMany?.(entry.selected_options);
        break;
      case 'multi_static_select':
      case 'checkboxes':
      case 'radio_buttons':
        break;
      case 'datepicker':
        if (entry.selected_date) node.value = entry.selected_date;
        break;
      case 'datetimepicker':
        if (entry.selected_date_time) node.value = localDateTime(entry.selected_date_time);
        break;
      default:
        if (typeof entry.value === 'string') node.value = entry.value;
    }
  }
}

/** Unix seconds → the `YYYY-MM-DDTHH:MM` a datetime-local input holds, in the browser's time zone. */
function localDateTime(seconds) {
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// ---- blocks ------------------------------------------------------------------------------

function accessory(element, block, ctx) {
  if (!element) return null;
  if (element.type === 'button') return button(element, block, ctx);
  if (element.type === 'static_select') return actionSelect(element, block, ctx);
  if (element.type === 'image')
    return h('img', { class: 'sk-thumb', src: element.image_url, alt: element.alt_text ?? '' });
  return null;
}

export function renderBlock(block, ctx) {
  switch (block.type) {
    case 'header':
      return h('div', { class: 'sk-header' }, plainText(block.text));
    case 'divider':
      return h('hr', { class: 'sk-divider' });
    case 'section':
      return h(
        'div',
        { class: 'sk-section', dataset: { blockId: block.block_id } },
        h(
          'div',
          { class: 'sk-section-body' },
          block.text ? textObject(block.text, ctx) : null,
          block.fields
            ? h(
                'div',
                { class: 'sk-fields' },
                block.fields.map((f) => h('div', {}, textObject(f, ctx))),
              )
            : null,
        ),
        accessory(block.accessory, block, ctx),
      );
    case 'context':
      return h(
        'div',
        { class: 'sk-context' },
        (block.elements ?? []).map((e) =>
          e.type === 'image'
            ? h('img', { class: 'sk-icon', src: e.image_url, alt: e.alt_text ?? '' })
            : textObject(e, ctx),
        ),
      );
    case 'actions':
      return h(
        'div',
        { class: 'sk-actions', dataset: { blockId: block.block_id } },
        (block.elements ?? []).map((e) => {
          if (e.type === 'button') return button(e, block, ctx);
          if (e.type === 'static_select') return actionSelect(e, block, ctx);
          return h('span', { class: 'sk-unsupported' }, `(${e.type})`);
        }),
      );
    case 'input': {
      const error = ctx.errors?.[block.block_id];
      return h(
        'div',
        { class: `sk-input-block${error ? ' sk-has-error' : ''}`, dataset: { blockId: block.block_id } },
        h(
          'label',
          { class: 'sk-label' },
          plainText(block.label),
          block.optional ? h('span', { class: 'sk-optional' }, ' (optional)') : null,
        ),
        inputControl(block.element ?? {}, block, ctx),
        block.hint ? h('div', { class: 'sk-hint' }, textObject(block.hint, ctx)) : null,
        error ? h('div', { class: 'sk-error', role: 'alert' }, error) : null,
      );
    }
    case 'image':
      return h('img', { class: 'sk-image', src: block.image_url, alt: block.alt_text ?? '' });
    case 'rich_text':
      return h('div', { class: 'sk-section' }, '(rich text)');
    default:
      return h(
        'div',
        { class: 'sk-unsupported' },
        `(block ${block.type} is not rendered by the sandbox console)`,
      );
  }
}

export function renderBlocks(blocks, ctx) {
  return h(
    'div',
    { class: 'sk-blocks' },
    (blocks ?? []).map((b) => renderBlock(b, ctx)),
  );
}
