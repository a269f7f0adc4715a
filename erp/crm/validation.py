"""Pure checks and normal forms for CRM input: the unified social credit code (统一社会信用代码, GB 32100-2015),
Chinese phone numbers, and company names reduced to what tells two companies apart (for duplicate warnings)."""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from operator import mul

#: the 31 characters of a credit code (no I, O, S, V, Z), in the order of their values 0..30
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-().（）]")
SIMILAR_NAME_RATIO = 0.85
#: rapidfuzz's score (0-100) below which two keys cannot be alike: its ratio is difflib's formula over the
#: longest common subsequence, which difflib's matches never exceed (a hair under, for rounding)
SIMILAR_NAME_SCORE = 100 * SIMILAR_NAME_RATIO - 1e-6
MIN_NAME_WITHOUT_PLACE = 4

#: legal-form endings that say nothing about which company it is, longest first
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
#: provinces and the larger cities, as written in a name such as 京东（北京）贸易有限公司
PLACES = frozenset((
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 "
    "贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 中国 深圳 广州 杭州 南京 苏州 武汉 成都 "
    "西安 青岛 大连 厦门 宁波 沈阳 长沙 郑州 济南 合肥 福州 昆明 哈尔滨 长春 石家庄 太原 无锡 东莞 佛山 珠海 天津滨海"
).split())
_PARENTHESISED = re.compile(r"\(([^()]*)\)")


def normalise_credit_code(value: str | None) -> str | None:
    """The code in upper case without spaces; None for an empty value. Raises ValueError if it is invalid."""
    if value is None or not str(value).strip():
        return None
    code = unicodedata.normalize("NFKC", str(value)).replace(" ", "").upper()
    if len(code) != 18:
        raise ValueError("a unified social credit code has 18 characters")
    if not _CREDIT_CODE.fullmatch(code):
        raise ValueError("not a unified social credit code (characters 3-8 are the region's digits; "
                         "I, O, S, V and Z are never used)")
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValueError("the check character of the unified social credit code is wrong")
    return code


_CHAR_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_CHARS)}


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a credit code from its first 17 (GB 32100-2015, modulus 31)."""
    if len(first17) != 17:
        raise ValueError("a unified social credit code has 18 characters")
    try:
        total = sum(map(mul, map(_CHAR_VALUES.__getitem__, first17), CREDIT_CODE_WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is never used in a unified social credit code") from None
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def normalise_mobile(value: str | None) -> str | None:
    """A mainland mobile number as 11 digits (+86 138-1234-5678 -> 13812345678); None for an empty value.
    Raises ValueError for anything else."""
    if value is None or not str(value).strip():
        return None
    digits, _ = _digits(value)
    if not _MOBILE.fullmatch(digits):
        raise ValueError(f"{value!r} is not a mainland China mobile number")
    return digits


def normalise_phone(value: str | None) -> str | None:
    """A mobile number as 11 digits, a landline as its digits with the area code (010-8888 6666 ->
    01088886666); None for an empty value. Raises ValueError for anything else."""
    if value is None or not str(value).strip():
        return None
    digits, international = _digits(value)
    if _MOBILE.fullmatch(digits):
        return digits
    if international and not digits.startswith(("0", "400", "800")):
        digits = "0" + digits  # +86 10 8888 6666 is 010-8888 6666 at home
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return digits
    if digits.startswith(("400", "800")) and len(digits) == 10:  # nationwide service numbers
        return digits
    raise ValueError(f"{value!r} is not a Chinese phone number (mobile, or landline with its area code)")


def _digits(value: str) -> tuple[str, bool]:
    """The digits without the country code, and whether it was written with one (+86 10 ... drops the 0)."""
    text = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", str(value)))
    international = True
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    else:
        international = False
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a phone number")
    return text, international


def company_name_key(name: str) -> str:
    """The part of a company name that tells companies apart: half-width, lower case, without places in
    parentheses, legal-form suffixes, spaces and punctuation, and a leading place
    (北京京东世纪贸易有限公司 -> 京东世纪贸易)."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    if "(" in text:
        text = _PARENTHESISED.sub(lambda m: "" if _is_place(m.group(1)) else m.group(1), text)
    text = text.translate(_NOISE)
    while text.endswith(COMPANY_SUFFIXES):
        for suffix in COMPANY_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        else:  # only a suffix is left
            break
    return _without_leading_place(text)


def _without_leading_place(text: str) -> str:
    """北京华联商贸 -> 华联商贸, as 华联商贸（北京） is the same company; a short rest (北京银行) keeps its place.
    (The text has no spaces left.)"""
    for size in (4, 3, 2):
        if len(text) - size >= MIN_NAME_WITHOUT_PLACE and text[:size] in _PLACE_NAMES:
            return text[size:]
    return text


#: the places, and each as a province (省) or a city (市): a key is computed for every row of a large import
_PLACE_NAMES = frozenset((*PLACES, *(place + "省" for place in PLACES), *(place + "市" for place in PLACES)))


def _is_place(text: str) -> bool:
    return text.strip() in _PLACE_NAMES


def _is_noise(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in ("P", "S")


class _NoiseTable(dict):
    """str.translate's table deleting spaces, punctuation and symbols, filled as characters are met (a name
    key is computed for every row of a large import)."""

    def __missing__(self, code: int):
        self[code] = None if _is_noise(chr(code)) else code
        return self[code]


_NOISE = _NoiseTable()


def name_similarity(a: str, b: str) -> float:
    """How alike two company names are (0..1), compared by their keys."""
    key_a, key_b = company_name_key(a), company_name_key(b)
    if not key_a or not key_b:
        return 0.0
    return SequenceMatcher(None, key_a, key_b).ratio()
