"""The storefront page in a real browser: the real app served by uvicorn on a free port, Debian's chromium
driven by Playwright. Without chromium or playwright the browser tests are skipped, except under CI=true
where they fail (the page must be tested there)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from authkit import ADMIN_KEY, AUTH
from shopguide.config import Settings
from shopguide.service.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/storefront.png")
TIMEOUT_MS = 15_000
#: a fresh home imports the demo catalog and trains the start-up model first; only a hang comes near this
READY_S = 900.0


class Live:
    """The running app: its base URL, an HTTP client to it and the service state (store)."""

    def __init__(self, url: str, app) -> None:
        self.url = url
        self.app = app
        self.http = httpx.Client(base_url=url, timeout=30, headers=AUTH)

    @property
    def store(self):
        return self.app.state.shopguide.store

    def feed_ids(self, user: str, n: int = 12) -> list[str]:
        body = self.http.get(f"/v1/users/{user}/recommendations", params={"n": n, "lang": "zh"}).json()
        return [it["id"] for it in body["items"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # a generous deadline so a busy machine never turns a personalised answer into the static fallback
    app = create_app(
        Settings(_env_file=None, home=tmp_path_factory.mktemp("storefront"), deadline_ms=10_000, admin_key=ADMIN_KEY)
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="storefront-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_S
    while True:
        if not thread.is_alive():
            pytest.fail("the service did not start")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the service was not ready within {READY_S:.0f} s")
        time.sleep(0.1)
    running = Live(url, app)
    yield running
    running.http.close()
    server.should_exit = True
    thread.join(timeout=10)


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is missing (pip install playwright; never `playwright install`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """Errors the page reported: console.error messages and uncaught exceptions."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


@pytest.fixture
def page(browser, live: Live):
    # the tests' own polling (wait_for_function) evaluates strings, which the page's CSP forbids; the page's
    # scripts run under its CSP in test_the_page_runs_under_its_content_security_policy
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.console = Console(page)
    yield page
    context.close()


def test_the_page_runs_under_its_content_security_policy(browser, live: Live) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.console = Console(page)
        response = page.goto(live.url)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector("#feed-grid .card")
        page.select_option("#shopper", "shopper-002")  # calls the API with the page's cookie
        page.wait_for_selector("#feed-grid .card")
        assert_no_console_errors(page)  # a CSP violation would be a console error
    finally:
        context.close()


def test_the_api_docs_render_offline_under_the_same_policy(browser, live: Live) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    outside: list[str] = []
    context.route("**/*", lambda route: (  # nothing may come from another origin: fail such requests
        route.continue_() if route.request.url.startswith(live.url) else (outside.append(route.request.url),
                                                                            route.abort())))  # fmt: skip
    try:
        page = context.new_page()
        page.console = Console(page)
        response = page.goto(f"{live.url}/docs")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock-tag")  # Swagger UI read /openapi.json and drew the operations
        tags = texts(page, ".opblock-tag")
        assert any("recommendations" in t for t in tags) and any("learning loop" in t for t in tags)
        assert outside == [] and page.console.errors == []
    finally:
        context.close()


def open_store(page, live: Live) -> None:
    page.goto(live.url)
    wait_feed(page, loads=1)


def wait_feed(page, loads: int) -> None:
    """Wait until the feed has been rendered ``loads`` times (the grid counts its loads)."""
    page.wait_for_function(f"Number(document.getElementById('feed-grid').dataset.loads) >= {loads}")


def feed_ids(page) -> list[str]:
    return page.eval_on_selector_all("#feed-grid .card", "cards => cards.map(c => c.dataset.id)")


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.textContent.trim())")


def visitor(page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('sg.visitor'))")


def assert_no_console_errors(page) -> None:
    assert page.console.errors == []


# ---------------------------------------------------------------------------- HTTP (no browser needed)
def test_page_and_static_files_are_served(live: Live) -> None:
    page = live.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in page.text
    assert "javascript" in live.http.get("/static/app.js").headers["content-type"]
    assert live.http.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert live.http.get("/static/web.py").status_code == 404
    assert live.http.get("/static/..%2Fapp.py").status_code == 404
    # offline: no external scripts, styles or fonts
    for name in ("index.html", "app.js", "style.css"):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", live.http.get(f"/static/{name}").text)


def test_demo_shoppers_are_the_first_twelve_users_marked_simulated(live: Live) -> None:
    body = live.http.get("/v1/demo/shoppers").json()
    expected = [u.id for u, _ in zip(live.store.iter_users(), range(12), strict=False)]
    assert [s["id"] for s in body["shoppers"]] == expected
    assert expected[0] == "shopper-001"
    assert all(s["simulated"] is True for s in body["shoppers"])


def test_features_say_which_optional_endpoints_exist(live: Live) -> None:
    features = live.http.get("/v1/demo/features").json()
    assert features == {"search": True, "bundle": True, "chat": True}  # the app serves all three now


# ---------------------------------------------------------------------------- in the browser
def test_home_feed_shows_cards_with_reasons_and_switches_language(page, live: Live) -> None:
    open_store(page, live)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#feed h2").inner_text() == "为你推荐"
    assert "模拟" in page.locator(".demo-note").inner_text()
    ids = feed_ids(page)
    assert len(ids) >= 8
    api = live.http.get(f"/v1/users/{visitor(page)}/recommendations", params={"n": 12, "lang": "zh"}).json()
    by_id = {it["id"]: it for it in api["items"]}
    reasons_zh = texts(page, "#feed-grid .card .reason")
    assert all(reasons_zh)
    assert reasons_zh == [by_id[i]["reasons"]["zh"] for i in ids]
    titles_zh = texts(page, "#feed-grid .card .title")
    assert titles_zh == [by_id[i]["title"] for i in ids]
    assert all(t.startswith("¥") for t in texts(page, "#feed-grid .card .price"))
    page.screenshot(path=str(SCREENSHOT), full_page=False)

    page.click("#lang")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("#feed h2").inner_text() == "Recommended for you"
    assert page.locator("#search button").inner_text() == "Search"
    reasons_en = texts(page, "#feed-grid .card .reason")
    assert reasons_en == [by_id[i]["reasons"]["en"] for i in ids]
    assert reasons_en != reasons_zh
    assert texts(page, "#feed-grid .card .title") == [by_id[i]["title_alt"] or by_id[i]["title"] for i in ids]
    page.screenshot(path=str(SCREENSHOT.with_name("storefront-en.png")))
    page.click("#lang")  # and back: the choice is remembered in localStorage
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert texts(page, "#feed-grid .card .reason") == reasons_zh
    assert_no_console_errors(page)


def test_selecting_a_simulated_shopper_loads_their_feed(page, live: Live) -> None:
    open_store(page, live)
    options = texts(page, "#shopper option")
    assert options[0].startswith("新访客")
    assert len(options) == 13 and all("模拟顾客" in o for o in options[1:])
    page.select_option("#shopper", "shopper-001")
    wait_feed(page, loads=2)
    ids = feed_ids(page)
    assert ids == live.feed_ids("shopper-001")
    assert ids != live.feed_ids(visitor(page))
    badges = texts(page, "#feed-grid .card .badge")
    assert "热门" not in badges[0]  # a simulated shopper with history gets a personalised first item
    page.screenshot(path=str(SCREENSHOT.with_name("storefront-shopper.png")))
    page.reload()  # the selection is remembered
    wait_feed(page, loads=1)
    assert page.eval_on_selector("#shopper", "s => s.value") == "shopper-001"
    assert feed_ids(page) == ids
    assert_no_console_errors(page)


def test_opening_a_product_shows_details_similar_items_and_logs_a_view(page, live: Live) -> None:
    open_store(page, live)
    first = feed_ids(page)[0]
    item = live.http.get(f"/v1/items/{first}").json()
    page.click(f"#feed-grid .card[data-id='{first}']")
    page.wait_for_selector("#similar-grid .card")
    assert page.locator("#product").is_visible()
    assert page.locator("#p-title").inner_text() == item["title"]
    assert page.locator("#p-alt").inner_text() == item["title_alt"]
    labels = {"color": "颜色", "size": "尺码", "material": "材质", "style": "风格", "season": "季节"}
    labels |= {"gender": "适用", "occasion": "场合"}
    assert texts(page, "#p-attrs dt") == [*(labels.get(k, k) for k in item["attributes"]), "库存"]
    assert texts(page, "#p-attrs dd")[-1] == str(item["stock"])
    similar = live.http.get(f"/v1/items/{first}/similar", params={"n": 6, "lang": "zh"}).json()
    page_similar = page.eval_on_selector_all("#similar-grid .card", "cs => cs.map(c => c.dataset.id)")
    assert page_similar == [it["id"] for it in similar["items"]]
    assert len(page_similar) >= 1
    # the 搭配 section: items when the bundle endpoint exists, a friendly note while it does not
    page.wait_for_function("document.getElementById('bundle-empty').textContent !== '加载中…'")
    if not live.http.get("/v1/demo/features").json()["bundle"]:
        assert page.locator("#bundle-empty").inner_text() == "搭配推荐即将上线，敬请期待。"
    page.wait_for_function("!!localStorage.getItem('sg.visitor')")
    user = visitor(page)
    deadline = time.monotonic() + 10
    while not any(e.item == first and e.type == "view" for e in live.store.recent_events(user)):
        assert time.monotonic() < deadline, "the view event never reached the store"
        time.sleep(0.05)
    page.screenshot(path=str(SCREENSHOT.with_name("storefront-product.png")))
    page.keyboard.press("Escape")
    assert not page.locator("#product").is_visible()
    assert_no_console_errors(page)


def test_add_to_cart_changes_a_new_visitors_feed_and_stores_the_event(page, live: Live) -> None:
    open_store(page, live)
    user = visitor(page)
    assert user.startswith("visitor-")
    assert live.store.recent_actions(user) == []  # impressions of the first feed aside, nothing done yet
    before = feed_ids(page)
    target = before[2]
    page.click(f"#feed-grid .card[data-id='{target}'] .add")
    wait_feed(page, loads=2)
    after = feed_ids(page)
    assert after != before
    assert page.locator("#cart-count").inner_text() == "1"
    assert live.store.recent_actions(user) == [(target, "cart")]
    cart = next(e for e in live.store.recent_events(user, limit=100) if e.type.value == "cart")
    assert cart.context["page"] == "storefront"
    assert after == live.feed_ids(user)  # the page shows what the service now recommends
    assert_no_console_errors(page)


def test_the_feed_logs_what_it_showed_as_impressions_with_source_and_position(page, live: Live) -> None:
    open_store(page, live)
    shown = feed_ids(page)
    user = visitor(page)
    deadline = time.monotonic() + 10
    while True:
        logged = [e for e in live.store.recent_events(user, limit=100) if e.type.value == "impression"]
        if len(logged) >= len(shown) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    feed = [e for e in logged if e.context.get("placement") == "home_feed"]
    latest = max(e.ts for e in feed)  # the feed on screen (an earlier load, if any, logged its own)
    feed = sorted((e for e in feed if e.ts == latest), key=lambda e: int(e.context["position"]))
    assert [e.item for e in feed] == shown
    assert all(e.context["source"] and e.context["model_version"] and e.context["page"] == "storefront" for e in feed)
    assert_no_console_errors(page)


def test_search_and_chat_are_friendly_before_their_endpoints_exist(page, live: Live) -> None:
    features = live.http.get("/v1/demo/features").json()
    open_store(page, live)
    page.fill("#q", "帆布鞋")
    page.press("#q", "Enter")
    page.wait_for_function("document.getElementById('results-empty').textContent !== '加载中…'")
    assert page.locator("#results-title").inner_text() == "“帆布鞋”的搜索结果"
    if not features["search"]:
        assert "即将上线" in page.locator("#results-empty").inner_text()
    page.click("#results-close")
    assert not page.locator("#results").is_visible()

    page.click("#chat-toggle")
    page.fill("#chat-input", "想买一双白色运动鞋")
    page.press("#chat-input", "Enter")
    page.wait_for_function("document.querySelectorAll('#chat-log .bubble').length >= 3")
    bubbles = texts(page, "#chat-log .bubble")
    assert bubbles[1] == "想买一双白色运动鞋"
    if not features["chat"]:
        assert bubbles[2] == "AI 导购助手即将上线，敬请期待！"
    assert page.locator("#notice").is_hidden()
    page.screenshot(path=str(SCREENSHOT.with_name("storefront-chat.png")))
    assert_no_console_errors(page)


def test_optional_endpoints_are_friendly_on_404_or_501_and_rendered_when_they_answer(page, live: Live) -> None:
    """The page calls search, bundle and chat defensively; once they exist their answers are shown."""
    feed = live.http.get("/v1/users/shopper-001/recommendations", params={"n": 3, "lang": "zh"}).json()["items"]
    answers: dict[str, tuple[int, dict]] = {
        "search": (501, {"error": "not_implemented", "detail": "not yet"}),
        "bundle": (404, {"error": "not_found", "detail": "Not Found"}),
        "chat": (501, {"error": "not_implemented", "detail": "not yet"}),
    }
    page.route("**/v1/demo/features", lambda route: route.fulfill(json=dict.fromkeys(answers, True)))

    def answer(name: str):
        return lambda route: route.fulfill(status=answers[name][0], json=answers[name][1])

    for name, pattern in (("search", r"/v1/search\?"), ("bundle", r"/v1/items/[^/]+/bundle\?"), ("chat", r"/v1/chat$")):
        page.route(re.compile(pattern), answer(name))

    def exercise() -> None:
        open_store(page, live)
        page.fill("#q", "雨靴")
        page.press("#q", "Enter")
        page.wait_for_function("document.getElementById('results-empty').textContent !== '加载中…'")
        page.click("#feed-grid .card")
        page.wait_for_function("document.getElementById('bundle-empty').textContent !== '加载中…'")
        page.keyboard.press("Escape")
        page.click("#chat-toggle")
        page.fill("#chat-input", "推荐一双雨靴")
        page.press("#chat-input", "Enter")
        page.wait_for_function("document.querySelectorAll('#chat-log .bubble').length >= 3")

    exercise()
    assert page.locator("#results-empty").inner_text() == "搜索功能即将上线，先看看为你推荐的商品吧。"
    assert page.locator("#bundle-empty").inner_text() == "搭配推荐即将上线，敬请期待。"
    assert texts(page, "#chat-log .bubble")[2] == "AI 导购助手即将上线，敬请期待！"
    assert page.locator("#notice").is_hidden()
    # the browser logs the 404/501 responses themselves; nothing else may be reported
    assert [e for e in page.console.errors if "Failed to load resource" not in e] == []

    answers["search"] = (200, {"items": feed[:2]})
    answers["bundle"] = (200, {"items": feed[1:3]})
    answers["chat"] = (200, {"reply": "试试这几双", "items": feed[:1]})
    exercise()
    ids = "cards => cards.map(c => c.dataset.id)"
    assert page.eval_on_selector_all("#results-grid .card", ids) == [it["id"] for it in feed[:2]]
    assert page.locator("#results-empty").is_hidden()
    page.click("#feed-grid .card")
    page.wait_for_selector("#bundle-grid .card")
    assert page.eval_on_selector_all("#bundle-grid .card", ids) == [it["id"] for it in feed[1:3]]
    page.keyboard.press("Escape")
    assert texts(page, "#chat-log .bubble")[2].startswith("试试这几双")
    assert texts(page, "#chat-log .chip") == [feed[0]["title"]]
    assert [e for e in page.console.errors if "Failed to load resource" not in e] == []
