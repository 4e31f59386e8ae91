// shopguide storefront: a small, framework-free demo page over the HTTP API (works offline).
"use strict";

const T = {
  zh: {
    brand: "AI 导购", search: "搜索", searchPh: "搜索商品，例如：白色帆布鞋", shopper: "顾客", cart: "购物车",
    demoNote: "演示数据：商品、品牌与顾客行为均为模拟生成，仅供展示。", backToFeed: "返回推荐",
    feedTitle: "为你推荐", loading: "加载中…", addToCart: "加入购物车", added: "已加入购物车",
    similar: "相似商品", bundle: "搭配推荐", chatTitle: "AI 导购助手", chatPh: "告诉我你想买什么…", send: "发送",
    footer: "shopguide · 开源 AI 导购引擎", visitor: "新访客", simulated: "模拟顾客", feedEmpty: "暂时没有推荐",
    fallback: "兜底推荐（热门）", model: "模型版本", resultsFor: (q) => `“${q}”的搜索结果`,
    searchSoon: "搜索功能即将上线，先看看为你推荐的商品吧。", noResults: "没有找到相关商品",
    similarEmpty: "暂无相似商品", bundleSoon: "搭配推荐即将上线，敬请期待。", bundleEmpty: "暂无搭配推荐",
    chatSoon: "AI 导购助手即将上线，敬请期待！", chatIntro: "AI 导购助手即将上线：届时用中文或英文告诉我你想买什么，我来帮你挑。",
    chatHello: "你好！告诉我你想买什么，我来帮你挑。",
    error: "出错了：", stock: "库存", brandL: "品牌", other: "English", htmlLang: "zh-CN",
  },
  en: {
    brand: "AI Shopping Guide", search: "Search", searchPh: "Search products, e.g. white canvas shoes",
    shopper: "Shopper", cart: "Cart",
    demoNote: "Demo data: products, brands and shopper behaviour are simulated, for illustration only.",
    backToFeed: "Back to feed", feedTitle: "Recommended for you", loading: "Loading…", addToCart: "Add to cart",
    added: "Added to cart", similar: "Similar items", bundle: "Goes well with", chatTitle: "AI shopping guide",
    chatPh: "Tell me what you are looking for…", send: "Send", footer: "shopguide · open-source AI shopping guide",
    visitor: "new visitor", simulated: "simulated shopper", feedEmpty: "No recommendations yet",
    fallback: "fallback (popular items)", model: "model", resultsFor: (q) => `Results for “${q}”`,
    searchSoon: "Search is coming soon. Meanwhile, have a look at your recommendations.",
    noResults: "No matching products", similarEmpty: "No similar items yet",
    bundleSoon: "“Goes well with” suggestions are coming soon.", bundleEmpty: "No suggestions yet",
    chatSoon: "The AI shopping guide is coming soon. Stay tuned!",
    chatIntro: "The AI shopping guide is coming soon: tell it in Chinese or English what you are looking for.",
    chatHello: "Hi! Tell me what you are looking for and I will help you choose.",
    error: "Something went wrong: ", stock: "In stock", brandL: "Brand", other: "中文", htmlLang: "en",
  },
};
const SOURCES = {
  item_knn: ["相似推荐", "Similar picks"], user_knn: ["同好在买", "Shoppers like you"],
  content: ["内容相似", "Similar content"], als: ["猜你喜欢", "For you"], bpr: ["猜你喜欢", "For you"],
  ease: ["猜你喜欢", "For you"], hybrid: ["综合推荐", "Blended"], sequential: ["接着逛", "Next up"],
  context: ["此刻推荐", "Right now"], popular: ["热门", "Popular"], category_popular: ["品类热门", "Top in category"],
  static: ["热门", "Popular"], bundle: ["搭配", "Goes with"], search: ["搜索", "Search"],
};
const FALLBACK_SOURCES = new Set(["popular", "category_popular", "static"]);
const ATTRS = {
  color: ["颜色", "Color"], size: ["尺码", "Size"], material: ["材质", "Material"], style: ["风格", "Style"],
  season: ["季节", "Season"], gender: ["适用", "For"], occasion: ["场合", "Occasion"],
};
const SOON = [404, 405, 501]; // an optional endpoint that is not there (yet)

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const local = {
  get(key, fallback) {
    try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch { return fallback; }
  },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ } },
};
const S = {
  lang: local.get("sg.lang", "zh") === "en" ? "en" : "zh", shopper: local.get("sg.shopper", ""), shoppers: [],
  features: {}, feed: undefined, feedToken: 0, query: "", results: undefined, product: undefined, productToken: 0,
  similar: undefined, bundle: undefined, chat: [], viewed: false, session: "web-" + randomHex(6),
};

function randomHex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}
function visitorId() {
  let id = local.get("sg.visitor", null);
  if (!id) { id = "visitor-" + randomHex(6); local.set("sg.visitor", id); }
  return id;
}
const currentUser = () => S.shopper || visitorId();
function t(key, ...args) {
  const v = T[S.lang][key] ?? T.zh[key] ?? key;
  return typeof v === "function" ? v(...args) : v;
}
const pick = (pair) => pair[S.lang === "en" ? 1 : 0];
const title = (it) => (S.lang === "en" && it.title_alt ? it.title_alt : it.title) || it.id;
const reason = (it) => (it.reasons && it.reasons[S.lang]) || it.reason || "";
const price = (p) => (p == null ? "" : "¥" + Number(p).toFixed(p % 1 ? 2 : 0));
function hue(text) {
  let h = 0;
  for (const ch of text || "") h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

// ------------------------------------------------------------------ HTTP
async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  if (options.body) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { ...options, headers });
  } catch (err) {
    throw Object.assign(new Error(`${path}: ${err.message}`), { status: 0 });
  }
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch { /* not JSON */ }
    throw Object.assign(new Error(`${res.status} ${detail}`), { status: res.status });
  }
  return res.json();
}
/** Call an endpoint that may not exist yet: null when this app does not serve it (404/405/501). */
async function optional(feature, path, options) {
  if (!S.features[feature]) return null;
  try {
    return await api(path, options);
  } catch (err) {
    if (SOON.includes(err.status)) return null;
    throw err;
  }
}
// Which served decision (learning loop / A/B experiment) showed each item: its request id goes back with the
// shopper's clicks, carts and purchases, so the decision is credited with them.
const shownBy = new Map();
async function sendEvent(type, item) {
  const context = { page: "storefront", lang: S.lang };
  if (shownBy.has(item)) context.request_id = shownBy.get(item);
  const event = { user: currentUser(), item, type, ts: Date.now() / 1000, session: S.session, context };
  const res = await api("/v1/events", { method: "POST", body: JSON.stringify({ events: [event] }) });
  if (res.rejected) throw new Error(res.errors.map((e) => e.reason).join("; "));
}
// What the shopper was shown, where, and which model chose it: the analytics credit clicks, carts and
// purchases to these impressions (strategy performance). Best effort: the page works without them.
function logImpressions(placement, data) {
  const items = (data && data.items) || [];
  if (!items.length) return;
  const ts = Date.now() / 1000;
  const decision = data.decision || null;
  const chosen = decision ? { request_id: decision.request_id, strategy: decision.arm,
    ...(decision.experiment ? { experiment: decision.experiment, variant: decision.variant } : {}) } : {};
  if (decision) items.forEach((it) => shownBy.set(it.id, decision.request_id));
  const events = items.map((it, k) => ({ user: currentUser(), item: it.id, type: "impression", ts,
    session: S.session, context: { page: "storefront", placement, source: it.source || "", position: String(k + 1),
      model_version: data.model_version || "", lang: S.lang, ...chosen } }));
  api("/v1/events", { method: "POST", body: JSON.stringify({ events }) })
    .catch((err) => console.warn("impressions were not logged:", err.message || err));
}

// ------------------------------------------------------------------ messages
let noticeTimer = 0;
function notify(text, kind = "error") {
  $("notice-text").textContent = text;
  $("notice").className = "notice " + kind;
  $("notice").hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== "error") noticeTimer = setTimeout(() => { $("notice").hidden = true; }, 2500);
}
const showError = (err) => notify(t("error") + (err && err.message ? err.message : String(err)));

// ------------------------------------------------------------------ rendering
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  el.append(...children.filter((c) => c != null && c !== ""));
  return el;
}
function tile(it, big = false) {
  const leaf = (it.category || []).at(-1) || it.brand || "";
  return h("div", { class: big ? "tile big" : "tile", style: `--h:${hue((it.category || [])[0])}` },
    h("span", {}, leaf));
}
function card(it) {
  const source = it.source ? (SOURCES[it.source] ? pick(SOURCES[it.source]) : it.source) : null;
  const kind = FALLBACK_SOURCES.has(it.source) ? "badge fallback" : "badge";
  return h("article", { class: "card", "data-id": it.id, tabindex: "0", onclick: () => openProduct(it.id),
    onkeydown: (e) => { if (e.key === "Enter") openProduct(it.id); } },
  tile(it),
  h("div", { class: "body" },
    h("h3", { class: "title" }, title(it)),
    h("div", { class: "row" }, h("span", { class: "price" }, price(it.price)),
      source && h("span", { class: kind, title: it.source }, source)),
    h("p", { class: "reason" }, reason(it)),
    h("button", { type: "button", class: "add", onclick: (e) => { e.stopPropagation(); addToCart(it.id, e.target); } },
      t("addToCart"))));
}
/** Fill a grid: `list` undefined = loading, null = not available, [] = empty. */
function renderGrid(gridId, emptyId, list, emptyText, soonText) {
  const grid = $(gridId), empty = $(emptyId);
  grid.replaceChildren(...(list || []).map(card));
  empty.textContent = list === undefined ? t("loading") : list === null ? soonText : emptyText;
  empty.hidden = Boolean(list && list.length);
}
function renderFeed() {
  const data = S.feed;
  renderGrid("feed-grid", "feed-empty", data && data.items, t("feedEmpty"), t("feedEmpty"));
  $("feed-meta").textContent = data && data.degraded ? t("fallback") : "";
  $("model-version").textContent = data && data.model_version ? `${t("model")} ${data.model_version}` : "";
}
function renderResults() {
  $("results").hidden = !S.query;
  $("results-title").textContent = t("resultsFor", S.query);
  renderGrid("results-grid", "results-empty", S.results, t("noResults"), t("searchSoon"));
}
function renderProduct() {
  const it = S.product;
  $("p-title").textContent = it ? title(it) : t("loading");
  $("p-alt").textContent = it ? (S.lang === "en" ? it.title : it.title_alt) || "" : "";
  $("p-price").textContent = it ? price(it.price) : "";
  $("p-path").textContent = it ? [...(it.category || []), it.brand && `${t("brandL")}: ${it.brand}`]
    .filter(Boolean).join(" › ") : "";
  $("p-desc").textContent = it ? it.description || "" : "";
  $("p-tile").replaceWith(Object.assign(tile(it || {}, true), { id: "p-tile" }));
  const attrs = Object.entries((it && it.attributes) || {});
  if (it && it.stock != null) attrs.push(["stock", String(it.stock)]);
  $("p-attrs").replaceChildren(...attrs.flatMap(([k, v]) => [
    h("dt", {}, k === "stock" ? t("stock") : ATTRS[k] ? pick(ATTRS[k]) : k), h("dd", {}, v)]));
  $("p-cart").disabled = !it;
  renderGrid("similar-grid", "similar-empty", S.similar && S.similar.items, t("similarEmpty"), t("similarEmpty"));
  const bundle = S.bundle === undefined || S.bundle === null ? S.bundle : S.bundle.items || [];
  renderGrid("bundle-grid", "bundle-empty", bundle, t("bundleEmpty"), t("bundleSoon"));
}
function renderShoppers() {
  const select = $("shopper");
  const visitor = h("option", { value: "" }, `${t("visitor")} (${visitorId()})`);
  const group = h("optgroup", { label: t("simulated") });
  for (const s of S.shoppers) {
    const about = ["gender", "age_band", "city"].map((k) => s.attributes[k]).filter(Boolean).join(" ");
    const label = s.simulated ? `${t("simulated")}${about ? " · " + about : ""}` : about;
    group.append(h("option", { value: s.id }, label ? `${s.id} (${label})` : s.id));
  }
  select.replaceChildren(visitor, group);
  select.value = S.shoppers.some((s) => s.id === S.shopper) ? S.shopper : "";
}
function renderCart() {
  $("cart-count").textContent = String(local.get(`sg.cart.${currentUser()}`, []).length);
}
function renderChat() {
  $("chat-log").replaceChildren(...S.chat.map((m) => h("div", { class: `bubble ${m.who}` },
    m.key ? t(m.key) : m.text, ...(m.items || []).map((it) => h("button", {
      type: "button", class: "chip", onclick: () => openProduct(it.id) }, title(it))))));
  $("chat-log").scrollTop = $("chat-log").scrollHeight;
}
function applyLang() {
  document.documentElement.lang = t("htmlLang");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  $("lang").textContent = t("other");
  renderShoppers();
  renderFeed();
  renderResults();
  if ($("product").open) renderProduct();
  renderChat();
}

// ------------------------------------------------------------------ actions
async function loadFeed() {
  const token = ++S.feedToken;
  let data;
  try {
    const device = window.matchMedia("(max-width: 700px)").matches ? "mobile" : "desktop";
    data = await api(`/v1/users/${enc(currentUser())}/recommendations?n=12&lang=${S.lang}&placement=home&device=${device}`);
  } catch (err) {
    if (token === S.feedToken) showError(err);
    data = { items: [] };
  }
  if (token !== S.feedToken) return; // a newer request (another shopper) won
  S.feed = data;
  renderFeed();
  logImpressions("home_feed", data);
  $("feed-grid").dataset.loads = String(Number($("feed-grid").dataset.loads) + 1);
}
async function addToCart(item, button) {
  if (button) button.disabled = true;
  try {
    await sendEvent("cart", item);
    const key = `sg.cart.${currentUser()}`;
    local.set(key, [...local.get(key, []), item]);
    renderCart();
    notify(t("added"), "ok");
    await loadFeed();
  } catch (err) {
    showError(err);
  } finally {
    if (button) button.disabled = false;
  }
}
async function openProduct(id) {
  const token = ++S.productToken;
  Object.assign(S, { product: undefined, similar: undefined, bundle: undefined });
  renderProduct();
  if (!$("product").open) $("product").showModal();
  const q = `n=6&lang=${S.lang}`;
  const [item, similar, bundle] = await Promise.allSettled([
    api(`/v1/items/${enc(id)}`), api(`/v1/items/${enc(id)}/similar?${q}`),
    optional("bundle", `/v1/items/${enc(id)}/bundle?${q}`)]);
  if (token !== S.productToken) return;
  for (const r of [item, similar, bundle]) if (r.status === "rejected") showError(r.reason);
  S.product = item.value;
  S.similar = similar.status === "fulfilled" ? similar.value : { items: [] };
  S.bundle = bundle.status === "fulfilled" ? bundle.value : null;
  renderProduct();
  logImpressions("similar", S.similar);
  logImpressions("bundle", S.bundle);
  if (S.product) {
    try { await sendEvent("view", id); S.viewed = true; } catch (err) { showError(err); }
  }
}
async function search(query) {
  S.query = query.trim();
  S.results = undefined;
  renderResults();
  if (!S.query) return;
  try {
    const data = await optional("search", `/v1/search?q=${enc(S.query)}&n=24&lang=${S.lang}`);
    S.results = data ? data.items || [] : null;
  } catch (err) {
    showError(err);
    S.results = [];
  }
  renderResults();
}
async function chat(message) {
  S.chat.push({ who: "me", text: message });
  renderChat();
  let answer = { who: "bot", key: "chatSoon" };
  try {
    const data = await optional("chat", "/v1/chat", { method: "POST",
      body: JSON.stringify({ message, user: currentUser(), session: S.session, lang: S.lang }) });
    const text = data && (data.reply || data.answer || data.text || data.message);
    if (text) answer = { who: "bot", text: String(text), items: data.items || [] };
  } catch (err) {
    showError(err);
  }
  S.chat.push(answer);
  renderChat();
}
function switchShopper(value) {
  S.shopper = value;
  local.set("sg.shopper", value);
  S.feed = undefined;
  renderFeed();
  renderCart();
  loadFeed();
}

// ------------------------------------------------------------------ start
async function init() {
  $("lang").addEventListener("click", () => { S.lang = S.lang === "zh" ? "en" : "zh"; local.set("sg.lang", S.lang); applyLang(); });
  $("shopper").addEventListener("change", (e) => switchShopper(e.target.value));
  $("search").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value); });
  $("results-close").addEventListener("click", () => { $("q").value = ""; search(""); });
  $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
  $("product-close").addEventListener("click", () => $("product").close());
  $("product").addEventListener("click", (e) => { if (e.target === $("product")) $("product").close(); });
  $("product").addEventListener("close", () => { if (S.viewed) { S.viewed = false; loadFeed(); } });
  $("p-cart").addEventListener("click", (e) => S.product && addToCart(S.product.id, e.target));
  $("chat-toggle").addEventListener("click", () => {
    $("chat-body").hidden = !$("chat-body").hidden;
    if (!S.chat.length) { S.chat.push({ who: "bot", key: S.features.chat ? "chatHello" : "chatIntro" }); renderChat(); }
  });
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const message = $("chat-input").value.trim();
    $("chat-input").value = "";
    if (message) chat(message);
  });
  applyLang();
  renderCart();
  const [features, shoppers] = await Promise.allSettled([api("/v1/demo/features"), api("/v1/demo/shoppers")]);
  S.features = features.status === "fulfilled" ? features.value : {};
  if (shoppers.status === "fulfilled") S.shoppers = shoppers.value.shoppers || [];
  else showError(shoppers.reason);
  if (!S.shoppers.some((s) => s.id === S.shopper)) S.shopper = "";
  renderShoppers();
  renderCart();
  await loadFeed();
}

init().catch(showError);
