// How the sandbox page draws what the embedded Discord server holds: markdown, embeds, buttons,
// attachments, laid out as a Discord client does. Loaded before app.js, which owns the state `S`.
"use strict";

// --- small helpers ---------------------------------------------------------------------------

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const byId = (a, b) => (a.id.length - b.id.length) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const memberName = (id) => (S.guild?.members.find((m) => m.id === id) || {}).name;
const channelName = (id) => (S.channels.find((c) => c.id === id) || {}).name || (Object.values(S.dms || {}).includes(id) ? S.bot?.name : undefined);
const roleName = (id) => (S.roles.find((r) => r.id === id) || {}).name;
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
  s = s.replace(/&lt;@&amp;(\d+)&gt;/g, (_, id) => keep(`<span class="mention">@${esc(roleName(id) || "unknown-role")}</span>`));
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
// Discord does not list an attachment again that an embed shows (as its image or thumbnail).
function usedByEmbeds(message) {
  const used = new Set();
  for (const e of message.embeds || []) {
    for (const url of [e.thumbnail?.url, e.image?.url]) {
      if (!url) continue;
      if (url.startsWith("attachment://")) used.add(`name:${url.slice(13)}`);
      const hit = /\/attachments\/\d+\/(\d+)\//.exec(url);
      if (hit) used.add(`id:${hit[1]}`);
    }
  }
  return (a) => used.has(`name:${a.filename}`) || used.has(`id:${a.id}`);
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
  const used = usedByEmbeds(m);
  const files = m.attachments.filter((a) => !used(a)).map((a) => {
    const src = `/files/${a.id}/${encodeURIComponent(a.filename)}`;
    // The relay simulator sends one sample clip whatever was asked: say so beside it.
    const note = author.bot && S.standIn ? `<div class="stand-in">${esc(S.standIn)}</div>` : "";
    if (isVideo(a)) return `<div class="clip"><video controls playsinline preload="metadata" src="${src}" title="${esc(a.filename)}"></video>${note}</div>`;
    if (isImage(a)) return `<a href="${src}" target="_blank"><img src="${src}" alt="${esc(a.filename)}"></a>`;
    return `<a class="file" href="${src}" download>📄 ${esc(a.filename)}</a>`;
  });
  if (files.length) body += `<div class="attachments">${files.join("")}</div>`;
  body += (m.embeds || []).map((e) => renderEmbed(e, m)).join("");
  body += renderComponents(m);
  if (S.failed.has(m.id)) body += `<div class="failed-note">${esc(S.failed.get(m.id))}</div>`;
  if (m.ephemeral) body += `<div class="ephemeral-note">👁 Only you can see this • <button type="button" data-dismiss="${m.id}">Dismiss message</button></div>`;
  const invoked = m.invoked ? `<div class="invoked">↱ <b>${esc(m.invoked.user)}</b> used <span class="cmd">/${esc(m.invoked.command)}</span></div>` : "";
  const apps = `<div class="msg-tools"><button type="button" class="apps-btn" data-apps="${m.id}" aria-label="Apps" title="Apps">Apps</button></div>`;
  art.innerHTML = `${invoked}${m.loading ? "" : apps}<div class="msg-body">${avatar(author)}<div class="msg-main">${head}${body}</div></div>`;
  return art;
}

