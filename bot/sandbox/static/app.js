// The sandbox page: shows the embedded Discord server's state (server-sent events) the way a
// Discord client lays it out, and sends what a member does (commands, buttons, modals) as
// interactions. No framework and no build step: this file is served as it is.
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  guild: null, channels: [], messages: new Map(), commands: [], people: [], topics: {}, bot: null,
  ready: false, me: sessionStorage.getItem("me"), channel: sessionStorage.getItem("channel"),
  modals: [], unread: new Set(), dismissed: new Set(), failed: new Map(), profile: "fast", profiles: [],
  form: null, paletteIndex: 0,
};

// --- small helpers ---------------------------------------------------------------------------

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const byId = (a, b) => (a.id.length - b.id.length) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const memberName = (id) => (S.guild?.members.find((m) => m.id === id) || {}).name;
const channelName = (id) => (S.channels.find((c) => c.id === id) || {}).name;
function el(tag, attrs = {}, html = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
  node.innerHTML = html;
  return node;
}
function avatar(user) {
  const hue = [...(user.id || "0")].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
  const bg = user.bot ? "var(--blurple)" : `hsl(${hue} 45% 42%)`;
  return `<div class="avatar" style="background:${bg}" aria-hidden="true">${esc((user.name || "?").slice(0, 2).toUpperCase())}</div>`;
}
function notice(text) {
  const n = $("notice");
  n.textContent = text;
  n.hidden = !text;
  clearTimeout(notice.timer);
  if (text) notice.timer = setTimeout(() => { n.hidden = true; }, 6000);
}

// --- times and markdown ------------------------------------------------------------------------

function fmtTime(unix, style) {
  const d = new Date(unix * 1000);
  if (style === "R") {
    const s = Math.round((d - Date.now()) / 1000), a = Math.abs(s);
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    if (a < 60) return rtf.format(s, "second");
    if (a < 3600) return rtf.format(Math.round(s / 60), "minute");
    if (a < 86400) return rtf.format(Math.round(s / 3600), "hour");
    return rtf.format(Math.round(s / 86400), "day");
  }
  const o = { t: { timeStyle: "short" }, T: { timeStyle: "medium" }, d: { dateStyle: "short" }, D: { dateStyle: "long" },
    F: { dateStyle: "full", timeStyle: "short" } }[style] || { dateStyle: "long", timeStyle: "short" };
  return new Intl.DateTimeFormat(undefined, o).format(d);
}
const timeTag = (unix, style) => `<time class="ts" data-unix="${unix}" data-style="${style}">${esc(fmtTime(unix, style))}</time>`;

function jumpAttrs(url) {
  const hit = /discord\.com\/channels\/\d+\/(\d+)\/(\d+)/.exec(url);
  return hit ? ` data-jump-channel="${hit[1]}" data-jump-message="${hit[2]}"` : ' target="_blank" rel="noopener"';
}

// Discord's markdown, enough of it for what the bot writes: bold, italics, code, links,
// mentions, timestamps, quotes, subtext; backslash escapes stay literal.
function md(src) {
  if (!src) return "";
  const kept = [];
  const keep = (html) => `\u0000${kept.push(html) - 1}\u0000`;
  let s = esc(src);
  s = s.replace(/```(?:[a-z]*\n)?([\s\S]*?)```/g, (_, c) => keep(`<pre>${c}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, c) => keep(`<code>${c}</code>`));
  s = s.replace(/\\(&gt;|&lt;|&amp;|[\\*_~`|[\]()#:\-.!@])/g, (_, c) => keep(c));
  s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, t, u) => keep(`<a href="${u}"${jumpAttrs(u)}>${t}</a>`));
  s = s.replace(/(^|[\s(])(https?:\/\/[^\s<)]+)/g, (_, p, u) => p + keep(`<a href="${u}"${jumpAttrs(u)}>${u}</a>`));
  s = s.replace(/&lt;@!?(\d+)&gt;/g, (_, id) => keep(`<span class="mention">@${esc(memberName(id) || "unknown-user")}</span>`));
  s = s.replace(/&lt;@&amp;(\d+)&gt;/g, () => keep(`<span class="mention">@role</span>`));
  s = s.replace(/&lt;#(\d+)&gt;/g, (_, id) => keep(`<span class="mention" data-channel="${id}">#${esc(channelName(id) || "unknown")}</span>`));
  s = s.replace(/&lt;t:(-?\d+)(?::([tTdDfFR]))?&gt;/g, (_, t, st) => keep(timeTag(Number(t), st || "f")));
  s = s.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/__(.+?)__/g, "<u>$1</u>");
  s = s.replace(/\*(?!\s)(.+?)\*/g, "<em>$1</em>").replace(/(^|\W)_(?!\s)(.+?)_(?=\W|$)/g, "$1<em>$2</em>");
  s = s.replace(/~~(.+?)~~/g, "<s>$1</s>").replace(/\|\|(.+?)\|\|/g, "<span class=\"spoiler\">$1</span>");
  s = s.split("\n").map((line) => {
    if (line.startsWith("&gt; ")) return `<blockquote>${line.slice(5)}</blockquote>`;
    if (line.startsWith("-# ")) return `<div class="subtext">${line.slice(3)}</div>`;
    return line + "<br>";
  }).join("").replace(/<br>$/, "");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => kept[Number(i)]).replace(/\u0000(\d+)\u0000/g, (_, i) => kept[Number(i)]);
}

// --- media: attachments are served by the page itself, never fetched from elsewhere ----------------

function media(url, message) {
  if (!url) return null;
  if (url.startsWith("attachment://")) {
    const a = message.attachments.find((x) => x.filename === url.slice(13));
    return a ? `/files/${a.id}/${encodeURIComponent(a.filename)}` : null;
  }
  const hit = /\/attachments\/\d+\/(\d+)\/([^?#]+)/.exec(url);
  if (hit) return `/files/${hit[1]}/${hit[2]}`;
  return /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url) ? url : null;
}
const isVideo = (a) => /\.(mp4|webm|mov)$/i.test(a.filename) || (a.content_type || "").startsWith("video/");
const isImage = (a) => /\.(png|jpe?g|gif|webp)$/i.test(a.filename) || (a.content_type || "").startsWith("image/");

// --- rendering a message -------------------------------------------------------------------------

function renderEmbed(e, m) {
  const colour = e.color != null ? `#${Number(e.color).toString(16).padStart(6, "0")}` : "#1e1f22";
  const thumb = media(e.thumbnail?.url, m);
  const image = media(e.image?.url, m);
  let main = "";
  if (e.author?.name) main += `<div class="embed-author">${esc(e.author.name)}</div>`;
  if (e.title) main += `<div class="embed-title">${e.url ? `<a href="${esc(e.url)}"${jumpAttrs(e.url)}>${md(e.title)}</a>` : esc(e.title)}</div>`;
  if (e.description) main += `<div class="embed-desc">${md(e.description)}</div>`;
  if (e.fields?.length) {
    main += `<div class="embed-fields">${e.fields.map((f) =>
      `<div class="embed-field${f.inline ? " inline" : ""}"><div class="fname">${esc(f.name)}</div><div class="fvalue">${md(f.value)}</div></div>`).join("")}</div>`;
  }
  let html = `<div class="embed-top"><div class="embed-main">${main}</div>${thumb ? `<img class="embed-thumb" src="${thumb}" alt="">` : ""}</div>`;
  if (image) html += `<img class="embed-image" src="${image}" alt="">`;
  const footer = [e.footer?.text && esc(e.footer.text), e.timestamp && esc(fmtTime(Date.parse(e.timestamp) / 1000, "f"))].filter(Boolean);
  if (footer.length) html += `<div class="embed-footer">${footer.join(" • ")}</div>`;
  return `<div class="embed" style="border-left-color:${colour}">${html}</div>`;
}

function renderComponents(m) {
  const rows = (m.components || []).filter((r) => r.type === 1).map((row) => `<div class="row">${(row.components || []).map((c) => {
    const label = `${c.emoji?.name ? `<span aria-hidden="true">${esc(c.emoji.name)}</span>` : ""}${esc(c.label || "")}`;
    if (c.type === 2 && c.style === 5) return `<a class="btn s5" href="${esc(c.url)}" target="_blank" rel="noopener">${label} ↗</a>`;
    if (c.type === 2) return `<button type="button" class="btn s${c.style || 2}" data-custom-id="${esc(c.custom_id)}"${c.disabled ? " disabled" : ""}>${label}</button>`;
    return `<select disabled><option>${esc(c.placeholder || "Select…")}</option></select>`;
  }).join("")}</div>`);
  return rows.length ? `<div class="rows">${rows.join("")}</div>` : "";
}

function renderMessage(m) {
  const author = m.author;
  const art = el("article", { class: `msg${m.ephemeral ? " ephemeral" : ""}`, id: `m-${m.id}`, "data-id": m.id });
  const when = new Date(m.created * 1000);
  let head = `<div class="msg-head"><span class="name">${esc(author.name)}</span>${author.bot ? '<span class="tag">APP</span>' : ""}` +
    `<time title="${esc(when.toLocaleString())}">${esc(fmtTime(m.created, "t"))}</time>${m.edited ? '<span class="edited">(edited)</span>' : ""}</div>`;
  let body = "";
  if (m.loading) body += `<div class="content thinking">${esc(author.name)} is thinking</div>`;
  else if (m.content) body += `<div class="content">${md(m.content)}</div>`;
  const files = m.attachments.map((a) => {
    const src = `/files/${a.id}/${encodeURIComponent(a.filename)}`;
    if (isVideo(a)) return `<video controls playsinline preload="metadata" src="${src}" title="${esc(a.filename)}"></video>`;
    if (isImage(a)) return `<a href="${src}" target="_blank"><img src="${src}" alt="${esc(a.filename)}"></a>`;
    return `<a class="file" href="${src}" download>📄 ${esc(a.filename)}</a>`;
  });
  if (files.length) body += `<div class="attachments">${files.join("")}</div>`;
  body += (m.embeds || []).map((e) => renderEmbed(e, m)).join("");
  body += renderComponents(m);
  if (S.failed.has(m.id)) body += `<div class="failed-note">${esc(S.failed.get(m.id))}</div>`;
  if (m.ephemeral) body += `<div class="ephemeral-note">👁 Only you can see this • <button type="button" data-dismiss="${m.id}">Dismiss message</button></div>`;
  const invoked = m.invoked ? `<div class="invoked">↱ <b>${esc(m.invoked.user)}</b> used <span class="cmd">/${esc(m.invoked.command)}</span></div>` : "";
  art.innerHTML = `${invoked}<div class="msg-body">${avatar(author)}<div class="msg-main">${head}${body}</div></div>`;
  return art;
}

// --- the page's state ---------------------------------------------------------------------------

const visible = (m) => !S.dismissed.has(m.id) && (!m.ephemeral || m.visible_to === S.me);

function load(state) {
  S.guild = state.guilds[0];
  S.channels = S.guild.channels.map(({ id, name }) => ({ id, name }));
  S.messages = new Map();
  for (const c of S.guild.channels) for (const m of c.messages) S.messages.set(m.id, m);
  for (const m of [...S.messages.values()]) supersede(m);
  Object.assign(S, { commands: state.commands, people: state.people, topics: state.topics, bot: state.bot,
    ready: state.ready, profile: state.profile, profiles: state.profiles });
  if (!S.people.some((p) => p.id === S.me)) S.me = S.people[0].id;
  if (!S.channels.some((c) => c.id === S.channel)) S.channel = S.channels[0].id;
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
  if (stick || !known) box.scrollTop = box.scrollHeight;
}

function renderAll() {
  renderChannels();
  renderHead();
  renderMembers();
  renderMessages();
  renderProfile();
  showModal();
}

function renderChannels() {
  $("channels").innerHTML = S.channels.map((c) =>
    `<li><button type="button" data-channel="${c.id}" class="${c.id === S.channel ? "active" : ""}${S.unread.has(c.id) ? " unread" : ""}">` +
    `<span class="hash">#</span>${esc(c.name)}</button></li>`).join("");
}

function renderHead() {
  $("channel-name").textContent = channelName(S.channel);
  $("channel-topic").textContent = S.topics[S.channel] || "";
  $("me").value = S.me;
  $("composer-input").placeholder = `Message #${channelName(S.channel)} — type / for commands`;
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
  $("members").innerHTML = "<h2>People — you can be either</h2>" + S.people.map(person).join("") +
    `<h2>App</h2><div class="member is-app${S.ready ? "" : " offline"}">${avatar({ ...S.bot, bot: true })}<div class="who">${esc(S.bot?.name)}<small>the bot under test</small></div></div>`;
}

function renderMessages() {
  const box = $("messages");
  box.innerHTML = "";
  const shown = [...S.messages.values()].filter((m) => m.channel_id === S.channel && visible(m)).sort(byId);
  if (!shown.length) box.append(el("p", { class: "empty" }, `This is the start of #${esc(channelName(S.channel))}. Type <code>/video</code> below to make a video.`));
  for (const m of shown) box.append(renderMessage(m));
  box.scrollTop = box.scrollHeight;
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
  if (!r.ok) return { ok: false, error: (await r.text()) || `HTTP ${r.status}` };
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

// --- wiring --------------------------------------------------------------------------------------------

function wire() {
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("#sidebar, #menu")) $("sidebar").classList.remove("open");
    const t = ev.target.closest("button, a, [data-channel]");
    if (!t) return;
    if (t.dataset.customId && !t.disabled) click(t);
    else if (t.dataset.dismiss) { S.dismissed.add(t.dataset.dismiss); document.getElementById(`m-${t.dataset.dismiss}`)?.remove(); }
    else if (t.dataset.jumpChannel) { ev.preventDefault(); goChannel(t.dataset.jumpChannel, t.dataset.jumpMessage); }
    else if (t.dataset.channel && S.channels.some((c) => c.id === t.dataset.channel)) goChannel(t.dataset.channel);
    else if (t.dataset.command) openForm(t.dataset.command);
    else if (t.classList.contains("cf-close")) closeForm();
  });
  $("me").onchange = (ev) => { S.me = ev.target.value; sessionStorage.setItem("me", S.me); renderMembers(); renderMessages(); showModal(); };
  $("profile").onchange = async (ev) => { const r = await post("/api/profile", { profile: ev.target.value }); if (!r.ok) notice(r.error); };
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
    else if (ev.type === "gateway") { S.ready = ev.ready; renderStatus(); }
    else if (ev.type === "profile") { S.profile = ev.profile; renderProfile(); }
    else if (ev.type === "log") addLog(ev);
  };
  events.onerror = () => { S.ready = false; renderStatus(); };
}

wire();
connect();
