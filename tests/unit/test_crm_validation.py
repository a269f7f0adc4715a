"""CRM input checks without a database: unified social credit codes (GB 32100-2015), Chinese phone numbers,
company names compared for duplicates, and masking of contacts' personal fields."""
from __future__ import annotations

import pytest

from erp.crm.models import PERSONAL_FIELDS
from erp.crm.queries import masked
from erp.crm.validation import (
    company_name_key,
    credit_code_check_char,
    name_similarity,
    normalise_credit_code,
    normalise_mobile,
    normalise_phone,
)
from erp.masking import mask_data

# published codes of well-known companies (Tencent Shenzhen, Alibaba Hangzhou, Xiaomi Beijing)
REAL_CODES = ["9144030071526726XG", "91330100799655058B", "91110108551385082Q"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_pass_the_check_character(code):
    assert normalise_credit_code(code) == code
    assert credit_code_check_char(code[:17]) == code[17]


def test_a_credit_code_is_written_in_upper_case_without_spaces():
    assert normalise_credit_code(" 9144 0300 7152 6726 xg ") == "9144030071526726XG"
    assert normalise_credit_code("９１１１０１０８５５１３８５０８２Ｑ") == "91110108551385082Q"  # full-width
    assert normalise_credit_code("") is None and normalise_credit_code(None) is None


@pytest.mark.parametrize("code, message", [
    ("9144030071526726XA", "check character"),
    ("91110108551385082", "18 characters"),
    ("9144030071526726XG1", "18 characters"),
    ("91440300715267I6XG", "never used"),  # I is not in the code's alphabet
    ("9144O30071526726XG", "never used"),  # nor O; characters 3-8 are digits
])
def test_a_wrong_credit_code_is_refused_with_the_reason(code, message):
    with pytest.raises(ValueError, match=message):
        normalise_credit_code(code)


@pytest.mark.parametrize("written", ["+86 138-1234-5678", "138 1234 5678", "0086 13812345678", "8613812345678",
                                     "(+86) 138.1234.5678", "１３８１２３４５６７８"])
def test_mobile_numbers_are_normalised_to_eleven_digits(written):
    assert normalise_mobile(written) == "13812345678"


@pytest.mark.parametrize("written", ["12812345678", "1381234567", "010-88886666", "138-1234-567x", "+1 415 555 0100"])
def test_what_is_not_a_mainland_mobile_number_is_refused(written):
    with pytest.raises(ValueError):
        normalise_mobile(written)


def test_landlines_keep_their_area_code_and_mobiles_are_accepted_as_phones():
    assert normalise_phone("010-8888 6666") == "01088886666"
    assert normalise_phone("（0755）8601 3388") == "075586013388"
    assert normalise_phone("+86 139 1000 2000") == "13910002000"
    assert normalise_phone("400-820-8820") == "4008208820"
    assert normalise_phone("+86 10 8888 6666") == "01088886666"
    with pytest.raises(ValueError):
        normalise_phone("8888 6666")  # no area code


def test_company_names_are_compared_without_legal_form_places_and_punctuation():
    assert company_name_key("北京华联综合超市股份有限公司") == company_name_key("北京华联综合超市有限公司")
    assert company_name_key("京东（北京）贸易有限公司") == company_name_key("京东(北京)贸易 有限责任公司") == "京东贸易"
    assert company_name_key("阿里巴巴（中国）网络技术有限公司") == "阿里巴巴网络技术"
    assert company_name_key("北京市华联商贸有限公司") == company_name_key("华联商贸（北京）有限公司") == "华联商贸"
    assert company_name_key("北京银行股份有限公司") == "北京银行"  # too short to lose its place
    assert company_name_key("ＡＢＣ 科技，有限公司") == "abc科技"
    assert company_name_key("中粮集团有限公司") == "中粮"


@pytest.mark.parametrize("a, b", [
    ("北京首都旅游集团有限责任公司", "北京首都旅游集团"),
    ("联想（北京）有限公司", "联想(北京)有限公司"),
    ("北京同仁堂科技发展股份有限公司", "北京同仁堂科技开发有限公司"),
    ("上海东方明珠新媒体股份有限公司", "东方明珠新媒体（上海）有限公司"),
    ("内蒙古伊利实业集团股份有限公司", "伊利实业集团有限公司"),
])
def test_similar_company_names_reach_the_duplicate_ratio(a, b):
    assert name_similarity(a, b) >= 0.85


@pytest.mark.parametrize("a, b", [
    ("北京京东世纪贸易有限公司", "京东方科技集团股份有限公司"),
    ("北京华联商厦股份有限公司", "上海华联超市有限公司"),
    ("中国石油天然气股份有限公司", "中国石油化工股份有限公司"),
])
def test_different_companies_stay_below_the_ratio(a, b):
    assert name_similarity(a, b) < 0.85


def test_contacts_personal_fields_are_masked_but_the_company_is_not():
    detail = {"name_zh": "北京华联商贸有限公司", "phone": "01088886666",
              "contacts": [{"contact_name": "张三丰", "title": "采购经理", "mobile": "13812345678",
                            "email": "zhang@hualian.cn", "wechat_id": "zhangsf88"}]}
    hidden = masked(detail, may_see_personal=False)
    assert hidden["name_zh"] == "北京华联商贸有限公司" and hidden["phone"] == "01088886666"
    contact = hidden["contacts"][0]
    assert contact["contact_name"] == "张*丰" and contact["mobile"] == "138****5678"
    assert contact["title"] == "采购经理" and contact["email"] != "zhang@hualian.cn"
    assert masked(detail, may_see_personal=True) is detail
    assert mask_data(detail, PERSONAL_FIELDS) == hidden
