"""The payout pages in a real browser, in both languages, at desktop and phone width: the payee's
bank account and payables, the admin's accounts to verify, finance's queue and a batch with a
returned line. None scrolls sideways, none shows interface words of the other language, and
axe-core reports no serious or critical violation (the checks of test_ux_sweep)."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from market.demo import seed
from market.orders import settling
from market.settlement import bank_accounts, batches
from tests.e2e.test_sampling_contract import log_in, user
from tests.e2e.test_ux_sweep import NAMES, WIDTHS, check_page
from tests.payout_factories import owe

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_payout_pages_fit_read_and_pass_axe(page_for, locale):
    NAMES[:] = sorted({org for _email, org, _ in seed()}, key=len, reverse=True)
    owe(user("op1").org_id, 123_400)
    owe(user("gen1").org_id, 2_500)        # below the minimum
    owe(user("carrier").org_id, 88_800)    # paid, and stays in the batch
    batch = settling.build_payout_batch(user("finance"), f"e2e-{locale}")
    returned = next(ln for ln in batch.lines if ln.org_id == user("op1").org_id)
    batches.mark_returned(user("finance"), returned.id, "账户已销户 / account closed")
    bank_accounts.set_account(user("lab"), "实验室检测有限公司", "中国建设银行", "6217 0000 1111 2222")
    pages = {"finance": ["/dashboard", "/finance/payout-batches",
                         f"/finance/payout-batch?id={batch.id}"],
             "op1": ["/bank-account", "/payables"], "gen1": ["/payables"],
             "admin": ["/admin/bank-accounts"]}
    axe = Axe()
    problems: list[str] = []
    for login, paths in pages.items():
        page = log_in(page_for, locale, login)
        for width, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            for path in paths:
                check_page(page, path, locale, width, axe if width == "desktop" else None,
                           problems)
        if login == "op1":
            reason = page.goto("/payables") and page.locator(
                "[data-testid=pending-reason][data-code=payout_returned]")
            assert reason.get_attribute("data-amount") == "123400"
        if login == "gen1":
            page.goto("/payables")
            assert page.locator("[data-testid=pending-reason][data-code=below_minimum]").count()
        page.context.close()
    assert not problems, "\n".join(problems)
