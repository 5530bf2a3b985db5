// The sandbox console: a person plays requester, approver or admin. Every action is sent to the
// sandbox server, which turns it into the signed request Slack would send to /slack/events.
// Live updates arrive as server-sent events; each one triggers a fresh snapshot of /api/state.
import { applyState, h, plainText, readState, renderBlocks, textObject } from './blocks.js';

const $ = (id) => document.getElementById(id);

const ui = {
  snapshot: null,
  persona: null,
  nav: null,
  /** `${viewId}:${hash}` of the modal on screen, so a refresh does not wipe what is typed. */
  modalKey: null,
  homeOpenedFor: null,
  facesBuilt: false,
};

// ---- server calls ------------------------------------------------------------------------

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? `${path} answered ${response.status}`);
  return json;
}

function toast(text) {
  const node = h('div', { class: 'toast', role: 'status' }, text);
  document.body.append(node);
  setTimeout(() => node.remove(), 4000);
}

/** A Slack reply the app gave with a non-200 status (401 forged, 500 crash, 503 no app). */
function reportReply(reply, what) {
  if (reply && typeof reply.status === 'number' && reply.status !== 200) {
    toast(
      `${what}: the app answered HTTP ${reply.status}${reply.text ? ` — ${reply.text.slice(0, 160)}` : ''}`,
    );
  }
}

async function withBusy(node, work) {
  if (node) node.disabled = true;
  try {
    await work();
  } catch (error) {
    toast(error.message);
  } finally {
    if (node) node.disabled = false;
    scheduleRefresh(0);
  }
}

// ---- refresh -----------------------------------------------------------------------------

let refreshTimer;
let refreshing = false;
let refreshAgain = false;

function scheduleRefresh(delay = 80) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delay);
}

async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    const response = await fetch('/api/state');
    ui.snapshot = await response.json();
    render();
  } catch (error) {
    $('connection').classList.remove('live');
    console.error(error);
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      scheduleRefresh();
    }
  }
}

function connect() {
  const events = new EventSource('/api/events');
  events.onopen = () => $('connection').classList.add('live');
  events.onerror = () => $('connection').classList.remove('live');
  events.onmessage = () => scheduleRefresh();
}

// ---- helpers -----------------------------------------------------------------------------

const persona = () => ui.snapshot?.personas.find((p) => p.slackUserId === ui.persona);
const personaName = (id) => {
  const p = ui.snapshot?.personas.find((x) => x.slackUserId === id);
  return p ? (p.realName ?? p.name) : id;
};
const blockCtx = (extra) => ({ userName: personaName, ...extra });
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const tsTime = (ts) => time(Number(ts) * 1000);
const tag = (value) => h('span', { class: `tag ${value}` }, value);
/** Request ids are long: the tail identifies them on screen, the title holds the whole id. */
const shortId = (id) => h('code', { title: id }, id.length > 14 ? `…${id.slice(-8)}` : id);

function table(headers, rows, empty) {
  if (rows.length === 0) return h('div', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((c) => h('td', {}, c)),
        ),
      ),
    ),
  );
}

// ---- render ------------------------------------------------------------------------------

function render() {
  const snap = ui.snapshot;
  if (!snap) return;
  if (!ui.persona || !snap.personas.some((p) => p.slackUserId === ui.persona)) {
    const wanted = new URLSearchParams(location.search).get('as') ?? localStorage.getItem('sandbox.persona');
    const found = snap.personas.find(
      (p) => p.slackUserId === wanted || p.name === wanted || p.role === wanted,
    );
    ui.persona = (found ?? snap.personas[0]).slackUserId;
  }
  ui.nav ??= `channel:${snap.channels[0]?.id}`;
  renderTop(snap);
  renderNav(snap);
  renderConversation(snap);
  renderModal(snap);
  renderPanels(snap);
}

function renderTop(snap) {
  const select = $('persona');
  if (select.options.length !== snap.personas.length) {
    select.replaceChildren(
      ...snap.personas.map((p) =>
        h('option', { value: p.slackUserId }, `${p.realName ?? p.name} (${p.role})`),
      ),
    );
  }
  select.value = ui.persona;
  $('persona-description').textContent = persona()?.description ?? '';
  $('services').replaceChildren(
    ...Object.entries({
      'Step Functions': snap.services.stepFunctions,
      'Identity Center': snap.services.identityCenter,
      DynamoDB: snap.services.dynamo,
      Slack: snap.services.slack,
    }).map(([name, mode]) => h('span', { class: `service ${mode}` }, `${name}: ${mode}`)),
  );
  const notes = [];
  if (!snap.slackAppReady)
    notes.push('The Slack app (functions/slack) is not mounted: /slack/events answers 503.');
  if (!snap.slackStandIn)
    notes.push('Connected to a real Slack workspace: messages appear in Slack, not here. Use Slack itself.');
  if (snap.msPerMinute !== 60000) {
    const real = snap.msPerMinute >= 1000 ? `${snap.msPerMinute / 1000} s` : `${snap.msPerMinute} ms`;
    notes.push(
      `Time is scaled: 1 minute = ${real}. Times printed in messages are computed by the product with the real clock, so a window ends sooner than the time it shows.`,
    );
  }
  $('banner').hidden = notes.length === 0;
  $('banner').textContent = notes.join(' ');
  $('request-url').textContent = `Request URL: ${snap.slackEventsUrl}`;
  renderAnswerTimes(snap);
}

/**
 * The app's latest answers to Slack, timed: Slack shows the person an error when the answer
 * takes over 3 s, whatever the app did afterwards (the sandbox runs Bolt as Lambda does, answering
 * once the listeners are done).
 */
function renderAnswerTimes(snap) {
  const answers = snap.answers;
  if (!answers) return;
  const recent = answers.recent.slice(-5).reverse();
  const deadline = `${answers.deadlineMs / 1000} s`;
  $('answer-times').replaceChildren(
    h('div', { class: 'muted' }, `Answers to Slack (deadline ${deadline})`),
    ...(recent.length
      ? recent.map((a) =>
          h(
            'div',
            {
              class: a.elapsedMs > answers.deadlineMs ? 'answer late' : 'answer',
              title:
                a.elapsedMs > answers.deadlineMs ? `Over ${deadline}: Slack would have shown an error` : '',
            },
            `${a.kind}: ${a.elapsedMs} ms${a.status === 200 ? '' : ` (HTTP ${a.status})`}`,
          ),
        )
      : [h('div', { class: 'muted' }, 'none yet')]),
  );
}

function navItems(snap) {
  const mine = snap.messages.filter((m) => m.dmWith === ui.persona).length;
  return [
    ...snap.channels.map((c) => ({
      key: `channel:${c.id}`,
      label: `# ${c.name}`,
      count: snap.messages.filter((m) => m.channel === c.id).length,
    })),
    { key: 'dm', label: '✉ JIT Access (app DM)', count: mine },
    { key: 'home', label: '⌂ JIT Access: Home' },
  ];
}

function renderNav(snap) {
  $('nav').replaceChildren(
    ...navItems(snap).map((item) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: item.key === ui.nav ? 'active' : '',
            dataset: { nav: item.key },
            onclick: () => navigate(item.key),
          },
          item.label,
          item.count ? h('span', { class: 'unread' }, item.count) : null,
        ),
      ),
    ),
  );
}

function navigate(key) {
  ui.nav = key;
  if (key === 'home') openHome();
  render();
}

function openHome() {
  ui.homeOpenedFor = ui.persona;
  post('/api/home', { persona: ui.persona })
    .then((reply) => reportReply(reply, 'app_home_opened'))
    .catch((error) => toast(error.message))
    .finally(() => scheduleRefresh(0));
}

function messageNode(message, onAction, extraClass = '') {
  const content = message.blocks?.length
    ? renderBlocks(message.blocks, blockCtx({ onAction }))
    : textObject({ type: 'mrkdwn', text: message.text ?? '' }, blockCtx());
  return h(
    'div',
    { class: `message ${extraClass}`, dataset: { ts: message.ts ?? '' } },
    h('div', { class: 'avatar' }, 'JIT'),
    h(
      'div',
      { class: 'message-body' },
      h(
        'div',
        { class: 'message-meta' },
        h('b', {}, 'JIT Access'),
        h('span', { class: 'tag' }, 'APP'),
        ' ',
        message.ts ? tsTime(message.ts) : time(message.at),
        message.edits ? ' (edited)' : '',
        extraClass === 'ephemeral' ? ' · Only visible to you' : '',
      ),
      content,
    ),
  );
}

function renderConversation(snap) {
  const container = $('messages');
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const title = $('conversation-title');
  const composer = $('composer');
  if (ui.nav === 'home') {
    title.textContent = 'JIT Access — Home';
    composer.hidden = true;
    const home = snap.homes[ui.persona];
    if (ui.homeOpenedFor !== ui.persona) openHome();
    container.replaceChildren(
      home
        ? renderBlocks(home.view.blocks, blockCtx({ onAction: (a) => sendAction({ home: true }, a, null) }))
        : h('div', { class: 'empty' }, 'The app has not published a Home tab for this person yet.'),
    );
    return;
  }
  composer.hidden = false;
  let messages;
  let ephemerals = [];
  if (ui.nav === 'dm') {
    title.textContent = `Direct messages: JIT Access ↔ ${personaName(ui.persona)}`;
    messages = snap.messages.filter((m) => m.dmWith === ui.persona);
    const dm = snap.dmChannels[ui.persona];
    ephemerals = snap.ephemerals.filter((e) => e.userId === ui.persona && dm && e.channel === dm);
  } else {
    const channelId = ui.nav.slice('channel:'.length);
    const channel = snap.channels.find((c) => c.id === channelId);
    title.textContent = `# ${channel?.name ?? channelId}${channel?.approvals ? ' (approval channel)' : ''}`;
    messages = snap.messages.filter((m) => m.channel === channelId);
    ephemerals = snap.ephemerals.filter((e) => e.channel === channelId && e.userId === ui.persona);
  }
  const items = [
    ...messages.map((m) => ({
      at: Number(m.ts) * 1000,
      node: () => messageNode(m, (a) => sendAction({ channel: m.channel, ts: m.ts }, a, null)),
    })),
    ...ephemerals.map((e) => ({
      at: e.at,
      node: () => messageNode(e, () => toast('Buttons in ephemeral replies are not emulated'), 'ephemeral'),
    })),
  ].sort((a, b) => a.at - b.at);
  container.replaceChildren(
    ...(items.length ? items.map((i) => i.node()) : [h('div', { class: 'empty' }, 'No messages yet.')]),
  );
  if (atBottom) container.scrollTop = container.scrollHeight;
}

function sendAction(target, action, state) {
  const button = document.activeElement instanceof HTMLButtonElement ? document.activeElement : null;
  return withBusy(button, async () => {
    const reply = await post('/api/action', {
      persona: ui.persona,
      target,
      actionId: action.actionId,
      blockId: action.blockId,
      ...(action.selectedOption ? { selectedOption: action.selectedOption } : {}),
      ...(state ? { state } : {}),
    });
    reportReply(reply, action.actionId);
  });
}

// ---- modal -------------------------------------------------------------------------------

function renderModal(snap) {
  const root = $('modal-root');
  const stack = snap.modals[ui.persona] ?? [];
  const top = stack[stack.length - 1];
  const key = top ? `${ui.persona}:${top.id}:${top.hash}` : null;
  if (key === ui.modalKey) return;
  // The same modal updated by the app (views.update): keep what the person entered.
  const previousBody = root.querySelector('.modal-body');
  const sameView = Boolean(top && previousBody && root.querySelector('.modal')?.dataset.viewId === top.id);
  const carried = sameView ? readState(previousBody) : null;
  const typed = sameView ? typedQueries(previousBody) : {};
  const focused = sameView ? focusedControl(previousBody) : null;
  ui.modalKey = key;
  if (!top) {
    root.replaceChildren();
    return;
  }
  const view = top.view;
  const body = h('div', { class: 'modal-body' });
  const ctx = blockCtx({
    onAction: (a) => sendAction({ viewId: top.id }, a, readState(body)),
    onSuggest: async ({ element, block, value }) => {
      try {
        const result = await post('/api/suggest', {
          persona: ui.persona,
          viewId: top.id,
          actionId: element.action_id,
          blockId: block.block_id,
          value,
          state: readState(body),
        });
        return result.options;
      } catch (error) {
        toast(error.message);
        return [];
      }
    },
  });
  body.append(renderBlocks(view.blocks, ctx));
  const submit = view.submit
    ? h('button', { type: 'submit', class: 'sk-button sk-primary' }, plainText(view.submit))
    : null;
  const close = () =>
    post('/api/close', { persona: ui.persona, viewId: top.id, state: readState(body) })
      .catch((error) => toast(error.message))
      .finally(() => scheduleRefresh(0));
  const form = h(
    'form',
    {
      class: 'modal',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-label': plainText(view.title),
      dataset: { viewId: top.id, viewHash: top.hash, callbackId: view.callback_id ?? '' },
      onsubmit: (event) => {
        event.preventDefault();
        withBusy(submit, async () => {
          const result = await post('/api/submit', {
            persona: ui.persona,
            viewId: top.id,
            state: readState(body),
          });
          if (result.action === 'errors') showErrors(body, result.errors ?? {});
          else if (result.action === 'rejected') reportReply(result.reply, 'view_submission');
        });
      },
    },
    h(
      'div',
      { class: 'modal-head' },
      plainText(view.title),
      h('button', { type: 'button', class: 'modal-close', 'aria-label': 'Close', onclick: close }, '✕'),
    ),
    body,
    h(
      'div',
      { class: 'modal-foot' },
      h('button', { type: 'button', class: 'sk-button', onclick: close }, plainText(view.close) || 'Cancel'),
      submit,
    ),
  );
  root.replaceChildren(h('div', { class: 'modal-backdrop' }, form));
  if (carried) {
    applyState(body, carried);
    restoreTyping(body, typed, focused);
  } else body.querySelector('input, select, textarea')?.focus();
}

/** What was typed in external selects with nothing picked yet (not part of Slack's state). */
function typedQueries(body) {
  const typed = {};
  for (const node of body.querySelectorAll('.sk-external')) {
    const input = node.querySelector('input');
    if (!node.selectedOption && input?.value)
      typed[`${node.dataset.blockId}/${node.dataset.actionId}`] = input.value;
  }
  return typed;
}

function focusedControl(body) {
  const active = document.activeElement;
  if (!active || !body.contains(active)) return null;
  const holder = active.closest('[data-action-id]');
  return holder
    ? { blockId: holder.dataset.blockId, actionId: holder.dataset.actionId, tag: active.tagName }
    : null;
}

function restoreTyping(body, typed, focused) {
  for (const node of body.querySelectorAll('.sk-external')) {
    const text = typed[`${node.dataset.blockId}/${node.dataset.actionId}`];
    const input = node.querySelector('input');
    if (text && input && !node.selectedOption) {
      input.value = text;
      input.dispatchEvent(new Event('input'));
    }
  }
  if (focused) {
    const holder = body.querySelector(
      `[data-block-id="${CSS.escape(focused.blockId)}"][data-action-id="${CSS.escape(focused.actionId)}"]`,
    );
    const target = holder?.matches('input, select, textarea')
      ? holder
      : holder?.querySelector(focused.tag.toLowerCase());
    target?.focus();
  }
}

/** response_action: errors, shown under their blocks without losing what was typed. */
function showErrors(body, errors) {
  for (const node of body.querySelectorAll('.sk-error')) node.remove();
  for (const node of body.querySelectorAll('.sk-has-error')) node.classList.remove('sk-has-error');
  for (const [blockId, message] of Object.entries(errors)) {
    const block = body.querySelector(`.sk-input-block[data-block-id="${CSS.escape(blockId)}"]`);
    if (!block) {
      toast(`${blockId}: ${message}`);
      continue;
    }
    block.classList.add('sk-has-error');
    block.append(h('div', { class: 'sk-error', role: 'alert' }, message));
  }
}

// ---- AWS side panels ---------------------------------------------------------------------

function renderPanels(snap) {
  $('assignments').replaceChildren(
    snap.services.identityCenter === 'stand-in'
      ? table(
          ['User', 'Account', 'Permission set', '', ''],
          snap.assignments.map((a) => [
            a.userName,
            `${a.accountName} (${a.accountId})`,
            a.permissionSetName,
            a.permanent
              ? h('span', { class: 'tag' }, 'permanent')
              : h('span', { class: 'tag ok' }, 'granted'),
            // A role session through this assignment: it outlives the assignment unless the
            // permission set ends sessions at revoke (policy endSessionsOnRevoke).
            h(
              'button',
              {
                type: 'button',
                class: 'tag',
                title: `Sign in as ${a.userName} to ${a.accountName} with ${a.permissionSetName}`,
                onclick: () =>
                  post('/api/sessions', {
                    userName: a.userName,
                    accountId: a.accountId,
                    permissionSetArn: a.permissionSetArn,
                  }).catch((error) => alert(error.message)),
              },
              'sign in',
            ),
          ]),
          'No assignments.',
        )
      : h('div', { class: 'empty' }, 'Real Identity Center: see the AWS console.'),
  );
  $('operations').replaceChildren(
    table(
      ['Time', 'Kind', 'Assignment', 'Status'],
      snap.assignmentRequests.map((r) => [
        time(r.createdAt),
        r.kind,
        `${r.userName} · ${r.permissionSetName} · ${r.accountName}`,
        h('span', {}, tag(r.status), r.failureReason ? ` ${r.failureReason}` : ''),
      ]),
      'No creations or deletions yet.',
    ),
  );
  renderSessions(snap);
  renderDirectory(snap);
  $('requests').replaceChildren(
    table(
      ['Request', 'Who', 'What', 'Status'],
      snap.requests.map((r) => [
        shortId(r.requestId),
        r.requester,
        `${r.permissionSetName} on ${r.accountName}, ${r.durationMinutes} min`,
        tag(r.status),
      ]),
      'No requests yet.',
    ),
  );
  $('audit-archive').textContent = snap.archive
    ? `Hash-chained per request; archived (Object Lock stand-in): ${snap.archive.objects} event${snap.archive.objects === 1 ? '' : 's'}` +
      (snap.archive.lagP50Ms === null
        ? ''
        : `, lag p50 ${snap.archive.lagP50Ms} ms, max ${snap.archive.lagMaxMs} ms`) +
      '. Export and verify: npm run audit -- export, then npm run audit -- verify audit-export.jsonl'
    : 'Hash-chained per request (the archive runs in AWS).';
  $('audit').replaceChildren(
    table(
      ['Time', 'Request', 'Actor', 'Action', ''],
      snap.audit.map((e) => [
        time(Date.parse(e.at)),
        shortId(e.requestId),
        e.actor,
        e.action,
        tag(e.outcome),
      ]),
      'No audit events yet.',
    ),
  );
  $('executions').replaceChildren(
    table(
      ['Execution', 'Status', 'Waiting in'],
      snap.executions.map((e) => [
        shortId(e.name),
        tag(e.status),
        // Admission control: the execution waits for its slot at Identity Center's pace.
        e.admissionSlot?.phase === 'start'
          ? `scheduled start at ${time(Date.parse(e.admissionSlot.at))}`
          : e.admissionSlot
            ? `admission: ${e.admissionSlot.phase} slot at ${time(Date.parse(e.admissionSlot.at))}`
            : e.waitingIn.join(', '),
      ]),
      'No executions yet.',
    ),
  );
  $('calls').replaceChildren(
    table(
      ['#', 'Method', 'Channel', ''],
      [...snap.slackCalls]
        .reverse()
        .map((c) => [c.seq, c.method, c.channel ?? '', c.ok ? tag('ok') : tag(c.error ?? 'error')]),
      'No calls yet.',
    ),
  );
  if (!ui.facesBuilt) buildFaultsForm(snap);
}

/** Role sessions and what a call with each gets now: allowed, expired, or denied by a statement. */
function renderSessions(snap) {
  const verdict = (v) =>
    v.allowed
      ? h('span', { class: 'tag ok' }, 'allowed')
      : v.reason === 'expired'
        ? h('span', { class: 'tag' }, 'expired')
        : h('span', { class: 'tag failure', title: v.statementId }, 'denied');
  $('sessions').replaceChildren(
    table(
      ['Session', 'Signed in', 'Expires', 'A call now'],
      (snap.sessions ?? []).map((s) => [
        `${s.userName} · ${s.permissionSetName} · ${s.accountName}${s.endsSessionsOnRevoke ? ' (ends at revoke)' : ''}`,
        time(s.issuedAt),
        time(s.expiresAt),
        verdict(s.verdict),
      ]),
      'No sessions: sign in with an assignment above.',
    ),
  );
}

/**
 * The groups the policy names people by (identityCenterGroup:, slackUserGroup:). A click on a
 * persona joins or leaves an Identity Center group, as the IdP's SCIM sync would: the product
 * sees it once its directory cache (5 minutes) has expired.
 */
function renderDirectory(snap) {
  const users = snap.personas.map((p) => p.name);
  const personaName = (slackUserId) =>
    snap.personas.find((p) => p.slackUserId === slackUserId)?.name ?? slackUserId;
  const groups = snap.directory?.groups ?? [];
  const slackGroups = snap.directory?.slackUserGroups ?? [];
  // A Slack admin deactivating someone (they left): Slack sends user_change and the product
  // ends their live access and cancels their pending requests at once.
  const accounts = snap.slackStandIn
    ? h(
        'div',
        { class: 'accounts', 'data-testid': 'slack-accounts' },
        h('span', { class: 'muted' }, 'Slack accounts: '),
        ...snap.personas.map((p) =>
          h(
            'button',
            {
              type: 'button',
              class: p.deactivated ? 'tag' : 'tag ok',
              title: p.deactivated
                ? `Reactivate ${p.name} in Slack`
                : `Deactivate ${p.name} in Slack (offboarding: their access ends now)`,
              onclick: () =>
                post('/api/accounts', { persona: p.slackUserId, active: p.deactivated === true }).catch(
                  (error) => alert(error.message),
                ),
            },
            p.deactivated ? `${p.name} (deactivated)` : p.name,
          ),
        ),
      )
    : '';
  // An Identity Center admin deleting someone: their assignments go at once; the product's
  // reconciler finds them gone on its next pass (every 5 minutes) and offboards them.
  const icUsers = snap.directory?.identityCenterUsers;
  const identityCenterUsers = icUsers
    ? h(
        'div',
        { class: 'accounts', 'data-testid': 'identity-center-users' },
        h('span', { class: 'muted' }, 'Identity Center users: '),
        ...snap.personas.map((p) =>
          icUsers.includes(p.name)
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'tag ok',
                  title: `Delete ${p.name} in Identity Center (the reconciler offboards them within 5 minutes; cannot be undone)`,
                  onclick: () => {
                    if (
                      !confirm(
                        `Delete ${p.name} in Identity Center? This cannot be undone in this sandbox run.`,
                      )
                    )
                      return;
                    post('/api/deleteuser', { userName: p.name }).catch((error) => alert(error.message));
                  },
                },
                p.name,
              )
            : h('span', { class: 'tag' }, `${p.name} (deleted)`),
        ),
      )
    : '';
  $('directory').replaceChildren(
    accounts,
    identityCenterUsers,
    groups.length || slackGroups.length
      ? table(
          ['Group', 'Members'],
          [
            ...groups.map((g) => [
              `identityCenterGroup:${g.displayName}`,
              h(
                'span',
                {},
                ...users.map((name) => {
                  const member = g.members.includes(name);
                  // Added by the product for a request (group access): removed when its window ends.
                  const granted = g.granted?.[name];
                  return h(
                    'button',
                    {
                      type: 'button',
                      class: granted ? 'tag ok granted' : member ? 'tag ok' : 'tag',
                      title: granted
                        ? `Added by the product for ${granted.join(', ')}; removed when the access ends`
                        : member
                          ? `Take ${name} out of ${g.displayName}`
                          : `Add ${name} to ${g.displayName}`,
                      onclick: () =>
                        post('/api/groups', { group: g.displayName, userName: name, member: !member }).catch(
                          (error) => alert(error.message),
                        ),
                    },
                    granted ? `${name} (granted)` : member ? name : `+ ${name}`,
                  );
                }),
              ),
            ]),
            ...slackGroups.map((g) => [
              `slackUserGroup:${g.handle}`,
              g.disabled ? 'disabled' : g.members.map(personaName).join(', ') || 'nobody on call',
            ]),
          ],
          'No groups.',
        )
      : h('div', { class: 'empty' }, 'No directory groups in the sandbox file.'),
  );
}

function buildFaultsForm(snap) {
  ui.facesBuilt = true;
  const form = $('faults');
  if (!snap.faults) {
    form.replaceChildren(h('div', { class: 'empty' }, 'Real Identity Center: no fault injection.'));
    return;
  }
  const fields = [
    ['throttleRate', 'Throttle rate (0–1)'],
    ['conflictRate', 'Conflict rate (0–1)'],
    ['internalErrorRate', 'Internal error rate (0–1)'],
    ['failCreationRate', 'Creation FAILED rate (0–1)'],
    ['failDeletionRate', 'Deletion FAILED rate (0–1)'],
    ['failProvisioningRate', 'Provisioning FAILED rate (0–1)'],
    ['latencyMs', 'Latency (ms)'],
  ];
  form.replaceChildren(
    ...fields.map(([name, label]) =>
      h(
        'label',
        {},
        label,
        h('input', {
          type: 'number',
          name,
          step: name === 'latencyMs' ? '10' : '0.05',
          min: 0,
          value: snap.faults[name],
        }),
      ),
    ),
    h('button', { type: 'submit', class: 'sk-button' }, 'Apply faults'),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    const update = Object.fromEntries(fields.map(([name]) => [name, Number(form.elements[name].value)]));
    post('/api/faults', update)
      .then(() => toast('Fault settings applied to the Identity Center stand-in'))
      .catch((error) => toast(error.message));
  };
}

// ---- wiring ------------------------------------------------------------------------------

function setUp() {
  $('persona').addEventListener('change', (event) => {
    ui.persona = event.target.value;
    localStorage.setItem('sandbox.persona', ui.persona);
    ui.modalKey = null;
    ui.homeOpenedFor = null;
    render();
  });
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('composer-input');
    const text = input.value.trim();
    if (!text) return;
    if (!text.startsWith('/')) {
      toast('Only slash commands reach the app here: try /request-access');
      return;
    }
    const [command, ...rest] = text.split(/\s+/);
    const channel = ui.nav.startsWith('channel:') ? ui.nav.slice('channel:'.length) : undefined;
    const button = event.submitter ?? null;
    withBusy(button, async () => {
      const reply = await post('/api/command', {
        persona: ui.persona,
        command,
        text: rest.join(' '),
        ...(channel ? { channel } : {}),
      });
      reportReply(reply, command);
      input.value = '';
    });
  });
  connect();
  refresh();
}

setUp();
