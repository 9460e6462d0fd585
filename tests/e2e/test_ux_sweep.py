"""Every role's main pages in a real browser, in both languages, at desktop and phone width.

For each demo login: the dashboard, every page of its menu and (for the two trading parties)
an order in each state. At 1366 px and 390 px the page never scrolls sideways; no raw status code
is shown; the English pages' interface words (menu, headings, table heads, badges, buttons) carry
no Chinese and the Chinese pages' no English words outside codes; axe-core reports no serious or
critical violation. Screenshots of each role's dashboard go to docs/screenshots/ (README).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from market.demo import seed
from market.orders.state import ORDER_STATUSES
from tests.e2e.test_sampling_contract import log_in, user
from tests.escrow_factories import make_order

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ROLES = ("gen1", "op1", "carrier", "lab", "reg-sz", "finance", "admin")
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
# Codes that would only ever appear raw: the multi-word statuses (single words are also English).
RAW_CODES = re.compile(r"\b(" + "|".join(s for s in ORDER_STATUSES if "_" in s) + r")\b")
CJK = re.compile(r"[\u3400-\u9fff]")
# Interface words only: proper names, user data and codes are marked .proper / [lang] / <code>.
UI_WORDS_JS = """() => {
  const sel = 'nav.mainnav a, main h1, main h2, main th, .badge, main button, .tabs a, label';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('.proper, code, [translate=no]')) continue;
    const clone = el.cloneNode(true);
    clone.querySelectorAll('.proper, code, [translate=no]').forEach(n => n.remove());
    const t = clone.textContent.replace(/\\s+/g, ' ').trim();
    if (t) out.push(t);
  }
  return out;
}"""


# The outermost elements reaching past the viewport's right edge, to say what overflows.
WIDE_JS = """() => {
  const w = window.innerWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.getBoundingClientRect().right > w + 1 && !out.some(o => o.contains(el))
        && !el.closest('.table-wrap')) out.push(el);
  }
  return out.slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' +
                             (e.textContent || '').trim().slice(0, 40));
}"""


def menu_paths(page) -> list[str]:
    hrefs = page.eval_on_selector_all("#mainnav a", "els => els.map(e => e.getAttribute('href'))")
    return ["/dashboard"] + [h for h in hrefs if h and h.startswith("/") and h != "/dashboard"]


NAMES: list[str] = []


def strip_names(text: str) -> str:
    """Interface words without the organisations' and people's names (proper names)."""
    for name in NAMES:
        text = text.replace(name, "")
    return text


def check_page(page, path: str, locale: str, width: str, axe: Axe | None, problems: list[str]) -> None:
    resp = page.goto(path)
    where = f"{locale} {width} {path}"
    if resp is None or resp.status >= 400:
        problems.append(f"{where}: HTTP {resp.status if resp else '?'}")
        return
    scroll, view = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > view:
        culprits = page.evaluate(WIDE_JS)
        problems.append(f"{where}: scrolls sideways ({scroll} > {view}) because of {culprits}")
    body = page.inner_text("body")
    raw = set(RAW_CODES.findall(body))
    if raw:
        problems.append(f"{where}: raw status codes {sorted(raw)}")
    words = [strip_names(w) for w in page.evaluate(UI_WORDS_JS)]
    if locale == "en":
        leaks = [w for w in words if CJK.search(w)]
    else:
        leaks = [w for w in words if re.search(r"\b[a-z]{4,}\b", w) and not CJK.search(w)]
    if leaks:
        problems.append(f"{where}: untranslated interface words {leaks[:5]}")
    if axe is not None:
        found = axe.run(page).response["violations"]
        bad = [f"{v['id']} ({v['impact']}, {len(v['nodes'])}×)" for v in found
               if v.get("impact") in ("serious", "critical")]
        if bad:
            problems.append(f"{where}: axe {bad}")


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_role_main_pages_fit_read_and_pass_axe(page_for, locale):
    NAMES[:] = sorted({org for _email, org, _ in seed()}, key=len, reverse=True)
    gen, op = user("gen1").org, user("op1").org
    orders = [make_order(gen, op, status=s) for s in ("contract_signed",) + tuple(
        s for s in ORDER_STATUSES if s != "contract_signed")]   # an order in each state
    axe = Axe()
    problems: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    for login in ROLES:
        page = log_in(page_for, locale, login)
        paths = menu_paths(page)
        if login in ("gen1", "op1"):
            paths += [f"/orders/{o.id}" for o in orders] + [f"/orders/{orders[1].id}/payment"]
        for width, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            for path in paths:
                check_page(page, path, locale, width, axe if width == "desktop" else None, problems)
            page.goto("/dashboard")
            page.screenshot(path=str(SHOTS / f"{login}-{locale}-{width}.png"))
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_menu_folds_behind_a_toggle_on_a_phone(page_for):
    seed()
    page = log_in(page_for, "en", "gen1")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard")
    toggle = page.get_by_test_id("nav-toggle")
    assert toggle.is_visible() and not page.locator("#mainnav").is_visible()
    assert page.get_by_test_id("who").is_visible()  # the user's name stays in view
    toggle.click()
    assert page.locator("#mainnav").is_visible() and toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert not page.locator("#mainnav").is_visible()
    # the first Tab reaches the skip link, which is visible when focused
    page.goto("/dashboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.get_by_test_id("skip-link").is_visible()
