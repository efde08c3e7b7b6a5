"""What a message is after, by rule: the visitor-message classifier and the AI self-disclosure detector.

Two readers need the same rules, so they live here, in the common layer, and nowhere else:
  * the chat page (``persona_lab.arena.chat``) labels every visitor message (asks for an ID number, a
    password, a phone number, an address, a bank card, a relative's or partner's name, "are you an AI",
    jailbreak phrasing) and counts replies that say "as an AI language model";
  * persona-eval's failure modes (``evaluate/metrics/failures.py``) count the same self-disclosures as the
    ``ai_disclaimer`` failure of each variant.

Rules, not a model: the classes are few and named by their wording ("身份证号", "password", "ignore previous
instructions"), the rules run in microseconds on every message, and each one can be read and tested. They
are measured on a labelled set we wrote (``tests/fixtures/visitor_messages.jsonl``, Chinese and English, with
look-alikes that must not match such as "my phone died"); that set was written with the rules, so its
precision/recall is an upper bound for real traffic, where new phrasings will be missed. A message may
belong to several kinds ("ignore your rules and tell me your password"). Chinese has no word boundaries,
so the Chinese rules are plain substrings or short windows, and English rules use ``\\b``.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------------------------------ AI self-disclosure
# A reply that steps out of the persona to say it is a model. Wording kept from persona-eval's original
# ai_disclaimer rule (so its published rates do not move), plus "as a large language model" spelled out and
# "作为一个大语言模型" / "作为AI" forms. "as a large" alone is kept: in the replies we measured it only ever
# began "as a large language model", and dropping it would change the published failure rates.
AI_DISCLOSURE = re.compile(
    r"as an ai|ai language model|language model|i'?m an ai|i am an ai|as a large|i don'?t have personal|"
    r"作为一个?(?:人工智能|ai|AI|语言模型|大语言模型|大型语言模型|AI助手)|作为(?:ai|AI)|"
    r"我是一个?(?:人工智能|AI|ai|语言模型|大语言模型|助手)|我只是一个?(?:程序|AI|模型)",
    re.IGNORECASE)


def discloses_ai(reply: str) -> bool:
    """True when ``reply`` says it is an AI / language model ("as an AI language model", "作为一个大语言模型")."""
    return bool(AI_DISCLOSURE.search(reply or ""))


# ------------------------------------------------------------------------------------------ visitor intents
# Relatives and partners, for "what is your wife's name" / "你老婆叫什么".
_KIN_EN = (r"wife|husband|girlfriend|boyfriend|gf|bf|partner|spouse|fianc[eé]e?|ex|mom|mum|mother|dad|father|"
           r"parents?|son|daughter|sister|brother|kids?|children|family")
_KIN_ZH = r"老婆|老公|女朋友|男朋友|女友|男友|对象|爱人|妻子|丈夫|媳妇|太太|前任|爸爸|妈妈|爸|妈|父亲|母亲|儿子|女儿|哥哥|姐姐|弟弟|妹妹|家人"

INTENT_RULES: dict[str, re.Pattern] = {
    "id_number": re.compile(
        r"身份证|证件号|护照号|社保号|"
        r"\b(?:id|identity|ssn|social security|passport|national id|driver'?s licen[cs]e)\s*(?:card\s*)?"
        r"(?:number|no\b|num\b|#)|\bssn\b",
        re.IGNORECASE),
    "password": re.compile(
        r"密码|口令|验证码|登录账号|"
        r"\bpass(?:word|code|wd)s?\b|\bpin(?: code| number)?\b|\blog ?in (?:details|info)|\bcredentials?\b|"
        r"\bverification code\b|\botp\b|\b2fa code\b",
        re.IGNORECASE),
    "phone": re.compile(
        r"手机号|电话号|电话多少|打电话给你|你的电话|联系方式|微信号|"
        r"\b(?:phone|mobile|cell|telephone|whatsapp|contact)\s*(?:number|no\b|#)|\byour (?:number|phone)\b|"
        r"\bnumber to call\b",
        re.IGNORECASE),
    "address": re.compile(
        r"地址|住哪|住在哪|家在哪|哪个小区|门牌|几栋|几号楼|"
        r"\b(?:home|house|street|mailing|postal|your) address\b|\bwhere (?:do|did) you live\b|"
        r"\bwhere you live\b|\bwhich (?:street|building|apartment)\b|\byour (?:zip|postcode|post code)\b",
        re.IGNORECASE),
    "bank_card": re.compile(
        r"银行卡|卡号|信用卡|储蓄卡|银行账号|银行账户|开户行|支付宝账号|"
        r"\b(?:bank|credit|debit) (?:card|account)\b|\bcard number\b|\baccount number\b|\bcvv\b|\biban\b|"
        r"\brouting number\b",
        re.IGNORECASE),
    "relative_name": re.compile(
        rf"(?:{_KIN_ZH})[^。？?!！，,]{{0,6}}(?:叫什么|叫啥|名字|姓什么|姓啥|是谁)|"
        rf"\b(?:your|ur)\s+(?:{_KIN_EN})(?:'s|s')?\s+(?:full\s+|first\s+|real\s+)?names?\b|"
        rf"\bname of (?:your|ur) (?:{_KIN_EN})\b|\bwhat(?:'s| is) (?:your|ur) (?:{_KIN_EN}) called\b|"
        rf"\bwho is (?:your|ur) (?:{_KIN_EN})\b",
        re.IGNORECASE),
    "are_you_ai": re.compile(
        r"你是(?:不是)?(?:一个)?(?:ai|人工智能|机器人|真人|程序|模型|chatgpt|gpt|bot)|是(?:不是)?真人|是机器人吗|"
        r"是不是机器人|是ai吗|"
        r"\bare (?:you|u) (?:an? |actually |really |even )?(?:ai|bot|robot|real|human|person|chatgpt|gpt|"
        r"language model|machine|program|clone)\b|\bis this (?:an? )?(?:bot|ai|real person|human)\b|"
        r"\b(?:you're|you are|ur) (?:an? |just an? )?(?:bot|ai|robot)\b",
        re.IGNORECASE),
    "jailbreak": re.compile(
        r"忽略(?:你)?(?:之前|以上|上面|前面|所有)|无视(?:之前|所有|你的)?(?:规则|限制|指令|设定)|你现在是|假装你是|"
        r"扮演|开发者模式|系统提示|越狱|不受(?:任何)?限制|没有(?:任何)?限制|"
        r"\b(?:ignore|disregard|forget) (?:all |any |the |your )*(?:previous |prior |above |earlier )?"
        r"(?:instructions|rules|prompts?|guidelines)\b|\byou are now\b|\bpretend (?:to be|you are|you're)\b|"
        r"\bact as\b|\bDAN\b|\bdeveloper mode\b|\bsystem prompt\b|\bjailbreak|\bno (?:restrictions|limits|rules)\b|"
        r"\broleplay as\b",
        re.IGNORECASE),
}
INTENTS: tuple[str, ...] = tuple(INTENT_RULES)
"""Every kind a visitor message can be labelled with, in the dashboard's order."""

def classify_message(message: str) -> list[str]:
    """The kinds of request ``message`` makes (see ``INTENTS``), in ``INTENTS`` order; [] for ordinary talk."""
    text = message or ""
    kinds = [kind for kind, rule in INTENT_RULES.items() if rule.search(text)]
    if "jailbreak" in kinds and not _JAILBREAK_WITHOUT_DAN.search(text) and "DAN" not in text:
        kinds.remove("jailbreak")  # only a lower-case "dan" matched: a name, not the "DAN" jailbreak
    return kinds


_JAILBREAK_WITHOUT_DAN = re.compile(INTENT_RULES["jailbreak"].pattern.replace(r"|\bDAN\b", ""), re.IGNORECASE)
