"""Amounts in Chinese capital numerals (大写金额) as written on contracts and bank slips. Pure.

Follows the rules for filling in settlement documents (《支付结算办法》附件一, 正确填写票据和结算
凭证的基本规定): 整 after 元 when there are no 角 or 分, and after 角 when there is no 分; a 零 for
each run of zeros inside the number, one 零 for several; 零 after 元 when 角 is zero but 分 is not
(¥325.04 → 叁佰贰拾伍元零肆分); 拾 always with its digit (壹拾, so nothing can be written in front).
Negative amounts (the operator pays for valuable waste) begin with 负.
"""
from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
# Every four digits: 元 (ones), 万 (10⁴), 亿 (10⁸); up to 9999亿 yuan, beyond any order.
SECTION_UNITS = ("", "万", "亿")
MAX_FEN = 10 ** 14 - 1


def _section(n: int) -> str:
    """0 < n < 10000 in capitals, with inner zeros but no leading or trailing 零."""
    out, zero = [], False
    for pos in range(3, -1, -1):
        digit = n // 10 ** pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[digit] + SMALL_UNITS[pos])
    return "".join(out)


def _integer(yuan: int) -> str:
    """The yuan part (> 0) without the 元."""
    sections = []
    while yuan:
        sections.append(yuan % 10_000)
        yuan //= 10_000
    out: list[str] = []
    need_zero = False
    for index in range(len(sections) - 1, -1, -1):
        value = sections[index]
        if value == 0:
            need_zero = bool(out)
            continue
        # A zero is read when a lower section does not fill its thousands place, or a whole
        # section of zeros came between (壹亿零壹仟, 壹拾万零伍佰).
        if out and (need_zero or value < 1000):
            out.append("零")
        out.append(_section(value) + SECTION_UNITS[index])
        need_zero = False
    return "".join(out)


def amount_in_capitals(fen: int) -> str:
    """Integer fen as 大写金额, e.g. 123456 → 壹仟贰佰叁拾肆元伍角陆分; 0 → 零元整."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount_in_capitals takes integer fen")
    if abs(fen) > MAX_FEN:
        raise ValueError("amount too large")
    if fen < 0:
        return "负" + amount_in_capitals(-fen)
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    if fen == 0:
        return "零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if jiao == 0 and cents == 0:
        return text + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += "零"  # ¥16409.02 → 壹万陆仟肆佰零玖元零贰分
    return text + (DIGITS[cents] + "分" if cents else "整")
