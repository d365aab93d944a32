// The sandbox page: shows the embedded Discord server's state (server-sent events) the way a
// Discord client lays it out, and sends what a member does (commands, buttons, modals) as
// interactions. No framework and no build step: this file is served as it is.
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  guild: null, channels: [], messages: new Map(), commands: [], people: [], topics: {}, bot: null,
  ready: false, me: sessionStorage.getItem("me"), channel: sessionStorage.getItem("channel"),
  modals: [], unread: new Set(), dismissed: new Set(), failed: new Map(), profile: "fast", profiles: [],
  form: null, paletteIndex: 0, roles: [], dms: {}, loaded: false, stick: true,
};

// --- the page's state ---------------------------------------------------------------------------

const visible = (m) => !S.dismissed.has(m.id) && (!m.ephemeral || m.visible_to === S.me);

function load(state) {
  S.guild = state.guilds[0];
  S.channels = S.guild.channels.map(({ id, name }) => ({ id, name }));
  S.roles = S.guild.roles || [];
  S.dms = Object.fromEntries((state.dms || []).map((d) => [d.user_id, d.id]));
  S.messages = new Map();
  for (const c of [...S.guild.channels, ...(state.dms || [])]) for (const m of c.messages) S.messages.set(m.id, m);
  // Discord keeps ephemeral messages only in the client that got them: a reload loses them.
  // A reconnect of this same page keeps the ones it already shows.
  if (!S.loaded) for (const m of S.messages.values()) if (m.ephemeral) S.dismissed.add(m.id);
  S.loaded = true;
  for (const m of [...S.messages.values()]) supersede(m);
  Object.assign(S, { commands: state.commands, people: state.people, topics: state.topics, bot: state.bot,
    ready: state.ready, profile: state.profile, profiles: state.profiles, standIn: state.stand_in });
  if (!S.people.some((p) => p.id === S.me)) S.me = S.people[0].id;
  if (!S.channels.some((c) => c.id === S.channel) && !isDm(S.channel)) S.channel = S.channels[0].id;
  $("guild-name").textContent = S.guild.name;
  $("me").innerHTML = S.people.map((p) => `<option value="${p.id}">${esc(p.name)} (${esc(p.role.split(" ·")[0])})</option>`).join("");
  $("profile").innerHTML = S.profiles.map((p) => `<option value="${p.name}">${esc(p.name)}</option>`).join("");
  renderAll();
}

// Discord replaces a deferred reply's "is thinking…" with the interaction's first followup.
function supersede(m) {
  if (m.loading || !m.interaction) return;
  for (const other of [...S.messages.values()]) {
    if (other.loading && other.interaction === m.interaction && other.id !== m.id) {
      S.messages.delete(other.id);
      document.getElementById(`m-${other.id}`)?.remove();
    }
  }
}

function upsert(m) {
  const known = S.messages.has(m.id);
  supersede(m);
  if (m.deleted) S.messages.delete(m.id); else S.messages.set(m.id, m);
  if (m.channel_id !== S.channel) {
    if (!known && !m.deleted && visible(m)) { S.unread.add(m.channel_id); renderChannels(); }
    return;
  }
  const box = $("messages");
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const old = document.getElementById(`m-${m.id}`);
  if (m.deleted || !visible(m)) { old?.remove(); return; }
  const fresh = renderMessage(m);
  if (old) old.replaceWith(fresh);
  else {
    box.querySelector(".empty")?.remove();
    const after = [...box.querySelectorAll("article.msg")].find((x) => byId({ id: x.dataset.id }, m) > 0);
    box.insertBefore(fresh, after || null);
  }
  if (stick || !known) stickToBottom();
}

function renderAll() {
  renderChannels();
  renderHead();
  renderMembers();
  renderMessages();
  renderProfile();
  showModal();
}

const isDm = (id) => Object.values(S.dms).includes(id);
const myDm = () => S.dms[S.me];

function renderChannels() {
  const item = (id, mark, name) => `<li><button type="button" data-channel="${id}" class="${id === S.channel ? "active" : ""}${S.unread.has(id) ? " unread" : ""}">` +
    `<span class="hash">${mark}</span>${esc(name)}</button></li>`;
  $("channels").innerHTML = S.channels.map((c) => item(c.id, "#", c.name)).join("") +
    (myDm() ? `<li class="dm-head">Direct messages</li>${item(myDm(), "@", S.bot?.name || "bot")}` : "");
}

function renderHead() {
  const dm = isDm(S.channel);
  $("channel-hash").textContent = dm ? "@" : "#";
  $("channel-name").textContent = channelName(S.channel);
  $("channel-topic").textContent = dm ? `Your direct messages with ${S.bot?.name || "the bot"} (what notify:dm sends lands here)` : S.topics[S.channel] || "";
  $("me").value = S.me;
  $("composer-input").placeholder = `Message ${dm ? "@" : "#"}${channelName(S.channel)} — type / for commands`;
  renderStatus();
}

function renderStatus() {
  const s = $("bot-status");
  s.className = `bot-status${S.ready ? " online" : ""}`;
  s.textContent = S.ready ? `${S.bot?.name || "bot"} online` : `${S.bot?.name || "bot"} offline`;
  document.querySelectorAll(".member.is-app").forEach((n) => n.classList.toggle("offline", !S.ready));
}

function renderMembers() {
  const person = (p) => `<div class="member${p.id === S.me ? " me-now" : ""}">${avatar(p)}<div class="who">${esc(p.name)}<small>${esc(p.role)}</small></div></div>`;
  $("members").innerHTML = "<h2>People — you can be any of them</h2>" + S.people.map(person).join("") +
    `<h2>App</h2><div class="member is-app${S.ready ? "" : " offline"}">${avatar({ ...S.bot, bot: true })}<div class="who">${esc(S.bot?.name)}<small>the bot under test</small></div></div>`;
}

function renderMessages() {
  const box = $("messages");
  box.innerHTML = "";
  const shown = [...S.messages.values()].filter((m) => m.channel_id === S.channel && visible(m)).sort(byId);
  if (!shown.length) box.append(el("p", { class: "empty" }, `This is the start of ${isDm(S.channel) ? "@" : "#"}${esc(channelName(S.channel))}. Type <code>/video</code> below to make a video.`));
  for (const m of shown) box.append(renderMessage(m));
  stickToBottom();
}

// A channel opens at its newest message and stays there while videos and images load and
// grow (as Discord's does), unless the reader has scrolled up.
function stickToBottom() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
  S.stick = true;
}

function renderProfile() {
  $("profile").value = S.profile;
  $("profile-hint").textContent = (S.profiles.find((p) => p.name === S.profile) || {}).description || "";
}

function addLog(ev) {
  const log = $("log");
  const li = el("li", { class: ev.level }, `${esc(new Date().toLocaleTimeString())} ${esc(ev.text)}`);
  log.prepend(li);
  while (log.children.length > 80) log.lastChild.remove();
}

function goChannel(id, messageId) {
  S.channel = id;
  S.unread.delete(id);
  sessionStorage.setItem("channel", id);
  $("sidebar").classList.remove("open");
  renderChannels(); renderHead(); renderMessages();
  if (messageId) {
    const target = document.getElementById(`m-${messageId}`);
    if (target) { target.scrollIntoView({ block: "center" }); target.classList.add("flash"); }
  }
}

// --- acting ---------------------------------------------------------------------------------------

async function post(url, body) {
  const isForm = body instanceof FormData;
  const r = await fetch(url, { method: "POST", body: isForm ? body : JSON.stringify(body), headers: isForm ? {} : { "Content-Type": "application/json" } });
  if (!r.ok) {
    const text = await r.text();
    let error = text || `HTTP ${r.status}`;
    try { const body = JSON.parse(text); error = `${body.message} (${body.code}): ${JSON.stringify(body.errors || {})}`; } catch { /* plain text */ }
    return { ok: false, error };
  }
  return r.json();
}

async function click(button) {
  const art = button.closest("article.msg");
  button.classList.add("busy");
  const r = await post("/api/click", { user: S.me, message: art.dataset.id, custom_id: button.dataset.customId });
  button.classList.remove("busy");
  if (!r.ok) {
    S.failed.set(art.dataset.id, r.error === "The application did not respond" ? "This interaction failed" : r.error);
    const m = S.messages.get(art.dataset.id);
    if (m) upsert(m);
    setTimeout(() => { S.failed.delete(art.dataset.id); const again = S.messages.get(art.dataset.id); if (again) upsert(again); }, 5000);
  }
}

function showModal() {
  const box = $("modal");
  const next = S.modals.find((x) => x.user_id === S.me);
  if (!next) { box.hidden = true; box.innerHTML = ""; return; }
  const m = next.modal;
  const inputs = (m.components || []).flatMap((row) => row.components || []).filter((c) => c.type === 4);
  box.innerHTML = `<form class="modal" role="dialog" aria-modal="true" aria-label="${esc(m.title)}"><h2>${esc(m.title)}</h2><div class="modal-body">` +
    inputs.map((c) => {
      const attrs = `name="${esc(c.custom_id)}" ${c.required === false ? "" : "required"} ${c.min_length ? `minlength="${c.min_length}"` : ""} ${c.max_length ? `maxlength="${c.max_length}"` : ""} placeholder="${esc(c.placeholder || "")}"`;
      const control = c.style === 2 ? `<textarea ${attrs}>${esc(c.value || "")}</textarea>` : `<input ${attrs} value="${esc(c.value || "")}">`;
      return `<label>${esc(c.label)}${control}</label>`;
    }).join("") +
    `</div><footer><button type="button" class="cancel">Cancel</button><button type="submit" class="submit">Submit</button></footer></form>`;
  box.hidden = false;
  const form = box.querySelector("form");
  form.querySelector("input, textarea")?.focus();
  const close = () => { S.modals.splice(S.modals.indexOf(next), 1); showModal(); };
  form.querySelector(".cancel").onclick = close;
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    close();
    const r = await post("/api/modal", { user: S.me, channel: next.channel_id, custom_id: m.custom_id, values });
    if (!r.ok) notice(r.error);
  };
}

// --- the composer: "/" opens the command list, a command opens its options ------------------------

const chatCommands = () => S.commands.filter((c) => (c.type || 1) === 1);

function renderPalette() {
  const text = $("composer-input").value;
  const list = $("palette");
  if (!text.startsWith("/") || S.form) { list.hidden = true; return; }
  const typed = text.slice(1).split(" ")[0].toLowerCase();
  const found = chatCommands().filter((c) => c.name.startsWith(typed)).sort((a, b) => a.name.localeCompare(b.name));
  if (!found.length) { list.hidden = true; return; }
  S.paletteIndex = Math.min(S.paletteIndex, found.length - 1);
  list.innerHTML = found.map((c, i) => `<li><button type="button" data-command="${esc(c.name)}" class="${i === S.paletteIndex ? "sel" : ""}">` +
    `<span class="cmd-name">/${esc(c.name)}</span><span class="cmd-desc">${esc(c.description)}</span></button></li>`).join("");
  list.hidden = false;
}

function optionControl(o) {
  const id = `opt-${o.name}`;
  if (o.choices?.length) return `<select id="${id}" name="${o.name}"><option value=""></option>${o.choices.map((c) => `<option value="${esc(c.value)}">${esc(c.name)}</option>`).join("")}</select>`;
  switch (o.type) {
    case 5: return `<select id="${id}" name="${o.name}"><option value=""></option><option value="true">True</option><option value="false">False</option></select>`;
    case 6: return `<select id="${id}" name="${o.name}"><option value=""></option>${S.people.map((p) => `<option value="${p.id}">${esc(p.name)}</option>`).join("")}</select>`;
    case 7: return `<select id="${id}" name="${o.name}"><option value=""></option>${S.channels.map((c) => `<option value="${c.id}">#${esc(c.name)}</option>`).join("")}</select>`;
    case 8: return `<select id="${id}" name="${o.name}"><option value=""></option>${S.roles.map((r) => `<option value="${r.id}">@${esc(r.name)}</option>`).join("")}</select>`;
    case 11: return `<input id="${id}" name="${o.name}" type="file" accept="image/*">`;
    case 4: case 10: return `<input id="${id}" name="${o.name}" inputmode="decimal" ${o.autocomplete ? `list="dl-${o.name}" data-autocomplete="1"` : ""}><datalist id="dl-${o.name}"></datalist>`;
    default:
      if (o.autocomplete) return `<input id="${id}" name="${o.name}" list="dl-${o.name}" data-autocomplete="1"><datalist id="dl-${o.name}"></datalist>`;
      return `<textarea id="${id}" name="${o.name}" rows="2" ${o.max_length ? `maxlength="${o.max_length}"` : ""}></textarea>`;
  }
}

function optionField(o) {
  const wide = o.type === 3 && !o.choices && !o.autocomplete;
  return `<label class="opt${wide ? " wide" : ""}" data-option="${esc(o.name)}"><span class="opt-name">${esc(o.name)}${o.required ? "<em>*</em>" : ""}</span>` +
    `<span class="opt-desc">${esc(o.description || "")}</span>${optionControl(o)}</label>`;
}

function openForm(name) {
  const command = chatCommands().find((c) => c.name === name);
  if (!command) return;
  const subs = (command.options || []).filter((o) => o.type === 1);
  S.form = { command, sub: subs[0]?.name || null };
  $("composer-input").value = `/${name} `;
  $("palette").hidden = true;
  renderForm();
}

function renderForm() {
  const box = $("command-form");
  if (!S.form) { box.hidden = true; box.innerHTML = ""; return; }
  const { command, sub } = S.form;
  const subs = (command.options || []).filter((o) => o.type === 1);
  const options = sub ? subs.find((s) => s.name === sub).options || [] : command.options || [];
  const required = options.filter((o) => o.required), optional = options.filter((o) => !o.required);
  let html = `<div class="cf-head"><b>/${esc(command.name)}${sub ? ` ${esc(sub)}` : ""}</b><span>${esc(command.description)}</span>` +
    `<button type="button" class="cf-close" aria-label="Close the command">×</button></div>`;
  if (subs.length) html += `<label class="opt"><span class="opt-name">subcommand</span><select id="subcommand">${subs.map((s) => `<option value="${s.name}"${s.name === sub ? " selected" : ""}>${esc(s.name)} — ${esc(s.description)}</option>`).join("")}</select></label>`;
  html += `<div class="cf-options">${required.map(optionField).join("")}</div>`;
  if (optional.length) html += `<details class="cf-more"${required.length ? "" : " open"}><summary>Optional: ${optional.map((o) => esc(o.name)).join(", ")}</summary><div class="cf-options">${optional.map(optionField).join("")}</div></details>`;
  box.innerHTML = html;
  box.hidden = false;
  box.querySelector("textarea, input, select")?.focus();
}

function closeForm() {
  S.form = null;
  $("composer-input").value = "";
  renderForm();
}

// A member types #general or @ann; Discord's client turns those into mentions, so does this page.
function mentions(text) {
  return text.replace(/(^|\s)#([\w-]+)/g, (all, p, n) => { const c = S.channels.find((x) => x.name === n); return c ? `${p}<#${c.id}>` : all; })
    .replace(/(^|\s)@([\w-]+)/g, (all, p, n) => { const u = S.people.find((x) => x.name === n); return u ? `${p}<@${u.id}>` : all; });
}

async function sendForm() {
  const { command, sub } = S.form;
  const data = new FormData();
  const options = {};
  data.append("user", S.me);
  data.append("channel", S.channel);
  data.append("command", command.name);
  if (sub) data.append("subcommand", sub);
  for (const input of $("command-form").querySelectorAll("[name]")) {
    if (input.type === "file") { if (input.files[0]) data.append(input.name, input.files[0]); }
    else if (input.value.trim() !== "") options[input.name] = input.tagName === "TEXTAREA" || input.type !== "file" ? mentions(input.value.trim()) : input.value;
  }
  const missing = [...$("command-form").querySelectorAll(".opt")].filter((l) => l.querySelector("em") && !options[l.dataset.option] && !data.get(l.dataset.option));
  if (missing.length) { notice(`Fill in ${missing.map((l) => l.dataset.option).join(", ")}`); return; }
  data.append("options", JSON.stringify(options));
  $("send").disabled = true;
  const r = await post("/api/slash", data);
  $("send").disabled = false;
  if (!r.ok) { notice(r.error); return; }
  closeForm();
}

async function autocomplete(input) {
  const q = new URLSearchParams({ user: S.me, channel: S.channel, command: S.form.command.name, option: input.name, value: input.value });
  const r = await (await fetch(`/api/autocomplete?${q}`)).json();
  const list = document.getElementById(`dl-${input.name}`);
  if (list) list.innerHTML = r.choices.map((c) => `<option value="${esc(c.value)}">${esc(c.name)}</option>`).join("");
}

// --- the Apps menu: a message's context-menu commands, as Discord's right-click → Apps ---------

const messageCommands = () => S.commands.filter((c) => c.type === 3);

function closeApps() { document.querySelectorAll(".apps-menu").forEach((n) => n.remove()); }

function toggleApps(button) {
  const open = button.parentElement.querySelector(".apps-menu");
  closeApps();
  if (open) return;
  const items = messageCommands();
  const menu = el("div", { class: "apps-menu", role: "menu" }, `<div class="apps-title">Apps</div>` + (items.length
    ? items.map((c) => `<button type="button" role="menuitem" data-context="${esc(c.name)}" data-message="${button.dataset.apps}">${esc(c.name)}</button>`).join("")
    : `<div class="apps-empty">No apps</div>`));
  button.after(menu);
}

async function runContext(name, messageId) {
  closeApps();
  const r = await post("/api/context", { user: S.me, message: messageId, command: name });
  if (!r.ok) notice(r.error);
}

// --- wiring --------------------------------------------------------------------------------------------

function wire() {
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("#sidebar, #menu")) $("sidebar").classList.remove("open");
    const t = ev.target.closest("button, a, [data-channel]");
    if (!t) return;
    if (t.dataset.customId && !t.disabled) click(t);
    else if (t.dataset.dismiss) { S.dismissed.add(t.dataset.dismiss); document.getElementById(`m-${t.dataset.dismiss}`)?.remove(); }
    else if (t.dataset.jumpChannel) { ev.preventDefault(); goChannel(t.dataset.jumpChannel, t.dataset.jumpMessage); }
    else if (t.dataset.channel && (S.channels.some((c) => c.id === t.dataset.channel) || isDm(t.dataset.channel))) goChannel(t.dataset.channel);
    else if (t.dataset.apps) toggleApps(t);
    else if (t.dataset.context) runContext(t.dataset.context, t.dataset.message);
    else if (t.dataset.command) openForm(t.dataset.command);
    else if (t.classList.contains("cf-close")) closeForm();
  });
  $("me").onchange = (ev) => {
    const inDm = isDm(S.channel);
    S.me = ev.target.value; sessionStorage.setItem("me", S.me);
    if (inDm && myDm()) S.channel = myDm();  // DMs are each person's own
    renderChannels(); renderHead(); renderMembers(); renderMessages(); showModal();
  };
  const box = $("messages");
  box.addEventListener("scroll", () => { S.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80; });
  const grown = () => { if (S.stick) box.scrollTop = box.scrollHeight; };
  box.addEventListener("loadedmetadata", grown, true);  // media events do not bubble: capture them
  box.addEventListener("load", grown, true);
  $("profile").onchange = async (ev) => { const r = await post("/api/profile", { profile: ev.target.value }); if (!r.ok) notice(r.error); };
  document.addEventListener("click", (ev) => { if (!ev.target.closest(".apps-menu, [data-apps]")) closeApps(); }, true);
  $("restart").onclick = async () => { $("restart").disabled = true; await post("/api/restart", {}); $("restart").disabled = false; };
  $("menu").onclick = () => $("sidebar").classList.toggle("open");
  const input = $("composer-input");
  input.addEventListener("input", () => {
    if (S.form && !input.value.startsWith(`/${S.form.command.name}`)) { S.form = null; renderForm(); }
    S.paletteIndex = 0;
    renderPalette();
  });
  input.addEventListener("keydown", (ev) => {
    const items = [...$("palette").querySelectorAll("button")];
    if ($("palette").hidden || !items.length) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") { ev.preventDefault(); S.paletteIndex = (S.paletteIndex + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length; renderPalette(); }
    if (ev.key === "Enter" || ev.key === "Tab") { ev.preventDefault(); openForm(items[S.paletteIndex].dataset.command); }
  });
  $("command-form").addEventListener("change", (ev) => { if (ev.target.id === "subcommand") { S.form.sub = ev.target.value; renderForm(); } });
  $("command-form").addEventListener("focusin", (ev) => { if (ev.target.dataset.autocomplete) autocomplete(ev.target); });
  $("command-form").addEventListener("input", (ev) => { if (ev.target.dataset.autocomplete) autocomplete(ev.target); });
  $("command-form").addEventListener("keydown", (ev) => { if (ev.key === "Enter" && !ev.shiftKey && ev.target.tagName !== "SELECT") { ev.preventDefault(); sendForm(); } });
  $("composer").onsubmit = async (ev) => {
    ev.preventDefault();
    if (S.form) return sendForm();
    const text = input.value.trim();
    if (!text) return;
    if (text.startsWith("/")) { const first = $("palette").querySelector("button"); if (first) openForm(first.dataset.command); else notice(`No command ${text.split(" ")[0]}`); return; }
    const r = await post("/api/say", { user: S.me, channel: S.channel, content: mentions(text) });
    if (r.ok) input.value = ""; else notice(r.error);
  };
  setInterval(() => document.querySelectorAll("time.ts[data-style=R]").forEach((t) => { t.textContent = fmtTime(Number(t.dataset.unix), "R"); }), 5000);
}

function connect() {
  const events = new EventSource("/api/events");
  events.onmessage = (e) => {
    const ev = JSON.parse(e.data);
    if (ev.type === "state") load(ev);
    else if (ev.type === "message") upsert(ev.message);
    else if (ev.type === "modal") { S.modals.push(ev); showModal(); }
    else if (ev.type === "commands") { S.commands = ev.commands; renderPalette(); }
    else if (ev.type === "gateway") {
      if (ev.ready !== S.ready) addLog({ level: "info", text: `${S.bot?.name || "The bot"} ${ev.ready ? "connected to" : "left"} the gateway` });
      S.ready = ev.ready; renderStatus();
    }
    else if (ev.type === "profile") { S.profile = ev.profile; renderProfile(); }
    else if (ev.type === "log") addLog(ev);
  };
  events.onerror = () => { S.ready = false; renderStatus(); };
}

wire();
connect();
