"""Pattern detectors for private values in Chinese and English chat text.

Each detector is a small function ``text -> list[Hit]``; a Hit is ``(start, end, type, rank)`` with
offsets into the text and ``rank`` the specificity used when spans overlap (lower wins at equal length:
a value after a cue word, e.g. ``QQ 12345678``, is more specific than a bare number pattern).

Speed: ``families`` is a gate, one regex pass that names the detector families that could match at all
(7 digits close together, an '@', a cue word, a number before 号/栋/单元 …: each family's trigger is derived
from its detectors' patterns, see the gate section); ``detectors_for`` runs only those. Most chat messages
open no family and cost about a microsecond here. The tests check that every hit contains its family's
trigger, and, on fixed, labelled and random texts, that the gate never hides a detection.

Rules that keep look-alikes out:
- Chinese has no word boundaries and CJK characters count as ``\\w``, so ``\\b`` is useless next to them;
  numbers are delimited with digit look-arounds ``(?<!\\d)...(?!\\d)``.
- ID numbers need a valid GB 11643 check character and birth date; bank cards need Luhn and a 3-6 first
  digit; landline and international numbers must be valid per ``phonenumbers``; 400/800 service numbers,
  order/tracking numbers (after their cue words), amounts, dates, times, versions and scores stay.
- Passwords, QQ and WeChat ids are only taken after their cue words (密码, 验证码, PIN, QQ, 微信号…);
  a password must contain a digit or a symbol so "password is wrong" stays.

Why these detectors and not a package (measured per type on both labelled sets by eval/bench_pii.py; figures
in results/BENCHMARKS.md): jionlp 1.5.31's extractors find fewer phones (recall 0.70/0.50 on the generated/
public set, with QQ-like numbers taken as phones), ID numbers (0.57/0.50), e-mails (0.95/0.71), QQ (0.82) and
WeChat ids (0.53) than these, and no more URLs, IPs or plates (1.00 both; its IPs take version numbers); its
recognize_location names districts and roads but not house numbers or rooms (address recall 0.55/0.71) and
costs ~6-26 ms a message against a few µs here. pyap 0.3.1 finds an English address only with its city,
state and ZIP (recall 0 on both sets); usaddress 0.5.16 tags every token of a text as some address part
(recall 0.14/0.23, precision 0.20/0.89). jieba's person-name tag (nr) finds 0.55-0.65 of names without a list
at a precision of 0.36-0.55 (districts, roads, 谢谢, 宝贝): not adopted, so names stay list-based.
``phonenumbers`` stays the judge of landline and international numbers.

Limits (documented, not bugs): IPv6, obfuscated emails ("zhang at 163 dot com"), phone numbers written
in Chinese numerals, addresses without a number (北京市朝阳区), and names that are in no list (contacts,
extra_names) are not detected. English addresses need a house number, capitalised words and a street word
(USPS suffixes). The address pattern may take in a few extra Chinese characters on its left (there is no
word boundary to stop at besides a list of function characters such as 在/住/到/的).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers

from persona_lab.privacy.checks import ascii_digits, is_valid_bank_card, is_valid_cn_id

Hit = tuple[int, int, str, int]
Detector = Callable[[str], list[Hit]]

# Specificity ranks: cue-word detectors beat bare patterns on equal spans.
RANK_CUE, RANK_CHECKED, RANK_PATTERN, RANK_LOOSE, RANK_WORDLIST, RANK_BLOCKED = 0, 1, 2, 3, 4, 5

_SEP = r"[ \-\u00a0]"  # separators people put inside numbers (space, dash, no-break space)

# ------------------------------------------------------------------------------------------------ gate
# One cheap pass decides which detector families can match at all (``families``); ``detectors_for`` runs
# only those. Each family has a TRIGGER: a pattern that every match of the family's detectors contains,
# derived from the detector's own pattern by dropping its look-arounds and optional parts and keeping a
# core that no match can avoid (e.g. a phone, ID or card number always holds 7 digits joined by at most
# two separators; an English address always holds "digit [letter] space Capital"). Triggers are searched
# wherever they occur, on the same (width-folded) text the detectors read. The gate before this one
# looked only where a digit run began, with a different idea of "digit" than the address detector, and
# once classified '13800138000１３８12 Baker Street' as numbers only, hiding the street address.
# The tests check every trigger against its detectors' hits on fixed, labelled and random texts.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_CN_NUMERALS = "零〇一二两三四五六七八九十百"

# Full-width digits, Latin letters and the symbols used inside values fold to ASCII, one character for
# one, so offsets into the folded text are offsets into the original. Full-width punctuation (，。：！？)
# is left alone: it ends values the way it ends sentences.
_FOLD = {cp: cp - 0xFEE0 for cp in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_FOLD.update({ord(ch): ord(ch) - 0xFEE0 for ch in "＠＋－（）＃．＿"})
_NEEDS_FOLD = re.compile("[" + "".join(map(chr, sorted(_FOLD))) + "]")


def fold_width(text: str) -> str:
    """``text`` with full-width digits/letters/value symbols as ASCII; same length."""
    if text.isascii() or _NEEDS_FOLD.search(text) is None:  # a search is cheaper than translate
        return text
    return text.translate(_FOLD)


# ------------------------------------------------------------------------------------------------ phones
_CN_MOBILE = re.compile(
    r"(?<![\d+])(?<!\d[ \-])(?:(?:\+|00)\s?86" + _SEP + r"?|86" + _SEP + r")?1[3-9]\d(?:" + _SEP + r"?\d){8}(?!\d)"
)
_CN_LANDLINE = re.compile(
    r"(?<![\d+])(?<!\d[ \-])(?:(?:\+|00)86" + _SEP + r"?)?(?:[(（]0?\d{2,3}[)）]|0\d{2,3})" + _SEP + r"?"
    r"[1-9]\d{2,3}" + _SEP + r"?\d{4}(?!\d)"
)
_INTERNATIONAL = re.compile(r"(?<![A-Za-z0-9+])(?<!\d[ \-])(?:\+|(?<!\d)00)[1-9](?:[ \-.()（）]{0,2}\d){6,16}(?!\d)")
_US_DOMESTIC = re.compile(r"(?<![\d+])(?<!\d[ \-])(?:\(\d{3}\) ?|\d{3}[\-. ])\d{3}[\-. ]\d{4}(?!\d)")
# A local number counts only right after a phone cue word; so does one with an area code that
# ``phonenumbers`` does not know as Chinese (Taiwan's 02-2362-1234 written without +886).
_CUED_LOCAL = re.compile(
    r"(?:电话|座机|固话|号码|(?<![A-Za-z])(?:[Tt]el|TEL|[Pp]hone|PHONE))[^\dA-Za-z\n]{0,3}?"
    r"(?<!\d)((?:0\d{1,3}" + _SEP + r"?)?[2-9]\d{2,3}" + _SEP + r"?\d{4})(?!\d|" + _SEP + r"\d)"
)


def _valid_phone(candidate: str, region: str | None) -> bool:
    digits = candidate.strip()
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _trimmed_international(text: str, start: int, end: int) -> int | None:
    """The end of the longest valid phone number in text[start:end], cutting whole trailing groups."""
    while end - start >= 8:
        if _valid_phone(text[start:end], None):
            return end
        cut = max(text.rfind(sep, start, end) for sep in " -.")
        if cut <= start:
            return None
        end = cut
    return None


def detect_phones(text: str) -> list[Hit]:
    hits: list[Hit] = [(m.start(), m.end(), "PHONE", RANK_PATTERN) for m in _CN_MOBILE.finditer(text)]
    for m in _CN_LANDLINE.finditer(text):
        if _valid_phone(m.group().replace("（", "(").replace("）", ")"), "CN"):
            hits.append((m.start(), m.end(), "PHONE", RANK_PATTERN))
    for m in _INTERNATIONAL.finditer(text):
        end = _trimmed_international(text, m.start(), m.end())
        if end is not None:
            hits.append((m.start(), end, "PHONE", RANK_PATTERN))
    for m in _US_DOMESTIC.finditer(text):
        if _valid_phone(m.group(), "US"):
            hits.append((m.start(), m.end(), "PHONE", RANK_PATTERN))
    for m in _CUED_LOCAL.finditer(text):
        hits.append((m.start(1), m.end(1), "PHONE", RANK_CUE))
    return hits


# ------------------------------------------------------------------------------- ID numbers, bank cards
# The first digit comes before the look-behinds (which then look one character further back) so each
# pattern starts with a character class and the regex engine can skip fast to candidate digits.
_ID_CANDIDATE = re.compile(r"[1-9](?<!\d.)(?<!\d[ \-].)(?:" + _SEP + r"?\d){16}" + _SEP + r"?[\dXx](?![\dXx])")
# 16-19 digits, or American Express's 15 (34/37, printed 4-6-5).
_CARD_CANDIDATE = re.compile(
    r"[3-6](?<!\d.)(?<!\d[ \-].)(?:(?<=3)[47](?:" + _SEP + r"?\d){13}(?!" + _SEP + r"?\d)|(?:" + _SEP + r"?\d){15,18})(?!\d)"
)
# Numbers right after these words are order/tracking/transaction numbers, not ID numbers or cards.
_NOT_PERSONAL_CUE = re.compile(
    r"(?:订单|单号|运单|快递|物流|流水|交易|发票|工单|编号|批次|序列号|"
    r"(?i:order|tracking|invoice|transaction|serial|ref(?:erence)?))"
    r"[^\d\n]{0,6}$"
)


def _after_non_personal_cue(text: str, start: int) -> bool:
    return _NOT_PERSONAL_CUE.search(text, max(0, start - 16), start) is not None


def detect_id_numbers(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for m in _ID_CANDIDATE.finditer(text):
        if is_valid_cn_id(m.group()) and not _after_non_personal_cue(text, m.start()):
            hits.append((m.start(), m.end(), "ID", RANK_CHECKED))
    return hits


def _id_shaped(digits: str) -> bool:
    """18 digits with a birth date where an ID number has one: a mistyped ID, not a bank card."""
    if len(digits) != 18 or digits[6:8] not in ("19", "20"):
        return False
    month, day = int(digits[10:12]), int(digits[12:14])
    return 1 <= month <= 12 and 1 <= day <= 31


def _card_end(text: str, start: int, end: int) -> int | None:
    """End of a Luhn-valid card in text[start:end]; shorter candidates end where a separator was."""
    while True:
        if is_valid_bank_card(text[start:end]) and not _id_shaped(ascii_digits(text[start:end])):
            return end
        cut = max(text.rfind(" ", start, end), text.rfind("-", start, end))
        if cut <= start or len(ascii_digits(text[start:cut])) < 16:
            return None
        end = cut


def detect_bank_cards(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for m in _CARD_CANDIDATE.finditer(text):
        end = _card_end(text, m.start(), m.end())
        if end is not None and not _after_non_personal_cue(text, m.start()):
            hits.append((m.start(), end, "BANKCARD", RANK_CHECKED))
    return hits


# ------------------------------------------------------------------------------------ email, URL, IP
_TLDS = r"(?:com|cn|net|org|io|me|cc|co|top|xyz|info|dev|app|ai|edu|gov|tv|hk|tw|jp|uk|us)"
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-'])[A-Za-z0-9][A-Za-z0-9._%+\-']{0,63}[@＠]"
    r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
_URL_BODY = r"[^\s<>\"'`{}|\\^\[\]\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_URL = re.compile(r"(?<![A-Za-z0-9])(?:(?:https?|ftp)://|www\.)" + _URL_BODY + r"+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![A-Za-z0-9@._\-/])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+" + _TLDS
    + r"(?:\.cn)?(?![A-Za-z0-9\-@])(?:/" + _URL_BODY + r"*)?"
)
_URL_TRAILING = ".,;:!?)'\"*"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(r"(?<![\d.])" + _OCTET + r"(?:\." + _OCTET + r"){3}(?!\d|\.\d)")
_VERSION_CUE = re.compile(r"(?:[vV]|(?i:version|ver\.?|版本号?|固件|build|升级到?|更新到?|update(?: to)?|upgrade(?: to)?)[\s:：]*)$")


def detect_emails(text: str) -> list[Hit]:
    return [(m.start(), m.end(), "EMAIL", RANK_CHECKED) for m in _EMAIL.finditer(text)]


def _url_hits(pattern: re.Pattern[str], text: str) -> list[Hit]:
    hits: list[Hit] = []
    for m in pattern.finditer(text):
        value = m.group().rstrip(_URL_TRAILING)
        if len(value) > 4:
            hits.append((m.start(), m.start() + len(value), "URL", RANK_PATTERN))
    return hits


def detect_urls(text: str) -> list[Hit]:
    hits = _url_hits(_URL, text)
    if "." in text:
        hits += _url_hits(_BARE_DOMAIN, text)
    return hits


def detect_ips(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for m in _IPV4.finditer(text):
        if _VERSION_CUE.search(text, max(0, m.start() - 12), m.start()) is None:
            hits.append((m.start(), m.end(), "IP", RANK_PATTERN))
    return hits


# ------------------------------------------------------------------------- values after cue words
_LINK = r"(?:\s*(?:是|为|:|：|=|＝|is|was|就是|也是|改成了?|改为|换成了?|设为|设成了?|->)\s*|\s+)"
_QQ = re.compile(
    r"(?:(?:(?<![A-Za-z])[Qq][Qq]|扣扣|企鹅)(?:号码|号|群号?|账号)?|群号码?)" + _LINK + r"{0,2}"
    r"(?<!\d)([1-9]\d{4,10})(?!\d)"
)
_WXID_BARE = re.compile(r"(?<![A-Za-z0-9_])wxid_[A-Za-z0-9_]{4,30}(?![A-Za-z0-9_])")
_WECHAT = re.compile(
    r"(?:(?P<strong>微信号|微信账号|微信[iI][dD]|(?<![A-Za-z])(?:[Ww]e[Cc]hat ?(?:ID|id|Id)|[vVwW][xX]号))"
    r"|(?P<weak>微信|[vV]信|威信|薇信|(?<![A-Za-z])(?:[vVwW][xX]|[Ww]e[Cc]hat|WECHAT|[Ww]eixin)(?![A-Za-z])))"
    + _LINK + r"{0,2}"
    r"(?<![A-Za-z0-9_\-])([A-Za-z][A-Za-z0-9_\-]{5,19})(?![A-Za-z0-9_\-])"
)
_WECHAT_BEFORE_CUE = re.compile(
    r"(?<![A-Za-z0-9_\-])([A-Za-z][A-Za-z0-9_\-]{5,19})\s*(?:加我?(?:的)?(?:微信|[vV][xX]|[vV]信)|是我的?微信号?)"
)
_PASSWORD = re.compile(
    r"(?:门禁码|支付密码|登录密码|登陆密码|银行卡密码|取款密码|开机密码|锁屏密码|密码|口令|验证码|校验码|动态码|提取码|取件码|"
    r"(?<![A-Za-z])(?i:pin(?:码| code)?|password|passwd|pwd|passcode|otp|"
    r"(?:verification|security|auth|login|one-time|2fa|sms|door|gate|access|entry|lock) code)(?![A-Za-z]))"
    + _LINK + r"{0,3}"
    r"[\"'“‘「]?([A-Za-z0-9!@#$%^&*_+=~.?/|{}<>:;,\\\-]{4,40})"
)
_PASSWORD_TRAILING = ".,;:?"


def detect_qq(text: str) -> list[Hit]:
    return [(m.start(1), m.end(1), "QQ", RANK_CUE) for m in _QQ.finditer(text)]


def detect_wechat_ids(text: str) -> list[Hit]:
    hits: list[Hit] = [(m.start(), m.end(), "WXID", RANK_CUE) for m in _WXID_BARE.finditer(text)]
    for m in _WECHAT.finditer(text):
        value = m.group(3)
        # After a loose cue ("加我微信 thanks") an id must look like one: a digit, '_' or '-' in it.
        if m.group("weak") and not any(ch.isdigit() or ch in "_-" for ch in value):
            continue
        hits.append((m.start(3), m.end(3), "WXID", RANK_CUE))
    for m in _WECHAT_BEFORE_CUE.finditer(text):
        if any(ch.isdigit() or ch in "_-" for ch in m.group(1)):
            hits.append((m.start(1), m.end(1), "WXID", RANK_CUE))
    return hits


def _looks_like_secret(value: str) -> bool:
    has_digit = any(ch.isdigit() for ch in value)
    has_letter = any(ch.isalpha() for ch in value)
    has_symbol = any(not ch.isalnum() for ch in value)
    return has_digit or (has_letter and has_symbol)


def detect_passwords(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for m in _PASSWORD.finditer(text):
        value = m.group(1).rstrip(_PASSWORD_TRAILING)
        if value.endswith("#") and value[:-1].isdigit():  # "门锁密码2580#": '#' is the keypad's enter key
            value = value[:-1]
        if len(value) >= 4 and _looks_like_secret(value):
            hits.append((m.start(1), m.start(1) + len(value), "PASSWORD", RANK_CUE))
    return hits


# ----------------------------------------------------------------------------------- licence plates
_PLATE = re.compile(
    "[" + _PROVINCES + r"][A-HJ-NP-Z][·•・.\s\-]?([A-HJ-NP-Z0-9]{5,6})(?![A-Za-z0-9])"
)


def _plate_body_ok(body: str) -> bool:
    digits = sum(ch.isdigit() for ch in body)
    if len(body) == 5:  # ordinary plate: at most two letters
        return digits >= 3
    # New-energy plates: D/F then 5 (small cars) or 5 digits then D/F (large vehicles).
    return (body[0] in "DF" and digits >= 4) or (body[-1] in "DF" and body[:5].isdigit())


def detect_plates(text: str) -> list[Hit]:
    return [
        (m.start(), m.end(), "PLATE", RANK_PATTERN) for m in _PLATE.finditer(text) if _plate_body_ok(m.group(1))
    ]


# ---------------------------------------------------------------------------------------- addresses
# Chinese addresses are found from their numbered core and extended left over place-name characters (up
# to 20: 北京市朝阳区建国 of 建国路88号). Cores, as addresses are written across the provinces:
# - a road (路/街/道/巷/弄/胡同/大道…), an optional section (一环路南一段, 罗斯福路四段, 皇后大道中) and a
#   number ending in 号, or a lane number (武康路115弄, then 2号 …);
# - an estate or village word (小区/花园/新村/村 …) and a building, unit, group or lane number
#   (幸福里小区7号楼, 望城村五组, 石牌村3巷7号, 金地花园A座), or a village and a house number (东关村86号;
#   not 公园3号, a park gate);
# - a building number with a unit or room after it (9栋2单元, 312号楼1单元1801);
# - an administrative area (…区/县/镇/乡/街道) and, within a few place characters, a house number (玄武区四牌楼2号).
# With no word boundaries, the extension stops at punctuation, digits, Latin text and a list of function
# characters that rarely occur in place names ("我住在", "寄到", "的"); otherwise it may take in a few
# extra characters.
_STOP = set("在住到去是的了我你他她它们从往寄送放搬拿接就还也跟给把被让址说要想吧呢啊哦嗯呀么着过等与或及对向离近旁边附")
_MAX_PLACE_CHARS = 20
_NUM = r"(?:\d{1,5}|[" + _CN_NUMERALS + r"]{1,5})"
_UNIT = _NUM + r"(?:-" + _NUM + r")?(?:号楼|号院|号|栋|幢|座|单元|层|楼|室|期|区|弄|排|门|组|巷)"
_PLACE_CLASS = r"[\u4e00-\u9fffA-Za-z·]"
_LETTER_UNIT = r"[A-Z](?:座|栋|幢|区)"  # A座, B栋
_TAIL = (
    r"(?:" + _PLACE_CLASS + r"{0,12}?(?:" + _UNIT + r"|" + _LETTER_UNIT + r")|-?(?<!\d)\d{3,4}(?!\d)(?:室|房)?"
    r"|附" + _NUM + "号)"
)
_ROAD_WORDS = ("大街", "大道", "胡同", "路", "街", "道", "巷", "弄", "巷子")
_ESTATE_WORDS = ("小区", "花园", "家园", "公寓", "新村", "大厦", "广场", "中心", "公馆", "华府", "苑", "园", "村", "城",
                 "府", "庭", "湾", "坊", "里")
_BUILDING_WORDS = ("号楼", "栋", "幢")
_AREA_WORDS = ("区", "县", "镇", "乡", "街道")
_SECTION = r"(?:[东南西北中](?=\d|[" + _CN_NUMERALS + r"]|段)|(?:[东南西北中]?" + _NUM + r"?段))?"
_ROAD_CORE = re.compile(
    "(?:" + "|".join(_ROAD_WORDS) + ")" + _SECTION + r"(?<!\d)" + _NUM + r"(?:-\d{1,4})?(?:号(?:院)?|弄)"
    + r"(?:" + _TAIL + r")*"
)
_ESTATE_CORE = re.compile(
    "(?:" + "|".join(_ESTATE_WORDS) + ")"
    + r"(?:" + _NUM + r"(?:号楼|号院|栋|幢|座|期|单元|组|巷|弄)|(?<=村)" + _NUM + "号|" + _NUM + r"区(?=" + _TAIL + r")|"
    + _LETTER_UNIT + r")(?:" + _TAIL + r")*"
)
_BUILDING_CORE = re.compile(_NUM + "(?:" + "|".join(_BUILDING_WORDS) + r")(?:" + _TAIL + r")+")
# Between the area and the number only place-name characters: no function word and no time word, or
# "我们小区周五3号开会" (a date: the 3rd) would read as an address.
_TIME_CHARS = "年月日号周星期天今明昨前后早晚午夜点时初底上下半"
_AREA_CORE = re.compile(
    "(?:" + "|".join(_AREA_WORDS) + ")" + "(?:(?![" + "".join(sorted(_STOP)) + _TIME_CHARS + r"])[\u4e00-\u9fff]){2,12}?"
    r"(?<!\d)" + _NUM + r"(?:号|弄|组)(?:" + _TAIL + r")*"
)
# USPS Publication 28 street suffixes (the common ones, full and abbreviated) and secondary unit
# designators; UK "Flat N," before the house number. The house number may follow other digits
# ("...13812 Baker Street" once width-folded): a glued number is no reason to leave an address unmasked.
_EN_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Ter|"
    r"Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Loop|Trail|Trl|Row|Walk|Alley|Plaza|Grove|"
    r"Gardens|Mews|Hill)"
)
_EN_UNIT = (
    r"(?:,?\s*(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm|Fl|Floor|Bldg|Building)\.?\s*#?|#)[A-Za-z0-9\-]+"
    r"|,\s*\d{1,3}(?:st|nd|rd|th)\s+Floor)?"
)
_EN_ADDRESS = re.compile(
    r"(?:(?<![A-Za-z])Flat\s+\d{1,4}[A-Za-z]?,?\s+)?"
    r"(?<![A-Za-z])\d{1,5}[A-Za-z]?\s+(?:(?:[A-Z][A-Za-z'.\-]*|\d{1,3}(?:st|nd|rd|th))\s+){1,4}"
    + _EN_STREET + r"\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?" + _EN_UNIT
)


def _is_place_char(ch: str) -> bool:
    return ("\u4e00" <= ch <= "\u9fff" or (ch.isascii() and ch.isalpha()) or ch == "·") and ch not in _STOP


def _place_start(text: str, core_start: int) -> int:
    """Where the place name in front of a numbered core begins."""
    start = core_start
    while start > 0 and core_start - start < _MAX_PLACE_CHARS and _is_place_char(text[start - 1]):
        start -= 1
    return start


def detect_addresses(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for core in (_ROAD_CORE, _ESTATE_CORE, _AREA_CORE):
        for m in core.finditer(text):
            start = _place_start(text, m.start())
            if start < m.start():  # a bare "路88号" with no name in front is not an address
                hits.append((start, m.end(), "ADDRESS", RANK_LOOSE))
    for m in _BUILDING_CORE.finditer(text):
        if m.start() == 0 or not (text[m.start() - 1].isdigit() or text[m.start() - 1] in _CN_NUMERALS):
            hits.append((_place_start(text, m.start()), m.end(), "ADDRESS", RANK_LOOSE))
    hits += [(m.start(), m.end(), "ADDRESS", RANK_LOOSE) for m in _EN_ADDRESS.finditer(text)]
    return hits


# The gate's address parts, built from the same words: a road or estate word right before a number
# (_ROAD_CORE, _ESTATE_CORE), a number right before a building word (_BUILDING_CORE), or an English
# house number before a capitalised word (_EN_ADDRESS). Each part is (first character class, rest); a
# part opening with a digit or a Chinese numeral is tried at the start of a run of them only (see _gate),
# so its rest first takes the whole run.
_CN_NUM_CLASS = "[" + _CN_NUMERALS + "]"
ADDRESS_TRIGGERS: tuple[tuple[str, str], ...] = (
    # _ROAD_CORE (road word, then a section or a number), _ESTATE_CORE (estate word, then a number or a
    # letter unit), _AREA_CORE (area word, then place characters and a number; the number's unit is 号,
    # 弄 or 组, which the part ahead checks is there within a few characters)
    ("[" + "".join(sorted({w[-1] for w in _ROAD_WORDS + _ESTATE_WORDS})) + "]",
     r"(?:[东南西北中]|[\d" + _CN_NUMERALS + r"]|[A-Z](?:座|栋|幢|区)|段)"),
    ("[" + "".join(sorted({w[-1] for w in _AREA_WORDS})) + "]",
     r"[\u4e00-\u9fff]{2,12}?[\d" + _CN_NUMERALS + "]"),
    (r"\d", r"\d*+(?:" + "|".join(_BUILDING_WORDS) + ")"),
    (_CN_NUM_CLASS, _CN_NUM_CLASS + "*+(?:" + "|".join(_BUILDING_WORDS) + ")"),
    (r"\d", r"\d*+[A-Za-z]?\s+(?:[A-Z]|\d)"),
)


# Every pattern detector, for callers that want to run them all without the gate (tests do).
PATTERN_DETECTORS: tuple[Detector, ...] = (
    detect_passwords,
    detect_qq,
    detect_wechat_ids,
    detect_id_numbers,
    detect_bank_cards,
    detect_emails,
    detect_urls,
    detect_phones,
    detect_ips,
    detect_plates,
    detect_addresses,
)

_SEPS = r"[ \-\u00a0.()（）]"
# family -> (its detectors, its trigger parts). A part is (FIRST, REST): a one-character class and what
# must follow it; a match of any detector of the family contains FIRST+REST of one of its parts. Why:
FAMILIES: dict[str, tuple[tuple[Detector, ...], tuple[tuple[str, str], ...]]] = {
    # mobile 1[3-9]\d + 8 digits, landline area code + 7-8 digits, international 7-17 digits, US 10
    # digits, cued local 7-8 digits, ID 18, card 16-19: all hold 7 digits, at most 2 of _SEPS apart (and
    # the longest such chain starts a digit run).
    "digits": ((detect_id_numbers, detect_bank_cards, detect_phones), ((r"\d", r"(?:" + _SEPS + r"{0,2}\d){6}"),)),
    # _IPV4 without its look-arounds, cut short; its first octet starts a digit run
    "ip": ((detect_ips,), ((r"\d", r"\d{0,2}\.\d{1,3}\.\d"),)),
    "email": ((detect_emails,), (("[@＠]", ""),)),  # _EMAIL's one required character
    # _URL's scheme or www. (case-insensitive like _URL), or _BARE_DOMAIN's "label character . TLD"
    "url": ((detect_urls,), ((":", "//"), ("[wW]", "(?i:ww\\.)"),
                             (r"\.", r"(?<=[A-Za-z0-9]\.)" + _TLDS + r"(?![A-Za-z])"))),
    # the cues of _QQ: QQ/扣扣/企鹅 (+号…), 群号
    "qq": ((detect_qq,), (("[Qq]", "[Qq]"), ("扣", "扣"), ("企", "鹅"), ("群", "号"))),
    # every cue of _WXID_BARE, _WECHAT and _WECHAT_BEFORE_CUE holds one of these
    "wx": ((detect_wechat_ids,), (("微", "信"), ("[vV威薇]", "信"), ("[vVwW]", "[xX]"), ("[wW]", "(?i:echat|eixin)"))),
    # every cue of _PASSWORD holds one of these: 密码 口令 验证码 … and pin, pass, pwd, otp, code
    "pw": ((detect_passwords,), (("密", "码"), ("口", "令"), ("验", "证码"), ("校", "验码"), ("动", "态码"),
                                 ("提", "取码"), ("取", "件码"), ("门", "禁码"), ("[pP]", "(?i:in|ass|wd|(?<=otp))"),
                                 ("[cC]", "(?i:ode)"))),
    "plate": ((detect_plates,), (("[" + _PROVINCES + "]", "[A-HJ-NP-Z]"),)),  # _PLATE's first two characters
    "addr": ((detect_addresses,), ADDRESS_TRIGGERS),
}


def trigger(family: str) -> re.Pattern[str]:
    """One family's trigger as a plain regex (for tests and for reading)."""
    return re.compile("|".join(f"(?:{first}{rest})" for first, rest in FAMILIES[family][1]))


_RUN_FIRSTS = (r"\d", _CN_NUM_CLASS)  # parts opening with these are tried where such a run starts


def _gate() -> tuple[re.Pattern[str], tuple[str, ...]]:
    """All triggers in one regex that runs in one pass.

    It opens with a single character class (every FIRST) so the engine skips through clean text at C
    speed; a digit or numeral that continues a run is skipped too (the parts opening with one are
    written to start a run). Then, for each FIRST that the character is, each of its parts is an
    optional look-ahead ``(?=(?P<gN>REST))``, so every part is tried at every candidate position (one
    family cannot hide another that starts at the same character), and the match fails unless one of
    them matched.
    """
    by_first: dict[str, list[tuple[str, str]]] = {}
    owners: list[str] = []
    for family, (_, parts) in FAMILIES.items():
        for first, rest in parts:
            by_first.setdefault(first, []).append((f"g{len(owners)}", rest))
            owners.append(family)
    lead = "[" + "".join(f[1:-1] if f.startswith("[") else f for f in by_first) + "]"
    lead += r"(?<!\d\d)(?<!" + _CN_NUM_CLASS * 2 + ")"
    checks = "".join(
        f"(?:(?<={first})" + "".join(f"(?:(?=(?P<{group}>{rest}))|)" for group, rest in parts) + "|)"
        for first, parts in by_first.items()
    )
    fail = "(?!)"
    for index in reversed(range(len(owners))):
        fail = f"(?(g{index})|{fail})"
    gate = re.compile(lead + checks + fail)
    # m.groups() lists groups in pattern order, which is not the order the parts were numbered in
    by_position = sorted(gate.groupindex.items(), key=lambda item: item[1])
    return gate, tuple(owners[int(name[1:])] for name, _ in by_position)


_GATE, _GATE_OWNERS = _gate()


def families(text: str) -> set[str]:
    """The detector families that may match in ``text`` (as the detectors read it); empty for most chat."""
    found: set[str] = set()
    for m in _GATE.finditer(text):
        found.update(owner for owner, value in zip(_GATE_OWNERS, m.groups(), strict=True) if value is not None)
    return found


def detectors_for(text: str) -> list[Detector]:
    """The detectors worth running on ``text``, each once, in a fixed order."""
    fams = families(text)
    if not fams:
        return []
    chosen = {d for fam in fams for d in FAMILIES[fam][0]}
    return [d for d in PATTERN_DETECTORS if d in chosen]
