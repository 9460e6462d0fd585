"""大写金额: amounts in Chinese capital numerals, by the rules for settlement documents."""
from __future__ import annotations

import pytest

from market.contracts.capital import MAX_FEN, amount_in_capitals


@pytest.mark.parametrize("fen, expected", [
    (0, "零元整"),
    (1, "壹分"),
    (5, "伍分"),
    (10, "壹角整"),
    (56, "伍角陆分"),
    (100, "壹元整"),
    (105, "壹元零伍分"),                       # 角 is zero, 分 is not: 零 after 元
    (1000, "壹拾元整"),                        # 拾 always carries its digit
    (11000, "壹佰壹拾元整"),
    (123456, "壹仟贰佰叁拾肆元伍角陆分"),
    (140950, "壹仟肆佰零玖元伍角整"),            # ¥1,409.50
    (600714, "陆仟零柒元壹角肆分"),              # ¥6,007.14: one 零 for a run of zeros
    (168032, "壹仟陆佰捌拾元叁角贰分"),          # ¥1,680.32
    (1640902, "壹万陆仟肆佰零玖元零贰分"),        # ¥16,409.02
    (32504, "叁佰贰拾伍元零肆分"),              # ¥325.04
    (10700053, "壹拾万柒仟元伍角叁分"),          # ¥107,000.53
    (1000000, "壹万元整"),
    (10001000, "壹拾万零壹拾元整"),             # ¥100,010
    (10050000, "壹拾万零伍佰元整"),             # ¥100,500
    (10000100000, "壹亿零壹仟元整"),            # ¥100,001,000: a whole zero section between
    (20000000000, "贰亿元整"),
    (1130000, "壹万壹仟叁佰元整"),
])
def test_capitals(fen, expected):
    assert amount_in_capitals(fen) == expected


def test_negative_amounts_begin_with_fu():
    # the operator pays the generator for valuable waste
    assert amount_in_capitals(-12345) == "负壹佰贰拾叁元肆角伍分"
    assert amount_in_capitals(-100) == "负壹元整"


def test_only_integer_fen_within_range():
    for bad in (1.5, "100", True, None):
        with pytest.raises(TypeError):
            amount_in_capitals(bad)
    assert amount_in_capitals(MAX_FEN).endswith("玖角玖分")
    with pytest.raises(ValueError):
        amount_in_capitals(MAX_FEN + 1)
