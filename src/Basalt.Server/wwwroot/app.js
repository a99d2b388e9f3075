// The Basalt web chat: talks to this server's OpenAI-compatible API and keeps conversations in localStorage.
import { renderMarkdown } from './markdown.js';

const KEYS = { settings: 'basalt.settings', apiKey: 'basalt.apiKey', conversations: 'basalt.conversations', current: 'basalt.current' };
const DEFAULTS = { model: '', systemPrompt: '', temperature: 0.8, topP: 0.95, maxTokens: 512 };

const $ = id => document.getElementById(id);
const ui = {
  sidebar: $('sidebar'), toggleSidebar: $('toggle-sidebar'), newChat: $('new-chat'), list: $('conversations'),
  model: $('model'), toggleSettings: $('toggle-settings'), settings: $('settings'),
  systemPrompt: $('system-prompt'), temperature: $('temperature'), topP: $('top-p'), maxTokens: $('max-tokens'), apiKey: $('api-key'),
  error: $('error'), messages: $('messages'), empty: $('empty'),
  composer: $('composer'), prompt: $('prompt'), send: $('send'), stop: $('stop'),
};

let settings = { ...DEFAULTS, ...readJson(KEYS.settings, {}) };
let conversations = readJson(KEYS.conversations, []);
let currentId = localStorage.getItem(KEYS.current);
/** The request in flight: its AbortController and the conversation it writes to. */
let active = null;

function readJson(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? 'null');
    return value ?? fallback;
  } catch {
    // A damaged entry should not lock the user out of the page.
    return fallback;
  }
}

function save() {
  try {
    localStorage.setItem(KEYS.conversations, JSON.stringify(conversations));
    if (currentId) localStorage.setItem(KEYS.current, currentId); else localStorage.removeItem(KEYS.current);
  } catch (e) {
    showError(`Could not save conversations in this browser: ${e.message}`);
  }
}

function saveSettings() {
  localStorage.setItem(KEYS.settings, JSON.stringify(settings));
}

function current() {
  return conversations.find(c => c.id === currentId) ?? null;
}

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// ---- errors -----------------------------------------------------------------------------------

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.textContent = '';
  ui.error.hidden = true;
}

/** Turns a failed response into a sentence, using the OpenAI error body when there is one. */
async function describeFailure(response) {
  let message = '';
  try {
    const body = await response.json();
    message = body?.error?.message ?? '';
  } catch {
    // Not JSON (a proxy's page, say): the status alone has to do.
  }
  const status = `${response.status}${response.statusText ? ' ' + response.statusText : ''}`;
  switch (response.status) {
    case 401: return `The server wants a valid API key (open Settings). ${message}`.trim();
    case 429: return `The server is busy; try again in a moment. ${message}`.trim();
    default: return message ? `${message} (${status})` : `The server answered ${status}.`;
  }
}

// ---- settings -----------------------------------------------------------------------------------

function loadSettingsIntoForm() {
  ui.systemPrompt.value = settings.systemPrompt;
  ui.temperature.value = settings.temperature;
  ui.topP.value = settings.topP;
  ui.maxTokens.value = settings.maxTokens;
  ui.apiKey.value = localStorage.getItem(KEYS.apiKey) ?? '';
}

function numberOrDefault(input, fallback) {
  const value = input.valueAsNumber;
  return Number.isFinite(value) ? value : fallback;
}

function readSettingsFromForm() {
  settings.systemPrompt = ui.systemPrompt.value;
  settings.temperature = numberOrDefault(ui.temperature, DEFAULTS.temperature);
  settings.topP = numberOrDefault(ui.topP, DEFAULTS.topP);
  settings.maxTokens = Math.max(1, Math.round(numberOrDefault(ui.maxTokens, DEFAULTS.maxTokens)));
  saveSettings();
}

function authHeaders() {
  const key = ui.apiKey.value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function loadModels() {
  let response;
  try {
    response = await fetch('v1/models', { headers: authHeaders() });
  } catch (e) {
    showError(`Could not reach the server: ${e.message}`);
    return;
  }
  if (!response.ok) {
    showError(await describeFailure(response));
    return;
  }
  const body = await response.json();
  const ids = (body.data ?? []).map(m => m.id);
  ui.model.replaceChildren(...ids.map(id => new Option(id, id)));
  if (ids.length === 0) {
    showError('This server serves no models.');
    return;
  }
  const wanted = current()?.model ?? settings.model;
  ui.model.value = ids.includes(wanted) ? wanted : ids.includes(settings.model) ? settings.model : ids[0];
  settings.model = ui.model.value;
  saveSettings();
  clearError();
}

// ---- rendering -------------------------------------------------------------------------------

function renderList() {
  const items = conversations
    .slice()
    .sort((a, b) => b.updated - a.updated)
    .map(c => {
      const li = document.createElement('li');
      li.className = 'conversation';
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'conversation-open';
      open.textContent = c.title || 'New conversation';
      open.title = open.textContent;
      if (c.id === currentId) open.setAttribute('aria-current', 'true');
      open.addEventListener('click', () => switchTo(c.id));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'conversation-delete';
      remove.setAttribute('aria-label', `Delete conversation: ${open.textContent}`);
      remove.title = 'Delete';
      remove.textContent = '\u00d7';
      remove.addEventListener('click', () => deleteConversation(c.id));
      li.append(open, remove);
      return li;
    });
  ui.list.replaceChildren(...items);
}

function messageElement(message) {
  const el = document.createElement('article');
  el.className = `message ${message.role}`;
  const who = document.createElement('h2');
  who.className = 'who';
  who.textContent = message.role === 'user' ? 'You' : 'Assistant';
  const body = document.createElement('div');
  body.className = 'content';
  el.append(who, body);
  fillMessage(el, message);
  return el;
}

/** Puts a message's text into its element: user text as plain text, answers as rendered Markdown. */
function fillMessage(el, message) {
  const body = el.querySelector('.content');
  if (message.role === 'assistant') body.innerHTML = renderMarkdown(message.content);
  else body.textContent = message.content;
  el.dataset.state = message.state ?? 'done';
  let note = el.querySelector('.note');
  const text = message.state === 'stopped' ? 'Stopped.' : message.state === 'error' ? 'The answer did not finish.' : '';
  if (text && !note) {
    note = document.createElement('p');
    note.className = 'note';
    el.append(note);
  }
  if (note) note.textContent = text;
}

function renderMessages() {
  const conversation = current();
  const messages = conversation?.messages ?? [];
  ui.messages.replaceChildren(ui.empty, ...messages.map(messageElement));
  ui.empty.hidden = messages.length > 0;
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function renderAll() {
  renderList();
  renderMessages();
}

function setBusy(busy) {
  ui.send.hidden = busy;
  ui.send.disabled = busy;
  ui.stop.hidden = !busy;
  ui.composer.setAttribute('aria-busy', String(busy));
}

// ---- conversations ---------------------------------------------------------------------------

function switchTo(id) {
  if (id === currentId) return closeSidebar();
  currentId = id;
  const conversation = current();
  if (conversation?.model && [...ui.model.options].some(o => o.value === conversation.model)) ui.model.value = conversation.model;
  save();
  renderAll();
  closeSidebar();
  ui.prompt.focus();
}

function newConversation() {
  currentId = null;
  save();
  renderAll();
  clearError();
  closeSidebar();
  ui.prompt.focus();
}

function deleteConversation(id) {
  const conversation = conversations.find(c => c.id === id);
  if (!conversation) return;
  if (!confirm(`Delete "${conversation.title || 'New conversation'}"?`)) return;
  if (active?.conversation === conversation) active.controller.abort();
  conversations = conversations.filter(c => c.id !== id);
  if (currentId === id) currentId = null;
  save();
  renderAll();
}

// ---- sending -------------------------------------------------------------------------------------

async function send() {
  const text = ui.prompt.value.trim();
  if (!text || active) return;
  if (!ui.model.value) {
    showError('No model is selected; check the API key in Settings, then reload.');
    return;
  }
  clearError();
  readSettingsFromForm();

  let conversation = current();
  if (!conversation) {
    conversation = { id: newId(), title: text.slice(0, 60), model: ui.model.value, messages: [], updated: Date.now() };
    conversations.push(conversation);
    currentId = conversation.id;
  }
  conversation.model = ui.model.value;
  conversation.updated = Date.now();
  const history = conversation.messages.filter(m => m.content !== '');
  const user = { role: 'user', content: text };
  const answer = { role: 'assistant', content: '', state: 'streaming' };
  conversation.messages.push(user, answer);
  ui.prompt.value = '';
  save();
  renderAll();
  const answerEl = ui.messages.lastElementChild;

  const messages = [];
  if (settings.systemPrompt.trim()) messages.push({ role: 'system', content: settings.systemPrompt });
  for (const m of history) messages.push({ role: m.role, content: m.content });
  messages.push({ role: 'user', content: text });

  const controller = new AbortController();
  active = { controller, conversation };
  setBusy(true);
  const show = () => {
    // The user may have switched to another conversation meanwhile; then only the data is updated.
    if (answerEl.isConnected) {
      fillMessage(answerEl, answer);
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  };

  let lastSave = Date.now();
  try {
    const response = await fetch('v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...authHeaders() },
      body: JSON.stringify({
        model: ui.model.value,
        messages,
        stream: true,
        temperature: settings.temperature,
        top_p: settings.topP,
        max_tokens: settings.maxTokens,
      }),
      signal: controller.signal,
    });
    if (!response.ok) {
      // Nothing was generated: take the turn back and return the text to the box so it can be resent.
      conversation.messages.splice(conversation.messages.indexOf(user), 2);
      if (conversation.messages.length === 0) conversations = conversations.filter(c => c !== conversation);
      if (currentId === conversation.id && !conversations.includes(conversation)) currentId = null;
      ui.prompt.value = text;
      showError(await describeFailure(response));
      return;
    }
    for await (const event of readEvents(response.body)) {
      if (event.error) throw new Error(event.error.message ?? 'The server reported an error.');
      const delta = event.choices?.[0]?.delta?.content;
      if (delta) {
        answer.content += delta;
        show();
        // Saved now and then while streaming, so a reload mid-answer keeps most of it.
        if (Date.now() - lastSave > 1000) {
          lastSave = Date.now();
          save();
        }
      }
    }
    answer.state = 'done';
  } catch (e) {
    if (e.name === 'AbortError') {
      answer.state = 'stopped';
    } else {
      answer.state = 'error';
      showError(`The answer was cut off: ${e.message}`);
    }
  } finally {
    // 'stopped' and 'error' stay with the message so the note under it survives a reload.
    if (answer.state === 'done' || answer.state === 'streaming') delete answer.state;
    active = null;
    setBusy(false);
    conversation.updated = Date.now();
    save();
    renderAll();
    ui.prompt.focus();
  }
}

/** Yields the JSON of each <c>data:</c> event of a server-sent event stream until <c>[DONE]</c>. */
async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trimStart();
        if (data === '[DONE]') return;
        yield JSON.parse(data);
      }
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error('the connection closed before the answer finished.');
}

function stop() {
  active?.controller.abort();
}

// ---- layout --------------------------------------------------------------------------------------

function closeSidebar() {
  ui.sidebar.classList.remove('open');
  ui.toggleSidebar.setAttribute('aria-expanded', 'false');
}

function wire() {
  ui.composer.addEventListener('submit', e => {
    e.preventDefault();
    send();
  });
  ui.prompt.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === 'Escape' && active) {
      stop();
    }
  });
  ui.stop.addEventListener('click', stop);
  ui.newChat.addEventListener('click', newConversation);
  ui.toggleSettings.addEventListener('click', () => {
    ui.settings.hidden = !ui.settings.hidden;
    ui.toggleSettings.setAttribute('aria-expanded', String(!ui.settings.hidden));
  });
  ui.toggleSidebar.addEventListener('click', () => {
    const open = ui.sidebar.classList.toggle('open');
    ui.toggleSidebar.setAttribute('aria-expanded', String(open));
  });
  ui.model.addEventListener('change', () => {
    settings.model = ui.model.value;
    saveSettings();
  });
  for (const input of [ui.systemPrompt, ui.temperature, ui.topP, ui.maxTokens]) input.addEventListener('change', readSettingsFromForm);
  ui.apiKey.addEventListener('change', () => {
    const key = ui.apiKey.value.trim();
    if (key) localStorage.setItem(KEYS.apiKey, key); else localStorage.removeItem(KEYS.apiKey);
    loadModels();
  });
  // Another tab may have changed the saved conversations; pick up its version when idle.
  window.addEventListener('storage', e => {
    if (e.key !== KEYS.conversations || active) return;
    conversations = readJson(KEYS.conversations, []);
    if (!current()) currentId = null;
    renderAll();
  });
}

if (currentId && !current()) currentId = null;
// An answer that was streaming when the page went away ended there.
for (const m of conversations.flatMap(c => c.messages)) if (m.state === 'streaming') m.state = 'stopped';
loadSettingsIntoForm();
wire();
renderAll();
setBusy(false);
loadModels();
